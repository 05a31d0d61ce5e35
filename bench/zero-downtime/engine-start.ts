/**
 * The engine's own floor for "scale web 1→10": how long Docker takes to create and start N
 * containers at once with the platform's container settings (non-root, caps dropped, memory and
 * pids limits, init, a per-app bridge network), with no platform in between. Not part of `npm test`.
 *
 *   npx tsx bench/zero-downtime/engine-start.ts [--n 9] [--runs 3] [--runtime runc|crun]
 *
 * `--runtime` picks the engine's OCI runtime for these containers (default: the engine's default).
 * Besides the times it reports the CPU the whole machine spent from the first create to the last
 * start (from /proc/stat), so run it on an otherwise idle machine.
 * Uses the stack image (`paas/stack:latest`, present after set-up) running `sleep`; everything it
 * makes carries the label `paas.bench=engine-start` and is removed at the end.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import { createDocker, STACK_IMAGE } from '../../platform/docker.ts';
import { numberOption, option } from '../args.ts';

const N = numberOption('n', 9, 1, 30);
const RUNS = numberOption('runs', 3, 1, 10);
const RUNTIME = option('runtime');
const LABEL = { 'paas.bench': 'engine-start' };
/** CPU time the machine has spent busy (all CPUs, ms), from /proc/stat's first line. */
const busyMs = () => {
  const [user, nice, system, , , irq, softirq, steal] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1000) / 100;
};
const load1 = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main() {
  const docker = createDocker();
  const net = `paas-bench-${crypto.randomBytes(3).toString('hex')}`;
  const network = await docker.createNetwork({ Name: net, Driver: 'bridge', CheckDuplicate: true, Labels: LABEL });
  const rows: Array<{ created: number; firstStarted: number; lastStarted: number; cpu: number; load: string }> = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const t0 = Date.now();
      const cpu0 = busyMs();
      const starts: number[] = [];
      let created = 0;
      const containers = await Promise.all(Array.from({ length: N }, async () => {
        const c = await docker.createContainer({
          Image: STACK_IMAGE, Cmd: ['sleep', '300'], User: '1000:1000', Labels: LABEL,
          HostConfig: {
            ...(RUNTIME ? { Runtime: RUNTIME } : {}),
            NetworkMode: net, Init: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Privileged: false,
            Memory: 512 * 1024 * 1024, MemorySwap: 512 * 1024 * 1024, PidsLimit: 512, RestartPolicy: { Name: 'no' },
          },
        });
        created = Math.max(created, Date.now() - t0);
        await c.start();
        starts.push(Date.now() - t0);
        return c;
      }));
      const cpu = busyMs() - cpu0;
      const load = load1();
      rows.push({ created, firstStarted: Math.min(...starts), lastStarted: Math.max(...starts), cpu, load });
      console.error(`run ${run} (load ${load}): ${N} created by ${(created / 1000).toFixed(2)} s, first started ${(Math.min(...starts) / 1000).toFixed(2)} s, last ${(Math.max(...starts) / 1000).toFixed(2)} s, ${(cpu / 1000).toFixed(2)} CPU-s`);
      await Promise.all(containers.map((c) => c.remove({ force: true }).catch(() => {})));
    }
  } finally {
    const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['paas.bench=engine-start'] }) });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
    await network.remove().catch(() => {});
  }
  const f = (k: 'created' | 'firstStarted' | 'lastStarted' | 'cpu') => `${(median(rows.map((r) => r[k])) / 1000).toFixed(2)} (${rows.map((r) => (r[k] / 1000).toFixed(2)).join(', ')})`;
  console.log(`| engine alone${RUNTIME ? ` (${RUNTIME})` : ''}, ${N} containers at once (s, median, per run; load ${rows.map((r) => r.load).join(', ')}) | |`);
  console.log('|---|---|');
  console.log(`| all created | ${f('created')} |`);
  console.log(`| first started | ${f('firstStarted')} |`);
  console.log(`| **last started** | ${f('lastStarted')} |`);
  console.log(`| machine CPU, first create to last start (CPU-s) | ${f('cpu')} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
