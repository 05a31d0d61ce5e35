import type { LogLine } from '../format.ts';

/** local7.info, as Heroku's logplex sends app lines. */
const PRI = 190;

const field = (s: string, max: number) => (s.replace(/[^\x21-\x7e]/g, '_') || '-').slice(0, max);

/**
 * One line as an RFC 5424 message: `<190>1 TIMESTAMP HOST APP-NAME PROCID - - MSG`, with the app as
 * HOST, the source (app, router, paas, build) as APP-NAME and the dyno as PROCID, as logplex does.
 */
export function syslogMessage(l: LogLine): string {
  return `<${PRI}>1 ${l.time} ${field(l.app, 255)} ${field(l.source, 48)} ${field(l.dyno, 128)} - - ${l.text}`;
}

/** RFC 6587 octet counting: `LENGTH SP MESSAGE`, LENGTH in bytes. */
export function octetFrame(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}

/** Heroku's HTTPS drain body (application/logplex-1): octet-counted messages, each ending in a newline. */
export function logplexBody(lines: LogLine[]): string {
  return lines.map((l) => octetFrame(`${syslogMessage(l)}\n`)).join('');
}
