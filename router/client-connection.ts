import type net from 'node:net';
import { now } from './clock.ts';
import { corkForTurn, flushCorked } from './cork.ts';
import { ConnectionCache } from './context.ts';
import { ChunkedReader, HeadError, headEnd, parseRequestHead, type RequestHead } from './http1.ts';

export interface ConnectionOptions {
  /** Larger request heads are answered 431. */
  maxHeaderSize: number;
  /** Larger request bodies (declared or chunked) are refused. */
  maxBodyBytes: number;
}

/** What the router does with requests and with what it cannot parse. */
export interface ConnectionHandler {
  request(req: ClientRequest): void;
  /** The bytes are not a request the router will serve: answer `err.status` and close. */
  malformed(conn: ClientConnection, err: HeadError): void;
}

/** Who handles a request: told when the client goes away or its body cannot be framed. */
export interface RequestOwner {
  /** The client went away before the response was complete. */
  aborted(): void;
  /** The chunked body outgrew the limit (`tooLarge`), or its framing is broken. */
  bodyError(tooLarge: boolean): void;
}

/** Takes a request body: bytes as they arrive (framing kept), then its end. */
export interface BodySink {
  bodyData(data: Buffer): void;
  bodyEnd(): void;
}

/** One request as read from a client connection. Its body streams to a BodySink (raw, framing kept). */
export class ClientRequest {
  /** The body was read in full (or there is none). */
  bodyComplete: boolean;
  /** Body bytes read but not yet taken (before `onBody` is set). */
  private queued: Buffer[] | undefined;
  private sink: BodySink | undefined;
  private pausedForQueue = false;
  owner: RequestOwner | undefined;
  /** Bytes written to the client for this request's response. */
  bytesWritten = 0;
  /** Set once the response is complete. */
  finished = false;

  constructor(
    readonly conn: ClientConnection,
    readonly head: RequestHead,
    readonly hasBody: boolean,
  ) {
    this.bodyComplete = !hasBody;
  }

  /** Take the body: queued bytes first, then as they arrive; `bodyEnd` once it is complete. */
  pipeBody(sink: BodySink): void {
    this.sink = sink;
    if (this.queued) {
      for (const b of this.queued.splice(0)) sink.bodyData(b);
      this.queued = undefined;
      if (this.pausedForQueue) {
        this.pausedForQueue = false;
        this.conn.socket.resume();
      }
    }
    if (this.bodyComplete) sink.bodyEnd();
  }

  /** Stop taking the body (the backend attempt was abandoned); bytes queue up again for a retry. */
  unpipeBody(): void {
    this.sink = undefined;
  }

  /** @internal */
  deliver(data: Buffer, last: boolean): void {
    if (data.length) {
      if (this.sink) this.sink.bodyData(data);
      else {
        (this.queued ??= []).push(data);
        // No backend connection yet (connecting, or the pool is at its limit): stop reading.
        if (this.queued.length > 16 && !this.pausedForQueue) {
          this.pausedForQueue = true;
          this.conn.socket.pause();
        }
      }
    }
    if (last) {
      this.bodyComplete = true;
      this.sink?.bodyEnd();
    }
  }

  /** Write response bytes to the client. Returns false when the client is not keeping up. */
  write(data: Buffer | string): boolean {
    this.bytesWritten += data.length; // strings here are latin1: one byte per character
    const socket = this.conn.socket;
    corkForTurn(socket);
    return socket.write(data, 'latin1');
  }

  /** The response is complete: the connection serves the next request, or closes if `keepAlive` is false. */
  finish(keepAlive: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.conn.finished(this, keepAlive && this.bodyComplete);
  }
}

const enum S {
  /** Waiting for (more of) a request head. */
  Head,
  /** A request is being served. */
  Busy,
  /** Handed over (websocket) or closing: no more parsing. */
  Done,
}

/**
 * An HTTP/1.1 server connection: parses request heads, frames request bodies (Content-Length,
 * chunked), serves requests one at a time (pipelined ones wait in the buffer), and keeps the
 * connection alive between them.
 */
export class ClientConnection {
  private state = S.Head;
  private buf: Buffer | undefined;
  private req: ClientRequest | undefined;
  private bodyLeft = 0;
  private chunked: ChunkedReader | undefined;
  private parsing = false;
  /** The request body could not be framed: no more reading from this client. */
  private broken = false;
  /** performance.now() of the last activity, for the server's idle sweep. */
  lastActive = now();
  /** The server is shutting down: close after the current response. */
  draining = false;
  /** Client address and last route, kept across keep-alive requests (context.ts). */
  readonly cache = new ConnectionCache();

  constructor(
    readonly socket: net.Socket,
    private readonly opts: ConnectionOptions,
    private readonly handler: ConnectionHandler,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => socket.destroy());
    // A client that half-closes gets no more answers (as with node:http): treat it as gone.
    socket.on('end', () => this.cut());
    socket.once('close', () => this.onClose());
  }

  /** Close the connection at once; what was already written to it still goes out. */
  cut(): void {
    flushCorked(this.socket);
    this.socket.destroy();
  }

  /** No request in progress and nothing buffered: safe to close. */
  get idle(): boolean {
    return this.state === S.Head && !this.buf;
  }

  /** Waiting for the rest of a request head. */
  get partial(): boolean {
    return this.state === S.Head && !!this.buf;
  }

  /** Stop parsing: the router answers this connection itself and closes it. */
  stop(): void {
    this.state = S.Done;
    this.buf = undefined;
  }

  /** Stop parsing and hand over the socket, with the bytes read past the current request head. */
  detach(): Buffer {
    this.state = S.Done;
    this.socket.pause();
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    const rest = this.buf ?? Buffer.alloc(0);
    this.buf = undefined;
    return rest;
  }

  private onData(d: Buffer): void {
    this.lastActive = now();
    if (this.state === S.Done || this.broken) return;
    const req = this.req;
    if (req && !req.bodyComplete) return this.body(req, d, 0);
    this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    // Pipelined requests wait; a client that keeps sending meanwhile is throttled.
    if (this.state === S.Busy) {
      if (this.buf.length > this.opts.maxHeaderSize) this.socket.pause();
      return;
    }
    this.parse();
  }

  private parse(): void {
    if (this.parsing) return;
    this.parsing = true;
    try {
      while (this.state === S.Head && this.buf) {
        let buf = this.buf;
        // RFC 9112 §2.2: ignore empty lines before a request line.
        let from = 0;
        while (from + 1 < buf.length && buf[from] === 13 && buf[from + 1] === 10) from += 2;
        const end = headEnd(buf, from);
        if (end === -1 || end - from > this.opts.maxHeaderSize) {
          if (buf.length - from > this.opts.maxHeaderSize) return this.refuse(new HeadError(431, 'request head too large'));
          this.buf = from === buf.length ? undefined : from ? buf.subarray(from) : buf;
          return;
        }
        let head: RequestHead;
        try {
          head = parseRequestHead(buf.toString('latin1', from, end - 4));
        } catch (e) {
          if (e instanceof HeadError) return this.refuse(e);
          throw e;
        }
        buf = buf.subarray(end);
        this.buf = buf.length ? buf : undefined;
        const hasBody = head.chunked || head.contentLength > 0;
        const req = new ClientRequest(this, head, hasBody);
        this.req = req;
        this.state = S.Busy;
        this.chunked = head.chunked ? new ChunkedReader() : undefined;
        this.bodyLeft = head.chunked ? 0 : Math.max(0, head.contentLength);
        this.handler.request(req);
        if ((this.state as S) === S.Done) return;
        if (hasBody && this.buf && !req.bodyComplete && this.req === req) {
          const rest = this.buf;
          this.buf = undefined;
          this.body(req, rest, 0);
        }
      }
    } finally {
      this.parsing = false;
    }
  }

  private body(req: ClientRequest, d: Buffer, from: number): void {
    let end: number;
    const chunked = this.chunked;
    if (chunked) {
      end = chunked.feed(d, from);
      if (end === -1 || chunked.payload > this.opts.maxBodyBytes) {
        // Nothing more is read: the response (413 or 400) closes the connection.
        this.broken = true;
        this.socket.pause();
        req.owner?.bodyError(end !== -1);
        return;
      }
      if (!chunked.done) end = d.length;
    } else {
      end = Math.min(d.length, from + this.bodyLeft);
      this.bodyLeft -= end - from;
    }
    const done = chunked ? chunked.done : this.bodyLeft === 0;
    req.deliver(from === 0 && end === d.length ? d : d.subarray(from, end), done);
    if (end < d.length) {
      // The start of a pipelined request.
      const rest = d.subarray(end);
      this.buf = this.buf ? Buffer.concat([this.buf, rest]) : rest;
      if (this.buf.length > this.opts.maxHeaderSize) this.socket.pause();
    }
  }

  /** @internal The current response is complete. */
  finished(req: ClientRequest, keepAlive: boolean): void {
    if (req !== this.req) return;
    this.req = undefined;
    this.lastActive = now();
    if (this.state === S.Done) return;
    if (!keepAlive || this.draining) {
      this.state = S.Done;
      this.socket.end();
      return;
    }
    this.state = S.Head;
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buf) this.parse();
  }

  private refuse(err: HeadError): void {
    this.state = S.Done;
    this.buf = undefined;
    this.handler.malformed(this, err);
  }

  private onClose(): void {
    this.state = S.Done;
    const req = this.req;
    this.req = undefined;
    if (req && !req.finished) req.owner?.aborted();
  }
}
