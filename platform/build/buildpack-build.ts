import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import tarFs from 'tar-fs';
import type Docker from 'dockerode';
import type { Platform } from '../platform.ts';
import type { App } from '../store/schema.ts';
import { builders } from './builders.ts';
import { PlatformError } from '../errors.ts';
import { archive, type Source } from './source.ts';
import { parseLayers, slugImage } from './slug-image.ts';
import { parseReleaseYaml } from './procfile.ts';
import { readTarFiles, runToExit, smallTar } from '../container-io.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const buildpacksDir = path.join(here, '..', '..', 'buildpacks');
const driver = fs.readFileSync(path.join(here, 'driver.sh'));

const VERDICT = '@@paas-build-result@@ ';

/** The built-in buildpacks as a tar, packed at the first build (as the driver is read once); tried again after a failure. */
let buildpacksTar: Promise<Buffer> | undefined;
function bundledBuildpacks(): Promise<Buffer> {
  buildpacksTar ??= (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of tarFs.pack(buildpacksDir, { map: (h) => ({ ...h, name: `buildpacks/${h.name}` }) })) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })().catch((err) => {
    buildpacksTar = undefined;
    throw err;
  });
  return buildpacksTar;
}

/**
 * Heroku's classic buildpack API inside the builder image, then the slug (/app) on the runtime
 * stack image: no build tools, no cache, no config values in any layer.
 */
export async function buildpackBuild(p: Platform, app: App, source: Source, config: Record<string, string>, tag: string, out: (line: string) => void) {
  const envFiles = Object.fromEntries(Object.entries(config).map(([k, v]) => [`env/${k}`, { content: v, mode: 0o600 }]));
  // `git archive` starts while the builder is taken; it waits on its full pipe until its turn.
  const sourceTar = archive(source, 'app/');
  let container: Docker.Container;
  let verdict: string;
  try {
    let bundled: Buffer;
    [container, bundled] = await Promise.all([builders.take(p, app), bundledBuildpacks()]);
    // Everything the build needs arrives on stdin as concatenated tars: far cheaper than the engine's
    // archive upload, which mounts the container's filesystem for each call.
    const input = Readable.from(
      (async function* () {
        yield bundled;
        yield* smallTar({ 'build-driver.sh': { content: driver, mode: 0o755 }, ...envFiles }) as AsyncIterable<unknown>;
        yield* sourceTar;
      })(),
    );
    verdict = await runDriver(p, container, input, out);
  } finally {
    sourceTar.destroy(); // (read to its end by now, unless the build failed before)
  }

  const result = await readTarFiles(Readable.from([Buffer.from(verdict, 'base64')]));
  const text = (name: string) => result.get(`build-result/${name}`)?.toString('utf8') ?? '';
  const buildpack = text('buildpack').trim() || 'unknown';
  const defaultTypes = parseReleaseYaml(text('release.yml'));

  out('-----> Building the run image');
  const digest = await slugImage(p, app, container, parseLayers(text('layers')), result.get('build-result/app.tar'), tag, out);
  return { digest, buildpack, defaultTypes: defaultTypes as Record<string, string | null> };
}

/**
 * Feeds the waiting builder its input and streams its output until the driver's verdict, its last
 * line (it then waits to be removed, builders.recycle): the build has succeeded once it is here.
 */
async function runDriver(p: Platform, container: Docker.Container, input: Readable, out: (line: string) => void): Promise<string> {
  let verdict = '';
  let sawVerdict!: () => void;
  const verdictSeen = new Promise<number>((resolve) => (sawVerdict = () => resolve(0)));
  const line = (text: string) => {
    if (!text.startsWith(VERDICT)) return out(text);
    verdict = text.slice(VERDICT.length);
    sawVerdict();
  };
  const exited = runToExit(p.docker, container, line, Infinity, { stdin: input, running: true });
  exited.catch(() => {}); // (when the verdict wins, nobody else waits for the exit)
  const code = await Promise.race([exited, verdictSeen]);
  if (code !== 0) throw new PlatformError(422, 'build_failed', `Build failed (the buildpack exited with ${code}); the running release is unchanged`);
  return verdict;
}
