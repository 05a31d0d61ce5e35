import type { Command } from 'commander';
import { api } from '../api-client.ts';
import { resolveApp } from '../app-name.ts';
import { apiUrl, token } from '../credentials.ts';
import { CliError } from '../errors.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`-e takes KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** Attached one-off: stdin/stdout over a websocket, raw TTY when we have one; resolves to the exit code. */
async function attached(app: string, command: string[], env: Record<string, string>): Promise<number> {
  const { default: WebSocket } = await import('ws'); // (only here: loading it costs every other command ~0.1 s)
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const url = `${apiUrl().replace(/^http/, 'ws')}/api/apps/${encodeURIComponent(app)}/run`;
  const auth = token();
  if (!auth) throw new CliError('not logged in: run `paas login` or set PAAS_TOKEN');
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${auth}` } });
  return new Promise((resolve, reject) => {
    let code: number | undefined;
    const restore = () => {
      if (tty) process.stdin.setRawMode(false);
      process.stdin.pause();
    };
    ws.on('open', () => {
      ws.send(JSON.stringify({ command, env, tty, cols: process.stdout.columns, rows: process.stdout.rows }));
      if (tty) process.stdin.setRawMode(true);
      process.stdin.on('data', (d: Buffer) => ws.readyState === ws.OPEN && ws.send(d, { binary: true }));
      if (tty) process.stdout.on('resize', () => ws.send(JSON.stringify({ type: 'resize', cols: process.stdout.columns, rows: process.stdout.rows })));
      process.stdin.resume();
    });
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        if (tty) process.stdout.write(data);
        else (data[0] === 2 ? process.stderr : process.stdout).write(data.subarray(1));
        return;
      }
      const msg = JSON.parse(data.toString());
      if (msg.type === 'exit') code = msg.code;
      if (msg.type === 'error') {
        restore();
        reject(new CliError(msg.message));
      }
    });
    ws.on('unexpected-response', (_req, res) => reject(new CliError(`cannot start the process: ${res.statusCode} ${res.statusMessage}`)));
    ws.on('error', (err) => reject(new CliError(`lost the connection to the platform: ${err.message}`)));
    ws.on('close', () => {
      restore();
      if (code !== undefined) resolve(code);
      else reject(new CliError('the connection closed before the process exited'));
    });
  });
}

export function register(program: Command) {
  program
    .command('run')
    .description('run a one-off process in a fresh container of the current release, attached; exits with its code')
    .argument('<command...>', 'the command (one argument is run by a shell; several run as given)')
    .option('-a, --app <name>', 'app name')
    .option('-e, --env <KEY=VALUE>', 'extra environment variable (repeatable)', collect, [])
    .passThroughOptions()
    .action(async (command: string[], opts: { app?: string; env: string[] }) => {
      const code = await attached(resolveApp(opts.app), command, parseEnv(opts.env));
      process.exit(code);
    });

  program
    .command('run:detached')
    .description('run a one-off process in the background; its output goes to `paas logs`')
    .argument('<command...>', 'the command')
    .option('-a, --app <name>', 'app name')
    .option('-e, --env <KEY=VALUE>', 'extra environment variable (repeatable)', collect, [])
    .passThroughOptions()
    .action(async (command: string[], opts: { app?: string; env: string[] }) => {
      const app = resolveApp(opts.app);
      const result = await api<{ dyno: string }>('POST', `/api/apps/${encodeURIComponent(app)}/dynos`, { command, env: parseEnv(opts.env) });
      console.log(`Running ${command.join(' ')} on ${app}... up, ${result.dyno}`);
      console.log(`Run paas logs -a ${app} --ps ${result.dyno} to see its output.`);
    });
}
