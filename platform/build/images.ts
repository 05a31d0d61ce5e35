import type Docker from 'dockerode';
import type { App } from '../store/schema.ts';
import { BACKGROUND_CPU_SHARES } from '../docker.ts';

export const imageRepo = (appName: string) => `paas-app/${appName}`;

/** Builds an image from a tar context (a Dockerfile at its root), streaming Docker's output. */
export async function buildImage(docker: Docker, context: NodeJS.ReadableStream, tag: string, labels: Record<string, string>, out: (line: string) => void): Promise<string> {
  const stream = await docker.buildImage(context, { t: tag, labels, rm: true, forcerm: true, cpushares: BACKGROUND_CPU_SHARES });
  let failure: string | undefined;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve()), (event: { stream?: string; error?: string; errorDetail?: { message?: string } }) => {
      if (event.stream) {
        for (const line of event.stream.split('\n')) if (line.trim()) out(line);
      }
      if (event.error) failure = event.errorDetail?.message ?? event.error;
    });
  });
  if (failure) throw new Error(`image build failed: ${failure}`);
  return (await docker.getImage(tag).inspect()).Id;
}

/** Labels for every image built for an app. */
export const imageLabels = (owner: string, app: App) => ({ 'paas.app': app.name, 'paas.owner': owner });

/**
 * The app's own images (its run images), then its names for the slug layers below them, which
 * other apps may share (slug-image.ts): a layer goes with its last name and last child.
 */
export async function removeAppImages(docker: Docker, owner: string, app: App): Promise<string[]> {
  const removed = await removeImages(docker, [`paas.app=${app.name}`, `paas.owner=${owner}`]);
  const named = await docker.listImages({ filters: JSON.stringify({ reference: [`${imageRepo(app.name)}:*`] }) });
  const tags = named.flatMap((image) => image.RepoTags ?? []).filter((t) => t.startsWith(`${imageRepo(app.name)}:`));
  // Untagging a layer with children keeps it until its last child goes, which then takes it along.
  for (const tag of tags) {
    try {
      await docker.getImage(tag).remove();
      removed.push(`image ${tag}`);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }
  return removed;
}

/** Removes every image with these labels; returns what it removed. */
export async function removeImages(docker: Docker, labels: string[]): Promise<string[]> {
  let images = await docker.listImages({ filters: JSON.stringify({ label: labels }) });
  const removed: string[] = [];
  // A run image is a child of the app's slug-layer images, which cannot go before it (409): children
  // first, and whatever still has a child waits for the next pass.
  while (images.length) {
    const blocked: typeof images = [];
    for (const image of images) {
      try {
        await docker.getImage(image.Id).remove({ force: true });
        removed.push(`image ${(image.RepoTags ?? [image.Id])[0]}`);
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status === 409) blocked.push(image);
        else if (status !== 404) throw err;
      }
    }
    if (blocked.length === images.length) throw new Error(`cannot remove images ${blocked.map((i) => i.Id).join(', ')}: still in use`);
    images = blocked;
  }
  return removed;
}
