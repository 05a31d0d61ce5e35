import { Hono } from 'hono';
import { z } from 'zod';
import type { Platform } from '../../platform.ts';
import type { Release } from '../../store/schema.ts';
import { appsService } from '../../apps/apps-service.ts';
import { releaseService } from '../../release/release-service.ts';
import { rollOut } from '../../release/roll-out.ts';
import { PlatformError, invalid } from '../../errors.ts';
import type { ApiEnv } from '../api-env.ts';
import { jsonBody } from '../body.ts';
import { withOutput } from '../with-output.ts';

export const releaseView = (r: Release) => ({
  version: r.version,
  description: r.description,
  user: r.user,
  status: r.status,
  created_at: r.createdAt,
  image_digest: r.imageDigest,
  process_types: Object.keys(JSON.parse(r.processTypes)),
});

const version = (raw: string) => {
  const n = Number(raw.replace(/^v/, ''));
  if (!Number.isInteger(n) || n < 1) throw invalid(`invalid release version ${JSON.stringify(raw)}: use vN or N`);
  return n;
};

const Rollback = z.object({ version: z.number().int().positive().optional() });

export function releasesRoutes(p: Platform) {
  const apps = appsService(p);
  const releases = releaseService(p);
  return new Hono<ApiEnv>()
    .get('/:app/releases', (c) => c.json(releases.list(apps.get(c.req.param('app'))).map(releaseView)))
    .get('/:app/releases/:version', (c) => {
      const r = releases.get(apps.get(c.req.param('app')), version(c.req.param('version')));
      return c.json({ ...releaseView(r), config_keys: Object.keys(releases.runnableConfig(r)), process_types: JSON.parse(r.processTypes) });
    })
    .get('/:app/releases/:a/diff/:b', (c) => {
      const app = apps.get(c.req.param('app'));
      const [a, b] = [releases.get(app, version(c.req.param('a'))), releases.get(app, version(c.req.param('b')))];
      const [ca, cb] = [releases.runnableConfig(a), releases.runnableConfig(b)];
      const keys = [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort();
      return c.json({
        from: a.version,
        to: b.version,
        added: keys.filter((k) => !(k in ca) && k in cb),
        removed: keys.filter((k) => k in ca && !(k in cb)),
        changed: keys.filter((k) => k in ca && k in cb && ca[k] !== cb[k]),
        image_changed: a.imageDigest !== b.imageDigest,
        process_types_changed: a.processTypes !== b.processTypes,
      });
    })
    .post('/:app/rollback', async (c) => {
      const app = apps.get(c.req.param('app'));
      const body = await jsonBody(c, Rollback);
      const current = releases.current(app);
      const target = body.version !== undefined
        ? releases.get(app, body.version)
        : releases.list(app).find((r) => r.status === 'succeeded' && current && r.version < current.version);
      if (!target) throw new PlatformError(422, 'invalid_release', 'there is no earlier release to roll back to');
      if (target.imageDigest) {
        const exists = await p.docker.getImage(target.imageDigest).inspect().then(() => true, () => false);
        if (!exists) throw new PlatformError(422, 'image_gone', `the image of v${target.version} no longer exists; cannot roll back to it`);
      }
      const release = releases.rollback(app, target, c.var.user.name);
      p.events.record(app.name, 'release.rollback', c.var.user.name, `Rollback to v${target.version}`);
      const { output } = await withOutput((line) => rollOut(p, app, release, line));
      return c.json({ release: releaseView(release), output }, 201);
    });
}
