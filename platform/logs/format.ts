/** The log line format of CONTRACT.md: `2026-01-01T00:00:00.000000+00:00 SOURCE[DYNO]: text`. */

export const SOURCES = ['app', 'router', 'paas', 'build'] as const;
export type Source = (typeof SOURCES)[number];

export interface LogLine {
  /** Monotonic across apps and restarts: the resume cursor of `logs -t`. */
  id: number;
  app: string;
  /** Microsecond ISO time with an explicit offset, as printed. */
  time: string;
  source: Source;
  dyno: string;
  text: string;
}

/** Longest text of one stored line, in UTF-8 bytes; longer ones are split. */
export const MAX_LINE_BYTES = 10 * 1024;

/**
 * A Date (millisecond precision) or an engine timestamp (RFC 3339 with up to nanoseconds,
 * e.g. `2026-01-01T00:00:00.123456789Z`) as `2026-01-01T00:00:00.123456+00:00`.
 */
export function formatTime(time: Date | string = new Date()): string {
  if (typeof time === 'string') {
    // The engine's timestamps as the collector normalizes them (9 digits): most lines, no regex.
    if (time.length === 30 && time.charCodeAt(19) === 46 && time.charCodeAt(29) === 90 && time.charCodeAt(10) === 84) return `${time.slice(0, 26)}+00:00`;
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(time);
    if (m) return `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}+00:00`;
    const parsed = new Date(time);
    time = Number.isNaN(parsed.getTime()) ? new Date() : parsed;
  }
  return `${time.toISOString().slice(0, 23)}000+00:00`;
}

export function formatLine(l: Pick<LogLine, 'time' | 'source' | 'dyno' | 'text'>): string {
  return `${l.time} ${l.source}[${l.dyno}]: ${l.text}`;
}

// C0 controls other than tab and ESC (colours survive), and DEL: they would break terminals and framing.
const CONTROL = /[\x00-\x08\x0a-\x1a\x1c-\x1f\x7f]/g;
const HAS_CONTROL = /[\x00-\x08\x0a-\x1a\x1c-\x1f\x7f]/;

/** One written text → the stored texts: split at newlines, cleaned, cut into pieces of ≤ MAX_LINE_BYTES. */
export function splitText(text: string): string[] {
  // Most lines: short (at most 3 UTF-8 bytes per UTF-16 unit) and clean, kept as they are.
  if (text.length <= MAX_LINE_BYTES / 3 && !HAS_CONTROL.test(text)) return [text];
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\r$/, '').replace(CONTROL, '\uFFFD');
    if (Buffer.byteLength(line) <= MAX_LINE_BYTES) {
      out.push(line);
      continue;
    }
    // Cut on UTF-8 character boundaries (never before a continuation byte 10xxxxxx).
    const buf = Buffer.from(line);
    for (let start = 0; start < buf.length; ) {
      let end = Math.min(start + MAX_LINE_BYTES, buf.length);
      while (end < buf.length && end > start && (buf[end] & 0xc0) === 0x80) end--;
      out.push(buf.toString('utf8', start, end));
      start = end;
    }
  }
  // A trailing newline does not make an empty line.
  if (out.length > 1 && out[out.length - 1] === '' && /\n$/.test(text)) out.pop();
  return out;
}

export interface Filter {
  /** `web` (every web dyno) or `web.2` (one). */
  ps?: string;
  source?: Source;
}

export function matches(l: Pick<LogLine, 'source' | 'dyno'>, f: Filter): boolean {
  if (f.source && l.source !== f.source) return false;
  if (f.ps && l.dyno !== f.ps && !l.dyno.startsWith(`${f.ps}.`)) return false;
  return true;
}
