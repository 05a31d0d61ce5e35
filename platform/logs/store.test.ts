import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openLogStore } from './store.ts';

describe('log store', () => {
  it('takes over the history and cursors of the one-row-per-line layout', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-logstore-')), 'logs.db');
    const old = new Database(file);
    old.exec(`
      CREATE TABLE log_lines (id INTEGER PRIMARY KEY, app TEXT NOT NULL, time TEXT NOT NULL, source TEXT NOT NULL, dyno TEXT NOT NULL, text TEXT NOT NULL);
      CREATE TABLE log_cursors (container TEXT PRIMARY KEY, app TEXT NOT NULL, ts TEXT NOT NULL, n INTEGER NOT NULL);
      INSERT INTO log_lines VALUES (1, 'a', 't1', 'app', 'web.1', 'one'), (2, 'b', 't2', 'router', 'web.1', 'other'), (3, 'a', 't3', 'paas', 'api', 'two');
      INSERT INTO log_cursors VALUES ('c1', 'a', '2026-01-01T00:00:00.000000001Z', 2);
    `);
    old.close();
    const store = openLogStore(file);
    expect(store.query('a', { limit: 10 }).map((l) => [l.id, l.text])).toEqual([[1, 'one'], [3, 'two']]);
    expect(store.query('a', { limit: 10, source: 'paas' }).map((l) => l.text)).toEqual(['two']);
    expect(store.maxId()).toBe(3);
    expect(store.cursor('c1')).toMatchObject({ ts: '2026-01-01T00:00:00.000000001Z', n: 2, file: '', offset: 0 });
    expect(store.deleteApp('a')).toBe(2);
    store.close();
  });
});
