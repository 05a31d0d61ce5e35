import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
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

/** Where the build driver (driver.sh) leaves the slug, taken apart into layers. */
const SLUG = '/app/.paas-slug';

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)}M`;

/**
 * The run image: the runtime stack image, then one layer per slug layer (reused from the app's
 * earlier builds while its fingerprint and everything below it are unchanged), then the rest of
 * the slug. Each new layer is loaded onto the image below it (`addLayer`): only what changed
 * crosses the engine.
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
    const committed = await addLayer(p, app, await builder.getArchive({ path: `${SLUG}/${layer.index}/app` }), base, layerTag);
    out(`       ${layer.dir}: new layer, ${megabytes(committed.bytes)}`);
    base = committed.id;
  }
  // A small top layer came with the verdict; a big one is read from the builder.
  const committed = await addLayer(p, app, appTar ? Readable.from([appTar]) : await builder.getArchive({ path: `${SLUG}/rest/app` }), base, tag);
  out(`       app: ${megabytes(committed.bytes)}`);
  return committed.id;
}

/**
 * `layer` (a tar of a directory named `app`) as one new layer on `base`, tagged `tag`: the new
 * image's id and the layer's bytes. The engine loads it as an image archive whose manifest names
 * only this layer's file (the engine already has every layer below, and skips those): one call,
 * about half what a container created from `base`, copied into and committed costs here.
 */
async function addLayer(p: Platform, app: App, layer: NodeJS.ReadableStream, baseId: string, tag: string): Promise<{ id: string; bytes: number }> {
  const base = await p.docker.getImage(baseId).inspect();
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'paas-layer-'));
  try {
    // The archive's header needs the layer's size and its config the layer's digest: spool it first.
    const file = path.join(dir, 'layer.tar');
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    const measure = new PassThrough().on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    await pipeline(layer, measure, fs.createWriteStream(file));
    const config = Buffer.from(JSON.stringify({
      architecture: base.Architecture,
      os: base.Os,
      created: new Date().toISOString(),
      config: { ...base.Config, User: '1000:1000', WorkingDir: '/app', Labels: { ...base.Config.Labels, ...imageLabels(p.owner, app) } },
      rootfs: { type: 'layers', diff_ids: [...base.RootFS.Layers!, `sha256:${hash.digest('hex')}`] },
    }));
    const manifest = [{ Config: 'config.json', RepoTags: [tag], Layers: [...base.RootFS.Layers!.map((_, i) => `below-${i}.tar`), 'layer.tar'] }];

    const archive = tar.pack();
    archive.entry({ name: 'config.json' }, config);
    archive.entry({ name: 'manifest.json' }, JSON.stringify(manifest));
    const entry = archive.entry({ name: 'layer.tar', size: bytes });
    void pipeline(fs.createReadStream(file), entry).then(() => archive.finalize(), (err) => archive.destroy(err));
    const progress = await p.docker.loadImage(archive as unknown as NodeJS.ReadableStream, { quiet: true });
    await new Promise<void>((resolve, reject) => {
      p.docker.modem.followProgress(progress, (err: Error | null, events: Array<{ error?: string }>) => {
        const failed = err?.message ?? events.find((e) => e.error)?.error;
        if (failed) reject(new Error(`loading the layer of ${tag} failed: ${failed}`));
        else resolve();
      });
    });
    // An image's id is the digest of its config, as written.
    return { id: `sha256:${crypto.createHash('sha256').update(config).digest('hex')}`, bytes };
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
