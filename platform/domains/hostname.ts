import net from 'node:net';
import { invalid } from '../errors.ts';

/** RFC 1123 label: letters, digits, inner dashes, 1–63 characters. */
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A custom domain as the router matches it: lower case, no port, path, scheme or trailing dot,
 * at least two labels, a top-level label that is not all digits (so no IP addresses), and
 * optionally one leading `*.` (matching exactly one more label, as the router does).
 */
export function checkHostname(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw invalid('hostname is required, e.g. www.example.com or *.example.com');
  const host = raw.trim().toLowerCase().replace(/\.$/, '');
  const shown = JSON.stringify(raw);
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(host) || /[/?#]/.test(host)) throw invalid(`${shown} is not a hostname: give the host only, without scheme or path (e.g. www.example.com)`);
  if (host.includes(':') && !net.isIPv6(host)) throw invalid(`${shown} is not a hostname: leave out the port (the router answers on its own port)`);
  if (net.isIP(host) || net.isIPv6(host.replace(/^\[|\]$/g, ''))) throw invalid(`${shown} is an IP address, not a hostname`);
  if (host.length > 253) throw invalid(`${shown} is longer than 253 characters`);
  const wildcard = host.startsWith('*.');
  const labels = (wildcard ? host.slice(2) : host).split('.');
  for (const label of labels) {
    if (!LABEL.test(label)) {
      throw invalid(`${shown} is not a valid hostname: each dot-separated label must be 1-63 letters, digits or inner dashes${label.includes('*') ? ' (a wildcard is only allowed as a leading "*.")' : ''}`);
    }
  }
  if (labels.length < 2) throw invalid(`${shown} is not a fully qualified hostname: use e.g. ${wildcard ? '*.example.com' : 'www.example.com'}`);
  if (/^\d+$/.test(labels[labels.length - 1])) throw invalid(`${shown} is not a valid hostname: the top-level label cannot be all digits`);
  return host;
}
