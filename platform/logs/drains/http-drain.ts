import crypto from 'node:crypto';
import { Drain } from './drain.ts';
import { logplexBody } from './syslog-format.ts';

const BATCH = 500;
const TIMEOUT_MS = 10_000;
/** A batch the receiver keeps refusing is given up after this many tries (and counted as dropped). */
const MAX_ATTEMPTS = 5;

/** `https://…` (and `http://` on loopback): batched POSTs in Heroku's HTTPS drain format, application/logplex-1. */
export class HttpDrain extends Drain {
  private attempts = 0;
  private readonly target: string;
  private readonly auth: string | undefined;

  constructor(url: string, readonly token: string, opts?: ConstructorParameters<typeof Drain>[1]) {
    super(url, opts);
    // fetch refuses URLs with credentials: they become a Basic header, as logplex sends them.
    const u = new URL(url);
    this.auth = u.username || u.password ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` : undefined;
    u.username = '';
    u.password = '';
    this.target = u.toString();
  }

  protected async deliver(): Promise<void> {
    const batch = this.queue.splice(0, BATCH);
    this.inFlight = batch.length;
    try {
      const res = await fetch(this.target, {
        method: 'POST',
        headers: {
          'content-type': 'application/logplex-1',
          'logplex-msg-count': String(batch.length),
          'logplex-frame-id': crypto.randomUUID(),
          'logplex-drain-token': this.token,
          'user-agent': 'paas-logplex/1',
          ...(this.auth ? { authorization: this.auth } : {}),
        },
        body: logplexBody(batch),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await res.body?.cancel().catch(() => {});
      if (!res.ok) throw new Error(`${this.target} answered ${res.status}`);
      this.stats.sent += batch.length;
      this.attempts = 0;
    } catch (err) {
      if (++this.attempts >= MAX_ATTEMPTS) {
        this.attempts = 0;
        this.drop(batch.length, batch[0].time);
      } else {
        this.queue.unshift(...batch);
      }
      throw err;
    } finally {
      this.inFlight = 0;
    }
  }
}
