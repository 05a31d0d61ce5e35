import { Command, CommanderError } from 'commander';
import { CliError } from './errors.ts';
import * as login from './commands/login.ts';
import * as apps from './commands/apps.ts';
import * as builds from './commands/builds.ts';
import * as config from './commands/config.ts';
import * as releases from './commands/releases.ts';
import * as ps from './commands/ps.ts';
import * as run from './commands/run.ts';
import * as logs from './commands/logs.ts';
import * as drains from './commands/drains.ts';
import * as domains from './commands/domains.ts';

const program = new Command('paas')
  .description('git push → build → release → run, on your own machine')
  .showHelpAfterError()
  .enablePositionalOptions()
  .exitOverride();

for (const command of [login, apps, builds, config, releases, ps, run]) command.register(program);
for (const command of [logs, drains]) command.register(program);
for (const command of [domains]) command.register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  process.stderr.write(` !    ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
}
