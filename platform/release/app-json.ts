import { invalid } from '../errors.ts';
import { readBlob, type Source } from '../build/source.ts';
import type { StartupCheck } from '../runner/health.ts';

/** What a release takes from the pushed `app.json`: how its web processes prove they are up. */
export interface ReleaseHealth {
  /** Dokku's `healthchecks.web` entries of type `startup`, in order; all must pass. */
  web: StartupCheck[];
  /** `paas.boot_timeout` (seconds): replaces PAAS_BOOT_TIMEOUT for this app's web processes. */
  bootTimeoutSeconds?: number;
}

export const MAX_BOOT_TIMEOUT_S = 3600;
const MAX_APP_JSON_BYTES = 256 * 1024;
const UNSUPPORTED = ['command', 'uptime', 'listening'] as const;

/** app.json at the root of the pushed commit, if there is one (read from the bare repo, quarantine included). */
export async function readAppJson(source: Source): Promise<ReleaseHealth | undefined> {
  const entry = source.files.get('app.json');
  if (!entry) {
    if ([...source.files.keys()].some((file) => file.startsWith('app.json/'))) throw invalid('app.json must be a file');
    return undefined;
  }
  if (entry.size > MAX_APP_JSON_BYTES) throw invalid(`app.json is ${entry.size} bytes; at most ${MAX_APP_JSON_BYTES} are read`);
  return parseAppJson(await readBlob(source, entry.sha, MAX_APP_JSON_BYTES * 2));
}

const positive = (where: string, v: unknown, fallback: number, max: number, allowZero = false): number => {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > max) {
    throw invalid(`app.json: ${where} must be a whole number from ${allowZero ? 0 : 1} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
};

/**
 * The parts of app.json the runner honours; anything malformed in them refuses the push with a
 * message naming the field. Defaults are Dokku's (attempts 3, timeout 5 s, wait 5 s, initialDelay 0).
 */
export function parseAppJson(text: string): ReleaseHealth | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(`app.json is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('app.json must be a JSON object');
  const { healthchecks, paas } = doc as { healthchecks?: unknown; paas?: unknown };

  let bootTimeoutSeconds: number | undefined;
  if (paas !== undefined) {
    if (typeof paas !== 'object' || paas === null || Array.isArray(paas)) throw invalid('app.json: "paas" must be an object');
    const v = (paas as { boot_timeout?: unknown }).boot_timeout;
    if (v !== undefined) bootTimeoutSeconds = positive('paas.boot_timeout', v, 60, MAX_BOOT_TIMEOUT_S);
  }

  const web: StartupCheck[] = [];
  if (healthchecks !== undefined) {
    if (typeof healthchecks !== 'object' || healthchecks === null || Array.isArray(healthchecks)) throw invalid('app.json: "healthchecks" must be an object of process type → list of checks');
    const list = (healthchecks as Record<string, unknown>).web;
    if (list !== undefined && !Array.isArray(list)) throw invalid('app.json: healthchecks.web must be a list of checks');
    for (const [i, entry] of (list ?? []).entries()) {
      const where = `healthchecks.web[${i}]`;
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw invalid(`app.json: ${where} must be an object`);
      const e = entry as Record<string, unknown>;
      const type = e.type ?? 'startup';
      if (!['startup', 'liveness', 'readiness'].includes(type as string)) throw invalid(`app.json: ${where}.type must be startup, liveness or readiness, got ${JSON.stringify(type)}`);
      // Only startup checks gate a deploy; liveness and readiness checks are not run (yet).
      if (type !== 'startup') continue;
      for (const key of UNSUPPORTED) if (e[key] !== undefined && e[key] !== false) throw invalid(`app.json: ${where}.${key}: only HTTP path checks are supported (give "path")`);
      if (e.port !== undefined && e.port !== 5000) throw invalid(`app.json: ${where}.port: web processes listen on $PORT (5000); leave "port" out`);
      if (e.scheme !== undefined && e.scheme !== 'http') throw invalid(`app.json: ${where}.scheme: only "http" is supported`);
      const path = e.path ?? '/';
      if (typeof path !== 'string' || !path.startsWith('/') || path.length > 2048 || /[\s\0]/.test(path)) throw invalid(`app.json: ${where}.path must be a URL path starting with "/", got ${JSON.stringify(e.path)}`);
      if (e.content !== undefined && typeof e.content !== 'string') throw invalid(`app.json: ${where}.content must be a string`);
      web.push({
        path,
        attempts: positive(`${where}.attempts`, e.attempts, 3, 100),
        timeout: positive(`${where}.timeout`, e.timeout, 5, 600),
        wait: positive(`${where}.wait`, e.wait, 5, 600, true),
        initialDelay: positive(`${where}.initialDelay`, e.initialDelay, 0, 600, true),
        ...(e.content ? { content: e.content as string } : {}),
      });
    }
  }
  if (web.length === 0 && bootTimeoutSeconds === undefined) return undefined;
  return { web, ...(bootTimeoutSeconds !== undefined ? { bootTimeoutSeconds } : {}) };
}
