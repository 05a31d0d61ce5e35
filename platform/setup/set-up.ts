import fs from 'node:fs';
import { createDocker } from '../docker.ts';
import { ensureDockerEngine } from './docker-engine.ts';
import { ensureStackImages } from './stack-images.ts';

/** Set-up shared by `npm start` and `npm test`: a Docker engine that answers, and the locally built stack images. */
export async function setUp(dataDir: string): Promise<void> {
  fs.mkdirSync(dataDir, { recursive: true });
  await ensureDockerEngine(dataDir);
  await ensureStackImages(createDocker(), dataDir);
}
