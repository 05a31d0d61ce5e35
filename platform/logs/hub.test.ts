import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogHub } from './hub.ts';
import { openLogStore } from './store.ts';
import type { LogLine } from './format.ts';

const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-logs-')), 'logs.db');

describe('log hub', () => {
  it('keeps one ordered stream per app, in the contract format', () => {
    const hub = createLogHub(openLogStore(tempFile()));
    hub.write('a', 'app', 'web.1', 'one', '2026-01-01T00:00:00.000001Z');
    hub.write('b', 'router', 'web.1', 'other app');
    hub.write('a', 'paas', 'api', 'two\nthree');
    const lines = hub.history('a');
    expect(lines.map((l) => l.text)).toEqual(['one', 'two', 'three']);
    expect(lines[0].time).toBe('2026-01-01T00:00:00.000001+00:00');
    expect(lines.map((l) => l.id)).toEqual([...lines.map((l) => l.id)].sort((x, y) => x - y));
    hub.close();
  });

  it('returns the last N lines, filtered, and what came after an id', () => {
    const hub = createLogHub(openLogStore(tempFile()));
    for (let i = 1; i <= 10; i++) hub.write('a', i % 2 ? 'app' : 'router', `web.${(i % 3) + 1}`, `line ${i}`);
    expect(hub.history('a', { lines: 3 }).map((l) => l.text)).toEqual(['line 8', 'line 9', 'line 10']);
    expect(hub.history('a', { source: 'router', lines: 2 }).map((l) => l.text)).toEqual(['line 8', 'line 10']);
    expect(hub.history('a', { ps: 'web.1' }).map((l) => l.text)).toEqual(['line 3', 'line 6', 'line 9']);
    expect(hub.history('a', { ps: 'web' })).toHaveLength(10);
    expect(hub.history('a', { ps: 'worker' })).toHaveLength(0);
    const eighth = hub.history('a')[7];
    expect(hub.history('a', { afterId: eighth.id }).map((l) => l.text)).toEqual(['line 9', 'line 10']);
    hub.close();
  });

  it('bounds the history per app', () => {
    const hub = createLogHub(openLogStore(tempFile()), { retention: 50 });
    for (let i = 1; i <= 500; i++) hub.write('a', 'app', 'web.1', `line ${i}`);
    hub.write('b', 'app', 'web.1', 'b stays');
    const lines = hub.history('a', { lines: 1000 });
    expect(lines).toHaveLength(50);
    expect(lines.at(-1)!.text).toBe('line 500');
    expect(hub.history('b')).toHaveLength(1);
    hub.close();
  });

  it('survives a restart: history, ids and collector cursors', () => {
    const file = tempFile();
    const hub = createLogHub(openLogStore(file));
    hub.write('a', 'app', 'web.1', 'before', undefined, { container: 'c1', app: 'a', ts: '2026-01-01T00:00:00.000000001Z', n: 1, file: '2049:12', offset: 120 });
    const last = hub.write('a', 'app', 'web.1', 'restart')[0];
    hub.close();
    const again = createLogHub(openLogStore(file));
    expect(again.history('a').map((l) => l.text)).toEqual(['before', 'restart']);
    expect(again.cursor('c1')).toMatchObject({ ts: '2026-01-01T00:00:00.000000001Z', n: 1, file: '2049:12', offset: 120 });
    expect(again.write('a', 'app', 'web.1', 'after')[0].id).toBeGreaterThan(last.id);
    again.close();
  });

  it('hands live lines to subscribers with their filters, and to taps', () => {
    const hub = createLogHub(openLogStore(tempFile()));
    const web: LogLine[] = [];
    const all: LogLine[] = [];
    const batches: number[] = [];
    const stop = hub.subscribe('a', { ps: 'web', source: 'app' }, (ls) => web.push(...ls));
    hub.tap((ls) => (all.push(...ls), batches.push(ls.length)));
    hub.write('a', 'app', 'web.2', 'yes');
    hub.write('a', 'app', 'worker.1', 'no: worker');
    hub.write('a', 'router', 'web.1', 'no: router');
    hub.write('b', 'app', 'web.1', 'no: other app');
    stop();
    hub.write('a', 'app', 'web.1', 'no: unsubscribed');
    expect(web.map((l) => l.text)).toEqual(['yes']);
    expect(all).toHaveLength(5);
    // A container's read: one batch, one cursor, filtered once.
    hub.subscribe('a', { ps: 'web.1' }, (ls) => web.push(...ls));
    const n = hub.writeMany('a', 'app', 'web.1', ['m1', 'm2\nm3'], ['2026-01-01T00:00:01.000000001Z', '2026-01-01T00:00:02.000000002Z'], { container: 'c9', app: 'a', ts: '2026-01-01T00:00:02.000000002Z', n: 1, file: '1:2', offset: 99 });
    hub.writeMany('a', 'app', 'web.2', ['not web.1'], ['2026-01-01T00:00:03.000000003Z']);
    expect(n).toBe(3);
    expect(web.slice(1).map((l) => `${l.time} ${l.text}`)).toEqual(['2026-01-01T00:00:01.000000+00:00 m1', '2026-01-01T00:00:02.000000+00:00 m2', '2026-01-01T00:00:02.000000+00:00 m3']);
    expect(batches.slice(-2)).toEqual([3, 1]);
    expect(hub.cursor('c9')).toMatchObject({ offset: 99 });
    hub.close();
  });

  it('forgets a destroyed app, ignoring its late lines', () => {
    const hub = createLogHub(openLogStore(tempFile()));
    hub.write('a', 'app', 'web.1', 'x');
    expect(hub.deleteApp('a')).toBe(1);
    hub.write('a', 'paas', 'web.1', 'Process exited with status 137');
    expect(hub.history('a')).toEqual([]);
    hub.close();
  });

  it('stores a burst of 100k lines in batches', () => {
    const hub = createLogHub(openLogStore(tempFile()), { retention: 10_000 });
    for (let i = 0; i < 100_000; i++) hub.write('a', 'app', 'web.1', `line ${i} ${'x'.repeat(180)}`);
    const lines = hub.history('a', { lines: 10_000 });
    expect(lines).toHaveLength(10_000);
    expect(lines.at(-1)!.text).toMatch(/^line 99999 /);
    hub.close();
  });
});
