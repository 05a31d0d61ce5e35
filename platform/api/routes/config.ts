import { Hono } from 'hono';
import { z } from 'zod';
import type { Platform } from '../../platform.ts';
import { appsService } from '../../apps/apps-service.ts';
import { configService } from '../../config/config-service.ts';
import type { ApiEnv } from '../api-env.ts';
import { jsonBody } from '../body.ts';
import { releaseView } from './releases.ts';
import { withOutput } from '../with-output.ts';

const Patch = z.record(z.string(), z.string().nullable());

export function configRoutes(p: Platform) {
  const apps = appsService(p);
  const config = configService(p);
  return new Hono<ApiEnv>()
    // Values only here, where they are asked for; every other listing names keys only.
    .get('/:app/config', (c) => c.json(config.get(apps.get(c.req.param('app')))))
    .patch('/:app/config', async (c) => {
      const app = apps.get(c.req.param('app'));
      const patch = await jsonBody(c, Patch);
      const { result, output } = await withOutput((line) => config.update(app, patch, c.var.user.name, line));
      return c.json({ release: releaseView(result), output });
    });
}
