import type { Command } from 'commander';
import { api } from '../api-client.ts';
import { resolveApp } from '../app-name.ts';
import { heading, printJson, printTable } from '../output.ts';

interface BuildView {
  id: string;
  status: string;
  buildpack: string | null;
  commit: string;
  user: string;
  created_at: string;
  duration_ms: number | null;
  output?: string;
}

export function register(program: Command) {
  program
    .command('builds')
    .description("list an app's builds, newest first")
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (opts: { app?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const builds = await api<BuildView[]>('GET', `/api/apps/${encodeURIComponent(app)}/builds`);
      if (opts.json) return printJson(builds);
      heading(`${app} Builds`);
      printTable(builds.map((b) => ({
        id: b.id,
        status: b.status,
        buildpack: b.buildpack ?? '',
        commit: b.commit.slice(0, 7),
        duration: b.duration_ms === null ? '' : `${(b.duration_ms / 1000).toFixed(1)}s`,
        created: b.created_at,
        user: b.user,
      })), ['id', 'status', 'buildpack', 'commit', 'duration', 'created', 'user']);
    });

  program
    .command('builds:output')
    .description('show the full output of a build (default: the latest)')
    .argument('[id]', 'build id')
    .option('-a, --app <name>', 'app name')
    .action(async (id: string | undefined, opts: { app?: string }) => {
      const app = resolveApp(opts.app);
      const build = await api<BuildView>('GET', `/api/apps/${encodeURIComponent(app)}/builds/${encodeURIComponent(id ?? 'latest')}`);
      process.stdout.write(build.output ?? '');
    });
}
