import { Hono } from 'hono';
import { z } from 'zod';
import { PlatformError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import { appsService } from '../apps/apps-service.ts';
import { deployPush } from '../deploy.ts';

const DEPLOY_REFS = new Set(['refs/heads/main', 'refs/heads/master']);
const ZERO = /^0+$/;
const EXIT_MARK = '\u0000PAAS-EXIT:';

const HookRequest = z.object({
  app: z.string(),
  user: z.string(),
  updates: z.array(z.object({ oldRev: z.string(), newRev: z.string(), ref: z.string() })),
  gitEnv: z.record(z.string(), z.string()),
});

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
 * The other end of hooks/pre-receive.cjs: runs the deploy while git holds the push open, so the
 * build streams back as `remote:` lines and a failure rejects the push before any ref moves.
 */
export function pushHookRoutes(p: Platform, hookToken: string) {
  const building = new Set<string>();
  return new Hono().post('/pre-receive', async (c) => {
    if (c.req.header('authorization') !== `Bearer ${hookToken}`) return c.text('forbidden\n', 403);
    const hook = HookRequest.parse(await c.req.json());
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        const out = (text: string) => controller.enqueue(encoder.encode(text.replaceAll('\u0000', '')));
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
        controller.enqueue(encoder.encode(`${EXIT_MARK}${code}`));
        controller.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' } });
  });
}
