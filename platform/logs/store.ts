import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { matches, type Filter, type LogLine, type Source } from './format.ts';

/**
 * How far the collector has read one container's json-file log: the file (device:inode) and the
 * offset to go on from; also the newest engine timestamp read and how many entries carried
 * exactly it, to skip by when that file is gone.
 */
export interface Cursor {
  container: string;
  app: string;
  ts: string;
  n: number;
  file: string;
  offset: number;
}

/** A line as kept inside a chunk: [id, time, source, dyno, text]. */
type Packed = [number, string, Source, string, string];

/**
 * Durable, bounded log history in its own SQLite file (logs.db beside paas.db): high-volume,
 * disposable data kept out of the platform's state and its migrations. Lines are kept in chunks,
 * one row per app and write batch (a JSON array, keyed by its last line's id), because a row per
 * line costs more than all the rest of a line's way at tens of thousands of lines a second.
 * The collector's cursors are written in the same transaction as the lines they cover, so a
 * crash can neither lose nor repeat a container's line.
 */
/**
 * WAL checkpoints (copying the WAL into the database file, and its fsync) in a thread of their
 * own: done on the writer's thread, as SQLite does by default every 1,000 pages (64 MB here), one
 * took 0.1–1 s of the main thread, all log delivery waiting. A passive checkpoint never blocks the
 * writer; once one has caught up, the next write starts the WAL over.
 */
const CHECKPOINTER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => { clearInterval(timer); checkpoint(); db.close(); parentPort.close(); });
`;

const MAX_WAL = 256 * 1024 * 1024;

function startCheckpointer(file: string, everyMs: number): Worker | undefined {
  try {
    const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { file, everyMs, module: createRequire(import.meta.url).resolve('better-sqlite3') } });
    worker.on('error', (err) => console.error('log store: checkpoint thread failed:', err.message));
    worker.unref();
    return worker;
  } catch (err) {
    console.error('log store: no checkpoint thread, checkpoints on the main thread:', (err as Error).message);
    return undefined;
  }
}

export function openLogStore(file: string, opts: { checkpointMs?: number } = {}) {
  const db = new Database(file);
  // Big pages: chunks span many of them, and each page is a write (twice, with the WAL); takes effect on a new file.
  db.pragma('page_size = 65536');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS log_chunks (
      id INTEGER PRIMARY KEY,
      app TEXT NOT NULL,
      n INTEGER NOT NULL,
      lines TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS log_chunks_app_idx ON log_chunks (app, id);
    CREATE TABLE IF NOT EXISTS log_cursors (
      container TEXT PRIMARY KEY,
      app TEXT NOT NULL,
      ts TEXT NOT NULL,
      n INTEGER NOT NULL,
      file TEXT NOT NULL DEFAULT '',
      offset INTEGER NOT NULL DEFAULT 0
    );
  `);
  // Cursors written before the collector read the files themselves have no file position.
  const cols = (db.prepare('PRAGMA table_info(log_cursors)').all() as { name: string }[]).map((c) => c.name);
  if (!cols.includes('file')) db.exec(`ALTER TABLE log_cursors ADD COLUMN file TEXT NOT NULL DEFAULT ''; ALTER TABLE log_cursors ADD COLUMN offset INTEGER NOT NULL DEFAULT 0;`);

  const checkpointer = startCheckpointer(file, opts.checkpointMs ?? 1000);
  if (checkpointer) db.pragma('wal_autocheckpoint = 0');
  let unchecked = 0;

  const insertChunk = db.prepare('INSERT INTO log_chunks (id, app, n, lines) VALUES (?, ?, ?, ?)');
  const upsertCursor = db.prepare('INSERT INTO log_cursors (container, app, ts, n, file, offset) VALUES (@container, @app, @ts, @n, @file, @offset) ON CONFLICT(container) DO UPDATE SET ts = excluded.ts, n = excluded.n, file = excluded.file, offset = excluded.offset');
  // The newest chunk that still holds one of the app's newest `keep` lines; older ones go.
  const trimApp = db.prepare(`
    DELETE FROM log_chunks WHERE app = @app AND id < (
      SELECT id FROM (SELECT id, sum(n) OVER (ORDER BY id DESC) AS total FROM log_chunks WHERE app = @app) WHERE total >= @keep LIMIT 1
    )`);
  const newest = db.prepare('SELECT lines FROM log_chunks WHERE app = ? AND id > ? ORDER BY id DESC');
  const save = db.transaction((lines: LogLine[], cursors: Cursor[]) => {
    const byApp = new Map<string, Packed[]>();
    for (const l of lines) {
      let chunk = byApp.get(l.app);
      if (!chunk) byApp.set(l.app, (chunk = []));
      chunk.push([l.id, l.time, l.source, l.dyno, l.text]);
    }
    for (const [app, chunk] of byApp) insertChunk.run(chunk[chunk.length - 1][0], app, chunk.length, JSON.stringify(chunk));
    for (const c of cursors) upsertCursor.run(c);
  });

  // History of the one-row-per-line layout: into chunks, once.
  if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log_lines'").get()) {
    db.transaction(() => {
      const old = db.prepare('SELECT id, app, time, source, dyno, text FROM log_lines ORDER BY id').all() as LogLine[];
      for (let i = 0; i < old.length; i += 1000) save(old.slice(i, i + 1000), []);
      db.exec('DROP TABLE log_lines');
    })();
  }

  return {
    maxId(): number {
      return (db.prepare('SELECT max(id) AS id FROM log_chunks').get() as { id: number | null }).id ?? 0;
    },
    save(lines: LogLine[], cursors: Cursor[]): void {
      save(lines, cursors);
      // Should the thread fall behind (or be stuck), the WAL is still bounded: a checkpoint here.
      if (checkpointer && (unchecked += lines.length) >= 100_000) {
        unchecked = 0;
        if ((fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0) > MAX_WAL) db.pragma('wal_checkpoint(RESTART)');
      }
    },
    /** Keeps (at least) the newest `keep` lines of the app. */
    trim(app: string, keep: number): void {
      trimApp.run({ app, keep });
    },
    /** The newest `limit` matching lines after `afterId`, oldest first. */
    query(app: string, opts: Filter & { limit: number; afterId?: number }): LogLine[] {
      const after = opts.afterId ?? 0;
      const out: LogLine[] = [];
      if (opts.limit <= 0) return out;
      for (const row of newest.iterate(app, after) as Iterable<{ lines: string }>) {
        const chunk = JSON.parse(row.lines) as Packed[];
        for (let i = chunk.length - 1; i >= 0; i--) {
          const [id, time, source, dyno, text] = chunk[i];
          if (id <= after) break;
          const line = { id, app, time, source, dyno, text };
          if (!matches(line, opts)) continue;
          out.push(line);
          if (out.length === opts.limit) return out.reverse();
        }
      }
      return out.reverse();
    },
    cursor(container: string): Cursor | undefined {
      return db.prepare('SELECT container, app, ts, n, file, offset FROM log_cursors WHERE container = ?').get(container) as Cursor | undefined;
    },
    /** Forgets the cursors of containers that no longer exist. */
    keepCursors(containers: string[]): void {
      const keep = new Set(containers);
      const all = db.prepare('SELECT container FROM log_cursors').all() as { container: string }[];
      const del = db.prepare('DELETE FROM log_cursors WHERE container = ?');
      for (const { container } of all) if (!keep.has(container)) del.run(container);
    },
    deleteApp(app: string): number {
      db.prepare('DELETE FROM log_cursors WHERE app = ?').run(app);
      const { lines } = db.prepare('SELECT coalesce(sum(n), 0) AS lines FROM log_chunks WHERE app = ?').get(app) as { lines: number };
      db.prepare('DELETE FROM log_chunks WHERE app = ?').run(app);
      return lines;
    },
    close(): void {
      checkpointer?.terminate().catch(() => {});
      db.close();
    },
  };
}

export type LogStore = ReturnType<typeof openLogStore>;
