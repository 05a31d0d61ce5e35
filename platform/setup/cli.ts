// Set-up shared by `npm start` and `npm test`: a Docker engine that answers, and the locally built stack images.
import fs from 'node:fs';
import { createDocker } from '../docker.ts';
import { readSettings } from '../settings.ts';
import { ensureDockerEngine } from './docker-engine.ts';
import { ensureStackImages } from './stack-images.ts';

async function main(): Promise<void> {
  const { dataDir } = readSettings();
  fs.mkdirSync(dataDir, { recursive: true });
  await ensureDockerEngine(dataDir);
  await ensureStackImages(createDocker(), dataDir);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`\n !     Set-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
