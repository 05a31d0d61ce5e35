import { describe, expect, it } from 'vitest';
import { escapesTree } from './source.ts';

describe('symlink check', () => {
  it.each([
    ['a/link', '../b', false],
    ['link', 'sub/file', false],
    ['link', '../etc/passwd', true],
    ['a/b/link', '../../../x', true],
    ['link', '/etc/passwd', true],
    ['link', '..', true],
  ])('%s -> %s escapes: %s', (file, target, escapes) => {
    expect(escapesTree(file, target)).toBe(escapes);
  });
});
