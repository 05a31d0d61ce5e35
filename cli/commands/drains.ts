import type { Command } from 'commander';
import { api } from '../api-client.ts';
import { resolveApp } from '../app-name.ts';
import { heading, printJson } from '../output.ts';

interface DrainView {
  id: string;
  url: string;
  token: string;
  created_at: string;
  stats: { sent: number; dropped: number; buffered: number; error: string | null };
}

const path = (app: string) => `/api/apps/${encodeURIComponent(app)}/drains`;

export function register(program: Command) {
  program
    .command('drains')
    .description("list an app's log drains")
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (opts: { app?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const drains = await api<DrainView[]>('GET', path(app));
      if (opts.json) return printJson(drains);
      if (drains.length === 0) return console.log(`${app} has no drains.`);
      heading(`${app} Drains`);
      for (const d of drains) {
        const problems = [d.stats.dropped ? `${d.stats.dropped} dropped` : '', d.stats.error ? `last error: ${d.stats.error}` : ''].filter(Boolean);
        console.log(`${d.url} (${d.token})${problems.length ? `  [${problems.join('; ')}]` : ''}`);
      }
    });

  program
    .command('drains:add')
    .description('send the app\'s logs to URL: syslog://HOST:PORT, syslog+tls://HOST:PORT or https://…')
    .argument('<url>', 'drain URL')
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (url: string, opts: { app?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const drain = await api<DrainView>('POST', path(app), { url });
      if (opts.json) return printJson(drain);
      console.log(`Successfully added drain ${drain.url} (${drain.token})`);
    });

  program
    .command('drains:remove')
    .description('stop sending logs to a drain (by URL or token)')
    .argument('<url>', 'drain URL or token')
    .option('-a, --app <name>', 'app name')
    .action(async (url: string, opts: { app?: string }) => {
      const app = resolveApp(opts.app);
      const drain = await api<DrainView>('DELETE', `${path(app)}/${encodeURIComponent(url)}`);
      console.log(`Successfully removed drain ${drain.url}`);
    });
}
