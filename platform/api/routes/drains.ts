import { Hono } from 'hono';
import { z } from 'zod';
import type { Platform } from '../../platform.ts';
import { appsService } from '../../apps/apps-service.ts';
import type { ApiEnv } from '../api-env.ts';
import { jsonBody } from '../body.ts';

const AddDrain = z.object({ url: z.string({ error: 'url is required (syslog://HOST:PORT, syslog+tls://HOST:PORT or https://…)' }) });

/** An app's log drains: list (with delivery counters), add by URL, remove by id, token or URL. */
export function drainsRoutes(p: Platform) {
  const apps = appsService(p);
  return new Hono<ApiEnv>()
    .get('/:app/drains', (c) => c.json(p.logs.drains.list(apps.get(c.req.param('app')))))
    .post('/:app/drains', async (c) => {
      const app = apps.get(c.req.param('app'));
      const { url } = await jsonBody(c, AddDrain);
      const drain = p.logs.drains.add(app, url);
      p.events.record(app.name, 'drain.added', c.var.user.name, `Added log drain ${drain.token}`);
      return c.json(drain, 201);
    })
    .delete('/:app/drains/:drain{.+}', (c) => {
      const app = apps.get(c.req.param('app'));
      const drain = p.logs.drains.remove(app, c.req.param('drain'));
      p.events.record(app.name, 'drain.removed', c.var.user.name, `Removed log drain ${drain.token}`);
      return c.json(drain);
    });
}
