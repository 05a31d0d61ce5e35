import type { Command } from 'commander';
import { api } from '../api-client.ts';
import { resolveApp } from '../app-name.ts';
import { heading, printJson, printTable } from '../output.ts';

interface ReleaseView {
  version: number;
  description: string;
  user: string;
  status: string;
  created_at: string;
  image_digest: string | null;
  config_keys?: string[];
  process_types: Record<string, string | null> | string[];
}

const base = (app: string) => `/api/apps/${encodeURIComponent(app)}`;
const v = (raw: string) => raw.replace(/^v/, '');

export function register(program: Command) {
  program
    .command('releases')
    .description('list releases, newest first')
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (opts: { app?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const releases = await api<ReleaseView[]>('GET', `${base(app)}/releases`);
      if (opts.json) return printJson(releases);
      heading(`${app} Releases`);
      printTable(releases.map((r) => ({ version: `v${r.version}`, description: r.description, status: r.status, user: r.user, created: r.created_at })), ['version', 'description', 'status', 'user', 'created']);
    });

  program
    .command('releases:info')
    .description('show one release: image digest, config keys, process types')
    .argument('<version>', 'vN')
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (version: string, opts: { app?: string; json?: boolean }) => {
      const r = await api<ReleaseView>('GET', `${base(resolveApp(opts.app))}/releases/${encodeURIComponent(v(version))}`);
      if (opts.json) return printJson(r);
      heading(`Release v${r.version}`);
      console.log(`Description:   ${r.description}`);
      console.log(`Status:        ${r.status}`);
      console.log(`By:            ${r.user}`);
      console.log(`When:          ${r.created_at}`);
      console.log(`Image digest:  ${r.image_digest ?? '(none: no build yet)'}`);
      console.log(`Config keys:   ${(r.config_keys ?? []).join(', ') || '(none)'}`);
      for (const [type, cmd] of Object.entries(r.process_types)) console.log(`Process type:  ${type}: ${cmd ?? "(the image's CMD)"}`);
    });

  program
    .command('releases:diff')
    .description('what changed between two releases: config keys (not values) and the image')
    .argument('<from>', 'vA')
    .argument('<to>', 'vB')
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (from: string, to: string, opts: { app?: string; json?: boolean }) => {
      const d = await api<{ added: string[]; removed: string[]; changed: string[]; image_changed: boolean; process_types_changed: boolean }>(
        'GET', `${base(resolveApp(opts.app))}/releases/${encodeURIComponent(v(from))}/diff/${encodeURIComponent(v(to))}`);
      if (opts.json) return printJson(d);
      heading(`v${v(from)} → v${v(to)}`);
      console.log(`Image:          ${d.image_changed ? 'changed' : 'same'}`);
      console.log(`Process types:  ${d.process_types_changed ? 'changed' : 'same'}`);
      console.log(`Config added:   ${d.added.join(', ') || '-'}`);
      console.log(`Config removed: ${d.removed.join(', ') || '-'}`);
      console.log(`Config changed: ${d.changed.join(', ') || '-'}`);
    });

  program
    .command('rollback')
    .description('new release with an earlier release’s image and config (default: the previous one)')
    .argument('[version]', 'vN')
    .option('-a, --app <name>', 'app name')
    .option('--json', 'output JSON')
    .action(async (version: string | undefined, opts: { app?: string; json?: boolean }) => {
      const app = resolveApp(opts.app);
      const body = version === undefined ? {} : { version: Number(v(version)) };
      const result = await api<{ release: ReleaseView; output: string[] }>('POST', `${base(app)}/rollback`, body);
      if (opts.json) return printJson(result);
      for (const line of result.output) console.log(line);
      console.log(`Rolling back ${app}... done, v${result.release.version} (${result.release.description})`);
    });
}
