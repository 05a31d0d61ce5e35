import http from 'node:http';
import net from 'node:net';

/** A Dokku-style startup check from app.json (`healthchecks.web[]`, type `startup`), as a release carries it. */
export interface StartupCheck {
  path: string;
  /** Failed HTTP attempts allowed before the instance is given up on. */
  attempts: number;
  /** Seconds one attempt may take. */
  timeout: number;
  /** Seconds between failed attempts. */
  wait: number;
  /** Seconds after the port accepts connections before the first attempt. */
  initialDelay: number;
  /** Text the answer must contain, when set. */
  content?: string;
}

/** What "up" means for one web instance of a release. */
export interface HealthPolicy {
  bootTimeoutMs: number;
  /** All must pass, in order, once the port accepts connections. */
  checks: StartupCheck[];
}

export type HealthResult = { up: true } | { up: false; reason: string };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** One GET of the check's path: null when it passed, else why not. */
function probe(host: string, port: number, check: StartupCheck, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: check.path, agent: false, headers: { 'user-agent': 'paas-healthcheck', connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 64 * 1024) body += d;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) resolve(`GET ${check.path} answered ${status}`);
        else if (check.content && !body.includes(check.content)) resolve(`GET ${check.path} answered ${status} without ${JSON.stringify(check.content)}`);
        else resolve(null);
      });
      res.on('error', (e) => resolve(`GET ${check.path}: ${e.message}`));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 100) / 10} s`)));
    req.on('error', (e) => resolve(`GET ${check.path}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
  });
}

/**
 * Waits until the instance is up: it accepts connections on host:port and, with a startup check,
 * answers 2xx on its path. Gives up at the boot timeout, after the check's attempts, when `gone()`
 * says the process died (asked about once a second: each question costs the engine an inspect),
 * or when `signal` aborts (another instance of the same change failed).
 */
export async function waitHealthy(host: string, port: number, policy: HealthPolicy, gone: () => Promise<boolean>, signal?: AbortSignal): Promise<HealthResult> {
  const started = Date.now();
  const deadline = started + policy.bootTimeoutMs;
  const exited: HealthResult = { up: false, reason: 'exited while booting' };
  let lastGoneCheck = started;
  const isGone = async () => {
    if (Date.now() - lastGoneCheck < 1000) return false;
    lastGoneCheck = Date.now();
    return gone();
  };

  for (;;) {
    if (signal?.aborted) return { up: false, reason: 'aborted' };
    if (Date.now() >= deadline) return (await gone()) ? exited : { up: false, reason: `did not accept connections on $PORT (${port}) within ${policy.bootTimeoutMs / 1000} s` };
    if (await connects(host, port)) break;
    if (await isGone()) return exited;
    await sleep(20, signal); // a refused connect is cheap; the new process is routed within ~20 ms of binding
  }
  for (const check of policy.checks) {
    const result = await passes(host, port, check, deadline, policy.bootTimeoutMs, gone, signal);
    if (!result.up) return result;
  }
  return { up: true };
}

async function passes(host: string, port: number, check: StartupCheck, deadline: number, bootTimeoutMs: number, gone: () => Promise<boolean>, signal?: AbortSignal): Promise<HealthResult> {
  const exited: HealthResult = { up: false, reason: 'exited while booting' };
  if (check.initialDelay > 0) await sleep(Math.min(check.initialDelay * 1000, Math.max(0, deadline - Date.now())), signal);
  let last = '';
  for (let attempt = 1; attempt <= check.attempts; attempt++) {
    if (signal?.aborted) return { up: false, reason: 'aborted' };
    if (Date.now() >= deadline) return { up: false, reason: `did not answer 2xx on ${check.path} within ${bootTimeoutMs / 1000} s${last ? ` (last: ${last})` : ''}` };
    const failure = await probe(host, port, check, Math.max(1, Math.min(check.timeout * 1000, deadline - Date.now())));
    if (failure === null) return { up: true };
    last = failure;
    if (await gone()) return exited;
    if (attempt < check.attempts) await sleep(Math.min(check.wait * 1000, Math.max(0, deadline - Date.now())), signal);
  }
  return { up: false, reason: `failed its health check ${check.attempts} time${check.attempts === 1 ? '' : 's'} (last: ${last})` };
}
