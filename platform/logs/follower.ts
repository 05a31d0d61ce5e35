import fs from 'node:fs';
import type { LogHub } from './hub.ts';
import type { Cursor } from './store.ts';
import { JsonFileTail, type Entry } from './json-file.ts';

export interface Followed {
  id: string;
  app: string;
  dyno: string;
}

export interface Follower {
  /** Resolves when reading ended (finish or stop). */
  done: Promise<void>;
  /** The container stopped: read what is left, then end. */
  finish(): void;
  /** The platform stops: end now (the cursor says where to go on next time). */
  stop(): void;
  readonly finishing: boolean;
}

/** Longest line held while waiting for its end; beyond it the part so far is let out (and split at 10 KB). */
const MAX_PARTIAL = 1024 * 1024;

/**
 * Reads one container's json-file log into the hub, from where the last run stopped: the cursor
 * (file identity + offset, saved in the same transaction as the lines) says exactly where; when
 * that file is gone (rotated away while the platform was down), lines up to the cursor's
 * timestamp are skipped. New output is noticed by watching the container's directory (a poll
 * every `pollMs` as a fallback) and read in chunks after `batchMs`, so many writes make one read.
 * Reading a file never holds the app: the engine has already written it.
 */
export function followContainer(
  c: Followed,
  hub: LogHub,
  /** The container's log file, and whether it runs (when not, reading ends at the end of the file); undefined: nothing to read. */
  locate: () => Promise<{ logPath: string; running: boolean } | undefined>,
  opts: { pollMs?: number; batchMs?: number } = {},
): Follower {
  const pollMs = opts.pollMs ?? 1000;
  const batchMs = opts.batchMs ?? 10;
  let finishing = false;
  let stopped = false;
  let wake: (() => void) | undefined;
  const poke = () => wake?.();

  const run = async () => {
    const where = await locate();
    if (!where || stopped) return;
    if (!where.running) finishing = true;
    const tail = new JsonFileTail(where.logPath);
    const saved = hub.cursor(c.id);
    const exact = await tail.open(saved?.file ? { file: saved.file, offset: saved.offset ?? 0, ts: saved.ts } : undefined);
    // Skipping by timestamp: lines before the cursor's, and the first n that carry exactly it.
    let skip = saved && !exact ? { ts: saved.ts, n: saved.n } : undefined;
    // The newest timestamp read and how many entries carried it; where the last entry ended.
    let ts = saved?.ts ?? '';
    let n = saved?.n ?? 0;
    let endFile = saved?.file ?? '';
    let endOffset = saved?.offset ?? 0;
    const cursor = (at: { file: string; offset: number }): Cursor => ({ container: c.id, app: c.app, ts, n, ...at });
    // Per stream, a line cut into several entries: its parts so far, and where it started.
    const partial = new Map<string, { ts: string; parts: string[]; size: number; file: string; start: number }>();

    // The lines of one read, written to the hub together, with the cursor as it stood after the last of them.
    let texts: string[] = [];
    let times: string[] = [];
    let atTs = ts;
    let atN = n;
    let atFile = endFile;
    let atOffset = endOffset;
    const emit = (time: string, text: string) => {
      texts.push(text);
      times.push(time);
      // A line still being assembled on the other stream: resuming must start before it.
      atTs = ts;
      atN = n;
      atFile = endFile;
      atOffset = endOffset;
      for (const p of partial.values()) {
        atFile = p.file;
        atOffset = p.start;
      }
    };
    const writeOut = () => {
      if (texts.length === 0) return;
      const t = texts;
      const at = times;
      texts = [];
      times = [];
      hub.writeMany(c.app, 'app', c.dyno, t, at, { container: c.id, app: c.app, ts: atTs, n: atN, file: atFile, offset: atOffset });
    };

    const onEntries = (entries: Entry[]) => {
      for (const e of entries) {
        if (skip) {
          if (e.ts < skip.ts || (e.ts === skip.ts && skip.n-- > 0)) continue;
          skip = undefined;
        }
        // Only forward: stdout and stderr may interleave a little out of time order.
        if (e.ts === ts) n++;
        else if (e.ts > ts) {
          ts = e.ts;
          n = 1;
        }
        endFile = e.file;
        endOffset = e.end;
        const complete = e.log.endsWith('\n');
        const text = complete ? e.log.slice(0, -1) : e.log;
        let p = partial.get(e.stream);
        if (!p) {
          if (complete) {
            emit(e.ts, text);
            continue;
          }
          p = { ts: e.ts, parts: [], size: 0, file: e.file, start: e.start };
          partial.set(e.stream, p);
        }
        p.parts.push(text);
        p.size += text.length;
        if (!complete && p.size < MAX_PARTIAL) continue;
        partial.delete(e.stream);
        emit(p.ts, p.parts.join(''));
      }
      writeOut();
    };

    let watcher: fs.FSWatcher | undefined;
    try {
      watcher = fs.watch(tail.dir, { persistent: false }, poke);
      watcher.on('error', () => {});
    } catch {
      /* the directory is gone (container removed): what was opened is read, then the poll */
    }
    try {
      for (;;) {
        const got = await tail.read(onEntries);
        if (stopped || (finishing && got === 0)) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, finishing ? batchMs : pollMs);
          function done() {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          }
          wake = done;
        });
        if (!stopped) await new Promise((r) => setTimeout(r, batchMs));
      }
    } finally {
      watcher?.close();
      await tail.close();
      // A last line without its newline (the container ended mid-line).
      if (!stopped) {
        const left = [...partial.values()];
        partial.clear();
        for (const p of left) hub.write(c.app, 'app', c.dyno, p.parts.join(''), p.ts, cursor({ file: endFile, offset: endOffset }));
      }
    }
  };

  const done = run();
  return {
    done,
    finish() {
      finishing = true;
      poke();
    },
    stop() {
      stopped = true;
      poke();
    },
    get finishing() {
      return finishing;
    },
  };
}
