import type { Command } from 'commander';
import { api } from '../api-client.ts';
import { resolveApp } from '../app-name.ts';
import { CliError } from '../errors.ts';
import { heading, printJson } from '../output.ts';

interface Dyno {
  dyno: string;
  type: string;
  state: string;
  release: number;
  started_at: string | null;
  command: string | null;
  restarts: number;
  next_restart_at: string | null;
  memory_mb?: number;
}

interface FormationEntry {
  type: string;
  quantity: number;
  memory_mb: number;
  command: string | null;
}

const base = (app: string) => `/api/apps/${encodeURIComponent(app)}`;

function uptime(since: string | null): string {
  if (!since) return '';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** web.2 before web.10. (Not localeCompare: loading ICU's collator costs a command ~8 ms.) */
export function byDyno(a: Pick<Dyno, 'dyno'>, b: Pick<Dyno, 'dyno'>): number {
  const [typeA, numberA] = a.dyno.split('.');
  const [typeB, numberB] = b.dyno.split('.');
  if (typeA !== typeB) return typeA < typeB ? -1 : 1;
  return Number(numberA) - Number(numberB) || (a.dyno < b.dyno ? -1 : 1);
}

function restartNote(d: Dyno): string {
  if (!d.restarts) return '';
  const wait = d.next_restart_at ? Math.max(0, Math.round((Date.parse(d.next_restart_at) - Date.now()) / 1000)) : 0;
  return d.state === 'crashed' && wait > 0 ? ` restarted ${d.restarts}×, next restart in ${wait}s` : ` restarted ${d.restarts}×`;
}

/** `web=1024 worker=256` (MB; `1024MB`, `1024M`, `1G` too) → { web: 1024, worker: 256 }; malformed pairs are refused here, bounds by the API. */
export function parseResize(args: string[]): Record<string, number> {
  const changes: Record<string, number> = {};
  for (const arg of args) {
    const m = /^([A-Za-z0-9_-]+)=(\d+)(MB?|GB?)?$/i.exec(arg);
    if (!m) throw new CliError(`"${arg}" is not TYPE=MB (e.g. web=1024)`);
    const mb = Number(m[2]) * (m[3] && /^g/i.test(m[3]) ? 1024 : 1);
    changes[m[1]] = mb;
  }
  return changes;
}

/** `web=3 worker=2` → { web: 3, worker: 2 }; anything else is refused before a request is made. */
export function parseScale(args: string[]): Record<string, number> {
  const changes: Record<string, number> = {};
  for (const arg of args) {
    const m = /^([A-Za-z0-9_-]+)=(.*)$/.exec(arg);
    if (!m) throw new CliError(`"${arg}" is not TYPE=QUANTITY (e.g. web=2)`);
    if (!/^\d+$/.test(m[2])) throw new CliError(`${arg}: the quantity must be a whole number, 0 or more`);
    changes[m[1]] = Number(m[2]);
  }
  return changes;
}

export function register(program: Command) {
  program
    .command('ps')
    .description("list the app's dynos")
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (opts: { app?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const dynos = await api<Dyno[]>('GET', `${base(app)}/dynos`);
      if (opts.json) return printJson(dynos);
      if (dynos.length === 0) return console.log(`No dynos on ${app}`);
      const byType = new Map<string, Dyno[]>();
      for (const d of dynos.sort(byDyno)) byType.set(d.type, [...(byType.get(d.type) ?? []), d]);
      for (const [type, list] of byType) {
        const size = list[0].memory_mb ? ` × ${list[0].memory_mb} MB` : '';
        heading(`${type} (${list.length}${size}): ${list[0].command ?? "(the image's CMD)"}`);
        for (const d of list) console.log(`${d.dyno}: ${d.state} ${uptime(d.started_at)} (v${d.release})${restartNote(d)}`.replace(/ +/g, ' '));
        console.log();
      }
    });

  program
    .command('ps:scale')
    .description('set how many dynos of each process type run, e.g. web=3 worker=1')
    .argument('<changes...>', 'TYPE=QUANTITY pairs')
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (args: string[], opts: { app?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const formation = await api<{ type: string; quantity: number }[]>('PATCH', `${base(app)}/formation`, parseScale(args));
      if (opts.json) return printJson(formation);
      console.log(`Scaling dynos... done, now running ${formation.map((f) => `${f.type} at ${f.quantity}`).join(', ')}`);
    });

  program
    .command('ps:resize')
    .description('set the memory limit of process types in MB, e.g. web=1024 (restarts them); without arguments, show the sizes')
    .argument('[changes...]', 'TYPE=MB pairs')
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (args: string[], opts: { app?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const formation = args.length
        ? await api<FormationEntry[]>('PATCH', `${base(app)}/formation/memory`, parseResize(args))
        : await api<FormationEntry[]>('GET', `${base(app)}/formation`);
      if (opts.json) return printJson(formation);
      if (args.length) console.log(`Resizing and restarting the specified dynos on ${app}... done`);
      heading(`Process types of ${app}`);
      const width = Math.max(4, ...formation.map((f) => f.type.length));
      console.log(`${'type'.padEnd(width)}  quantity  memory`);
      for (const f of formation) console.log(`${f.type.padEnd(width)}  ${String(f.quantity).padStart(8)}  ${f.memory_mb} MB`);
    });

  program
    .command('ps:restart')
    .description('restart all dynos, a process type, or one dyno (web without downtime)')
    .argument('[target]', 'TYPE or DYNO, e.g. web or web.2')
    .option('-a, --app <name>', 'app name')
    .action(async (target: string | undefined, opts: { app?: string }) => {
      const app = resolveApp(opts.app);
      const result = await api<{ restarted: string[] }>('POST', `${base(app)}/dynos/restart`, target ? { type: target } : {});
      console.log(`Restarting ${target ?? 'all dynos'} on ${app}... done (${result.restarted.join(', ') || 'nothing was running'})`);
    });

  program
    .command('ps:stop')
    .description('stop a process type or one dyno now (formation dynos are started again; scale to 0 to keep them down)')
    .argument('<target>', 'TYPE or DYNO, e.g. worker or run.ab12')
    .option('-a, --app <name>', 'app name')
    .action(async (target: string, opts: { app?: string }) => {
      const app = resolveApp(opts.app);
      const result = await api<{ stopped: string[] }>('POST', `${base(app)}/dynos/stop`, { type: target });
      console.log(`Stopping ${result.stopped.join(', ')} on ${app}... done`);
    });
}
