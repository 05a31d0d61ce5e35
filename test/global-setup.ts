import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDocker } from '../platform/docker.ts';
import { removeImages } from '../platform/build/images.ts';

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
  for (const owner of owners) {
    const filters = JSON.stringify({ label: [`paas.owner=${owner}`] });
    for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
    for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => {});
    await removeImages(docker, [`paas.owner=${owner}`]).catch((err) => console.error(`test teardown: ${err.message}`));
    for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => {});
  }
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}
