import fs from 'node:fs';
import type { Command } from 'commander';
import { api } from '../api-client.ts';
import { resolveApp } from '../app-name.ts';
import { CliError } from '../errors.ts';
import { heading, printJson } from '../output.ts';

interface ChangeResult {
  release: { version: number };
  output: string[];
}

const configPath = (app: string) => `/api/apps/${encodeURIComponent(app)}/config`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `K=V` pairs (split at the first `=`, so values may hold `=`), plus `--file K=PATH` and `--stdin K`. */
async function parseAssignments(pairs: string[], files: string[], stdinKey: string | undefined): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`"${pair}" is not KEY=VALUE (to set a multi-line value use --file KEY=PATH or --stdin KEY)`);
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  for (const spec of files) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new CliError(`--file takes KEY=PATH, got "${spec}"`);
    vars[spec.slice(0, eq)] = fs.readFileSync(spec.slice(eq + 1), 'utf8');
  }
  if (stdinKey) vars[stdinKey] = await readStdin();
  return vars;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command) {
  program
    .command('config')
    .description('show config vars')
    .option('-a, --app <name>', 'app name')
    .option('-s, --shell', 'output as KEY=VALUE lines')
    .option('--json', 'output JSON')
    .action(async (opts: { app?: string; json?: boolean; shell?: boolean }) => {
      const app = resolveApp(opts.app);
      const vars = await api<Record<string, string>>('GET', configPath(app));
      if (opts.json) return printJson(vars);
      if (opts.shell) {
        for (const [k, v] of Object.entries(vars)) console.log(`${k}=${v}`);
        return;
      }
      heading(`${app} Config Vars`);
      const width = Math.max(0, ...Object.keys(vars).map((k) => k.length + 1));
      for (const [k, v] of Object.entries(vars)) console.log(`${(k + ':').padEnd(width)} ${v}`);
    });

  program
    .command('config:get')
    .description('print one config var')
    .argument('<key>', 'config key')
    .option('-a, --app <name>', 'app name')
    .action(async (key: string, opts: { app?: string }) => {
      const vars = await api<Record<string, string>>('GET', configPath(resolveApp(opts.app)));
      if (!(key in vars)) throw new CliError(`config var ${key} is not set`);
      process.stdout.write(vars[key] + '\n');
    });

  program
    .command('config:set')
    .description('set config vars (all in one new release) and restart the app onto it')
    .argument('[pairs...]', 'KEY=VALUE pairs')
    .option('-a, --app <name>', 'app name')
    .option('--file <key=path>', 'set KEY to the contents of a file (repeatable)', collect, [])
    .option('--stdin <key>', 'set KEY to everything read from stdin')
    .option('--json', 'output JSON')
    .action(async (pairs: string[], opts: { app?: string; file: string[]; stdin?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const vars = await parseAssignments(pairs, opts.file, opts.stdin);
      if (Object.keys(vars).length === 0) throw new CliError('give at least one KEY=VALUE');
      const result = await api<ChangeResult>('PATCH', configPath(app), vars);
      if (opts.json) return printJson(result);
      for (const line of result.output) console.log(line);
      console.log(`Setting ${Object.keys(vars).join(', ')} and restarting ${app}... done, v${result.release.version}`);
    });

  program
    .command('config:unset')
    .description('remove config vars (one new release) and restart the app onto it')
    .argument('<keys...>', 'config keys')
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (keys: string[], opts: { app?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const result = await api<ChangeResult>('PATCH', configPath(app), Object.fromEntries(keys.map((k) => [k, null])));
      if (opts.json) return printJson(result);
      for (const line of result.output) console.log(line);
      console.log(`Unsetting ${keys.join(', ')} and restarting ${app}... done, v${result.release.version}`);
    });
}
