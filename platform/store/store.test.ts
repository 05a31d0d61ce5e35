import { describe, expect, it } from 'vitest';
import { openDb } from './db.ts';
import { appsRepo } from '../apps/apps-repo.ts';
import { releasesRepo } from '../release/releases-repo.ts';
import { configRepo } from '../config/config-repo.ts';
import { formationRepo } from '../runner/formation-repo.ts';
import { createSecretBox } from '../secrets/secret-box.ts';
import { configVars } from './schema.ts';

/** The repo layer on an in-memory database with the real, checked-in migrations. */
describe('store', () => {
  const fresh = () => {
    const db = openDb(':memory:');
    return { db, app: appsRepo(db).insert('store-app') };
  };
  const release = (appId: string) => ({ appId, description: 'd', user: 'u', status: 'pending' as const, config: '{}', processTypes: '{}' });

  it('applies the migrations: every table exists', () => {
    const { db } = fresh();
    const tables = db.$client.prepare("select name from sqlite_master where type = 'table'").all().map((r) => (r as { name: string }).name);
    for (const t of ['apps', 'api_tokens', 'builds', 'releases', 'config_vars', 'formation', 'domains', 'drains', 'events']) expect(tables).toContain(t);
    expect(db.$client.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('numbers releases per app, gap-free, and finds the current one', () => {
    const { db, app } = fresh();
    const other = appsRepo(db).insert('other-app');
    const repo = releasesRepo(db);
    const v1 = repo.append(release(app.id));
    repo.append(release(other.id));
    const v2 = repo.append(release(app.id));
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(repo.current(app.id)).toBeUndefined();
    repo.setStatus(v1.id, 'succeeded');
    expect(repo.current(app.id)?.version).toBe(1);
    expect(repo.failAbandoned()).toBe(2);
  });

  it('keeps config values sealed in the table and open through the repo', () => {
    const { db, app } = fresh();
    const repo = configRepo(db, createSecretBox('k'));
    repo.set(app.id, { SECRET: 'plain-value' });
    expect(repo.all(app.id)).toEqual({ SECRET: 'plain-value' });
    const raw = db.select().from(configVars).all();
    expect(JSON.stringify(raw)).not.toContain('plain-value');
    repo.replace(app.id, { OTHER: 'x' });
    expect(repo.all(app.id)).toEqual({ OTHER: 'x' });
  });

  it('starts web at 1 on the first deploy and new types at 0', () => {
    const { db, app } = fresh();
    const repo = formationRepo(db);
    repo.addTypes(app.id, ['web', 'worker']);
    repo.addTypes(app.id, ['clock']);
    expect(repo.forApp(app.id)).toEqual({ web: { quantity: 1, memoryMb: null }, worker: { quantity: 0, memoryMb: null }, clock: { quantity: 0, memoryMb: null } });
  });

  it('removes an app’s rows with the app', () => {
    const { db, app } = fresh();
    releasesRepo(db).append(release(app.id));
    formationRepo(db).addTypes(app.id, ['web']);
    appsRepo(db).delete(app.id);
    expect(releasesRepo(db).forApp(app.id)).toEqual([]);
    expect(formationRepo(db).forApp(app.id)).toEqual({});
  });
});
