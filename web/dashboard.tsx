import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { bodyLimit } from 'hono/body-limit';
import WebSocket from 'ws';
import type { Platform } from '../platform/platform.ts';
import { tokensRepo } from '../platform/auth/tokens.ts';
import { appsRepo } from '../platform/apps/apps-repo.ts';
import { sameOrigin, sessionStore, type Session } from './session.ts';
import { AppPage, AppsPage, LoginPage, NotFoundPage } from './pages.tsx';

/** What the dashboard needs from the API server: its fetch, so calls reuse the same routes and checks. */
export interface ApiHandle {
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
}

type Env = { Variables: { session: Session } };

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
const STATIC = new Map(fs.readdirSync(PUBLIC_DIR).map((f) => [f, fs.readFileSync(path.join(PUBLIC_DIR, f))]));

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

const refused = (c: Context, message: string) => c.json({ id: 'forbidden', message }, 403);
/** A full page: hono/jsx renders the element, the doctype keeps browsers out of quirks mode. */
const page = (c: Context, node: unknown, status: 200 | 401 | 404 = 200) => c.html(`<!doctype html>${node}`, status);

/**
 * The web dashboard on the API port: sign-in pages, the page shells, and `/ui/*`, which answers the
 * page scripts. `/ui/api/*` forwards to the JSON API with the session's token added server-side,
 * so the dashboard can do exactly what the API allows and page JavaScript never sees a token.
 */
export function dashboardRoutes(p: Platform, api: ApiHandle) {
  const sessions = sessionStore();
  const web = new Hono<Env>();

  /** One call into the JSON API as the signed-in user. */
  const call = async (c: Context, session: Session, method: string, apiPath: string, body?: ArrayBuffer | string) => {
    const headers: Record<string, string> = { authorization: `Bearer ${session.token}` };
    const type = c.req.header('content-type');
    if (body !== undefined) headers['content-type'] = type ?? 'application/json';
    return api.fetch(new Request(new URL(apiPath, c.req.url), { method, headers, body }), c.env);
  };
  const getJson = async <T,>(c: Context, session: Session, apiPath: string): Promise<T | null> => {
    const res = await call(c, session, 'GET', apiPath);
    if (!res.ok) return null;
    return (await res.json()) as T;
  };

  web.use('*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  });

  web.get('/static/:file', (c) => {
    const file = c.req.param('file');
    const body = STATIC.get(file);
    if (!body) return c.text('not found', 404);
    return c.body(new Uint8Array(body), 200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
  });

  const limit = bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.json({ id: 'payload_too_large', message: 'request body exceeds 1 MiB' }, 413) });
  web.use('/login', limit);
  web.use('/logout', limit);
  web.use('/ui/*', limit);

  web.get('/favicon.ico', (c) => c.body(null, 204));
  web.get('/login', (c) => (sessions.get(c) ? c.redirect('/') : page(c, <LoginPage />)));
  web.post('/login', async (c) => {
    if (!sameOrigin(c)) return refused(c, 'cross-site sign-in refused');
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const owner = token ? tokensRepo(p.db).verify(token) : undefined;
    if (!owner) return page(c, <LoginPage error="That API token is not valid. Check it and try again." />, 401);
    sessions.destroy(c, sessions.get(c));
    sessions.create(c, token, owner.name);
    return c.redirect('/', 303);
  });

  // Everything below needs a session; state changes also need the session's CSRF token.
  const guard = (kind: 'page' | 'json') => async (c: Context<Env>, next: () => Promise<void>) => {
    let session = sessions.get(c);
    // A session lives only as long as the token it was opened with.
    if (session && !tokensRepo(p.db).verify(session.token)) {
      sessions.destroy(c, session);
      session = undefined;
    }
    const changes = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    if (changes) {
      if (!session) return refused(c, 'not signed in: sign in to the dashboard again');
      let sent = c.req.header('x-csrf-token');
      if (sent === undefined && (c.req.header('content-type') ?? '').includes('application/x-www-form-urlencoded')) {
        const form = await c.req.parseBody();
        sent = typeof form.csrf === 'string' ? form.csrf : undefined;
      }
      if (!sessions.csrfOk(session, sent)) return refused(c, 'missing or invalid CSRF token: reload the page and try again');
      if (!sameOrigin(c)) return refused(c, 'cross-site request refused');
    } else if (!session) {
      return kind === 'page' ? c.redirect('/login') : c.json({ id: 'unauthorized', message: 'not signed in: sign in to the dashboard again' }, 401);
    }
    c.set('session', session!);
    await next();
  };

  web.post('/logout', guard('page'), (c) => {
    sessions.destroy(c, c.var.session);
    return c.redirect('/login', 303);
  });

  web.get('/', guard('page'), (c) => page(c, <AppsPage user={c.var.session.user} csrf={c.var.session.csrf} />));
  web.get('/apps/:app', guard('page'), (c) => {
    const { user, csrf } = c.var.session;
    const name = c.req.param('app') ?? '';
    if (!appsRepo(p.db).byName(name)) return page(c, <NotFoundPage user={user} csrf={csrf} what={`The app “${name}”`} />, 404);
    return page(c, <AppPage user={user} csrf={csrf} app={name} />);
  });

  web.use('/ui/*', guard('json'));

  web.all('/ui/api/*', async (c) => {
    const apiPath = c.req.path.slice('/ui'.length) + new URL(c.req.url).search;
    // Typed confirmation, enforced here too: destroying an app needs ?confirm=NAME.
    const destroy = c.req.method === 'DELETE' && /^\/api\/apps\/[^/]+$/.test(c.req.path.slice('/ui'.length));
    if (destroy && c.req.query('confirm') !== decodeURIComponent(c.req.path.split('/').pop()!)) {
      return c.json({ id: 'confirmation_required', message: 'type the app name to confirm destroying it' }, 422);
    }
    const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? undefined : await c.req.arrayBuffer();
    const res = await call(c, c.var.session, c.req.method, apiPath, body);
    return new Response(res.body, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } });
  });

  /** The apps list with what each is doing, in one poll. */
  web.get('/ui/state', async (c) => {
    const s = c.var.session;
    const apps = (await getJson<AppJson[]>(c, s, '/api/apps')) ?? [];
    return c.json(await Promise.all(apps.map(async (app) => {
      const [releases, builds, dynos] = await Promise.all([
        getJson<ReleaseJson[]>(c, s, `/api/apps/${app.name}/releases`),
        getJson<BuildJson[]>(c, s, `/api/apps/${app.name}/builds`),
        getJson<DynoJson[]>(c, s, `/api/apps/${app.name}/dynos`),
      ]);
      return summary(app, releases ?? [], builds ?? [], dynos);
    })));
  });

  /** Everything the app page shows except config values and logs, in one poll. */
  web.get('/ui/state/:app', async (c) => {
    const s = c.var.session;
    const name = encodeURIComponent(c.req.param('app'));
    const appRes = await call(c, s, 'GET', `/api/apps/${name}`);
    if (!appRes.ok) return new Response(appRes.body, { status: appRes.status, headers: { 'content-type': 'application/json' } });
    const app = (await appRes.json()) as AppJson;
    const [releases, builds, dynos, formation, domains] = await Promise.all([
      getJson<ReleaseJson[]>(c, s, `/api/apps/${name}/releases`),
      getJson<BuildJson[]>(c, s, `/api/apps/${name}/builds`),
      getJson<DynoJson[]>(c, s, `/api/apps/${name}/dynos`),
      getJson<unknown[]>(c, s, `/api/apps/${name}/formation`),
      getJson<unknown[]>(c, s, `/api/apps/${name}/domains`),
    ]);
    const activity = p.events.forApp(app.name, 50).map((e) => ({ id: e.id, type: e.type, actor: e.actor, message: e.message, created_at: e.createdAt }));
    return c.json({ ...summary(app, releases ?? [], builds ?? [], dynos), releases, builds, dynos, formation, domains, activity });
  });

  /**
   * Live logs for the page as server-sent events, fed by the API's websocket stream: the browser
   * authenticates with its cookie, the websocket with the session's token, which stays here.
   */
  web.get('/ui/logs/:app', (c) => {
    const token = c.var.session.token;
    const query = new URLSearchParams({ lines: '100', tail: '1' });
    for (const key of ['ps', 'source']) {
      const v = c.req.query(key);
      if (v) query.set(key, v);
    }
    // EventSource reconnects by itself and says where it got to: resume there, no duplicates.
    const resume = c.req.header('last-event-id');
    if (resume && /^\d+$/.test(resume)) query.set('after', resume);
    const host = p.settings.bind === '0.0.0.0' || p.settings.bind === '::' ? '127.0.0.1' : p.settings.bind;
    const url = `ws://${host.includes(':') ? `[${host}]` : host}:${p.ports.api}/api/apps/${encodeURIComponent(c.req.param('app'))}/logs/stream?${query}`;
    return streamSSE(c, async (stream) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
      const done = new Promise<void>((resolve) => {
        const fail = (why: string) => void stream.writeSSE({ event: 'failed', data: why }).then(resolve, resolve);
        ws.on('open', () => void stream.writeSSE({ event: 'open', data: 'connected' }));
        // A message is a batch of lines ({"ids":[…],"lines":[…]}): one event, its data one line per
        // line of the stream, its id the last line's (where EventSource resumes).
        ws.on('message', (data) => {
          let msg: { ids?: number[]; lines?: string[]; notice?: string };
          try {
            msg = JSON.parse(data.toString());
          } catch {
            return;
          }
          if (msg.lines?.length && msg.ids?.length) void stream.writeSSE({ id: String(msg.ids[msg.ids.length - 1]), data: msg.lines.join('\n') });
          else if (msg.notice) void stream.writeSSE({ event: 'notice', data: msg.notice });
        });
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d));
          res.on('end', () => {
            const message = (() => {
              try {
                return (JSON.parse(body) as { message?: string }).message;
              } catch {
                return undefined;
              }
            })();
            fail(res.statusCode === 404 && !message?.includes('not found') ? 'the live log stream is not available on this platform yet' : message ?? `the log stream answered ${res.statusCode}`);
          });
        });
        ws.on('error', (err) => fail(`log stream error: ${err.message}`));
        // Ending the response lets EventSource reconnect (with Last-Event-ID) on its own.
        ws.on('close', () => resolve());
      });
      stream.onAbort(() => ws.terminate());
      await done;
    });
  });

  return web;
}

export interface AppJson { name: string; web_url: string; git_url: string; created_at: string }
export interface ReleaseJson { version: number; status: string; description: string; image_digest: string | null; created_at: string }
export interface BuildJson { id: string; status: string; created_at: string }
export interface DynoJson { dyno: string; type: string; state: string; release: number }

/** up / crashed / deploying / idle / no release, with the running release and dyno counts. */
export function summary(app: AppJson, releases: ReleaseJson[], builds: BuildJson[], dynos: DynoJson[] | null) {
  const current = releases.find((r) => r.status === 'succeeded');
  const counts: Record<string, number> = {};
  for (const d of dynos ?? []) counts[d.type] = (counts[d.type] ?? 0) + (d.state === 'crashed' ? 0 : 1);
  let state: string;
  if (builds[0]?.status === 'pending' || releases[0]?.status === 'pending') state = 'deploying';
  else if (!releases.some((r) => r.status === 'succeeded' && r.image_digest)) state = 'no release';
  else if (!dynos) state = 'unknown';
  else if (dynos.some((d) => d.state === 'crashed')) state = 'crashed';
  else if (dynos.some((d) => d.state === 'starting')) state = 'deploying';
  else if (dynos.length === 0) state = 'idle';
  else state = 'up';
  return { name: app.name, web_url: app.web_url, git_url: app.git_url, created_at: app.created_at, state, release: current?.version ?? null, dyno_counts: counts };
}
