import { Hono } from 'hono';
import { z } from 'zod';
import type { Platform } from '../../platform.ts';
import type { App } from '../../store/schema.ts';
import { appsService } from '../../apps/apps-service.ts';
import type { ApiEnv } from '../api-env.ts';
import { jsonBody } from '../body.ts';
import { releaseService } from '../../release/release-service.ts';
import { formationService } from '../../runner/formation-service.ts';

const CreateApp = z.object({ name: z.string({ error: 'name is required' }) });

/** `origin` is how the caller reached the API, so the git URL it gets back is one it can reach. */
export function appView(p: Platform, app: App, origin: string) {
  return {
    id: app.id,
    name: app.name,
    created_at: app.createdAt,
    web_url: `http://${app.name}.${p.settings.domain}:${p.ports.http}/`,
    git_url: `${origin}/git/${app.name}.git`,
  };
}

export function appsRoutes(p: Platform) {
  const apps = appsService(p);
  return new Hono<ApiEnv>()
    .get('/', (c) => c.json(apps.list().map((a) => appView(p, a, new URL(c.req.url).origin))))
    .post('/', async (c) => {
      const { name } = await jsonBody(c, CreateApp);
      const app = await apps.create(name, c.var.user.name);
      return c.json(appView(p, app, new URL(c.req.url).origin), 201);
    })
    .get('/:app', (c) => {
      const app = apps.get(c.req.param('app'));
      const current = releaseService(p).current(app);
      return c.json({ ...appView(p, app, new URL(c.req.url).origin), release: current?.version ?? null, formation: formationService(p).list(app) });
    })
    .delete('/:app', async (c) => {
      const removed = await apps.destroy(c.req.param('app'), c.var.user.name);
      return c.json({ name: c.req.param('app'), removed });
    });
}
