import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { createDocker } from '../docker.ts';
import { ENGINE_CPU_GROUP, keepOffFirstCpu, moveToCpuGroup } from './cpu-group.ts';
import { crunForEngine } from './crun.ts';
import { installDockerEngine } from './engine-package.ts';
import { findExecutable, isRoot, run, say, sleep, tail } from './proc.ts';

const START_TIMEOUT_MS = 60_000;
const SBIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

type PingResult = 'up' | 'down' | 'denied';

async function ping(docker: Docker, timeoutMs = 2_000): Promise<PingResult> {
  try {
    // dockerode accepts an abortSignal here; its type definitions do not say so.
    const pingable = docker as unknown as { ping(opts: { abortSignal: AbortSignal }): Promise<unknown> };
    await pingable.ping({ abortSignal: AbortSignal.timeout(timeoutMs) });
    return 'up';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EACCES' ? 'denied' : 'down';
  }
}

/** Makes sure a Docker engine answers, installing docker.io and starting dockerd when needed (CONTRACT.md "Two commands"). */
export async function ensureDockerEngine(dataDir: string): Promise<void> {
  const docker = createDocker();
  await ensureAnswering(docker, dataDir);
  const { Version } = await docker.version();
  if (Number(Version.split('.')[0]) < FAST_ENGINE_MAJOR) {
    say(`       (Docker Engine ${Version} is older than ${FAST_ENGINE_MAJOR}: each deploy takes ~0.35 s longer; README "Set-up" says how to upgrade)`);
  }
}

/** From Engine 23 on, copies into containers and commits no longer re-execute dockerd (engine-package.ts). */
const FAST_ENGINE_MAJOR = 23;

async function ensureAnswering(docker: Docker, dataDir: string): Promise<void> {
  const state = await ping(docker);
  if (state === 'up') return;
  if (state === 'denied') {
    throw new Error(
      'The Docker engine is running but this user may not use its socket (/var/run/docker.sock).\n' +
        'Run as root, or add yourself to the docker group: sudo usermod -aG docker "$USER" (then log in again).',
    );
  }
  if (process.env.DOCKER_HOST) {
    throw new Error(`No Docker engine answers at DOCKER_HOST=${process.env.DOCKER_HOST}. Start it, or unset DOCKER_HOST to use a local engine.`);
  }

  let dockerd = findExecutable('dockerd');
  if (!dockerd) {
    if (!isRoot()) {
      throw new Error(
        'No Docker engine answers and dockerd is not installed. Install and start it with:\n' +
          '  sudo apt-get update && sudo apt-get install -y docker.io\n' +
          '  sudo systemctl start docker   # or, without systemd: sudo dockerd &\n' +
          'and let yourself use it: sudo usermod -aG docker "$USER" (then log in again).',
      );
    }
    await installDockerEngine();
    dockerd = findExecutable('dockerd');
    if (!dockerd) throw new Error('apt-get installed docker.io but no dockerd binary was found.');
  }

  if (!isRoot()) {
    throw new Error(
      'dockerd is installed but not running, and only root can start it. Run:\n' +
        '  sudo systemctl start docker   # or, without systemd: sudo dockerd &',
    );
  }

  say('-----> Starting Docker engine');
  // With systemd, the service owns dockerd (restarts, boot); a foreign dockerd would fight it.
  if (fs.existsSync('/run/systemd/system') && findExecutable('systemctl')) {
    try {
      await run('systemctl', ['start', 'docker']);
      if (await waitForPing(docker, START_TIMEOUT_MS, () => null)) return;
    } catch {
      // fall back to starting dockerd ourselves
    }
  }
  await startDockerd(docker, dockerd, dataDir);
}

/** The pid in a pid file, if that process is alive and is the expected program (pids get reused after a reboot or kill). */
function livePid(pidFile: string, comm: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A stale pid file naming a reused pid makes dockerd refuse to start. */
function removeStalePidFile(pidFile: string, comm: string): void {
  // A live containerd from a killed dockerd is fine: the new dockerd adopts it (and its containers).
  if (fs.existsSync(pidFile) && !livePid(pidFile, comm)) fs.rmSync(pidFile, { force: true });
}

/**
 * The engine, and every process it runs for itself (containerd, shims, runc, iptables, its own
 * re-executions), runs in a CPU group of its own at a quarter of an app container's weight, as
 * builds do: starting or stopping containers on a busy machine then takes the CPU from nobody's
 * requests. Left where the kernel puts it, each of those processes is a session of its own, and
 * with the kernel's autogroups every session weighs as much as all app containers together: nine
 * starts at once were ten such groups against the apps' one (niceness does not help there, it
 * only counts within a session). And it never runs on the first CPU (a cpuset group of the same
 * name): the kernel does a container's set-up and teardown without yielding the CPU for tens of
 * milliseconds at a time, so that CPU stays free of it for the processes serving requests. The
 * scheduler starts and stops app containers on the engine's CPUs too, and gives a process every
 * CPU once it is up (docker-scheduler.ts). docs/BENCHMARKS.md "Zero-downtime deploys" has the numbers.
 */
const ENGINE_CPU_SHARES = 256;

async function startDockerd(docker: Docker, dockerd: string, dataDir: string): Promise<void> {
  const crun = await crunForEngine();
  const args = crun ? ['--add-runtime', `crun=${crun}`, '--default-runtime', 'crun'] : [];
  removeStalePidFile('/var/run/docker.pid', 'dockerd');
  removeStalePidFile('/var/run/docker/containerd/containerd.pid', 'containerd');

  const logPath = path.join(dataDir, 'dockerd.log');
  const logFd = fs.openSync(logPath, 'a');
  const env: NodeJS.ProcessEnv = { PATH: SBIN_PATH };
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(https?_proxy|no_proxy|HOME|LANG|TZ)$/i.test(key)) env[key] = value;
  }
  // Detached + unref: dockerd must outlive `npm start` so app containers keep running after the platform exits.
  const child = spawn(dockerd, args, { detached: true, stdio: ['ignore', logFd, logFd], cwd: '/', env });
  fs.closeSync(logFd);
  child.unref();
  // At once: dockerd's own start-up takes far longer than this before it starts containerd.
  if (child.pid) {
    const placed = moveToCpuGroup(child.pid, ENGINE_CPU_GROUP, ENGINE_CPU_SHARES);
    if ('skipped' in placed) say(`       (the engine keeps the default CPU weight: ${placed.skipped})`);
    const confined = keepOffFirstCpu(child.pid, ENGINE_CPU_GROUP);
    if ('skipped' in confined) say(`       (the engine may use every CPU: ${confined.skipped})`);
  }

  let exited: string | null = null;
  child.on('error', (err) => (exited = err.message));
  child.on('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit code ${code}`));
  if (child.pid) fs.writeFileSync(path.join(dataDir, 'dockerd.pid'), `${child.pid}\n`);

  // Ours may lose a race with a dockerd another set-up started at the same moment; then wait for that one.
  const gaveUp = () => (exited && !livePid('/var/run/docker.pid', 'dockerd') ? exited : null);
  if (await waitForPing(docker, START_TIMEOUT_MS, gaveUp)) return;
  const log = fs.existsSync(logPath) ? tail(fs.readFileSync(logPath, 'utf8'), 20) : '';
  const why = exited ? `dockerd stopped (${exited})` : `dockerd did not answer within ${START_TIMEOUT_MS / 1000} s`;
  throw new Error(`${why}. Last lines of ${logPath}:\n${log}`);
}

async function waitForPing(docker: Docker, timeoutMs: number, exited: () => string | null): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await ping(docker, 1_000)) === 'up') return true;
    if (exited()) return false;
    await sleep(250);
  }
  return false;
}
