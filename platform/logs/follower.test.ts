import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { followContainer } from './follower.ts';
import { createLogHub } from './hub.ts';
import { JsonFileTail, normalizeTs, type Entry } from './json-file.ts';
import { openLogStore } from './store.ts';

const ts = (n: number) => `2026-01-01T00:00:00.${String(n).padStart(9, '0')}Z`;
/** One json-file entry as the engine writes it (it drops trailing zeros of the fraction). */
const entry = (n: number, log: string, stream = 'stdout') => JSON.stringify({ log, stream, time: ts(n).replace(/0+Z$/, 'Z') }) + '\n';

/** A container directory with its json-file log, written and rotated as the engine does. */
function fakeLog() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-jsonlog-'));
  const file = path.join(dir, 'c1-json.log');
  fs.writeFileSync(file, '');
  return {
    file,
    write: (...entries: string[]) => fs.appendFileSync(file, entries.join('')),
    rotate: () => {
      fs.renameSync(file, `${file}.1`);
      fs.writeFileSync(file, '');
    },
  };
}

const until = async (probe: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('json-file tail', () => {
  it('reads whole entries, whatever the write boundaries, with positions and 9-digit timestamps', async () => {
    const log = fakeLog();
    const whole = entry(1, 'one\n') + entry(20, 'two\n');
    log.write(whole.slice(0, 30));
    const tail = new JsonFileTail(log.file);
    await tail.open();
    const got: Entry[] = [];
    expect(await tail.read((es) => got.push(...es))).toBe(0);
    log.write(whole.slice(30));
    expect(await tail.read((es) => got.push(...es))).toBe(2);
    expect(got.map((e) => [e.log, e.ts, e.start, e.end])).toEqual([
      ['one\n', ts(1), 0, entry(1, 'one\n').length],
      ['two\n', ts(20), entry(1, 'one\n').length, whole.length],
    ]);
    await tail.close();
    expect(normalizeTs('2026-01-01T00:00:00Z')).toBe('2026-01-01T00:00:00.000000000Z');
    expect(normalizeTs('2026-01-01T00:00:00.5Z')).toBe('2026-01-01T00:00:00.500000000Z');
  });
});

describe('following a container', () => {
  const tempHub = (file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-follow-')), 'logs.db')) => ({ file, hub: createLogHub(openLogStore(file)) });
  const c = { id: 'c1', app: 'a', dyno: 'web.1' };
  const fast = { pollMs: 20, batchMs: 0 };
  const texts = (hub: ReturnType<typeof createLogHub>) => hub.history('a').map((l) => l.text);

  it('joins cut lines per stream, keeps stderr apart, and ends at the end of the file once finished', async () => {
    const log = fakeLog();
    const { hub } = tempHub();
    const reader = followContainer(c, hub, async () => ({ logPath: log.file, running: true }), fast);
    log.write(entry(1, 'hello\n'), entry(2, 'a long '), entry(3, 'err\n', 'stderr'), entry(4, 'line\n'), entry(5, '\uFFFDA\n', 'stderr'));
    await until(() => texts(hub).length === 4);
    log.write(entry(6, 'no newline at the end'));
    reader.finish();
    await reader.done;
    expect(texts(hub)).toEqual(['hello', 'err', 'a long line', '\uFFFDA', 'no newline at the end']);
    expect(hub.history('a')[0].time).toBe('2026-01-01T00:00:00.000000+00:00');
    hub.close();
  });

  it('follows rotations: the renamed file is read to its end, then the new one', async () => {
    const log = fakeLog();
    const { hub } = tempHub();
    const reader = followContainer(c, hub, async () => ({ logPath: log.file, running: true }), fast);
    log.write(entry(1, 'one\n'));
    await until(() => texts(hub).length === 1);
    // Written just before the rotation, not read yet; then two rotations before the next read.
    log.write(entry(2, 'two\n'));
    log.rotate();
    log.write(entry(3, 'three\n'));
    log.rotate();
    log.write(entry(4, 'four\n'));
    await until(() => texts(hub).length === 4);
    reader.finish();
    await reader.done;
    expect(texts(hub)).toEqual(['one', 'two', 'three', 'four']);
    hub.close();
  });

  it('resumes after a restart from the stored cursor: nothing repeated, nothing lost, across a rotation', async () => {
    const log = fakeLog();
    const { file, hub } = tempHub();
    const first = followContainer(c, hub, async () => ({ logPath: log.file, running: true }), fast);
    log.write(entry(1, 'one\n'), entry(2, 'two\n'));
    await until(() => texts(hub).length === 2);
    first.stop();
    await first.done;
    hub.close();

    // Written while the platform was down, with a rotation.
    log.write(entry(3, 'three\n'));
    log.rotate();
    log.write(entry(4, 'four\n'));
    const again = createLogHub(openLogStore(file));
    const second = followContainer(c, again, async () => ({ logPath: log.file, running: false }), fast);
    await second.done;
    expect(texts(again)).toEqual(['one', 'two', 'three', 'four']);
    again.close();
  });

  it('skips by timestamp when the file of the cursor is gone', async () => {
    const log = fakeLog();
    const { file, hub } = tempHub();
    // Two entries share a timestamp: the cursor counts them.
    log.write(entry(1, 'one\n'), entry(2, 'two\n'), entry(2, 'three\n'));
    const first = followContainer(c, hub, async () => ({ logPath: log.file, running: false }), fast);
    await first.done;
    hub.close();

    // Rotated away while the platform was down; the file there now still has its last entries, and more.
    fs.writeFileSync(`${log.file}.new`, entry(1, 'stale\n') + entry(2, 'two\n') + entry(2, 'three\n') + entry(2, 'four\n') + entry(3, 'five\n'));
    fs.rmSync(log.file);
    fs.renameSync(`${log.file}.new`, log.file);
    const again = createLogHub(openLogStore(file));
    const second = followContainer(c, again, async () => ({ logPath: log.file, running: false }), fast);
    await second.done;
    expect(texts(again)).toEqual(['one', 'two', 'three', 'four', 'five']);
    again.close();
  });
});
