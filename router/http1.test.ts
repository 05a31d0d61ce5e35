import { describe, expect, it } from 'vitest';
import { ChunkedReader, HeadError, chunk, headEnd, parseRequestHead, parseResponseHead } from './http1.ts';

const status = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof HeadError ? e.status : 'not a HeadError';
  }
  return 'accepted';
};

describe('parseRequestHead', () => {
  it('reads the request line and headers, keeping case and order', () => {
    const h = parseRequestHead('POST /a?b=1 HTTP/1.1\r\nHost: demo.localhost\r\nX-Thing:  spaced  \r\nContent-Length: 5\r\nConnection: keep-alive, Foo');
    expect(h).toMatchObject({ method: 'POST', target: '/a?b=1', minor: 1, host: 'demo.localhost', contentLength: 5, chunked: false, keepAlive: true });
    expect(h.names).toEqual(['Host', 'X-Thing', 'Content-Length', 'Connection']);
    expect(h.values[1]).toBe('spaced');
    expect(h.connection).toEqual(['keep-alive', 'foo']);
  });

  it('knows keep-alive rules of HTTP/1.0 and 1.1, chunked bodies, Expect and Upgrade', () => {
    expect(parseRequestHead('GET / HTTP/1.0').keepAlive).toBe(false);
    expect(parseRequestHead('GET / HTTP/1.0\r\nConnection: Keep-Alive').keepAlive).toBe(true);
    expect(parseRequestHead('GET / HTTP/1.1\r\nHost: x\r\nConnection: close').keepAlive).toBe(false);
    const h = parseRequestHead('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nExpect: 100-Continue\r\nUpgrade: websocket');
    expect(h).toMatchObject({ chunked: true, contentLength: -1, expectContinue: true, upgrade: 'websocket' });
  });

  it('refuses what llhttp refuses: malformed lines, smuggling vectors, missing Host', () => {
    const bad: [string, number][] = [
      ['GARBAGE', 400],
      ['GET /', 400],
      ['GET  / HTTP/1.1\r\nHost: x', 400],
      ['G(T / HTTP/1.1\r\nHost: x', 400],
      ['GET /\x00 HTTP/1.1\r\nHost: x', 400],
      ['GET / HTTP/9.9\r\nHost: x', 505],
      ['GET / HTTP/1.1', 400],
      ['GET / HTTP/1.1\r\nHost: x\r\nHost: y', 400],
      ['GET / HTTP/1.1\r\nHost: x\r\n folded: header', 400],
      ['GET / HTTP/1.1\r\nHost: x\r\n: novalue', 400],
      ['GET / HTTP/1.1\r\nHost: x\r\nBad Name: v', 400],
      ['GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b', 400],
      ['GET / HTTP/1.1\r\nHost: x\nX: bare-lf', 400],
      ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked', 400],
      ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1', 400],
      ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2', 400],
      ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip', 501],
    ];
    for (const [head, expected] of bad) expect([head, status(() => parseRequestHead(head))]).toEqual([head, expected]);
    expect(status(() => parseRequestHead('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2'))).toBe('accepted');
  });
});

describe('parseResponseHead', () => {
  it('reads status, framing and whether the server closes', () => {
    const r = parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 6\r\nKeep-Alive: timeout=5');
    expect(r).toMatchObject({ status: 200, reason: 'OK', contentLength: 6, chunked: false, close: false });
    expect(parseResponseHead('HTTP/1.1 204').reason).toBe('');
    expect(parseResponseHead('HTTP/1.0 200 OK').close).toBe(true);
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: close').close).toBe(true);
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3')).toMatchObject({ chunked: true, contentLength: -1 });
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip')).toMatchObject({ chunked: false, contentLength: -1 });
    expect(status(() => parseResponseHead('HTTP/2 200'))).toBe(400);
  });

  it('finds the end of a head', () => {
    expect(headEnd(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\nrest'))).toBe(27);
    expect(headEnd(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n'))).toBe(-1);
  });
});

describe('ChunkedReader', () => {
  const body = Buffer.from('5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\nNEXT');

  it('finds the end of a chunked body fed in any split, counting and handing out the payload', () => {
    for (let split = 0; split <= body.length; split++) {
      const r = new ChunkedReader();
      const out: Buffer[] = [];
      const a = r.feed(body.subarray(0, split), 0, (d) => out.push(Buffer.from(d)));
      if (!r.done) expect(a).toBe(split);
      const end = r.done ? a : split + r.feed(body.subarray(split), 0, (d) => out.push(Buffer.from(d)));
      expect(r.done).toBe(true);
      expect(end).toBe(body.length - 4);
      expect(r.payload).toBe(15);
      expect(Buffer.concat(out).toString()).toBe('hello0123456789');
    }
  });

  it('flags broken framing', () => {
    for (const bad of ['zz\r\nhello\r\n0\r\n\r\n', '5\r\nhelloXX0\r\n\r\n', '5\nhello', '1234567890123\r\n']) {
      const r = new ChunkedReader();
      expect(r.feed(Buffer.from(bad))).toBe(-1);
      expect(r.error).toBeTruthy();
    }
  });

  it('frames a chunk', () => {
    expect(chunk(Buffer.from('0123456789abcdefX')).toString()).toBe('11\r\n0123456789abcdefX\r\n');
  });
});
