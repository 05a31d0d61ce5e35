import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FrameParser, LineAssembler } from './docker-frames.ts';
import { followContainer, sinceOf } from './follower.ts';
import { createLogHub } from './hub.ts';
import { openLogStore } from './store.ts';

/** One engine log frame: header (stream, size) + `TIMESTAMP SP payload`. */
const frame = (stream: 1 | 2, ts: string, payload: string | Buffer) => {
  const body = Buffer.concat([Buffer.from(`${ts} `), Buffer.isBuffer(payload) ? payload : Buffer.from(payload)]);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
};
const ts = (n: number) => `2026-01-01T00:00:00.${String(n).padStart(9, '0')}Z`;

describe('engine log frames', () => {
  it('parses frames across any chunk boundaries and joins partial lines per stream', () => {
    const bytes = Buffer.concat([
      frame(1, ts(1), 'hello\n'),
      frame(1, ts(2), 'long '),
      frame(2, ts(3), 'err\n'),
      frame(1, ts(4), 'line\n'),
      frame(1, ts(5), Buffer.from([0xe2, 0x82])), // a character cut between two frames…
      frame(1, ts(6), Buffer.from([0xac, 0x0a])), // …is decoded whole: €
      frame(2, ts(7), Buffer.from([0xff, 0xfe, 0x41, 0x0a])), // invalid UTF-8
    ]);
    const parser = new FrameParser();
    const lines = new LineAssembler();
    const out: { ts: string; text: string }[] = [];
    for (let i = 0; i < bytes.length; i += 3) for (const f of parser.push(bytes.subarray(i, i + 3))) out.push(...lines.push(f));
    expect(out).toEqual([
      { ts: ts(1), text: 'hello' },
      { ts: ts(3), text: 'err' },
      { ts: ts(2), text: 'long line' },
      { ts: ts(5), text: '€' },
      { ts: ts(7), text: '\uFFFD\uFFFDA' },
    ]);
  });

  it('turns a timestamp into the engine\'s since', () => {
    expect(sinceOf('1970-01-01T00:00:10.000000123Z')).toBe('10.000000123');
    expect(sinceOf('garbage')).toBeUndefined();
  });
});

describe('following a container', () => {
  const tempHub = (file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-follow-')), 'logs.db')) => ({ file, hub: createLogHub(openLogStore(file)) });
  const c = { id: 'c1', app: 'a', dyno: 'web.1' };

  it('resumes after a restart from the stored cursor: nothing repeated, nothing lost', async () => {
    const { file, hub } = tempHub();
    // Two frames share a timestamp, as happens on a coarse clock: the cursor counts them.
    const all = [frame(1, ts(1), 'one\n'), frame(1, ts(2), 'two\n'), frame(1, ts(2), 'three\n'), frame(1, ts(3), 'four\n'), frame(1, ts(4), 'five\n')];
    const first = new PassThrough();
    const sinces: (string | undefined)[] = [];
    const reading = followContainer(c, hub, async (since) => (sinces.push(since), first as Readable), new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    first.end(Buffer.concat(all.slice(0, 3)));
    await reading;
    hub.close();

    const again = createLogHub(openLogStore(file));
    // The engine sends everything at or after `since`, i.e. from the second frame at ts(2) on.
    const second = new PassThrough();
    const readingAgain = followContainer(c, again, async (since) => (sinces.push(since), second as Readable), new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    second.end(Buffer.concat(all.slice(1)));
    await readingAgain;
    expect(sinces).toEqual([undefined, sinceOf(ts(2))]);
    expect(again.history('a').map((l) => `${l.source}[${l.dyno}]: ${l.text}`)).toEqual(['one', 'two', 'three', 'four', 'five'].map((t) => `app[web.1]: ${t}`));
    again.close();
  });

  it('drops frames the engine sends again (older than the last of their stream)', async () => {
    const { hub } = tempHub();
    const stream = new PassThrough();
    const reading = followContainer(c, hub, async () => stream as Readable, new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    // As Docker 20.10 does around a json-file rotation: a stretch of lines again.
    stream.end(Buffer.concat([
      frame(1, ts(1), 'a\n'), frame(1, ts(2), 'b\n'), frame(1, ts(3), 'c1\n'), frame(1, ts(3), 'c2\n'),
      frame(1, ts(2), 'b\n'), frame(1, ts(3), 'c1\n'), frame(1, ts(3), 'c2\n'), // again
      frame(2, ts(2), 'err\n'), frame(1, ts(3), 'c3\n'), frame(1, ts(4), 'd\n'),
    ]));
    await reading;
    expect(hub.history('a').map((l) => l.text)).toEqual(['a', 'b', 'c1', 'c2', 'err', 'c3', 'd']);
    hub.close();
  });
});
