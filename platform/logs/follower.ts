import type { Readable } from 'node:stream';
import { FrameParser, LineAssembler } from './docker-frames.ts';
import type { LogHub } from './hub.ts';
import type { Cursor } from './store.ts';

export interface Followed {
  id: string;
  app: string;
  dyno: string;
}

/** `since` for the engine: seconds.nanoseconds of an RFC 3339 timestamp (the engine includes lines at exactly that time). */
export function sinceOf(ts: string): string | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts);
  if (!m) return undefined;
  return `${Date.parse(`${m[1]}Z`) / 1000}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}`;
}

/**
 * Reads one container's output into the hub from where the last run stopped: frames up to the
 * stored cursor (timestamp + how many frames carried it) are skipped, so a restart neither
 * repeats nor loses a line. Resolves when the stream ends (the container stopped).
 */
export async function followContainer(
  c: Followed,
  hub: LogHub,
  open: (since: string | undefined) => Promise<Readable>,
  signal: AbortSignal,
): Promise<void> {
  const saved = hub.cursor(c.id);
  let pos: Cursor = saved ?? { container: c.id, app: c.app, ts: '', n: 0 };
  let skipping = !!saved;
  let skipped = 0;
  const stream = await open(saved ? sinceOf(saved.ts) : undefined);
  const frames = new FrameParser();
  const lines = new LineAssembler();
  // Per stream: the newest timestamp and how many frames carried it. Timestamps never go back
  // within a stream (several frames may share one on a coarse clock), so a frame older than that
  // starts a stretch sent again (Docker 20.10's json-file follower repeats lines around a log
  // rotation), skipped up to where we were.
  const streams = new Map<number, { ts: string; n: number; replay?: { ts: string; n: number; skipped: number } }>();
  const replayed = (f: { stream: number; ts: string }): boolean => {
    if (!f.ts) return false;
    let st = streams.get(f.stream);
    if (!st) streams.set(f.stream, (st = { ts: '', n: 0 }));
    if (st.replay) {
      if (f.ts < st.replay.ts) return true;
      if (f.ts === st.replay.ts && st.replay.skipped < st.replay.n) {
        st.replay.skipped++;
        return true;
      }
      st.replay = undefined;
    } else if (st.ts && f.ts < st.ts) {
      st.replay = { ts: st.ts, n: st.n, skipped: 0 };
      return true;
    }
    if (f.ts === st.ts) st.n++;
    else {
      st.ts = f.ts;
      st.n = 1;
    }
    return false;
  };
  const emit = (l: { ts: string; text: string }) => hub.write(c.app, 'app', c.dyno, l.text, l.ts || undefined, { ...pos });
  const onAbort = () => stream.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        for (const f of frames.push(chunk)) {
          if (skipping) {
            if (f.ts < saved!.ts) continue;
            if (f.ts === saved!.ts && skipped < saved!.n) {
              skipped++;
              continue;
            }
            skipping = false;
          }
          if (replayed(f)) continue;
          // Only forward: stdout and stderr may interleave a little out of time order.
          if (f.ts === pos.ts) pos = { ...pos, n: pos.n + 1 };
          else if (f.ts > pos.ts) pos = { ...pos, ts: f.ts, n: 1 };
          for (const l of lines.push(f)) emit(l);
        }
      });
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', reject);
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!signal.aborted) for (const l of lines.rest()) emit(l);
  }
}
