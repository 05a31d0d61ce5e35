import net from 'node:net';
import { corkForTurn } from './cork.ts';
import { ChunkedReader, HeadError, headEnd, parseResponseHead, type ResponseHead } from './http1.ts';

/** Error code of a backend connection that did not complete within connectTimeoutMs (Heroku H19). */
export const CONNECT_TIMEOUT = 'ECONNECT_TIMEOUT';

const MAX_RESPONSE_HEAD = 64 * 1024;
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** What one request/response exchange on a backend connection reports. */
export interface ExchangeHooks {
  /** The response head arrived (1xx interim responses are skipped). `bodiless`: no body follows. */
  onResponse(head: ResponseHead, bodiless: boolean): void;
  /** Response body bytes exactly as on the wire (chunked framing kept); only valid during the call (copy to keep). */
  onBody(data: Buffer): void;
  /** The response is complete. */
  onEnd(): void;
  /** Connect failure, reset, or the connection closed before the response was complete. Called at most once. */
  onError(err: NodeJS.ErrnoException): void;
}

const enum S {
  Connecting,
  Idle,
  Head,
  Body,
  Closed,
}

/**
 * A TCP connection to a backend that fails with CONNECT_TIMEOUT if the handshake takes longer
 * than `timeoutMs` (only the handshake: never a slow response on an open connection).
 */
export function connectBackend(host: string, port: number, timeoutMs: number, lookup?: net.LookupFunction, onread?: net.OnReadOpts): net.Socket {
  const socket = net.connect({ host, port, noDelay: true, lookup, onread });
  const timer = setTimeout(() => {
    socket.destroy(Object.assign(new Error(`connect timeout after ${timeoutMs}ms`), { code: CONNECT_TIMEOUT }));
  }, timeoutMs);
  socket.once('connect', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
  return socket;
}

const hangUp = (): NodeJS.ErrnoException => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

/**
 * One TCP connection to a backend, carrying one exchange at a time: the request head is written
 * as one string, the response head parsed here, the body framed (Content-Length, chunked, close
 * of the connection, none for HEAD/204/304) and handed on as it arrives. Reusable after a
 * complete exchange unless either side asked to close.
 */
export class BackendConnection {
  readonly socket: net.Socket;
  private state = S.Connecting;
  private hooks: ExchangeHooks | undefined;
  private buf: Buffer | undefined;
  private method = '';
  private remaining = 0;
  private chunked: ChunkedReader | undefined;
  private closeDelimited = false;
  private requestDone = false;
  private keep = true;
  /** When it went back to the pool (performance.now()). */
  idleSince = 0;
  /** Called when the connection closes, or when it completes an exchange and may be reused. */
  onRelease: (conn: BackendConnection, reusable: boolean) => void = () => {};

  constructor(host: string, port: number, connectTimeoutMs: number) {
    // Reads land in one shared buffer and are handled before the next read (no stream in between).
    const socket = connectBackend(host, port, connectTimeoutMs, undefined, {
      buffer: READ_BUFFER,
      callback: (n: number, buf: Uint8Array) => {
        this.onData((buf as Buffer).subarray(0, n));
        return true;
      },
    });
    this.socket = socket;
    socket.once('connect', () => {
      if (this.state === S.Connecting) this.state = this.hooks ? S.Head : S.Idle;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
    socket.on('end', () => this.onEof());
    socket.once('close', () => this.fail(hangUp()));
  }

  get connecting(): boolean {
    return this.state === S.Connecting;
  }

  /** Start an exchange: write the request head (and as much body as is given). */
  send(method: string, head: string, hooks: ExchangeHooks, requestDone: boolean): void {
    this.hooks = hooks;
    this.method = method;
    this.requestDone = requestDone;
    this.keep = true;
    if (this.state === S.Idle) this.state = S.Head;
    corkForTurn(this.socket);
    this.socket.write(head, 'latin1');
  }

  /** Request body bytes (already framed as the client framed them). */
  write(data: Buffer): boolean {
    corkForTurn(this.socket);
    return this.socket.write(data);
  }

  endRequest(): void {
    this.requestDone = true;
  }

  /** Abandon the exchange: the connection cannot be reused. */
  destroy(): void {
    this.hooks = undefined;
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    if (this.state === S.Body) return this.body(d, 0);
    if (this.state !== S.Head) {
      // Bytes nobody asked for (or after close): the connection is out of step.
      this.socket.destroy();
      return;
    }
    const buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    this.buf = undefined;
    this.head(buf, 0);
  }

  private head(buf: Buffer, from: number): void {
    for (;;) {
      const end = headEnd(buf, from);
      if (end === -1) {
        if (buf.length - from > MAX_RESPONSE_HEAD) return this.fail(Object.assign(new Error('response head too large'), { code: 'EPROTO' }));
        this.buf = Buffer.from(buf.subarray(from)); // a copy: `buf` may be the shared read buffer
        return;
      }
      let res: ResponseHead;
      try {
        res = parseResponseHead(buf.toString('latin1', from, end - 4));
      } catch (e) {
        return this.fail(Object.assign(new Error(`bad response: ${(e as HeadError).message}`), { code: 'EPROTO' }));
      }
      if (res.status >= 100 && res.status < 200 && res.status !== 101) {
        from = end; // interim response (100 Continue, 103 Early Hints): the real one follows
        continue;
      }
      const bodiless = this.method === 'HEAD' || res.status === 204 || res.status === 304 || res.status === 101;
      this.keep = !res.close && res.status !== 101;
      this.chunked = undefined;
      this.closeDelimited = false;
      if (bodiless) this.remaining = 0;
      else if (res.chunked) this.chunked = new ChunkedReader();
      else if (res.contentLength >= 0) this.remaining = res.contentLength;
      else this.closeDelimited = true;
      this.state = S.Body;
      this.hooks?.onResponse(res, bodiless);
      if (this.state !== S.Body) return; // the exchange was abandoned from the hook
      if (bodiless || (!this.chunked && !this.closeDelimited && this.remaining === 0)) {
        if (end < buf.length) this.keep = false;
        return this.complete();
      }
      if (end < buf.length) this.body(buf, end);
      return;
    }
  }

  private body(buf: Buffer, from: number): void {
    if (this.closeDelimited) {
      this.hooks?.onBody(from ? buf.subarray(from) : buf);
      return;
    }
    let end: number;
    if (this.chunked) {
      end = this.chunked.feed(buf, from);
      if (end === -1) return this.fail(Object.assign(new Error(`bad chunked response: ${this.chunked.error}`), { code: 'EPROTO' }));
      if (!this.chunked.done) end = buf.length;
    } else {
      end = Math.min(buf.length, from + this.remaining);
      this.remaining -= end - from;
    }
    if (end > from) this.hooks?.onBody(from === 0 && end === buf.length ? buf : buf.subarray(from, end));
    const done = this.chunked ? this.chunked.done : this.remaining === 0;
    if (!done) return;
    if (end < buf.length) this.keep = false; // pipelined junk: out of step
    this.complete();
  }

  private complete(): void {
    const hooks = this.hooks;
    this.hooks = undefined;
    const reusable = this.keep && this.requestDone;
    this.state = reusable ? S.Idle : S.Closed;
    if (!reusable) this.socket.destroy();
    hooks?.onEnd();
    this.onRelease(this, reusable);
  }

  private onEof(): void {
    if (this.state === S.Body && this.closeDelimited) return this.complete();
    this.fail(hangUp());
  }

  private fail(err: NodeJS.ErrnoException): void {
    if (this.state === S.Closed) return;
    this.state = S.Closed;
    const hooks = this.hooks;
    this.hooks = undefined;
    this.socket.destroy();
    hooks?.onError(err);
    this.onRelease(this, false);
  }
}
