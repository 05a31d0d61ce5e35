import path from 'node:path';

/** Every setting the platform reads from its environment, read once, here (CONTRACT.md "Settings"). */
export interface Settings {
  dataDir: string;
  apiPort: number;
  httpPort: number;
  domain: string;
  bind: string;
  adminToken: string | undefined;
  secretKey: string | undefined;
  /** Largest pack a `git push` may send (receive.maxInputSize). */
  maxPushBytes: number;
  /** How long a new web process has to accept connections on $PORT. */
  bootTimeoutMs: number;
  /** Between SIGTERM and SIGKILL when a process is stopped. */
  stopGraceSeconds: number;
  /** How long the release phase may run before the release fails. */
  releaseTimeoutMs: number;
  /** Cap on `ps:scale TYPE=N`. */
  maxDynosPerType: number;
  /** Log lines kept per app (history of `paas logs`). */
  logLines: number;
  /** Network sandboxes kept started for dynos to come (0: each dyno makes its own network). */
  sandboxPool: number;
}

function integer(name: string, fallback: number, env: NodeJS.ProcessEnv, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be ${min ? 'a positive' : 'a non-negative'} integer, got "${raw}"`);
  return n;
}
const positiveInt = (name: string, fallback: number, env: NodeJS.ProcessEnv) => integer(name, fallback, env, 1);

function port(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (0-65535), got "${raw}"`);
  return n;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    dataDir: path.resolve(env.PAAS_DATA_DIR || './.paas-data'),
    apiPort: port('PAAS_API_PORT', 8080, env),
    httpPort: port('PAAS_HTTP_PORT', 8000, env),
    domain: env.PAAS_DOMAIN || 'localhost',
    bind: env.PAAS_BIND || '127.0.0.1',
    adminToken: env.PAAS_ADMIN_TOKEN || undefined,
    secretKey: env.PAAS_SECRET_KEY || undefined,
    maxPushBytes: positiveInt('PAAS_MAX_PUSH_MB', 256, env) * 1024 * 1024,
    bootTimeoutMs: positiveInt('PAAS_BOOT_TIMEOUT', 60, env) * 1000,
    stopGraceSeconds: positiveInt('PAAS_STOP_GRACE', 30, env),
    releaseTimeoutMs: positiveInt('PAAS_RELEASE_TIMEOUT', 3600, env) * 1000,
    maxDynosPerType: positiveInt('PAAS_MAX_DYNOS', 20, env),
    logLines: positiveInt('PAAS_LOG_LINES', 10_000, env),
    sandboxPool: integer('PAAS_SANDBOX_POOL', 10, env, 0),
  };
}
