import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILDER_IMAGE, STACK_IMAGE, createDocker } from '../docker.ts';
import { readSettings } from '../settings.ts';
import { ensureDockerEngine } from './docker-engine.ts';
import { ensureStackImages, type StackImages } from './stack-images.ts';

const docker = createDocker();
let images: StackImages;

/** Runs a one-off container and returns its exit code and output (TTY, so stdout and stderr come unmultiplexed). */
async function runIn(image: string, cmd: string[], user?: string): Promise<{ code: number; output: string }> {
  const container = await docker.createContainer({ Image: image, Cmd: cmd, User: user, Tty: true, HostConfig: { AutoRemove: false } });
  try {
    await container.start();
    const { StatusCode } = await container.wait();
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });
    return { code: StatusCode, output: logs.toString().replace(/\r/g, '').trim() };
  } finally {
    await container.remove({ force: true });
  }
}

describe('stack images', () => {
  beforeAll(async () => {
    const { dataDir } = readSettings();
    fs.mkdirSync(dataDir, { recursive: true });
    await ensureDockerEngine(dataDir);
    images = await ensureStackImages(docker, dataDir);
  }, 15 * 60_000);

  it('exist under their versioned and :latest tags', async () => {
    const [stack, stackLatest, builder, builderLatest] = await Promise.all(
      [images.stack, STACK_IMAGE, images.builder, BUILDER_IMAGE].map((tag) => docker.getImage(tag).inspect()),
    );
    expect(stackLatest!.Id).toBe(stack!.Id);
    expect(builderLatest!.Id).toBe(builder!.Id);
  });

  it('is reused, not rebuilt, when the recipe is unchanged', async () => {
    const started = Date.now();
    const again = await ensureStackImages(docker, readSettings().dataDir);
    expect(again).toEqual(images);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('runs the stack as uid 1000 in /app, with the launcher and CA settings', async () => {
    const script = 'id -u; id -g; pwd; test -x /usr/local/bin/paas-exec && echo launcher; echo "$NODE_EXTRA_CA_CERTS"; python3 -c "print(42)"';
    const { code, output } = await runIn(STACK_IMAGE, ['bash', '-c', script]);
    expect(code).toBe(0);
    expect(output.split('\n')).toEqual(['1000', '1000', '/app', 'launcher', '/etc/ssl/certs/ca-certificates.crt', '42']);
  }, 60_000);

  it('paas-exec sources .profile.d before running the command', async () => {
    const script = 'mkdir -p /app/.profile.d && echo "export GREETING=hi" > /app/.profile.d/a.sh && exec paas-exec bash -c "echo \\$GREETING"';
    const { code, output } = await runIn(STACK_IMAGE, ['bash', '-c', script]);
    expect(code).toBe(0);
    expect(output).toBe('hi');
  }, 60_000);

  it('has no compiler in the runtime stack', async () => {
    const { output } = await runIn(STACK_IMAGE, ['bash', '-c', 'command -v gcc cc make || echo none']);
    expect(output).toBe('none');
  }, 60_000);

  it('gives the builder compilers, git and python venv, as root', async () => {
    const script = 'id -u; gcc --version >/dev/null && git --version >/dev/null && python3 -c "import ensurepip, venv" && python3 -m pip --version >/dev/null && echo ok';
    const { code, output } = await runIn(BUILDER_IMAGE, ['bash', '-c', script]);
    expect(output.split('\n')).toEqual(['0', 'ok']);
    expect(code).toBe(0);
  }, 60_000);

  it('reaches the npm registry over HTTPS from the builder (host CA bundle carried)', async () => {
    const { output } = await runIn(BUILDER_IMAGE, ['curl', '-sS', '--max-time', '20', 'https://registry.npmjs.org/', '-o', '/dev/null', '-w', '%{http_code}']);
    expect(output).toBe('200');
  }, 60_000);
});
