import { describe, expect, it } from 'vitest';
import tar from 'tar-stream';
import type { Platform } from '../platform.ts';
import { filesDigest, parseLayers, sharedLayer } from './slug-image.ts';

describe('parseLayers', () => {
  it('reads the build driver’s "N FINGERPRINT DIR" lines in order', () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => x.repeat(32));
    expect(parseLayers(`0 ${a} ${b} .heroku\n1 ${c} ${d} node_modules\n`)).toEqual([
      { index: 0, fingerprint: a, shape: b, dir: '.heroku' },
      { index: 1, fingerprint: c, shape: d, dir: 'node_modules' },
    ]);
    expect(parseLayers('')).toEqual([]);
  });

  it('refuses anything else rather than build a wrong image', () => {
    expect(() => parseLayers('x abc .heroku')).toThrow(/bad layer line/);
    expect(() => parseLayers(`0 ${'a'.repeat(31)} ${'b'.repeat(32)} .heroku`)).toThrow(/bad layer line/);
    expect(() => parseLayers(`0 ${'a'.repeat(32)} .heroku`)).toThrow(/bad layer line/);
    expect(() => parseLayers(`0 ${'a'.repeat(32)} ${'b'.repeat(32)}`)).toThrow(/bad layer line/);
  });
});

describe('filesDigest', () => {
  const tarOf = async (files: Array<{ name: string; body: string; mode?: number; mtime?: Date }>) => {
    const pack = tar.pack();
    for (const f of files) pack.entry({ name: f.name, mode: f.mode ?? 0o644, mtime: f.mtime ?? new Date(0), uid: 1000, gid: 1000 }, f.body);
    pack.finalize();
    return filesDigest(pack as unknown as NodeJS.ReadableStream);
  };

  it('is the same for the same files made at another time', async () => {
    const a = await tarOf([{ name: 'app/a.js', body: 'one', mtime: new Date(1_000_000) }]);
    expect(await tarOf([{ name: 'app/a.js', body: 'one', mtime: new Date(9_000_000) }])).toBe(a);
  });

  it('differs when a file’s content, name or mode does', async () => {
    const a = await tarOf([{ name: 'app/a.js', body: 'one' }]);
    expect(await tarOf([{ name: 'app/a.js', body: 'two' }])).not.toBe(a);
    expect(await tarOf([{ name: 'app/b.js', body: 'one' }])).not.toBe(a);
    expect(await tarOf([{ name: 'app/a.js', body: 'one', mode: 0o755 }])).not.toBe(a);
    // Entry boundaries count: "ab" + "c" is not "a" + "bc".
    expect(await tarOf([{ name: 'x', body: 'ab' }, { name: 'y', body: 'c' }])).not.toBe(await tarOf([{ name: 'x', body: 'a' }, { name: 'y', body: 'bc' }]));
  });
});

describe('sharedLayer', () => {
  const tarOf = (body: string) => {
    const pack = tar.pack();
    pack.entry({ name: 'app/x', mtime: new Date(0), uid: 1000, gid: 1000 }, body);
    pack.finalize();
    return pack as unknown as NodeJS.ReadableStream;
  };
  /** An engine that has one layer image made by another app: a child of `base-1`, of shape `k`. */
  const platformWith = async (files: string) =>
    ({
      owner: 'o',
      docker: {
        listImages: async ({ filters }: { filters: string }) => {
          const { label } = JSON.parse(filters) as { label: string[] };
          if (!label.includes('paas.layer-shape=k')) return [];
          return [
            { Id: 'top', ParentId: 'layer-1', Labels: { 'paas.layer-shape': 'k', 'paas.layer-files': 'whatever' } },
            { Id: 'layer-1', ParentId: 'base-1', Labels: { 'paas.layer-shape': 'k', 'paas.layer-files': await filesDigest(tarOf(files)) } },
          ];
        },
      },
    }) as unknown as Platform;

  it('is the other app’s layer when the files read from this build are the same', async () => {
    expect(await sharedLayer(await platformWith('node'), 'base-1', 'k', async () => tarOf('node'))).toBe('layer-1');
  });

  it('is nothing when a build has the shape but its files differ', async () => {
    expect(await sharedLayer(await platformWith('node'), 'base-1', 'k', async () => tarOf('something else'))).toBeUndefined();
  });

  it('is nothing on another image below, or for another shape', async () => {
    expect(await sharedLayer(await platformWith('node'), 'base-2', 'k', async () => tarOf('node'))).toBeUndefined();
    expect(await sharedLayer(await platformWith('node'), 'base-1', 'other', async () => tarOf('node'))).toBeUndefined();
  });
});
