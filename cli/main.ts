import { Command, CommanderError } from 'commander';
import { CliError } from './errors.ts';
import * as login from './commands/login.ts';
import * as apps from './commands/apps.ts';
import * as builds from './commands/builds.ts';

const program = new Command('paas')
  .description('git push → build → release → run, on your own machine')
  .showHelpAfterError()
  .exitOverride();

for (const command of [login, apps, builds]) command.register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  process.stderr.write(` !    ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
}
