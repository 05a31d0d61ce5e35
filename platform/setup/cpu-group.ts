import fs from 'node:fs';
import path from 'node:path';

/** cgroup v1's `cpu.shares` (1024 = one container's default) as cgroup v2's `cpu.weight` (100 = the default), the way runc converts them. */
export const sharesToWeight = (shares: number) => Math.max(1, Math.min(10_000, 1 + Math.floor(((shares - 2) * 9999) / 262142)));

/**
 * Moves a process (and every process it starts later) into a CPU control group of its own,
 * `name` directly under the hierarchy's root, with `shares` of CPU weight (cgroup v1's scale; a
 * container's default is 1024), on cgroup v1's `cpu` controller or cgroup v2's unified hierarchy.
 * Returns where it went, or why it could not (no writable CPU controller: the process keeps the
 * group it has).
 */
export function moveToCpuGroup(pid: number, name: string, shares: number, root = '/sys/fs/cgroup'): { group: string } | { skipped: string } {
  try {
    const v1 = path.join(root, 'cpu');
    if (fs.existsSync(path.join(v1, 'cpu.shares'))) return place(path.join(v1, name), 'cpu.shares', String(shares), pid);
    enableForChildren(root, 'cpu');
    return place(path.join(root, name), 'cpu.weight', String(sharesToWeight(shares)), pid);
  } catch (err) {
    return { skipped: (err as Error).message };
  }
}

/** On cgroup v2, turns `controller` on for the root's children (a group of theirs has its files only then). */
function enableForChildren(root: string, controller: string): void {
  const controllers = fs.readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8');
  if (!controllers.split(/\s+/).includes(controller)) fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), `+${controller}`);
}

function place(group: string, file: string, value: string, pid: number): { group: string } {
  fs.mkdirSync(group, { recursive: true });
  fs.writeFileSync(path.join(group, file), value);
  fs.writeFileSync(path.join(group, 'cgroup.procs'), String(pid));
  return { group };
}

/** A cpuset list ("0-3,6") as CPU numbers. */
export function parseCpuList(list: string): number[] {
  return list
    .trim()
    .split(',')
    .filter(Boolean)
    .flatMap((part) => {
      const [from, to = from] = part.split('-').map(Number);
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    });
}

/** Where cpuset groups live: cgroup v1's `cpuset` hierarchy or v2's unified one, with the file that lists the CPUs a group has. */
function cpusetHierarchy(root: string): { base: string; isV1: boolean; effective: string } {
  const v1 = path.join(root, 'cpuset');
  const isV1 = fs.existsSync(path.join(v1, 'cpuset.cpus'));
  return { base: isV1 ? v1 : root, isV1, effective: isV1 ? 'cpuset.effective_cpus' : 'cpuset.cpus.effective' };
}

/**
 * Keeps a process (and every process it starts later) off the first of the machine's CPUs, in a
 * cpuset group `name` directly under the root (cgroup v1's `cpuset` controller or v2's unified
 * hierarchy), so that CPU always has room for what serves. Returns the CPUs it may use, or why it
 * could not (a single CPU, or no writable cpuset controller: the process keeps every CPU).
 */
export function keepOffFirstCpu(pid: number, name: string, root = '/sys/fs/cgroup'): { cpus: string } | { skipped: string } {
  try {
    const { base, isV1, effective } = cpusetHierarchy(root);
    const all = parseCpuList(fs.readFileSync(path.join(base, effective), 'utf8'));
    if (all.length < 2) return { skipped: 'a single CPU' };
    const cpus = all.slice(1).join(',');
    const group = path.join(base, name);
    if (isV1) {
      // cgroup v1 takes no task into a cpuset group before it has memory nodes.
      fs.mkdirSync(group, { recursive: true });
      fs.writeFileSync(path.join(group, 'cpuset.mems'), fs.readFileSync(path.join(base, 'cpuset.effective_mems'), 'utf8').trim());
    } else {
      enableForChildren(root, 'cpuset');
    }
    place(group, 'cpuset.cpus', cpus, pid);
    return { cpus };
  } catch (err) {
    return { skipped: (err as Error).message };
  }
}

/** The cpuset (and CPU-weight) group the set-up starts the engine in. */
export const ENGINE_CPU_GROUP = 'paas-engine';

/** The engine's CPUs (as keepOffFirstCpu left them) and all of the machine's, in the kernel's list format. */
export interface CpuSets {
  engine: string;
  all: string;
}

/**
 * The CPUs the cpuset group `name` keeps its processes on, with all of the machine's: undefined
 * when there is no such group (a single CPU, no cpuset controller, an engine this set-up did not
 * start) or it has every CPU.
 */
export function cpuSetsOf(name: string, root = '/sys/fs/cgroup'): CpuSets | undefined {
  try {
    const { base, effective } = cpusetHierarchy(root);
    const engine = fs.readFileSync(path.join(base, name, 'cpuset.cpus'), 'utf8').trim();
    const all = fs.readFileSync(path.join(base, effective), 'utf8').trim();
    return engine && parseCpuList(engine).length < parseCpuList(all).length ? { engine, all } : undefined;
  } catch {
    return undefined;
  }
}
