import crypto from 'node:crypto';
import type { Platform } from '../platform.ts';
import type { App } from '../store/schema.ts';
import { invalid, PlatformError } from '../errors.ts';
import { releaseService } from '../release/release-service.ts';
import { APP_PORT } from './runner.ts';
import type { InstanceSpec } from './scheduler.ts';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `paas run`: a fresh container of the current release with its config (plus `-e K=V`).
 * One argument is a shell command, as on Heroku; several are an argv, run exactly as given.
 */
export function oneOffSpec(p: Platform, app: App, command: string[], extraEnv: Record<string, string> = {}): InstanceSpec {
  if (command.length === 0 || command.every((c) => c.trim() === '')) throw invalid('give a command to run, e.g. paas run bash');
  for (const key of Object.keys(extraEnv)) if (!KEY.test(key)) throw invalid(`invalid env name ${JSON.stringify(key)}`);
  const current = releaseService(p).current(app);
  if (!current?.imageDigest) throw new PlatformError(422, 'no_release', `${app.name} has no release to run yet: git push first`);
  const r = releaseService(p).runnable(current);
  const dyno = `run.${crypto.randomBytes(2).toString('hex')}`;
  return {
    app: app.name,
    release: r.version,
    type: 'run',
    dyno,
    image: r.digest,
    command: command.length === 1 ? command[0] : command,
    env: { ...r.config, ...extraEnv, PORT: String(APP_PORT), DYNO: dyno },
    memoryMb: 512,
  };
}
