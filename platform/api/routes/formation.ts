import { Hono } from 'hono';
import { z } from 'zod';
import type { Platform } from '../../platform.ts';
import { appsService } from '../../apps/apps-service.ts';
import { formationService } from '../../runner/formation-service.ts';
import type { ApiEnv } from '../api-env.ts';
import { jsonBody } from '../body.ts';

const Scale = z.record(z.string(), z.number({ error: 'quantities are numbers' }));
const Resize = z.record(z.string(), z.number({ error: 'memory sizes are numbers of MB' }));
const Restart = z.object({ type: z.string().optional() });
const Stop = z.object({ type: z.string({ error: 'give a process type or dyno to stop' }) });

/** The formation as the API shows it (snake_case, like the rest of it). */
const view = (list: Array<{ type: string; quantity: number; memoryMb: number; command: string | null }>) =>
  list.map(({ memoryMb, ...f }) => ({ ...f, memory_mb: memoryMb }));

export function formationRoutes(p: Platform) {
  const apps = appsService(p);
  const formation = formationService(p);
  return new Hono<ApiEnv>()
    .get('/:app/formation', (c) => c.json(view(formation.list(apps.get(c.req.param('app'))))))
    .patch('/:app/formation', async (c) => {
      const app = apps.get(c.req.param('app'));
      return c.json(view(await formation.scale(app, await jsonBody(c, Scale), c.var.user.name)));
    })
    .patch('/:app/formation/memory', async (c) => {
      const app = apps.get(c.req.param('app'));
      return c.json(view(await formation.resize(app, await jsonBody(c, Resize), c.var.user.name)));
    })
    .get('/:app/dynos', async (c) => {
      const dynos = await p.runner.dynos(apps.get(c.req.param('app')));
      return c.json(dynos.map((d) => ({
        dyno: d.dyno, type: d.type, state: d.state, release: d.release, started_at: d.startedAt, command: d.command,
        restarts: d.restarts, next_restart_at: d.nextRestartAt ?? null, memory_mb: d.memoryMb,
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
