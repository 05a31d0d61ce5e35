import type { Platform } from '../platform.ts';
import type { App } from '../store/schema.ts';
import { archive, type Source } from './source.ts';
import { buildImage, imageLabels } from './images.ts';

/** A Dockerfile at the root: the tree is the build context, Docker does the rest. */
export async function dockerfileBuild(p: Platform, app: App, source: Source, tag: string, out: (line: string) => void) {
  out('-----> Building with the Dockerfile');
  const digest = await buildImage(p.docker, archive(source), tag, imageLabels(p.owner, app), (line) => out(`       ${line}`));
  // Without a Procfile, web runs the image's own CMD/ENTRYPOINT (null).
  return { digest, buildpack: 'dockerfile', defaultTypes: { web: null } as Record<string, string | null> };
}
