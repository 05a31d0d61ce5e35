import { describe, expect, it } from 'vitest';
import { parseLayers } from './slug-image.ts';

describe('parseLayers', () => {
  it('reads the build driver’s "N FINGERPRINT DIR" lines in order', () => {
    const fp = 'a'.repeat(32);
    expect(parseLayers(`0 ${fp} .heroku\n1 ${'b'.repeat(32)} node_modules\n`)).toEqual([
      { index: 0, fingerprint: fp, dir: '.heroku' },
      { index: 1, fingerprint: 'b'.repeat(32), dir: 'node_modules' },
    ]);
    expect(parseLayers('')).toEqual([]);
  });

  it('refuses anything else rather than build a wrong image', () => {
    expect(() => parseLayers('x abc .heroku')).toThrow(/bad layer line/);
    expect(() => parseLayers(`0 ${'a'.repeat(31)} .heroku`)).toThrow(/bad layer line/);
    expect(() => parseLayers(`0 ${'a'.repeat(32)}`)).toThrow(/bad layer line/);
  });
});
