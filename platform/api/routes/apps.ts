import { Hono } from 'hono';
import { z } from 'zod';
import type { Platform } from '../../platform.ts';
import type { App } from '../../store/schema.ts';
import { appsService } from '../../apps/apps-service.ts';
import type { ApiEnv } from '../api-env.ts';
import { jsonBody } from '../body.ts';

const CreateApp = z.object({ name: z.string({ error: 'name is required' }) });

export function appView(p: Platform, app: App) {
  return {
    id: app.id,
    name: app.name,
    created_at: app.createdAt,
    web_url: `http://${app.name}.${p.settings.domain}:${p.settings.httpPort}/`,
    git_url: `http://${p.settings.bind}:${p.settings.apiPort}/git/${app.name}.git`,
  };
}

export function appsRoutes(p: Platform) {
  const apps = appsService(p);
  return new Hono<ApiEnv>()
    .get('/', (c) => c.json(apps.list().map((a) => appView(p, a))))
    .post('/', async (c) => {
      const { name } = await jsonBody(c, CreateApp);
      const app = await apps.create(name, c.var.user.name);
      return c.json(appView(p, app), 201);
    })
    .get('/:app', (c) => c.json(appView(p, apps.get(c.req.param('app')))))
    .delete('/:app', async (c) => {
      const removed = await apps.destroy(c.req.param('app'), c.var.user.name);
      return c.json({ name: c.req.param('app'), removed });
    });
}
