/**
 * Do the engine's container operations themselves stall a serving process? A Python server in a
 * container answers a new connection every 10 ms straight from this script (no router, no
 * platform); meanwhile the engine does, one after another, what a deploy or scale does to a dyno:
 * a sandbox started, a process joining its namespace, that process removed, the sandbox (its
 * network namespace) removed, a container with a namespace of its own started and removed. Prints
 * the slowest answers in each step and the second after it (the server's start-up falls in the
 * gap before the first step, which no window counts). Not part of `npm test`.
 *
 *   npx tsx bench/zero-downtime/engine-stalls.ts [--runs 2]
 *
 * Uses the stack image (`paas/stack:latest`, present after set-up); everything it makes carries the
 * label `paas.bench=engine-stalls` and is removed at the end.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { createDocker, STACK_IMAGE } from '../../platform/docker.ts';
import { numberOption } from '../args.ts';

const RUNS = numberOption('runs', 2, 1, 10);
const LABEL = { 'paas.bench': 'engine-stalls' };
const STEP_GAP_MS = 2500;

async function run(docker: Docker, net: string) {
  const made: Docker.Container[] = [];
  const container = async (cmd: string[], networkMode: string, init = false) => {
    const c = await docker.createContainer({ Image: STACK_IMAGE, Cmd: cmd, Labels: LABEL, HostConfig: { NetworkMode: networkMode, Init: init } });
    made.push(c);
    return c;
  };
  try {
    const server = await container(['python3', '-m', 'http.server', '8000'], net);
    await server.start();
    const ip = Object.values((await server.inspect()).NetworkSettings.Networks)[0].IPAddress;

    const samples: { at: number; ms: number }[] = [];
    const t0 = Date.now();
    const load = setInterval(() => {
      const at = Date.now();
      http
        .get({ host: ip, port: 8000, path: '/', agent: false }, (res) => res.resume().on('end', () => samples.push({ at: at - t0, ms: Date.now() - at })))
        .on('error', () => samples.push({ at: at - t0, ms: Infinity }));
    }, 10);

    const steps: Array<{ name: string; from: number; to: number }> = [];
    const step = async (name: string, act: () => Promise<unknown>) => {
      await sleep(STEP_GAP_MS);
      const from = Date.now() - t0;
      await act();
      steps.push({ name, from, to: Date.now() - t0 });
    };
    let sandbox!: Docker.Container;
    let joined!: Docker.Container;
    let own!: Docker.Container;
    await step('nothing (baseline)', async () => {});
    await step('sandbox created + started', async () => {
      sandbox = await container(['sleep', '600'], net, true);
      await sandbox.start();
    });
    await step('process joins it', async () => {
      joined = await container(['sleep', '600'], `container:${sandbox.id}`);
      await joined.start();
    });
    await step('process removed', () => joined.remove({ force: true }));
    await step('sandbox removed (netns)', () => sandbox.remove({ force: true }));
    await step('own namespace: started', async () => {
      own = await container(['sleep', '600'], net);
      await own.start();
    });
    await step('own namespace: removed', () => own.remove({ force: true }));
    await sleep(STEP_GAP_MS);
    clearInterval(load);
    await sleep(500);

    for (const { name, from, to } of steps) {
      const window = samples.filter((s) => s.at >= from && s.at <= to + 1000).map((s) => s.ms).sort((a, b) => b - a);
      console.log(`${name.padEnd(26)} ${String(to - from).padStart(5)} ms   answers in it and 1 s after: ${window.length}, slowest ${window.slice(0, 5).join(' ')} ms`);
    }
  } finally {
    for (const c of made) await c.remove({ force: true }).catch(() => {});
  }
}

async function main() {
  const docker = createDocker();
  const net = `paas-bench-${crypto.randomBytes(3).toString('hex')}`;
  const network = await docker.createNetwork({ Name: net, Driver: 'bridge', CheckDuplicate: true, Labels: LABEL });
  try {
    for (let r = 1; r <= RUNS; r++) {
      console.log(`run ${r}`);
      await run(docker, net);
    }
  } finally {
    await network.remove().catch(() => {});
  }
}

await main();
