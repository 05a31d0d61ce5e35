// The buildpacks, run the way the platform runs them: detect/compile/release
// inside paas/builder:latest (/app = the source, /cache = a volume, /env =
// config vars, /buildpacks read-only), then the slug (/app) started on
// paas/stack:latest as uid 1000 through paas-exec, answering HTTP.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BUILDPACKS_DIR = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(BUILDPACKS_DIR, '../test/fixtures/apps');
const ORDER = ['nodejs', 'python', 'static', 'procfile'] as const;
const BUILDER = 'paas/builder:latest';
const STACK = 'paas/stack:latest';
const RUN_ID = randomBytes(4).toString('hex');
const LABELS = ['--label', 'paas.test=buildpacks', '--label', `paas.test.run=${RUN_ID}`];
const SLOW = 300_000;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function docker(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile('docker', args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function must(args: string[]): Promise<string> {
  const r = await docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A builder container holding a copy of the fixture (a name, or a directory) at /app, ready for `docker exec`. */
async function startBuilder(fixture: string, cacheVolume: string, env: Record<string, string> = {}) {
  const id = await must([
    'create', ...LABELS,
    '-v', `${BUILDPACKS_DIR}:/buildpacks:ro`,
    '-v', `${cacheVolume}:/cache`,
    '--entrypoint', 'sleep', BUILDER, 'infinity',
  ]);
  await must(['cp', `${path.resolve(FIXTURES, fixture)}/.`, `${id}:/app`]);
  const envDir = await mkdtemp(path.join(tmpdir(), 'paas-env-'));
  try {
    for (const [key, value] of Object.entries(env)) await writeFile(path.join(envDir, key), value);
    await must(['cp', `${envDir}/.`, `${id}:/env`]);
  } finally {
    await rm(envDir, { recursive: true, force: true });
  }
  await must(['start', id]);
  return id;
}

const exec = (id: string, cmd: string[]) => docker(['exec', id, ...cmd]);

async function detect(id: string): Promise<{ buildpack: string; name: string } | undefined> {
  for (const buildpack of ORDER) {
    const r = await exec(id, [`/buildpacks/${buildpack}/bin/detect`, '/app']);
    if (r.code === 0) return { buildpack, name: r.stdout.trim() };
  }
  return undefined;
}

async function compile(id: string, buildpack: string) {
  const started = Date.now();
  // 2>&1 inside the container keeps stdout and stderr in order, as a build log.
  const r = await exec(id, ['bash', '-c', `/buildpacks/${buildpack}/bin/compile /app /cache /env 2>&1`]);
  return { code: r.code, output: r.stdout + r.stderr, seconds: (Date.now() - started) / 1000 };
}

/** The classic API's release YAML, in the only shape our buildpacks print. */
function parseRelease(yaml: string): Record<string, string> {
  const lines = yaml.trim().split('\n');
  expect(lines[0]).toBe('---');
  if (/^default_process_types:\s*\{\}\s*$/.test(lines[1])) return {};
  expect(lines[1]).toBe('default_process_types:');
  const types: Record<string, string> = {};
  for (const line of lines.slice(2)) {
    const m = line.match(/^ {2}([a-z][a-z0-9_-]*):\s*(.+)$/);
    if (!m) throw new Error(`unexpected release line: ${line}`);
    types[m[1]] = m[2];
  }
  return types;
}

async function procfileWeb(fixture: string): Promise<string | undefined> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(path.join(FIXTURES, fixture, 'Procfile'), 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => /^web\s*:/.test(l));
  return line?.replace(/^web\s*:\s*/, '');
}

/** A throwaway app source: files written to a temp directory. */
async function tempApp(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'paas-app-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

/** Copies /app from the builder into a fresh stack container (uid 1000) and starts the web command. */
async function runSlug(builder: string, command: string, env: Record<string, string> = {}) {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const id = await must([
    'create', ...LABELS, '--user', '1000', '-e', 'PORT=5000', ...envArgs,
    '--entrypoint', '/usr/local/bin/paas-exec', STACK, 'bash', '-c', command,
  ]);
  await new Promise<void>((resolve, reject) => {
    const out = spawn('docker', ['cp', `${builder}:/app`, '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const into = spawn('docker', ['cp', '-', `${id}:/`], { stdio: ['pipe', 'ignore', 'inherit'] });
    out.stdout.pipe(into.stdin);
    let pending = 2;
    const done = (code: number | null) => {
      if (code !== 0) reject(new Error(`copying the slug failed (exit ${code})`));
      else if (--pending === 0) resolve();
    };
    out.on('close', done);
    into.on('close', done);
  });
  await must(['start', id]);
  const ip = await must(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id]);
  return { id, url: `http://${ip}:5000` };
}

async function get(url: string, container: string, timeoutMs = 30_000): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      lastError = err;
      const running = await must(['inspect', '-f', '{{.State.Running}}', container]);
      if (running !== 'true') break;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const logs = await docker(['logs', container]);
  throw new Error(`GET ${url} failed (${String(lastError)}); container logs:\n${logs.stdout}${logs.stderr}`);
}

/** Stops a container with SIGTERM; returns how long it took and its exit code. */
async function stop(id: string) {
  const started = Date.now();
  await must(['stop', '-t', '10', id]);
  const code = Number(await must(['inspect', '-f', '{{.State.ExitCode}}', id]));
  return { seconds: (Date.now() - started) / 1000, code };
}

async function volume() {
  return must(['volume', 'create', ...LABELS]);
}

beforeAll(async () => {
  const r = await docker(['image', 'inspect', BUILDER, STACK]);
  if (r.code !== 0) {
    throw new Error(`${BUILDER} and ${STACK} must exist (npm test builds them): ${r.stderr.trim()}`);
  }
}, 60_000);

afterAll(async () => {
  const containers = (await docker(['ps', '-aq', '--filter', `label=paas.test.run=${RUN_ID}`])).stdout.split(/\s+/).filter(Boolean);
  if (containers.length) await docker(['rm', '-f', '-v', ...containers]);
  const volumes = (await docker(['volume', 'ls', '-q', '--filter', `label=paas.test.run=${RUN_ID}`])).stdout.split(/\s+/).filter(Boolean);
  if (volumes.length) await docker(['volume', 'rm', '-f', ...volumes]);
}, 60_000);

describe('nodejs semver resolution (lib/semver.py)', () => {
  const versions = [
    '16.20.2', '18.0.0', '18.20.8', '20.0.0', '20.11.0', '20.11.1', '20.19.5', '20.20.2',
    '21.7.3', '22.0.0', '22.1.0', '22.23.3', '23.0.0-rc.1', '24.21.0', '4.1.0-pkg1',
  ];
  const cases: [string, string | null][] = [
    ['20.x', '20.20.2'],
    ['20', '20.20.2'],
    ['v20', '20.20.2'],
    ['>=18 <21', '20.20.2'],
    ['>= 18 < 21', '20.20.2'],
    ['^22.1', '22.23.3'],
    ['~20.11.0', '20.11.1'],
    ['~20.11', '20.11.1'],
    ['20.19.5', '20.19.5'],
    ['=20.19.5', '20.19.5'],
    ['*', '24.21.0'],
    ['', '24.21.0'],
    ['18.x || 20.x', '20.20.2'],
    ['^18 || ^16', '18.20.8'],
    ['18 - 20.11', '20.11.1'],
    ['18.0.0 - 20.19.5', '20.19.5'],
    ['>20 <23', '22.23.3'],
    ['<=20', '20.20.2'],
    ['<20', '18.20.8'],
    ['>22.23.3', '24.21.0'],
    ['^23.0.0-rc.0', '23.0.0-rc.1'],
    ['99.x', null],
    ['20.19.99', null],
  ];

  it('picks the newest version satisfying each range', async () => {
    const script = [
      'import json, sys',
      "sys.path.insert(0, '/buildpacks/nodejs/lib')",
      'import semver',
      'data = json.load(sys.stdin)',
      'vs = [semver.parse_version(v) for v in data["versions"]]',
      'out = {}',
      'for r in data["ranges"]:',
      '    best = semver.max_satisfying(vs, r)',
      '    out[r] = best.raw if best else None',
      'print(json.dumps(out))',
    ].join('\n');
    const input = JSON.stringify({ versions, ranges: cases.map(([r]) => r) });
    const result = await new Promise<string>((resolve, reject) => {
      const child = spawn('docker', [
        'run', '--rm', '-i', ...LABELS, '-v', `${BUILDPACKS_DIR}:/buildpacks:ro`,
        '--entrypoint', 'python3', BUILDER, '-c', script,
      ]);
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
      child.stdin.end(input);
    });
    expect(JSON.parse(result)).toEqual(Object.fromEntries(cases));
  }, 60_000);
});

describe.concurrent('buildpacks in the builder, slugs on the stack', () => {
  it('node-app: detects, installs node 20.x and ms, runs `npm start`; a rebuild uses the cache', async ({ expect }) => {
    const cache = await volume();
    const secret = `s3cr3t-${RUN_ID}`;
    const builder = await startBuilder('node-app', cache, { SECRET_TOKEN: secret, NODE_ENV: 'production' });

    expect(await detect(builder)).toEqual({ buildpack: 'nodejs', name: 'Node.js' });
    const cold = await compile(builder, 'nodejs');
    console.log(`node-app cold compile: ${cold.seconds.toFixed(1)} s\n${cold.output}`);
    expect(cold.code, cold.output).toBe(0);
    expect(cold.output).toMatch(/^-----> Resolving node version 20\.x → 20\.\d+\.\d+$/m);
    expect(cold.output).toMatch(/^-----> Downloading node 20\./m);
    expect(cold.output).toContain('Running npm ci --omit=dev');
    expect(cold.output).not.toContain(secret);

    const release = await exec(builder, ['/buildpacks/nodejs/bin/release', '/app']);
    expect(parseRelease(release.stdout)).toEqual({ web: 'npm start' });

    // The slug: node and npm inside /app, no headers, no cache; a profile script for PATH.
    const slug = await exec(builder, ['bash', '-c',
      'ls /app/.heroku/node/bin; test -d /app/node_modules/ms && echo has-ms; test -e /app/.heroku/node/include || echo no-include; cat /app/.profile.d/nodejs.sh']);
    expect(slug.stdout).toContain('node\nnpm\nnpx');
    expect(slug.stdout).toContain('has-ms');
    expect(slug.stdout).toContain('no-include');
    expect(slug.stdout).toContain('export PATH="/app/.heroku/node/bin:/app/node_modules/.bin:$PATH"');

    const run = await runSlug(builder, 'npm start', { GREETING: 'hi there' });
    expect(await get(`${run.url}/`, run.id)).toEqual({ status: 200, body: 'hello from node 172800000\n' });
    expect(await get(`${run.url}/env/GREETING`, run.id)).toEqual({ status: 200, body: 'hi there\n' });
    expect((await get(`${run.url}/env/NOPE`, run.id)).status).toBe(404);
    // SIGTERM reaches node through npm (not lost in a forking sh): a clean exit, no SIGKILL.
    const stopped = await stop(run.id);
    expect(stopped.seconds).toBeLessThan(8);
    expect(stopped.code).toBe(0);
    expect((await docker(['logs', run.id])).stdout).toContain('SIGTERM: closing server');

    // Second build of the same app with the same cache volume.
    const again = await startBuilder('node-app', cache);
    const warm = await compile(again, 'nodejs');
    console.log(`node-app warm compile: ${warm.seconds.toFixed(1)} s\n${warm.output}`);
    expect(warm.code, warm.output).toBe(0);
    expect(warm.output).toMatch(/^-----> Using cached node 20\./m);
    expect(warm.output).toMatch(/^-----> Using cached npm /m);
    expect(warm.output).toMatch(/^ {7}Using cached node_modules/m);
    expect(warm.output).not.toContain('Running npm ci');
    expect((await exec(again, ['test', '-f', '/app/node_modules/ms/package.json'])).code).toBe(0);
    // The caches stay in the volume, not in the slug.
    const leftovers = await exec(again, ['bash', '-c', 'cd /app && ls -d .npm .cache npm-cache node_modules.key 2>/dev/null; true']);
    expect(leftovers.stdout).toBe('');
  }, SLOW);

  it('broken-node-app: npm install fails the build with npm\'s error', async ({ expect }) => {
    const builder = await startBuilder('broken-node-app', await volume());
    expect((await detect(builder))?.buildpack).toBe('nodejs');
    const r = await compile(builder, 'nodejs');
    expect(r.code, r.output).not.toBe(0);
    expect(r.output).toMatch(/E404|404 Not Found/);
    expect(r.output).toContain('this-package-does-not-exist-paas-test');
    expect(r.output).toMatch(/^ !     npm install failed/m);
  }, SLOW);

  it('node without engines: newest 22.x; a build script gets devDependencies, which are pruned after', async ({ expect }) => {
    const dir = await tempApp({
      'package.json': JSON.stringify({
        name: 'built-app',
        version: '1.0.0',
        scripts: {
          build: 'node -e "require(\'fs\').writeFileSync(\'built.txt\', String(require(\'ms\')(\'1h\')))"',
          start: 'node -e "console.log(require(\'fs\').readFileSync(\'built.txt\', \'utf8\'))"',
        },
        devDependencies: { ms: '^2.1.3' },
      }),
    });
    try {
      const builder = await startBuilder(dir, await volume());
      const r = await compile(builder, 'nodejs');
      expect(r.code, r.output).toBe(0);
      expect(r.output).toMatch(/^-----> Resolving node version 22\.x \(default[^)]*\) → 22\.\d+\.\d+$/m);
      expect(r.output).toContain('Running npm install --no-package-lock --include=dev');
      expect(r.output).toMatch(/^-----> Building: npm run build$/m);
      expect(r.output).toMatch(/^-----> Pruning devDependencies$/m);
      const after = await exec(builder, ['bash', '-c', 'cat /app/built.txt; echo; test -d /app/node_modules/ms && echo ms-still-there; true']);
      expect(after.stdout.trim()).toBe('3600000');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, SLOW);

  it('node app with no start script, no server.js and no Procfile fails before downloading anything', async ({ expect }) => {
    const dir = await tempApp({ 'package.json': '{"name":"no-start","version":"1.0.0"}' });
    try {
      const builder = await startBuilder(dir, await volume());
      const r = await compile(builder, 'nodejs');
      expect(r.code).not.toBe(0);
      expect(r.output).toMatch(/^ !     No start script in package.json/m);
      expect(r.output).not.toContain('Downloading');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, SLOW);

  it('python-app: builds a virtualenv, runs the Procfile\'s `python app.py`; a rebuild uses the cache', async ({ expect }) => {
    const cache = await volume();
    const builder = await startBuilder('python-app', cache);
    expect(await detect(builder)).toEqual({ buildpack: 'python', name: 'Python' });
    const r = await compile(builder, 'python');
    console.log(`python-app cold compile: ${r.seconds.toFixed(1)} s`);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/^-----> Creating virtualenv at \/app\/\.venv$/m);
    expect(r.output).toContain('requirements.txt lists no packages');
    const release = await exec(builder, ['/buildpacks/python/bin/release', '/app']);
    expect(parseRelease(release.stdout)).toEqual({ web: 'python app.py' });

    const command = await procfileWeb('python-app');
    expect(command).toBe('python app.py');
    const run = await runSlug(builder, command!);
    expect(await get(`${run.url}/`, run.id)).toEqual({ status: 200, body: 'hello from python\n' });
    // `python` is the venv's (Debian's run image has only python3).
    const which = await exec(run.id, ['/usr/local/bin/paas-exec', 'bash', '-c', 'command -v python']);
    expect(which.stdout.trim()).toBe('/app/.venv/bin/python');
    expect((await stop(run.id)).code).toBe(0);

    const again = await startBuilder('python-app', cache);
    const warm = await compile(again, 'python');
    console.log(`python-app warm compile: ${warm.seconds.toFixed(1)} s`);
    expect(warm.code, warm.output).toBe(0);
    expect(warm.output).toMatch(/^-----> Using cached virtualenv/m);
    const venv = await exec(again, ['/app/.venv/bin/python', '-c', 'import sys; print(sys.prefix)']);
    expect(venv.stdout.trim()).toBe('/app/.venv');
  }, SLOW);

  it('static-site: serves index.html with the bundled server, nothing else', async ({ expect }) => {
    const builder = await startBuilder('static-site', await volume());
    expect(await detect(builder)).toEqual({ buildpack: 'static', name: 'Static' });
    const r = await compile(builder, 'static');
    expect(r.code, r.output).toBe(0);
    const release = await exec(builder, ['/buildpacks/static/bin/release', '/app']);
    const types = parseRelease(release.stdout);
    expect(types).toEqual({ web: 'python3 /app/.static-server/serve.py' });

    const run = await runSlug(builder, types.web);
    const home = await get(`${run.url}/`, run.id);
    expect(home.status).toBe(200);
    expect(home.body).toContain('hello from static');
    const res = await fetch(`${run.url}/index.html`);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    for (const hidden of ['/.static-server/serve.py', '/.profile.d/', '/missing', '/..%2f..%2fetc/passwd']) {
      expect((await fetch(`${run.url}${hidden}`)).status, hidden).toBe(404);
    }
    const logs = await docker(['logs', run.id]);
    expect(logs.stdout).toMatch(/GET \/ 200/);
    expect((await stop(run.id)).code).toBe(0);
  }, SLOW);

  it('procfile-app: no build, the Procfile\'s command runs on the bare stack', async ({ expect }) => {
    const builder = await startBuilder('procfile-app', await volume());
    expect(await detect(builder)).toEqual({ buildpack: 'procfile', name: 'Procfile' });
    const r = await compile(builder, 'procfile');
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/^-----> /m);
    const release = await exec(builder, ['/buildpacks/procfile/bin/release', '/app']);
    expect(parseRelease(release.stdout)).toEqual({});

    const run = await runSlug(builder, (await procfileWeb('procfile-app'))!);
    expect(await get(`${run.url}/`, run.id)).toEqual({ status: 200, body: 'hello from procfile\n' });
  }, SLOW);

  it('dockerfile-app matches no buildpack (the platform builds its Dockerfile)', async ({ expect }) => {
    const builder = await startBuilder('dockerfile-app', await volume());
    expect(await detect(builder)).toBeUndefined();
  }, SLOW);
});
