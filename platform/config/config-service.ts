import type { Platform } from '../platform.ts';
import type { App, Release } from '../store/schema.ts';
import { invalid, PlatformError } from '../errors.ts';
import { releaseService } from '../release/release-service.ts';
import { rollOut } from '../release/roll-out.ts';
import { configRepo, type ConfigVars } from './config-repo.ts';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Heroku's limit on an app's whole config. */
export const CONFIG_LIMIT_BYTES = 32 * 1024;
/** Set by the platform for every web process. */
const RESERVED = new Set(['PORT']);

/** A config change: a string sets a key, null removes it. */
export type ConfigPatch = Record<string, string | null>;

function checkKey(key: string): void {
  if (!KEY.test(key)) throw invalid(`invalid config key ${JSON.stringify(key)}: keys are letters, digits and underscores, not starting with a digit`);
  if (RESERVED.has(key)) throw invalid(`${key} is set by the platform and cannot be changed`);
}

const size = (vars: ConfigVars) => Object.entries(vars).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

/** Heroku's wording: "Set A, B config vars", "Remove C config vars", or both. */
export function describeChange(patch: ConfigPatch): string {
  const set = Object.keys(patch).filter((k) => patch[k] !== null);
  const removed = Object.keys(patch).filter((k) => patch[k] === null);
  if (removed.length === 0) return `Set ${set.join(', ')} config vars`;
  if (set.length === 0) return `Remove ${removed.join(', ')} config vars`;
  return `Set ${set.join(', ')} and remove ${removed.join(', ')} config vars`;
}

/** config:set / config:unset: each change is one new release, rolled out like a deploy. */
export function configService(p: Platform) {
  return {
    get(app: App): ConfigVars {
      return configRepo(p.db, p.box).all(app.id);
    },
    async update(app: App, patch: ConfigPatch, user: string, line: (t: string) => void = () => {}): Promise<Release> {
      const keys = Object.keys(patch);
      if (keys.length === 0) throw invalid('give at least one KEY=VALUE to set or KEY to unset');
      keys.forEach(checkKey);
      const description = describeChange(patch);
      const release = releaseService(p).withConfig(app, (current) => {
        const missing = keys.filter((k) => patch[k] === null && !(k in current));
        if (missing.length) throw new PlatformError(404, 'not_found', `config var ${missing.join(', ')} is not set on ${app.name}`);
        const next = { ...current };
        for (const key of keys) {
          if (patch[key] === null) delete next[key];
          else next[key] = patch[key]!;
        }
        if (size(next) > CONFIG_LIMIT_BYTES) throw new PlatformError(422, 'invalid_params', `config vars would total ${size(next)} bytes; the limit is ${CONFIG_LIMIT_BYTES} bytes`);
        return next;
      }, description, user);
      p.events.record(app.name, 'config.changed', user, description);
      await rollOut(p, app, release, line);
      return release;
    },
  };
}
