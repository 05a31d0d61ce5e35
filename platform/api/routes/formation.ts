import { Hono } from 'hono';
import { z } from 'zod';
import type { Platform } from '../../platform.ts';
import { appsService } from '../../apps/apps-service.ts';
import { formationService } from '../../runner/formation-service.ts';
import type { ApiEnv } from '../api-env.ts';
import { jsonBody } from '../body.ts';

const Scale = z.record(z.string(), z.number({ error: 'quantities are numbers' }));
const Restart = z.object({ type: z.string().optional() });
const Stop = z.object({ type: z.string({ error: 'give a process type or dyno to stop' }) });

export function formationRoutes(p: Platform) {
  const apps = appsService(p);
  const formation = formationService(p);
  return new Hono<ApiEnv>()
    .get('/:app/formation', (c) => c.json(formation.list(apps.get(c.req.param('app')))))
    .patch('/:app/formation', async (c) => {
      const app = apps.get(c.req.param('app'));
      return c.json(await formation.scale(app, await jsonBody(c, Scale), c.var.user.name));
    })
    .get('/:app/dynos', async (c) => {
      const dynos = await p.runner.dynos(apps.get(c.req.param('app')));
      return c.json(dynos.map((d) => ({
        dyno: d.dyno, type: d.type, state: d.state, release: d.release, started_at: d.startedAt, command: d.command,
        restarts: d.restarts, next_restart_at: d.nextRestartAt ?? null,
      })));
    })
    .post('/:app/dynos/stop', async (c) => {
      const app = apps.get(c.req.param('app'));
      const { type } = await jsonBody(c, Stop);
      return c.json({ stopped: await formation.stop(app, type, c.var.user.name) });
    })
    .post('/:app/dynos/restart', async (c) => {
      const app = apps.get(c.req.param('app'));
      const { type } = await jsonBody(c, Restart);
      return c.json({ restarted: await formation.restart(app, type, c.var.user.name) });
    });
}
