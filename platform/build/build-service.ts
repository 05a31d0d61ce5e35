import type { Platform } from '../platform.ts';
import type { App, Build } from '../store/schema.ts';
import { configRepo } from '../config/config-repo.ts';
import { buildsRepo } from './builds-repo.ts';
import { buildpackBuild } from './buildpack-build.ts';
import { dockerfileBuild } from './dockerfile-build.ts';
import { imageRepo } from './images.ts';
import { parseProcfile } from './procfile.ts';
import type { Source } from './source.ts';

export type ProcessTypes = Record<string, string | null>;

export interface BuildResult {
  build: Build;
  image: string;
  digest: string;
  processTypes: ProcessTypes;
}

/** Builds a pushed commit into a run image, keeping a build record with the full output. */
export async function buildSource(p: Platform, app: App, source: Source, user: string, out: (text: string) => void): Promise<BuildResult> {
  const repo = buildsRepo(p.db);
  const build = repo.start(app.id, source.commit, user);
  const started = Date.now();
  let output = '';
  const line = (text: string) => {
    output += text + '\n';
    out(text + '\n');
    p.logs.write(app.name, 'build', build.id.slice(0, 8), text);
  };
  try {
    // Parse the Procfile first: a malformed one fails in a second, not after a long build.
    const procfileTypes = source.procfile === undefined ? {} : parseProcfile(source.procfile);
    const tag = `${imageRepo(app.name)}:${build.id.slice(0, 8)}`;
    const built = source.hasDockerfile
      ? await dockerfileBuild(p, app, source, tag, line)
      : await buildpackBuild(p, app, source, configRepo(p.db, p.box).all(app.id), tag, line);
    const processTypes: ProcessTypes = { ...built.defaultTypes, ...procfileTypes };
    line(`-----> Discovering process types`);
    line(`       Procfile declares types -> ${Object.keys(procfileTypes).join(', ') || '(none)'}`);
    line(`       Default types for buildpack -> ${Object.keys(built.defaultTypes).join(', ') || '(none)'}`);
    const finished = repo.finish(build.id, { status: 'succeeded', output, durationMs: Date.now() - started, buildpack: built.buildpack, image: built.digest });
    return { build: finished, image: tag, digest: built.digest, processTypes };
  } catch (err) {
    // The pusher sees the error from the push hook; the record keeps it too.
    output += ` !     ${err instanceof Error ? err.message : String(err)}\n`;
    repo.finish(build.id, { status: 'failed', output, durationMs: Date.now() - started });
    throw err;
  }
}
