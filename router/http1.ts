/**
 * The bits of HTTP/1.1 (RFC 9112) the router speaks itself: request and response heads, and
 * chunked framing. Bodies are never rewritten: the router finds where a message ends and passes
 * the bytes through as they came, which is what makes the proxy path cheap (docs/BENCHMARKS.md).
 * Anything ambiguous is refused (400), as llhttp does: no obs-fold, no bare CR/LF, no
 * Content-Length next to Transfer-Encoding, no differing Content-Lengths.
 */

export interface RequestHead {
  method: string;
  /** The request-target as sent (origin form, absolute form, `*`). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Header names and values as sent, in order; `lower` holds the names lowercased. */
  names: string[];
  lower: string[];
  values: string[];
  host: string | undefined;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** Lowercased tokens of all Connection headers. */
  connection: string[];
  upgrade: string | undefined;
  expectContinue: boolean;
  /** The client wants the connection kept open after this exchange. */
  keepAlive: boolean;
}

export interface ResponseHead {
  status: number;
  reason: string;
  minor: number;
  names: string[];
  lower: string[];
  values: string[];
  contentLength: number;
  chunked: boolean;
  connection: string[];
  /** The server will close the connection after this response. */
  close: boolean;
}

/** A request the router refuses before routing it: 400, 431 (head too large), 501 (unknown transfer coding). */
export class HeadError extends Error {
  constructor(
    readonly status: 400 | 431 | 501 | 505,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// TOKEN's characters by code: 1, and 2 for the upper-case letters (header names are checked in a loop, not a regexp).
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 2;
const isOws = (c: number) => c === 32 || c === 9;
// Field values and targets: visible ASCII, obs-text, SP and HTAB; never CR, LF, NUL or other controls.
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const BAD_TARGET = /[\x00-\x20\x7f]/;
const DIGITS = /^\d{1,15}$/;
const BAD_REASON = /[\x00-\x08\x0a-\x1f\x7f]/;

interface Fields {
  names: string[];
  lower: string[];
  values: string[];
  contentLength: number;
  chunked: boolean;
  connection: string[];
  host: string | undefined;
  upgrade: string | undefined;
  expect: string | undefined;
  hasTransferEncoding: boolean;
}

/**
 * Parse the header lines of `head`, from `pos` (the start of the first header line) to its end.
 * Throws HeadError(400) on anything malformed. A bare CR or LF cannot hide anywhere: names are
 * tokens, and values are checked from their first to their last character other than SP or HTAB.
 */
function parseFields(head: string, pos: number): Fields {
  const f: Fields = {
    names: [],
    lower: [],
    values: [],
    contentLength: -1,
    chunked: false,
    connection: [],
    host: undefined,
    upgrade: undefined,
    expect: undefined,
    hasTransferEncoding: false,
  };
  const n = head.length;
  while (pos < n) {
    let eol = head.indexOf('\r\n', pos);
    if (eol === -1) eol = n;
    const colon = head.indexOf(':', pos);
    if (colon <= pos || colon >= eol) throw new HeadError(400, 'malformed header line');
    let upper = false;
    for (let i = pos; i < colon; i++) {
      const c = head.charCodeAt(i);
      const t = c < 128 ? TCHAR[c] : 0;
      if (t === 0) throw new HeadError(400, 'invalid header name');
      if (t === 2) upper = true;
    }
    const name = head.slice(pos, colon);
    // The value without the optional whitespace (SP, HTAB) around it, which BAD_VALUE allows anyway.
    let from = colon + 1;
    let to = eol;
    while (from < to && isOws(head.charCodeAt(from))) from++;
    while (to > from && isOws(head.charCodeAt(to - 1))) to--;
    const value = head.slice(from, to);
    if (BAD_VALUE.test(value)) throw new HeadError(400, 'invalid header value');
    pos = eol + 2;
    const lower = upper ? name.toLowerCase() : name;
    f.names.push(name);
    f.lower.push(lower);
    f.values.push(value);
    switch (lower) {
      case 'content-length': {
        if (!DIGITS.test(value)) throw new HeadError(400, 'invalid Content-Length');
        const n = Number(value);
        if (f.contentLength !== -1 && f.contentLength !== n) throw new HeadError(400, 'conflicting Content-Length');
        f.contentLength = n;
        break;
      }
      case 'transfer-encoding': {
        f.hasTransferEncoding = true;
        const codings = value.toLowerCase().split(',');
        f.chunked = codings[codings.length - 1].trim() === 'chunked';
        break;
      }
      case 'connection':
        if (value.indexOf(',') === -1) {
          if (value) f.connection.push(value.toLowerCase());
          break;
        }
        for (const token of value.toLowerCase().split(',')) {
          const t = token.trim();
          if (t) f.connection.push(t);
        }
        break;
      case 'host':
        if (f.host !== undefined) throw new HeadError(400, 'more than one Host');
        f.host = value;
        break;
      case 'upgrade':
        f.upgrade = value;
        break;
      case 'expect':
        f.expect = value;
        break;
    }
  }
  return f;
}

/** The end of the first line of `head` (its CRLF, or the end of the head). */
function firstLineEnd(head: string): number {
  const eol = head.indexOf('\r\n');
  return eol === -1 ? head.length : eol;
}

/** `head` is the request head up to (not including) the blank line, decoded as latin1. */
export function parseRequestHead(head: string): RequestHead {
  const eol = firstLineEnd(head);
  const first = head.slice(0, eol);
  const sp1 = first.indexOf(' ');
  const sp2 = first.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 <= sp1 + 1 || first.indexOf(' ', sp2 + 1) !== -1) throw new HeadError(400, 'malformed request line');
  const method = first.slice(0, sp1);
  const target = first.slice(sp1 + 1, sp2);
  const version = first.slice(sp2 + 1);
  if (!TOKEN.test(method)) throw new HeadError(400, 'invalid method');
  if (BAD_TARGET.test(target)) throw new HeadError(400, 'invalid request target');
  let minor: number;
  if (version === 'HTTP/1.1') minor = 1;
  else if (version === 'HTTP/1.0') minor = 0;
  else if (/^HTTP\/\d\.\d$/.test(version)) throw new HeadError(505, 'unsupported HTTP version');
  else throw new HeadError(400, 'malformed request line');
  const f = parseFields(head, eol + 2);
  if (f.hasTransferEncoding) {
    if (f.contentLength !== -1) throw new HeadError(400, 'Content-Length with Transfer-Encoding');
    if (!f.chunked) throw new HeadError(minor === 0 ? 400 : 501, 'unsupported Transfer-Encoding');
  }
  if (minor === 1 && f.host === undefined) throw new HeadError(400, 'missing Host');
  const keepAlive = minor === 1 ? !f.connection.includes('close') : f.connection.includes('keep-alive');
  return {
    method,
    target,
    minor,
    names: f.names,
    lower: f.lower,
    values: f.values,
    host: f.host,
    contentLength: f.contentLength,
    chunked: f.chunked,
    connection: f.connection,
    upgrade: f.upgrade,
    expectContinue: f.expect !== undefined && f.expect.toLowerCase() === '100-continue',
    keepAlive,
  };
}

/** `head` is the response head up to (not including) the blank line, decoded as latin1. */
export function parseResponseHead(head: string): ResponseHead {
  const eol = firstLineEnd(head);
  // HTTP/1.x SP 3DIGIT [SP reason], the reason without controls (other than HTAB).
  const m = eol >= 12 && head.startsWith('HTTP/1.') && head.charCodeAt(8) === 32 ? head.charCodeAt(7) - 48 : -1;
  const d0 = head.charCodeAt(9) - 48;
  const d1 = head.charCodeAt(10) - 48;
  const d2 = head.charCodeAt(11) - 48;
  if (
    (m !== 0 && m !== 1) ||
    !(d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) ||
    (eol > 12 && head.charCodeAt(12) !== 32) ||
    (eol > 13 && BAD_REASON.test(head.slice(13, eol)))
  )
    throw new HeadError(400, 'malformed status line');
  const minor = m;
  const status = d0 * 100 + d1 * 10 + d2;
  const reason = eol > 13 ? head.slice(13, eol) : '';
  const f = parseFields(head, eol + 2);
  if (f.hasTransferEncoding && !f.chunked) f.contentLength = -1; // close-delimited (RFC 9112 §6.3)
  const close = minor === 1 ? f.connection.includes('close') : !f.connection.includes('keep-alive');
  return {
    status,
    reason,
    minor,
    names: f.names,
    lower: f.lower,
    values: f.values,
    contentLength: f.chunked ? -1 : f.contentLength,
    chunked: f.chunked,
    connection: f.connection,
    close,
  };
}

/** Where the head in `buf` (from `from`) ends: the index just past CRLFCRLF, or -1. */
export function headEnd(buf: Buffer, from = 0): number {
  const i = buf.indexOf('\r\n\r\n', from, 'latin1');
  return i === -1 ? -1 : i + 4;
}

const enum C {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  LineStart,
  Trailer,
  TrailerLf,
  EndLf,
  Done,
}

/**
 * Finds the end of a chunked body fed to it piece by piece, counting its payload bytes
 * (for the body limit) and optionally handing the payload out (to de-chunk for an HTTP/1.0
 * client). Trailers are skipped over, kept in the bytes the caller forwards.
 */
export class ChunkedReader {
  private state = C.Size;
  private size = 0;
  private digits = 0;
  /** Payload bytes seen so far. */
  payload = 0;
  error: string | undefined;

  get done(): boolean {
    return this.state === C.Done;
  }

  /**
   * Consume `buf` from `start`; returns the index just past the body's last byte when the body
   * ends inside `buf`, else buf.length. Sets `error` (and returns -1) on malformed framing.
   */
  feed(buf: Buffer, start = 0, onData?: (chunk: Buffer) => void): number {
    let i = start;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case C.Size: {
          const c = buf[i];
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            if (++this.digits > 12) return this.fail('chunk size too large');
            this.size = this.size * 16 + v;
            i++;
          } else if (this.digits === 0) {
            return this.fail('invalid chunk size');
          } else if (c === 13) {
            this.state = C.SizeLf;
            i++;
          } else if (c === 59 || c === 32 || c === 9) {
            this.state = C.Ext;
            i++;
          } else return this.fail('invalid chunk size');
          break;
        }
        case C.Ext: {
          const cr = buf.indexOf(13, i);
          if (cr === -1) return n;
          for (let k = i; k < cr; k++) if (buf[k] === 10 || buf[k] === 0) return this.fail('invalid chunk extension');
          i = cr + 1;
          this.state = C.SizeLf;
          break;
        }
        case C.SizeLf:
          if (buf[i++] !== 10) return this.fail('expected LF after chunk size');
          this.digits = 0;
          this.state = this.size === 0 ? C.LineStart : C.Data;
          break;
        case C.Data: {
          const take = Math.min(this.size, n - i);
          if (onData) onData(buf.subarray(i, i + take));
          this.payload += take;
          this.size -= take;
          i += take;
          if (this.size === 0) this.state = C.DataCr;
          break;
        }
        case C.DataCr:
          if (buf[i++] !== 13) return this.fail('expected CR after chunk data');
          this.state = C.DataLf;
          break;
        case C.DataLf:
          if (buf[i++] !== 10) return this.fail('expected LF after chunk data');
          this.state = C.Size;
          break;
        case C.LineStart:
          if (buf[i] === 13) {
            i++;
            this.state = C.EndLf;
          } else this.state = C.Trailer;
          break;
        case C.Trailer: {
          const cr = buf.indexOf(13, i);
          if (cr === -1) return n;
          i = cr + 1;
          this.state = C.TrailerLf;
          break;
        }
        case C.TrailerLf:
          if (buf[i++] !== 10) return this.fail('expected LF after trailer');
          this.state = C.LineStart;
          break;
        case C.EndLf:
          if (buf[i++] !== 10) return this.fail('expected LF at end of chunked body');
          this.state = C.Done;
          return i;
        case C.Done:
          return i;
      }
    }
    return i;
  }

  private fail(msg: string): number {
    this.error = msg;
    return -1;
  }
}

/** Frame `data` as one chunk of a chunked body. */
export function chunk(data: Buffer): Buffer {
  const prefix = `${data.length.toString(16)}\r\n`;
  const out = Buffer.allocUnsafe(prefix.length + data.length + 2);
  out.write(prefix, 0, 'latin1');
  data.copy(out, prefix.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

/** `head` (latin1) and `body` as one buffer, so that both leave in one write. */
export function withHead(head: string, body: Buffer | undefined): Buffer | string {
  if (!body || body.length === 0) return head;
  const out = Buffer.allocUnsafe(head.length + body.length);
  out.write(head, 0, 'latin1');
  body.copy(out, head.length);
  return out;
}
