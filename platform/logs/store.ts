import Database from 'better-sqlite3';
import type { Filter, LogLine, Source } from './format.ts';

/** How far the collector has read one container's output: the engine timestamp of the last frame, and how many frames carried exactly that timestamp. */
export interface Cursor {
  container: string;
  app: string;
  ts: string;
  n: number;
}

/**
 * Durable, bounded log history in its own SQLite file (logs.db beside paas.db): high-volume,
 * disposable data kept out of the platform's state and its migrations. The collector's cursors
 * are written in the same transaction as the lines they cover, so a crash can neither lose nor
 * repeat a container's line.
 */
export function openLogStore(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS log_lines (
      id INTEGER PRIMARY KEY,
      app TEXT NOT NULL,
      time TEXT NOT NULL,
      source TEXT NOT NULL,
      dyno TEXT NOT NULL,
      text TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS log_lines_app_idx ON log_lines (app, id);
    CREATE TABLE IF NOT EXISTS log_cursors (
      container TEXT PRIMARY KEY,
      app TEXT NOT NULL,
      ts TEXT NOT NULL,
      n INTEGER NOT NULL
    );
  `);
  const insertLine = db.prepare('INSERT INTO log_lines (id, app, time, source, dyno, text) VALUES (@id, @app, @time, @source, @dyno, @text)');
  const upsertCursor = db.prepare('INSERT INTO log_cursors (container, app, ts, n) VALUES (@container, @app, @ts, @n) ON CONFLICT(container) DO UPDATE SET ts = excluded.ts, n = excluded.n');
  const trimApp = db.prepare('DELETE FROM log_lines WHERE app = ? AND id < (SELECT id FROM log_lines WHERE app = ? ORDER BY id DESC LIMIT 1 OFFSET ?)');
  const save = db.transaction((lines: LogLine[], cursors: Cursor[]) => {
    for (const l of lines) insertLine.run(l);
    for (const c of cursors) upsertCursor.run(c);
  });

  return {
    maxId(): number {
      return (db.prepare('SELECT max(id) AS id FROM log_lines').get() as { id: number | null }).id ?? 0;
    },
    save(lines: LogLine[], cursors: Cursor[]): void {
      save(lines, cursors);
    },
    /** Keeps the newest `keep` lines of the app. */
    trim(app: string, keep: number): void {
      trimApp.run(app, app, keep - 1);
    },
    /** The newest `limit` matching lines after `afterId`, oldest first. */
    query(app: string, opts: Filter & { limit: number; afterId?: number }): LogLine[] {
      const where = ['app = ?'];
      const args: unknown[] = [app];
      if (opts.afterId !== undefined) {
        where.push('id > ?');
        args.push(opts.afterId);
      }
      if (opts.source) {
        where.push('source = ?');
        args.push(opts.source);
      }
      if (opts.ps) {
        where.push('(dyno = ? OR substr(dyno, 1, ?) = ?)');
        args.push(opts.ps, opts.ps.length + 1, `${opts.ps}.`);
      }
      const rows = db.prepare(`SELECT id, app, time, source, dyno, text FROM log_lines WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`).all(...args, opts.limit) as LogLine[];
      return rows.reverse().map((r) => ({ ...r, source: r.source as Source }));
    },
    cursor(container: string): Cursor | undefined {
      return db.prepare('SELECT container, app, ts, n FROM log_cursors WHERE container = ?').get(container) as Cursor | undefined;
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
      return db.prepare('DELETE FROM log_lines WHERE app = ?').run(app).changes;
    },
    close(): void {
      db.close();
    },
  };
}

export type LogStore = ReturnType<typeof openLogStore>;
