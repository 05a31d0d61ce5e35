import { beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '../server.ts';
import { TEST_TOKEN, tempPlatform } from '../../../test/helpers/temp-platform.ts';
import type { Platform } from '../../platform.ts';
import { appsService } from '../../apps/apps-service.ts';
import { releaseService } from '../../release/release-service.ts';
import { formationRepo } from '../../runner/formation-repo.ts';

/** ps:resize through the API, on an app whose process types are all at 0 (nothing to start). */
describe('formation API: memory per process type', () => {
  let p: Platform;
  let api: ReturnType<typeof createApi>;
  const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
  const resize = (body: unknown) => api.request('/api/apps/sized/formation/memory', { method: 'PATCH', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const formation = async () => (await api.request('/api/apps/sized/formation', { headers })).json();

  beforeEach(async () => {
    p = tempPlatform();
    api = createApi(p);
    const app = await appsService(p).create('sized', 'test');
    const release = releaseService(p).create(app, { image: 'none', digest: 'sha256:none', processTypes: { web: 'serve', worker: 'work' }, description: 'test', user: 'test' });
    releaseService(p).markSucceeded(release);
    formationRepo(p.db).addTypes(app.id, ['web', 'worker']);
    formationRepo(p.db).setQuantity(app.id, 'web', 0);
  });

  it('shows 512 MB by default and stores a new size', async () => {
    expect(await formation()).toEqual([
      { type: 'web', quantity: 0, command: 'serve', memory_mb: 512 },
      { type: 'worker', quantity: 0, command: 'work', memory_mb: 512 },
    ]);
    const res = await resize({ web: 1024 });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await res.json()).find((f: { type: string }) => f.type === 'web')).toMatchObject({ memory_mb: 1024 });
    expect((await formation())[1]).toMatchObject({ type: 'worker', memory_mb: 512 });
  });

  it('refuses unknown types, out-of-bounds and non-numbers, changing nothing', async () => {
    const cases: Array<[unknown, number, RegExp]> = [
      [{ web: 1024, nope: 512 }, 422, /unknown process type "nope" \(this app has: web, worker\)/],
      [{ web: 32 }, 422, /web=32: memory is a whole number of MB from 64 to 16384/],
      [{ worker: 1024, web: 100_000 }, 422, /from 64 to 16384/],
      [{ web: 512.5 }, 422, /whole number/],
      [{ web: '1024' }, 422, /numbers of MB/],
      [{}, 422, /give at least one TYPE=MB/],
      ['{', 400, /not valid JSON/],
    ];
    for (const [body, status, message] of cases) {
      const res = await resize(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect((await res.json()).message).toMatch(message);
    }
    expect((await formation()).map((f: { memory_mb: number }) => f.memory_mb)).toEqual([512, 512]);
  });
});
