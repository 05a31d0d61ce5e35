import crypto from 'node:crypto';
import { Hono } from 'hono';
import { PlatformError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import { appsService } from '../apps/apps-service.ts';
import { deployPush } from '../deploy.ts';

const DEPLOY_REFS = new Set(['refs/heads/main', 'refs/heads/master']);
const ZERO = /^0+$/;
/** Ends the answer, before the deploy's status (hooks/pre-receive); removed from the build output. */
const STATUS_MARK = '\u001e';
const QUARANTINE_ENV = ['GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_QUARANTINE_PATH'];

/** The pushes in progress, by the secret their pre-receive hook calls back with. */
export class PushTokens {
  readonly #pushes = new Map<string, { app: string; user: string }>();

  issue(push: { app: string; user: string }): string {
    const token = crypto.randomBytes(32).toString('hex');
    this.#pushes.set(token, push);
    return token;
  }

  revoke(token: string): void {
    this.#pushes.delete(token);
  }

  find(authorization: string | undefined): { app: string; user: string } | undefined {
    return authorization?.startsWith('Bearer ') ? this.#pushes.get(authorization.slice('Bearer '.length)) : undefined;
  }
}

/** The hook's request body: the quarantine's object directories, one per line, then git's "OLD NEW REF" lines. */
export function parseHookBody(text: string): { gitEnv: Record<string, string>; updates: { oldRev: string; newRev: string; ref: string }[] } {
  const lines = text.split('\n');
  const gitEnv = Object.fromEntries(QUARANTINE_ENV.map((key, i) => [key, lines[i] ?? '']).filter(([, value]) => value));
  const updates = lines.slice(QUARANTINE_ENV.length).filter(Boolean).map((line) => {
    const [oldRev, newRev, ref] = line.split(' ');
    return { oldRev, newRev, ref: ref ?? '' };
  });
  return { gitEnv, updates };
}

/** Which commit a push deploys, or why it is refused (as on Heroku: only main/master, no deletes). */
export function deployableCommit(updates: { oldRev: string; newRev: string; ref: string }[]): string {
  const other = updates.find((u) => !DEPLOY_REFS.has(u.ref));
  if (other) throw new PlatformError(422, 'invalid_ref', `pushed to ${other.ref}: only main or master deploy (git push paas HEAD:main)`);
  if (updates.length !== 1) throw new PlatformError(422, 'invalid_ref', 'push main or master, not both at once');
  const [update] = updates;
  if (ZERO.test(update.newRev)) throw new PlatformError(422, 'invalid_ref', `deleting ${update.ref} is not allowed`);
  if (!/^[0-9a-f]{40}$/.test(update.newRev)) throw new PlatformError(422, 'invalid_ref', 'not a commit id');
  return update.newRev;
}

/**
 * The other end of hooks/pre-receive: runs the deploy while git holds the push open, so the
 * build streams back as `remote:` lines and a failure rejects the push before any ref moves.
 */
export function pushHookRoutes(p: Platform, pushes: PushTokens) {
  const building = new Set<string>();
  return new Hono().post('/pre-receive', async (c) => {
    const push = pushes.find(c.req.header('authorization'));
    if (!push) return c.text('forbidden\n', 403);
    const hook = { ...push, ...parseHookBody(await c.req.text()) };
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        const out = (text: string) => controller.enqueue(encoder.encode(text.replaceAll(STATUS_MARK, '')));
        let code = 0;
        try {
          const app = appsService(p).get(hook.app);
          const commit = deployableCommit(hook.updates);
          if (building.has(app.name)) throw new PlatformError(409, 'conflict', `a build of ${app.name} is already running; push again when it has finished`);
          building.add(app.name);
          try {
            await deployPush(p, app, commit, hook.gitEnv, hook.user, out);
          } finally {
            building.delete(app.name);
          }
        } catch (err) {
          code = 1;
          const message = err instanceof Error ? err.message : String(err);
          if (!(err instanceof PlatformError)) console.error(`deploy of ${hook.app} failed:`, err);
          out(`\n !     ${message.split('\n').join('\n !     ')}\n`);
        }
        controller.enqueue(encoder.encode(`${STATUS_MARK}${code}\n`));
        controller.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' } });
  });
}
