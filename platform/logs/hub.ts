import { formatTime, matches, splitText, type Filter, type LogLine, type Source } from './format.ts';
import type { Cursor, LogStore } from './store.ts';

export interface HubOptions {
  /** Lines kept per app (default 10,000). */
  retention?: number;
  /** Writes are batched into one transaction at most this often (default 100 ms). */
  flushMs?: number;
  /** …or as soon as this many are waiting (default 5,000). */
  flushLines?: number;
}

type Listener = (line: LogLine) => void;

/**
 * One ordered stream per app: every source writes here; subscribers (websockets, drains) see each
 * line as it is written, history comes from the store. Writing never waits on anyone: storage is
 * batched and subscribers must not block (each bounds its own buffer).
 */
export function createLogHub(store: LogStore, opts: HubOptions = {}) {
  const retention = opts.retention ?? 10_000;
  const flushMs = opts.flushMs ?? 100;
  const flushLines = opts.flushLines ?? 5_000;
  const trimEvery = Math.max(1, Math.ceil(retention / 10));

  let nextId = store.maxId() + 1;
  let pending: LogLine[] = [];
  const cursors = new Map<string, Cursor>();
  const sinceTrim = new Map<string, number>();
  const listeners = new Map<string, Set<Listener>>();
  const taps = new Set<Listener>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  /** Apps just destroyed: late lines (exit statuses of their removed containers) are not kept. */
  const gone = new Map<string, number>();

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (closed || (pending.length === 0 && cursors.size === 0)) return;
    const lines = pending;
    pending = [];
    const cs = [...cursors.values()];
    cursors.clear();
    try {
      store.save(lines, cs);
    } catch (err) {
      console.error('log store: write failed, lines kept in memory only:', err);
      return;
    }
    for (const l of lines) sinceTrim.set(l.app, (sinceTrim.get(l.app) ?? 0) + 1);
    for (const [app, n] of sinceTrim) {
      if (n < trimEvery) continue;
      store.trim(app, retention);
      sinceTrim.delete(app);
    }
  };

  const schedule = () => {
    if (pending.length >= flushLines) flush();
    else if (!timer) timer = setTimeout(flush, flushMs).unref();
  };

  const emit = (fn: Listener, line: LogLine) => {
    try {
      fn(line);
    } catch (err) {
      console.error('log subscriber failed:', err);
    }
  };

  return {
    /**
     * Appends text (split at newlines and at 10 KB) to the app's stream. `time` defaults to now;
     * `cursor` records how far a container's output has been read, saved with these lines.
     */
    write(app: string, source: Source, dyno: string, text: string, time?: Date | string, cursor?: Cursor): LogLine[] {
      if (closed) return [];
      if (gone.size && (gone.get(app) ?? 0) > Date.now()) return [];
      const t = formatTime(time);
      const written = splitText(text).map((piece) => ({ id: nextId++, app, time: t, source, dyno, text: piece }));
      pending.push(...written);
      if (cursor) cursors.set(cursor.container, cursor);
      schedule();
      const subs = listeners.get(app);
      for (const line of written) {
        if (subs) for (const fn of subs) emit(fn, line);
        for (const fn of taps) emit(fn, line);
      }
      return written;
    },

    /** Live lines of one app matching `filter`; returns the unsubscribe. */
    subscribe(app: string, filter: Filter, fn: Listener): () => void {
      const wrapped: Listener = (l) => matches(l, filter) && fn(l);
      let subs = listeners.get(app);
      if (!subs) listeners.set(app, (subs = new Set()));
      subs.add(wrapped);
      return () => {
        subs.delete(wrapped);
        if (subs.size === 0 && listeners.get(app) === subs) listeners.delete(app);
      };
    },

    /** Every line of every app (drains). */
    tap(fn: Listener): () => void {
      taps.add(fn);
      return () => taps.delete(fn);
    },

    /** The newest `lines` matching lines (after `afterId` if given), oldest first; never more than the retention. */
    history(app: string, q: Filter & { lines?: number; afterId?: number } = {}): LogLine[] {
      flush();
      return store.query(app, { ...q, limit: Math.min(q.lines ?? retention, retention) });
    },

    cursor(container: string): Cursor | undefined {
      return cursors.get(container) ?? store.cursor(container);
    },

    /** Removes an app's history (apps:destroy). */
    deleteApp(app: string): number {
      flush();
      gone.set(app, Date.now() + 5000);
      for (const [name, until] of gone) if (until < Date.now()) gone.delete(name);
      return store.deleteApp(app);
    },

    flush,

    close(): void {
      flush();
      closed = true;
      store.close();
    },

    retention,
  };
}

export type LogHub = ReturnType<typeof createLogHub>;
