import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAppJson } from '../release/app-json.ts';
import { readTarFiles } from '../container-io.ts';
import { archive, escapesTree, openSource } from './source.ts';

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

describe('openSource', () => {
  const git = (dir: string, ...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  function repoWith(files: Record<string, string>): { repoDir: string; commit: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-source-'));
    git(dir, 'init', '-q');
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
    }
    git(dir, 'add', '-A');
    git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'x');
    return { repoDir: path.join(dir, '.git'), commit: git(dir, 'rev-parse', 'HEAD') };
  }

  it('lists the tree with sizes and reads the Procfile and app.json only when present', async () => {
    const { repoDir, commit } = repoWith({ Procfile: 'web: node server.js\n', 'app.json': '{"paas": {"boot_timeout": 7}}', 'a dir/file one.txt': 'hello' });
    const source = await openSource(repoDir, commit, {});
    expect(source.procfile).toBe('web: node server.js\n');
    expect(source.hasDockerfile).toBe(false);
    expect(source.files.get('a dir/file one.txt')).toMatchObject({ mode: '100644', size: 5 });
    expect(await readAppJson(source)).toMatchObject({ bootTimeoutSeconds: 7 });

    const other = repoWith({ Dockerfile: 'FROM x\n' });
    const bare = await openSource(other.repoDir, other.commit, {});
    expect(bare.procfile).toBeUndefined();
    expect(bare.hasDockerfile).toBe(true);
    expect(await readAppJson(bare)).toBeUndefined();
  });

  it('refuses an app.json that is a directory', async () => {
    const { repoDir, commit } = repoWith({ 'app.json/x': '{}' });
    await expect(readAppJson(await openSource(repoDir, commit, {}))).rejects.toThrow('app.json must be a file');
  });

  it('keeps a small archive for a reader that comes after git has exited', async () => {
    const { repoDir, commit } = repoWith({ 'index.html': '<h1>hi</h1>' });
    const tar = archive(await openSource(repoDir, commit, {}), 'app/');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const files = await readTarFiles(tar);
    expect(files.get('app/index.html')?.toString()).toBe('<h1>hi</h1>');
  });
});
