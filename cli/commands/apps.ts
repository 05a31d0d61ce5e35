import type { Command } from 'commander';
import { api } from '../api-client.ts';
import { resolveApp } from '../app-name.ts';
import { CliError } from '../errors.ts';
import { insideGitRepo, setPaasRemote } from '../git-remote.ts';
import { heading, printJson, printTable } from '../output.ts';

export interface AppView {
  name: string;
  created_at: string;
  web_url: string;
  git_url: string;
  release?: number | null;
  formation?: { type: string; quantity: number }[];
}

export function register(program: Command) {
  program
    .command('apps')
    .description('list apps')
    .option('--json', 'output JSON')
    .action(async (opts: { json?: boolean }) => {
      const apps = await api<AppView[]>('GET', '/api/apps');
      if (opts.json) return printJson(apps);
      if (apps.length === 0) return console.log('You have no apps. Create one with `paas apps:create NAME`.');
      heading('Apps');
      for (const app of apps) console.log(app.name);
    });

  program
    .command('apps:create')
    .description('create an app (inside a git repo, also adds the `paas` remote)')
    .argument('<name>', 'app name: lowercase letters, digits and dashes')
    .option('--json', 'output JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const app = await api<AppView>('POST', '/api/apps', { name });
      const remote = insideGitRepo();
      if (remote) setPaasRemote(app.git_url);
      if (opts.json) return printJson(app);
      console.log(`Creating ${app.name}... done`);
      console.log(`${app.web_url} | ${app.git_url}`);
      if (remote) console.log('Git remote paas added');
    });

  program
    .command('apps:info')
    .description('show an app')
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (opts: { app?: string; json?: boolean }) => {
      const app = await api<AppView>('GET', `/api/apps/${encodeURIComponent(resolveApp(opts.app))}`);
      if (opts.json) return printJson(app);
      heading(app.name);
      printTable([
        { field: 'Git URL', value: app.git_url },
        { field: 'Web URL', value: app.web_url },
        { field: 'Created', value: app.created_at },
        { field: 'Release', value: app.release ? `v${app.release}` : '(none yet: git push paas main)' },
        { field: 'Dynos', value: (app.formation ?? []).map((f) => `${f.type}: ${f.quantity}`).join(', ') || '-' },
      ], ['field', 'value'], { header: false });
    });

  program
    .command('apps:destroy')
    .description('permanently destroy an app: its containers, images, repo and data')
    .argument('[name]', 'app name')
    .option('-a, --app <name>', 'app name')
    .option('--confirm <name>', 'the app name again, to confirm')
    .option('--json', 'output JSON')
    .action(async (nameArg: string | undefined, opts: { app?: string; confirm?: string; json?: boolean }) => {
      const name = nameArg ?? resolveApp(opts.app);
      if (opts.confirm !== name) {
        throw new CliError(`this destroys ${name} and all its data for good; run again with --confirm ${name}`);
      }
      const result = await api<{ removed: string[] }>('DELETE', `/api/apps/${encodeURIComponent(name)}`);
      if (opts.json) return printJson(result);
      console.log(`Destroying ${name}... done`);
      for (const item of result.removed) console.log(`  removed ${item}`);
    });

  program
    .command('git:remote')
    .description('add the `paas` git remote for an app to the current repo')
    .option('-a, --app <name>', 'app name')
    .action(async (opts: { app?: string }) => {
      if (!insideGitRepo()) throw new CliError('not inside a git repository');
      const app = await api<AppView>('GET', `/api/apps/${encodeURIComponent(resolveApp(opts.app))}`);
      setPaasRemote(app.git_url);
      console.log(`set git remote paas to ${app.git_url}`);
    });
}
