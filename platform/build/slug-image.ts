import crypto from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { App } from '../store/schema.ts';
import type { Platform } from '../platform.ts';
import { STACK_IMAGE } from '../docker.ts';
import { imageLabels, imageRepo } from './images.ts';

/** A directory the build driver set aside as a layer of its own (`/build-result/layers`). */
export interface SlugLayer {
  index: number;
  fingerprint: string;
  dir: string;
}

export function parseLayers(text: string): SlugLayer[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [index, fingerprint, dir] = line.trim().split(' ');
      if (!/^\d+$/.test(index) || !/^[0-9a-f]{32}$/.test(fingerprint) || !dir) throw new Error(`build driver: bad layer line ${JSON.stringify(line)}`);
      return { index: Number(index), fingerprint, dir };
    });
}

/** Where the build driver (driver.sh) leaves the slug, taken apart into layers (/app links to /workspace/app: builders.ts). */
const SLUG = '/workspace/app/.paas-slug';

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)}M`;

/**
 * The run image: the runtime stack image, then one layer per slug layer (reused from the app's
 * earlier builds while its fingerprint and everything below it are unchanged), then the rest of
 * the slug. A layer is a container created from the image below it, the builder's directory
 * copied in, committed: only what changed crosses the engine, and nothing is re-hashed.
 */
export async function slugImage(p: Platform, app: App, builder: Docker.Container, layers: SlugLayer[], appTar: Buffer | undefined, tag: string, out: (line: string) => void): Promise<string> {
  let base = (await p.docker.getImage(STACK_IMAGE).inspect()).Id;
  for (const layer of layers) {
    const key = crypto.createHash('sha256').update(`${base} ${layer.fingerprint}`).digest('hex').slice(0, 16);
    const layerTag = `${imageRepo(app.name)}:layer-${key}`;
    const existing = await p.docker
      .getImage(layerTag)
      .inspect()
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode === 404) return undefined;
        throw err;
      });
    if (existing) {
      out(`       ${layer.dir}: unchanged, reusing its layer`);
      base = existing.Id;
      continue;
    }
    const committed = await commitLayer(p, app, await builder.getArchive({ path: `${SLUG}/${layer.index}/app` }), base, layerTag);
    out(`       ${layer.dir}: new layer, ${megabytes(committed.bytes)}`);
    base = committed.id;
  }
  // A small top layer came with the verdict; a big one is read from the builder.
  const committed = await commitLayer(p, app, appTar ? Readable.from([appTar]) : await builder.getArchive({ path: `${SLUG}/rest/app` }), base, tag);
  out(`       app: ${megabytes(committed.bytes)}`);
  return committed.id;
}

/** `tar` (a directory named `app`) extracted to `/app` on `base`, committed as `tag`: the new image's id and the bytes copied. */
async function commitLayer(p: Platform, app: App, tar: NodeJS.ReadableStream, base: string, tag: string): Promise<{ id: string; bytes: number }> {
  const container = await p.docker.createContainer({ Image: base, User: '1000:1000', WorkingDir: '/app', Labels: imageLabels(p.owner, app) });
  try {
    let bytes = 0;
    const counted = new PassThrough();
    counted.on('data', (chunk: Buffer) => (bytes += chunk.length));
    tar.pipe(counted);
    await container.putArchive(counted, { path: '/' });
    const colon = tag.lastIndexOf(':');
    const { Id } = (await container.commit({ repo: tag.slice(0, colon), tag: tag.slice(colon + 1) })) as { Id: string };
    return { id: Id, bytes };
  } finally {
    void container.remove({ force: true }).catch(() => {});
  }
}
