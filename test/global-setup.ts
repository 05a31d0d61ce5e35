import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDocker } from '../platform/docker.ts';
import { removeOwned } from './helpers/remove-owned.ts';

export function setup(): void {
  process.env.PAAS_TEST_OWNERS_FILE = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-test-run-')), 'owners');
}

/**
 * After the suite: removes every container, network, image and volume that the test platforms created
 * (by their `paas.owner` label), including what a test that failed half-way left behind.
 */
export async function teardown(): Promise<void> {
  const file = process.env.PAAS_TEST_OWNERS_FILE!;
  let owners: string[];
  try {
    owners = [...new Set(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean))];
  } catch {
    return;
  }
  const docker = createDocker();
  for (const owner of owners) await removeOwned(docker, owner);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}
