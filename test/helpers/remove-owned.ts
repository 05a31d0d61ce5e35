import type Docker from 'dockerode';
import { removeImages } from '../../platform/build/images.ts';

/**
 * Removes every container, network, image and volume a platform created (by its `paas.owner`
 * label): what a test platform or a benchmark's leaves behind, including its spare sandboxes.
 */
export async function removeOwned(docker: Docker, owner: string): Promise<void> {
  const filters = JSON.stringify({ label: [`paas.owner=${owner}`] });
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
  for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => {});
  await removeImages(docker, [`paas.owner=${owner}`]).catch((err) => console.error(`clean-up of ${owner}: ${err.message}`));
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => {});
}
