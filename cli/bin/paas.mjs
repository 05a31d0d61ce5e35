#!/usr/bin/env node
// The CLI is TypeScript, like the platform. Through tsx's loader every command spent ~0.5 s before
// it could start; so the first run after a change of its sources bundles them with esbuild (tsx's
// own compiler, ~0.1 s) into node_modules/.cache, and every later run loads that one file.
// Packages stay outside the bundle, resolved from node_modules as usual.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.resolve(cliDir, '..', 'node_modules', '.cache', 'paas-cli');

/** The CLI's TypeScript sources, in a stable order (not localeCompare's: loading ICU's collator costs ~8 ms). */
function sources(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) return sources(file);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [file] : [];
    });
}

const hash = createHash('sha256');
for (const file of sources(cliDir)) hash.update(file).update('\0').update(fs.readFileSync(file)).update('\0');
const bundle = path.join(cacheDir, `${hash.digest('hex').slice(0, 16)}.mjs`);

if (!fs.existsSync(bundle)) {
  const { build } = await import('esbuild');
  fs.mkdirSync(cacheDir, { recursive: true });
  const partial = `${bundle}.${process.pid}.tmp`;
  await build({
    entryPoints: [path.join(cliDir, 'main.ts')],
    outfile: partial,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    logLevel: 'error',
  });
  // The rename makes it appear whole (to a command started meanwhile, too); older sources' go.
  fs.renameSync(partial, bundle);
  for (const old of fs.readdirSync(cacheDir)) {
    if (old.endsWith('.mjs') && old !== path.basename(bundle)) fs.rmSync(path.join(cacheDir, old), { force: true });
  }
}
await import(pathToFileURL(bundle).href);
