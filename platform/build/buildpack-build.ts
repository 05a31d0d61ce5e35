import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import tarFs from 'tar-fs';
import type { Platform } from '../platform.ts';
import type { App } from '../store/schema.ts';
import { BUILDER_IMAGE, STACK_IMAGE } from '../docker.ts';
import { PlatformError } from '../errors.ts';
import { archive, type Source } from './source.ts';
import { buildImage, imageLabels } from './images.ts';
import { parseReleaseYaml } from './procfile.ts';
import { readTarFiles, runToExit, smallTar } from '../container-io.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const buildpacksDir = path.join(here, '..', '..', 'buildpacks');
const driver = fs.readFileSync(path.join(here, 'driver.sh'));

export const cacheVolume = (appName: string) => `paas-cache-${appName}`;

/**
 * Heroku's classic buildpack API inside the builder image, then the slug (/app) on the runtime
 * stack image: no build tools, no cache, no config values in any layer.
 */
export async function buildpackBuild(p: Platform, app: App, source: Source, config: Record<string, string>, tag: string, out: (line: string) => void) {
  const docker = p.docker;
  await docker.createVolume({ Name: cacheVolume(app.name), Labels: { 'paas.app': app.name } });
  const container = await docker.createContainer({
    Image: BUILDER_IMAGE,
    Cmd: ['bash', '/build-driver.sh'],
    Env: config.BUILDPACK_URL ? [`BUILDPACK_URL=${config.BUILDPACK_URL}`] : [],
    Labels: { 'paas.app': app.name, 'paas.role': 'build' },
    HostConfig: { Binds: [`${cacheVolume(app.name)}:/cache`], Memory: 2048 * 1024 * 1024, PidsLimit: 4096 },
  });
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-slug-'));
  try {
    await container.putArchive(Readable.from(tarFs.pack(buildpacksDir, { map: (h) => ({ ...h, name: `buildpacks/${h.name}` }) })), { path: '/' });
    const envFiles = Object.fromEntries(Object.entries(config).map(([k, v]) => [`env/${k}`, { content: v, mode: 0o600 }]));
    await container.putArchive(smallTar({ 'build-driver.sh': { content: driver, mode: 0o755 }, ...envFiles }), { path: '/' });
    await container.putArchive(archive(source, 'app/'), { path: '/' });

    const code = await runToExit(docker, container, out);
    if (code !== 0) throw new PlatformError(422, 'build_failed', `Build failed (the buildpack exited with ${code}); the running release is unchanged`);

    const result = await readTarFiles(await container.getArchive({ path: '/build-result' }));
    const buildpack = (result.get('build-result/buildpack') ?? 'unknown').trim();
    const defaultTypes = parseReleaseYaml(result.get('build-result/release.yml') ?? '');

    out('-----> Compressing slug');
    await pipeline(await container.getArchive({ path: '/app' }), fs.createWriteStream(path.join(workDir, 'slug.tar')));
    fs.writeFileSync(path.join(workDir, 'Dockerfile'), `FROM ${STACK_IMAGE}\nADD slug.tar /\nUSER 1000:1000\nWORKDIR /app\n`);
    const size = fs.statSync(path.join(workDir, 'slug.tar')).size;
    out(`       Done: ${(size / 1024 / 1024).toFixed(1)}M`);
    const digest = await buildImage(docker, Readable.from(tarFs.pack(workDir)), tag, imageLabels(p.owner, app), () => {});
    return { digest, buildpack, defaultTypes: defaultTypes as Record<string, string | null> };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
    await container.remove({ force: true }).catch(() => {});
  }
}
