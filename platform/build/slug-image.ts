import crypto from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import type { App } from '../store/schema.ts';
import type { Platform } from '../platform.ts';
import { STACK_IMAGE } from '../docker.ts';
import { imageLabels, imageRepo } from './images.ts';

/** A directory the build driver set aside as a layer of its own (`/build-result/layers`). */
export interface SlugLayer {
  index: number;
  /** Its files' names, sizes, times, modes and owners: unchanged means the app's last layer is it. */
  fingerprint: string;
  /** The same without times: another app's layer of this shape may hold the same files. */
  shape: string;
  dir: string;
}

export function parseLayers(text: string): SlugLayer[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [index, fingerprint, shape, dir] = line.trim().split(' ');
      const digest = /^[0-9a-f]{32}$/;
      if (!/^\d+$/.test(index) || !digest.test(fingerprint) || !digest.test(shape) || !dir) throw new Error(`build driver: bad layer line ${JSON.stringify(line)}`);
      return { index: Number(index), fingerprint, shape, dir };
    });
}

/** Where the build driver (driver.sh) leaves the slug, taken apart into layers (/app links to /workspace/app: builders.ts). */
const SLUG = '/workspace/app/.paas-slug';

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)}M`;

/**
 * The run image: the runtime stack image, then one layer per slug layer, then the rest of the slug.
 * A layer is reused from the app's earlier builds while its fingerprint and everything below it
 * are unchanged. A layer new to the app may be one another app made already (the same runtime, the
 * same locked dependencies), or the app itself with other file times: when one on the same image
 * has the same shape (the fingerprint without times), the layer's files are read out of the builder
 * and their digest compared with the one the platform took when it made that layer, so no build can
 * claim files it did not produce. Otherwise the layer is made:
 * a container created from the image below it, the builder's directory copied in (its digest taken
 * on the way), committed. Only what changed crosses the engine.
 */
export async function slugImage(p: Platform, app: App, builder: Docker.Container, layers: SlugLayer[], appTar: Buffer | undefined, tag: string, out: (line: string) => void): Promise<string> {
  let base = (await p.docker.getImage(STACK_IMAGE).inspect()).Id;
  for (const layer of layers) {
    const key = sha256(`${base} ${layer.fingerprint}`).slice(0, 16);
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
    const files = () => builder.getArchive({ path: `${SLUG}/${layer.index}/app` });
    const shape = sha256(`${base} ${layer.shape}`).slice(0, 16);
    const shared = await sharedLayer(p, base, shape, files);
    if (shared) {
      await p.docker.getImage(shared).tag(splitTag(layerTag));
      out(`       ${layer.dir}: the same files as an earlier layer, reusing it`);
      base = shared;
      continue;
    }
    const committed = await commitLayer(p, await files(), base, layerTag, { 'paas.owner': p.owner, [SHAPE_LABEL]: shape }, { digest: true });
    out(`       ${layer.dir}: new layer, ${megabytes(committed.bytes)}`);
    base = committed.id;
  }
  // A small top layer came with the verdict; a big one is read from the builder.
  const committed = await commitLayer(p, appTar ? Readable.from([appTar]) : await builder.getArchive({ path: `${SLUG}/rest/app` }), base, tag, imageLabels(p.owner, app));
  out(`       app: ${megabytes(committed.bytes)}`);
  return committed.id;
}

/** On a slug layer's image: the digest of its parent's id and the shape its build gave (a hint). */
const SHAPE_LABEL = 'paas.layer-shape';
/** On a slug layer's image: the digest of its files, as the platform read them when it made the layer. */
const FILES_LABEL = 'paas.layer-files';

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

function splitTag(tag: string): { repo: string; tag: string } {
  const colon = tag.lastIndexOf(':');
  return { repo: tag.slice(0, colon), tag: tag.slice(colon + 1) };
}

/**
 * A layer some app of this platform made on `base` with the same shape and, read here, the same
 * files. (Labels pass on to the images built on top: the layer must be a child of `base`.)
 */
export async function sharedLayer(p: Platform, base: string, shape: string, files: () => Promise<NodeJS.ReadableStream>): Promise<string | undefined> {
  const images = await p.docker.listImages({ filters: JSON.stringify({ label: [`paas.owner=${p.owner}`, `${SHAPE_LABEL}=${shape}`] }) });
  const candidate = images.find((image) => image.ParentId === base && image.Labels?.[FILES_LABEL]);
  if (!candidate) return undefined;
  return (await filesDigest(await files())) === candidate.Labels[FILES_LABEL] ? candidate.Id : undefined;
}

/**
 * A digest of the files in a tar stream: each entry's name, type, mode, owner, size, link target
 * and content, in order; not their times (two builds of the same files differ only in those).
 */
export async function filesDigest(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = crypto.createHash('sha256');
  const extract = tar.extract();
  extract.on('entry', (header, body, next) => {
    hash.update(JSON.stringify([header.name, header.type, header.mode, header.uid, header.gid, header.size, header.linkname ?? '']));
    body.on('data', (chunk) => hash.update(chunk as Buffer));
    body.on('end', next);
  });
  await pipeline(stream, extract);
  return hash.digest('hex');
}

/**
 * `tar` (a directory named `app`) extracted to `/app` on `base`, committed as `tag` with `labels`
 * (and, for a slug layer others may share, the digest of its files, taken as they pass): the new
 * image's id and the bytes copied.
 */
async function commitLayer(p: Platform, tar: NodeJS.ReadableStream, base: string, tag: string, labels: Record<string, string>, { digest = false } = {}): Promise<{ id: string; bytes: number }> {
  const container = await p.docker.createContainer({ Image: base, User: '1000:1000', WorkingDir: '/app', Labels: labels });
  try {
    let bytes = 0;
    const counted = new PassThrough();
    counted.on('data', (chunk: Buffer) => (bytes += chunk.length));
    tar.pipe(counted);
    const files = digest ? filesDigest(tar.pipe(new PassThrough())) : undefined;
    await Promise.all([container.putArchive(counted, { path: '/' }), files]);
    const { Id } = (await container.commit({ ...splitTag(tag), ...(files && { changes: `LABEL ${FILES_LABEL}=${await files}` }) })) as { Id: string };
    return { id: Id, bytes };
  } finally {
    void container.remove({ force: true }).catch(() => {});
  }
}
