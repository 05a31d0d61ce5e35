import { Hono } from 'hono';
import { z } from 'zod';
import type { Platform } from '../../platform.ts';
import { appsService } from '../../apps/apps-service.ts';
import { domainsService } from '../../domains/domains-service.ts';
import type { ApiEnv } from '../api-env.ts';
import { jsonBody } from '../body.ts';

const AddDomain = z.object({ hostname: z.string({ error: 'hostname is required, e.g. www.example.com or *.example.com' }) });

/** An app's hostnames: list (default + custom), add, remove. */
export function domainsRoutes(p: Platform) {
  const apps = appsService(p);
  const domains = domainsService(p);
  return new Hono<ApiEnv>()
    .get('/:app/domains', (c) => c.json(domains.list(apps.get(c.req.param('app')))))
    .post('/:app/domains', async (c) => {
      const app = apps.get(c.req.param('app'));
      const { hostname } = await jsonBody(c, AddDomain);
      const domain = domains.add(app, hostname);
      p.events.record(app.name, 'domain.added', c.var.user.name, `Added domain ${domain.hostname}`);
      return c.json(domain, 201);
    })
    .delete('/:app/domains/:host', (c) => {
      const app = apps.get(c.req.param('app'));
      const domain = domains.remove(app, c.req.param('host'));
      p.events.record(app.name, 'domain.removed', c.var.user.name, `Removed domain ${domain.hostname}`);
      return c.json(domain);
    });
}
