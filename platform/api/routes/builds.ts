import { Hono } from 'hono';
import type { Platform } from '../../platform.ts';
import type { Build } from '../../store/schema.ts';
import { appsService } from '../../apps/apps-service.ts';
import { buildsRepo } from '../../build/builds-repo.ts';
import { notFound } from '../../errors.ts';
import type { ApiEnv } from '../api-env.ts';

const view = (b: Build, withOutput = false) => ({
  id: b.id,
  status: b.status,
  buildpack: b.buildpack,
  commit: b.commit,
  user: b.user,
  created_at: b.createdAt,
  duration_ms: b.durationMs,
  ...(withOutput ? { output: b.output } : {}),
});

export function buildsRoutes(p: Platform) {
  const apps = appsService(p);
  const repo = buildsRepo(p.db);
  return new Hono<ApiEnv>()
    .get('/:app/builds', (c) => c.json(repo.forApp(apps.get(c.req.param('app')).id).map((b) => view(b))))
    .get('/:app/builds/:id', (c) => {
      const app = apps.get(c.req.param('app'));
      const id = c.req.param('id');
      const build = id === 'latest' ? repo.forApp(app.id, 1)[0] : repo.byId(id);
      if (!build || build.appId !== app.id) throw notFound(`build ${id}`);
      return c.json(view(build, true));
    });
}
