import { spawn } from 'node:child_process';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { Hono, type Context } from 'hono';
import type { Platform } from '../platform.ts';
import { authenticate } from '../api/auth.ts';
import { appsRepo } from '../apps/apps-repo.ts';
import { repoPath } from './repos.ts';
import type { PushTokens } from './push-hook.ts';

const hooksDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'hooks');
const SERVICES = new Set(['git-receive-pack', 'git-upload-pack']);

/**
 * git's smart HTTP protocol over `git receive-pack/upload-pack --stateless-rpc`, spawned with
 * argument arrays. A receive-pack gets a secret of its own for its pre-receive hook to call the
 * platform back at `hookUrl` with (push-hook.ts), valid while it runs.
 */
export function gitRoutes(p: Platform, hookUrl: () => string, pushes: PushTokens) {
  const git = new Hono();

  const denied = (c: Context) =>
    c.text('Authentication required: use an API token as the password (paas login writes a netrc entry)\n', 401, {
      'WWW-Authenticate': 'Basic realm="paas"',
    });

  /** The app's repo when the caller's token is valid and the app exists; a Response otherwise. */
  const resolve = (c: Context) => {
    const user = authenticate(p, c.req.header('authorization'));
    if (!user) return denied(c);
    const name = c.req.param('repo')!.replace(/\.git$/, '');
    if (!appsRepo(p.db).byName(name)) return c.text(`No such app: ${name}\n`, 404);
    return { user, name, dir: repoPath(p.settings.dataDir, name) };
  };

  const spawnService = (service: string, args: string[], push?: { user: { name: string }; name: string }) => {
    const token = push && pushes.issue({ app: push.name, user: push.user.name });
    const child = spawn('git', [
      '-c', `core.hooksPath=${hooksDir}`,
      '-c', `receive.maxInputSize=${p.settings.maxPushBytes}`,
      service.slice('git-'.length), '--stateless-rpc', ...args,
    ], {
      env: { ...process.env, ...(token && { PAAS_HOOK_URL: hookUrl(), PAAS_HOOK_TOKEN: token }) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    if (token) child.on('close', () => pushes.revoke(token));
    return child;
  };

  git.get('/:repo/info/refs', async (c) => {
    const service = c.req.query('service') ?? '';
    if (!SERVICES.has(service)) return c.text('Only smart HTTP (git >= 1.6.6) is supported\n', 403);
    const target = resolve(c);
    if (target instanceof Response) return target;
    const child = spawnService(service, ['--advertise-refs', target.dir]);
    child.stdin!.end();
    const banner = `# service=${service}\n`;
    const head = (banner.length + 4).toString(16).padStart(4, '0') + banner + '0000';
    const body = Readable.from((async function* () {
      yield Buffer.from(head);
      for await (const chunk of child.stdout!) yield chunk as Buffer;
    })());
    return new Response(Readable.toWeb(body) as ReadableStream, {
      headers: { 'content-type': `application/x-${service}-advertisement`, 'cache-control': 'no-cache' },
    });
  });

  git.post('/:repo/:service', async (c) => {
    const service = c.req.param('service');
    if (!SERVICES.has(service)) return c.text('Unknown git service\n', 404);
    const target = resolve(c);
    if (target instanceof Response) return target;
    const length = Number(c.req.header('content-length') ?? 0);
    if (length > p.settings.maxPushBytes) return c.text(`Push too large: ${length} bytes (the limit is ${p.settings.maxPushBytes})\n`, 413);
    const child = spawnService(service, [target.dir], service === 'git-receive-pack' ? target : undefined);
    const raw = c.req.raw.body ? Readable.fromWeb(c.req.raw.body as import('node:stream/web').ReadableStream) : Readable.from([]);
    const input = c.req.header('content-encoding') === 'gzip' ? raw.pipe(zlib.createGunzip()) : raw;
    input.on('error', () => child.kill());
    child.stdin!.on('error', () => {});
    input.pipe(child.stdin!);
    return new Response(Readable.toWeb(child.stdout!) as ReadableStream, {
      headers: { 'content-type': `application/x-${service}-result`, 'cache-control': 'no-cache' },
    });
  });

  return git;
}
