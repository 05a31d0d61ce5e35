import { Hono } from 'hono';
import { z } from 'zod';
import type { Platform } from '../../platform.ts';
import type { App } from '../../store/schema.ts';
import { appsService } from '../../apps/apps-service.ts';
import type { ApiEnv } from '../api-env.ts';
import { jsonBody } from '../body.ts';

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
    .get('/:app', (c) => c.json(appView(p, apps.get(c.req.param('app')), new URL(c.req.url).origin)))
    .delete('/:app', async (c) => {
      const removed = await apps.destroy(c.req.param('app'), c.var.user.name);
      return c.json({ name: c.req.param('app'), removed });
    });
}
