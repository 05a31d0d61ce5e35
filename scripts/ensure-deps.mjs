// Installs npm packages only when needed, so a second `npm start` is instant.
// Plain JS without dependencies: node_modules may not exist yet.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lockPath = path.join(root, 'package-lock.json');
const modulesDir = path.join(root, 'node_modules');
const stampPath = path.join(modulesDir, '.paas-deps-stamp');

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

// Native modules (better-sqlite3) are built for one Node ABI, so the stamp names it too.
function wantedStamp() {
  const lockHash = createHash('sha256').update(fs.readFileSync(lockPath)).digest('hex');
  return `${lockHash} node-abi-${process.versions.modules} ${process.platform}-${process.arch}\n`;
}

// Without our stamp (someone ran `npm install` by hand), trust npm's own record of
// what it installed if every locked package is there at its locked version.
function installedMatchesLock() {
  const lock = readJson(lockPath);
  const installed = readJson(path.join(modulesDir, '.package-lock.json'));
  if (!lock?.packages || !installed?.packages) return false;
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '' || !key.startsWith('node_modules/')) continue;
    const have = installed.packages[key];
    if (!have) {
      if (entry.optional) continue; // platform-specific builds (esbuild, rollup) for other OSes
      return false;
    }
    if (have.version !== entry.version) return false;
  }
  return true;
}

function main() {
  if (!fs.existsSync(lockPath)) {
    console.error(' !     package-lock.json is missing; run `npm install` once to create it.');
    process.exit(1);
  }
  const stamp = wantedStamp();
  if (fs.existsSync(modulesDir)) {
    let current;
    try {
      current = fs.readFileSync(stampPath, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === stamp) return;
    if (current === undefined && installedMatchesLock()) {
      fs.writeFileSync(stampPath, stamp);
      return;
    }
  }

  console.log('-----> Installing npm packages');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // A fresh checkout gets `npm ci`; an existing node_modules is updated in place (much faster,
  // and nothing disappears under a platform or test run that is using it).
  const command = fs.existsSync(modulesDir) ? 'install' : 'ci';
  const result = spawnSync(npm, [command, '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.error || result.status !== 0) {
    console.error(` !     npm ${command} failed${result.error ? `: ${result.error.message}` : ` (exit ${result.status})`}`);
    process.exit(1);
  }
  fs.writeFileSync(stampPath, stamp);
}

main();
