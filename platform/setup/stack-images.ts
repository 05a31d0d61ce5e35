import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { BUILDER_IMAGE, STACK_IMAGE } from '../docker.ts';
import { baseImageTag, ensureBaseImage, splitTag } from './base-image.ts';
import { followToEnd, imageId } from './images.ts';
import { say } from './proc.ts';

const RECIPES_DIR = fileURLToPath(new URL('../stack/', import.meta.url));
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

interface Recipe {
  repo: string; // e.g. paas/stack
  dockerfile: string; // file in platform/stack/
  parentArg: string; // build arg naming the FROM image
  files: Record<string, Buffer>; // build context besides the Dockerfile
  banner: string;
}

export interface StackImages {
  stack: string; // versioned tags, e.g. paas/stack:1a2b3c4d5e6f
  builder: string;
}

function recipes(): [Recipe, Recipe] {
  const ca = fs.readFileSync(HOST_CA_BUNDLE);
  const launcher = fs.readFileSync(path.join(RECIPES_DIR, 'paas-exec'));
  return [
    {
      repo: splitTag(STACK_IMAGE)[0],
      dockerfile: 'runtime.Dockerfile',
      parentArg: 'BASE_IMAGE',
      files: { 'host-ca-certificates.crt': ca, 'paas-exec': launcher },
      banner: '-----> Building stack image (first run only, ~1 min)',
    },
    {
      repo: splitTag(BUILDER_IMAGE)[0],
      dockerfile: 'builder.Dockerfile',
      parentArg: 'STACK_IMAGE',
      files: { 'host-ca-certificates.crt': ca },
      banner: '-----> Building builder image (first run only, ~2 min)',
    },
  ];
}

/** Short hash of everything that goes into an image, parent included, so any change rebuilds it and its children. */
function recipeTag(recipe: Recipe, dockerfileText: Buffer, parentTag: string): string {
  const hash = crypto.createHash('sha256');
  hash.update(parentTag).update('\0').update(dockerfileText);
  for (const name of Object.keys(recipe.files).sort()) hash.update('\0').update(name).update('\0').update(recipe.files[name]!);
  return `${recipe.repo}:${hash.digest('hex').slice(0, 12)}`;
}

/** Builds (or reuses) paas/stack and paas/builder, and points their :latest tags at the current recipe. */
export async function ensureStackImages(docker: Docker, dataDir: string): Promise<StackImages> {
  // Tags are computed from recipes alone, so the usual "all present" case needs no base image and no build.
  const plan: { recipe: Recipe; text: Buffer; parent: string; tag: string }[] = [];
  let parent = baseImageTag();
  for (const recipe of recipes()) {
    const text = fs.readFileSync(path.join(RECIPES_DIR, recipe.dockerfile));
    const tag = recipeTag(recipe, text, parent);
    plan.push({ recipe, text, parent, tag });
    parent = tag;
  }

  for (const step of plan) {
    if (await imageId(docker, step.tag)) continue;
    if (step === plan[0]) await ensureBaseImage(docker, dataDir);
    say(step.recipe.banner);
    await build(docker, dataDir, step);
  }
  for (const step of plan) await pointLatest(docker, step.tag);

  const [stack, builder] = [plan[0]!.tag, plan[1]!.tag];
  say(`-----> Stack images ready (${stack}, ${builder})`);
  return { stack, builder };
}

async function build(
  docker: Docker,
  dataDir: string,
  step: { recipe: Recipe; text: Buffer; parent: string; tag: string },
): Promise<void> {
  const tmpRoot = path.join(dataDir, 'tmp');
  fs.mkdirSync(tmpRoot, { recursive: true });
  const context = fs.mkdtempSync(path.join(tmpRoot, 'stack-context-'));
  try {
    fs.writeFileSync(path.join(context, 'Dockerfile'), step.text);
    for (const [name, bytes] of Object.entries(step.recipe.files)) fs.writeFileSync(path.join(context, name), bytes);
    const stream = await docker.buildImage(
      { context, src: ['Dockerfile', ...Object.keys(step.recipe.files)] },
      { t: step.tag, buildargs: { [step.recipe.parentArg]: step.parent }, rm: true, forcerm: true },
    );
    await followToEnd(docker, stream, undefined, (event) => {
      const line = event.stream?.trim().replace(/\s+/g, ' ');
      if (line && /^Step \d+\/\d+ :/.test(line)) say(`       ${line.length > 110 ? `${line.slice(0, 107)}...` : line}`);
    });
  } catch (err) {
    throw new Error(`Building ${step.tag} from platform/stack/${step.recipe.dockerfile} failed: ${(err as Error).message}`);
  } finally {
    fs.rmSync(context, { recursive: true, force: true });
  }
  if (!(await imageId(docker, step.tag))) throw new Error(`Building ${step.tag} finished without producing the image`);
}

async function pointLatest(docker: Docker, tag: string): Promise<void> {
  const [repo] = splitTag(tag);
  const [wanted, current] = await Promise.all([imageId(docker, tag), imageId(docker, `${repo}:latest`)]);
  if (wanted && wanted !== current) await docker.getImage(tag).tag({ repo, tag: 'latest' });
}
