import type { LogLine } from '../format.ts';

/** local7.info, as Heroku's logplex sends app lines. */
const PRI = 190;

const field = (s: string, max: number) => (s.replace(/[^\x21-\x7e]/g, '_') || '-').slice(0, max);

/**
 * One line as an RFC 5424 message: `<190>1 TIMESTAMP HOST APP-NAME PROCID - - MSG`, with the app as
 * HOST, the source (app, router, paas, build) as APP-NAME and the dyno as PROCID, as logplex does.
 */
export function syslogMessage(l: LogLine): string {
  return `<${PRI}>1 ${l.time}${header(l)}${l.text}`;
}

/** ` HOST APP-NAME PROCID - - `: the same for every line of one source and dyno. */
const header = (l: LogLine) => ` ${field(l.app, 255)} ${field(l.source, 48)} ${field(l.dyno, 128)} - - `;

/**
 * Lines as octet-counted RFC 5424 messages in one string (`suffix` ends each message: "\n" for
 * logplex bodies). The header is made once per run of lines of the same app, source and dyno
 * (a container's read), not once per line.
 */
export function syslogFrames(lines: LogLine[], suffix = ''): string {
  let out = '';
  let h = '';
  let prev: LogLine | undefined;
  for (const l of lines) {
    if (!prev || l.dyno !== prev.dyno || l.source !== prev.source || l.app !== prev.app) h = header(l);
    prev = l;
    const msg = `<${PRI}>1 ${l.time}${h}${l.text}${suffix}`;
    out += `${Buffer.byteLength(msg)} ${msg}`;
  }
  return out;
}

/** RFC 6587 octet counting: `LENGTH SP MESSAGE`, LENGTH in bytes. */
export function octetFrame(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}

/** Heroku's HTTPS drain body (application/logplex-1): octet-counted messages, each ending in a newline. */
export function logplexBody(lines: LogLine[]): string {
  return syslogFrames(lines, '\n');
}
