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

/** Lines in write order, handed over together (one container read, one write); never empty. */
type Listener = (lines: LogLine[]) => void;

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
  const listeners = new Map<string, Set<{ filter: Filter; fn: Listener }>>();
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

  const emit = (fn: Listener, lines: LogLine[]) => {
    try {
      fn(lines);
    } catch (err) {
      console.error('log subscriber failed:', err);
    }
  };

  /** Stores and hands out lines just made (same app); `same`: all of one source and dyno. */
  const publish = (app: string, written: LogLine[], same: boolean, cursor?: Cursor) => {
    for (const l of written) pending.push(l);
    if (cursor) cursors.set(cursor.container, cursor);
    schedule();
    if (written.length === 0) return;
    const subs = listeners.get(app);
    if (subs) for (const s of subs) {
      const mine = same ? (matches(written[0], s.filter) ? written : undefined) : written.filter((l) => matches(l, s.filter));
      if (mine?.length) emit(s.fn, mine);
    }
    for (const fn of taps) emit(fn, written);
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
      publish(app, written, true, cursor);
      return written;
    },

    /**
     * Many texts of one source and dyno at once (a container's read), each with its engine
     * timestamp: one batch for storage and subscribers, one cursor for all of them.
     */
    writeMany(app: string, source: Source, dyno: string, texts: string[], times: string[], cursor?: Cursor): number {
      if (closed) return 0;
      if (gone.size && (gone.get(app) ?? 0) > Date.now()) return 0;
      const written: LogLine[] = [];
      for (let i = 0; i < texts.length; i++) {
        const t = formatTime(times[i]);
        const pieces = splitText(texts[i]);
        for (let k = 0; k < pieces.length; k++) written.push({ id: nextId++, app, time: t, source, dyno, text: pieces[k] });
      }
      publish(app, written, true, cursor);
      return written.length;
    },

    /** Live lines of one app matching `filter`, in batches; returns the unsubscribe. */
    subscribe(app: string, filter: Filter, fn: Listener): () => void {
      const wrapped = { filter, fn };
      let subs = listeners.get(app);
      if (!subs) listeners.set(app, (subs = new Set()));
      subs.add(wrapped);
      return () => {
        subs.delete(wrapped);
        if (subs.size === 0 && listeners.get(app) === subs) listeners.delete(app);
      };
    },

    /** Every line of every app (drains), in batches of one app. */
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
