import type { Command } from 'commander';
import { api } from '../api-client.ts';
import { resolveApp } from '../app-name.ts';
import { heading, printJson } from '../output.ts';

interface DomainView {
  id: string;
  hostname: string;
  kind: 'default' | 'custom';
  created_at: string | null;
}

const path = (app: string) => `/api/apps/${encodeURIComponent(app)}/domains`;

export function register(program: Command) {
  program
    .command('domains')
    .description("list an app's hostnames (the default one and custom domains)")
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (opts: { app?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const domains = await api<DomainView[]>('GET', path(app));
      if (opts.json) return printJson(domains);
      heading(`${app} Default Domain`);
      for (const d of domains.filter((x) => x.kind === 'default')) console.log(d.hostname);
      const custom = domains.filter((d) => d.kind === 'custom');
      console.log('');
      if (custom.length === 0) return console.log(`${app} has no custom domains.`);
      heading(`${app} Custom Domains`);
      for (const d of custom) console.log(d.hostname);
    });

  program
    .command('domains:add')
    .description('route HOST (www.example.com, or *.example.com for one-label subdomains) to the app')
    .argument('<host>', 'hostname')
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (host: string, opts: { app?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const domain = await api<DomainView>('POST', path(app), { hostname: host });
      if (opts.json) return printJson(domain);
      console.log(`Adding ${domain.hostname} to ${app}... done`);
      console.log(`Point ${domain.hostname}'s DNS at this machine; the router answers it on its HTTP port.`);
    });

  program
    .command('domains:remove')
    .description('stop routing HOST to the app')
    .argument('<host>', 'hostname')
    .option('-a, --app <name>', 'app name')
    .action(async (host: string, opts: { app?: string }) => {
      const app = resolveApp(opts.app);
      const domain = await api<DomainView>('DELETE', `${path(app)}/${encodeURIComponent(host)}`);
      console.log(`Removing ${domain.hostname} from ${app}... done`);
    });
}
