import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { PlatformError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import type { ApiEnv } from './api-env.ts';
import { requireToken } from './auth.ts';
import { appsRoutes } from './routes/apps.ts';
import { buildsRoutes } from './routes/builds.ts';
import { configRoutes } from './routes/config.ts';
import { releasesRoutes } from './routes/releases.ts';
import { formationRoutes } from './routes/formation.ts';
import { runRoutes } from './routes/run.ts';
import { logsRoutes } from './routes/logs.ts';
import { drainsRoutes } from './routes/drains.ts';
import { domainsRoutes } from './routes/domains.ts';
import { gitRoutes } from '../git/smart-http.ts';
import { PushTokens, pushHookRoutes } from '../git/push-hook.ts';
import { dashboardRoutes } from '../../web/dashboard.tsx';

export const API_BODY_LIMIT = 1024 * 1024;

/** The HTTP API; tests drive it through `createApi(p).request(...)`. */
export function createApi(p: Platform, opts: { ready?: () => boolean } = {}) {
  const api = new Hono<ApiEnv>();

  api.onError((err, c) => {
    if (err instanceof PlatformError) return c.json({ id: err.code, message: err.message }, err.status);
    if (err instanceof HTTPException) return c.json({ id: err.status === 413 ? 'payload_too_large' : 'bad_request', message: err.message }, err.status);
    console.error('API error:', err);
    return c.json({ id: 'internal_error', message: 'internal error (see the platform log)' }, 500);
  });
  api.notFound((c) => c.json({ id: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404));

  // git's pre-receive hook calls back here with its push's secret, which only lives in this process.
  const pushes = new PushTokens();
  const hookHost = p.settings.bind === '0.0.0.0' || p.settings.bind === '::' ? '127.0.0.1' : p.settings.bind;
  api.route('/git', gitRoutes(p, () => `http://${hookHost}:${p.ports.api}/internal/git/pre-receive`, pushes));
  api.route('/internal/git', pushHookRoutes(p, pushes));

  api.get('/healthz', (c) => (opts.ready?.() ?? true ? c.json({ status: 'ok' }) : c.json({ status: 'starting' }, 503)));

  api.use('/api/*', bodyLimit({
    maxSize: API_BODY_LIMIT,
    onError: (c) => c.json({ id: 'payload_too_large', message: `request body exceeds ${API_BODY_LIMIT} bytes` }, 413),
  }));
  api.use('/api/*', requireToken(p));
  api.get('/api/account', (c) => c.json({ name: c.var.user.name }));
  api.route('/api/apps', appsRoutes(p));
  api.route('/api/apps', buildsRoutes(p));
  api.route('/api/apps', configRoutes(p));
  api.route('/api/apps', releasesRoutes(p));
  api.route('/api/apps', formationRoutes(p));
  api.route('/api/apps', runRoutes(p));
  api.route('/api/apps', logsRoutes(p));
  api.route('/api/apps', drainsRoutes(p));
  api.route('/api/apps', domainsRoutes(p));
  // The web dashboard: its own cookie sessions + CSRF; it calls the API above in-process.
  api.route('/', dashboardRoutes(p, api));
  return api;
}
