import type { Command } from 'commander';
import { resolveApp } from '../app-name.ts';
import { apiUrl, token } from '../credentials.ts';
import { CliError } from '../errors.ts';

interface LineView {
  id: number;
  line: string;
}

interface LogsOptions {
  app?: string;
  num: string;
  tail?: boolean;
  ps?: string;
  source?: string;
}

const query = (opts: LogsOptions, extra: Record<string, string>) => {
  const q = new URLSearchParams({ lines: opts.num, ...extra });
  if (opts.ps) q.set('ps', opts.ps);
  if (opts.source) q.set('source', opts.source);
  return q.toString();
};

const auth = () => {
  const t = token();
  if (!t) throw new CliError('not logged in: run `paas login` or set PAAS_TOKEN');
  return t;
};

async function history(app: string, opts: LogsOptions): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${apiUrl()}/api/apps/${encodeURIComponent(app)}/logs?${query(opts, { format: 'json' })}`, { headers: { authorization: `Bearer ${auth()}` } });
  } catch (err) {
    throw new CliError(`cannot reach the platform at ${apiUrl()} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is \`npm start\` running? (PAAS_API_URL)`);
  }
  const text = await res.text();
  if (!res.ok) throw new CliError(messageOf(text, res.status));
  const out: string[] = [];
  for (const raw of text.split('\n')) if (raw) out.push((JSON.parse(raw) as LineView).line);
  if (out.length) process.stdout.write(out.join('\n') + '\n');
}

const messageOf = (body: string, status: number) => {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? `${status}`;
  } catch {
    return `${status} ${body}`.trim();
  }
};

/**
 * Follows the stream over the websocket. When the connection drops (the platform restarts) it
 * reconnects quietly with backoff and asks for what came after the last line it printed.
 */
async function tail(app: string, opts: LogsOptions): Promise<void> {
  const { default: WebSocket } = await import('ws'); // (only here: loading it costs every other command ~0.1 s)
  const base = apiUrl().replace(/^http/, 'ws');
  let lastId: number | undefined;
  let connectedOnce = false;
  let backoff = 250;
  return new Promise((_resolve, reject) => {
    const connect = () => {
      const extra: Record<string, string> = { tail: '1' };
      if (lastId !== undefined) extra.after = String(lastId);
      const ws = new WebSocket(`${base}/api/apps/${encodeURIComponent(app)}/logs/stream?${query(opts, extra)}`, { headers: { authorization: `Bearer ${auth()}` } });
      let failed = false;
      ws.on('open', () => {
        connectedOnce = true;
        backoff = 250;
      });
      // Each message: a batch of lines ({"ids":[…],"lines":[…]}), or a {"notice": …}.
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { ids?: number[]; lines?: string[]; notice?: string };
        if (m.notice) process.stderr.write(` !    ${m.notice}\n`);
        if (!m.ids || !m.lines) return;
        let from = 0;
        while (from < m.ids.length && lastId !== undefined && m.ids[from] <= lastId) from++;
        if (from === m.ids.length) return;
        lastId = m.ids[m.ids.length - 1];
        process.stdout.write((from ? m.lines.slice(from) : m.lines).join('\n') + '\n');
      });
      ws.on('unexpected-response', (_req, res) => {
        failed = true;
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => {
          // 401/404/422 will not get better by retrying; a 5xx (platform starting) might.
          if (res.statusCode && res.statusCode < 500) reject(new CliError(messageOf(body, res.statusCode)));
          else retry();
        });
      });
      ws.on('error', (err) => {
        if (failed) return;
        failed = true;
        if (!connectedOnce) reject(new CliError(`cannot reach the platform at ${apiUrl()} (${err.message}); is \`npm start\` running? (PAAS_API_URL)`));
        else retry();
      });
      ws.on('close', () => {
        if (!failed) retry();
      });
    };
    const retry = () => {
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
    connect();
  });
}

export function register(program: Command) {
  program
    .command('logs')
    .description("show an app's recent log lines; -t follows them live")
    .option('-a, --app <name>', 'app name')
    .option('-n, --num <lines>', 'number of lines to show', '100')
    .option('-t, --tail', 'keep following new lines (reconnects when the platform restarts)')
    .option('-p, --ps <dyno>', 'only this process type (web) or dyno (web.2)')
    .option('-s, --source <source>', 'only app, router, paas or build lines')
    .action(async (opts: LogsOptions) => {
      const app = resolveApp(opts.app);
      if (!/^\d+$/.test(opts.num)) throw new CliError(`-n takes a number of lines, got "${opts.num}"`);
      if (opts.tail) await tail(app, opts);
      else await history(app, opts);
    });
}
