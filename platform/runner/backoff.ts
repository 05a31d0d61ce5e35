const FIRST_DELAY_MS = 10_000;
const MAX_DELAY_MS = 5 * 60_000;

interface State {
  restarts: number;
  nextAt: number;
}

/**
 * Crash restarts, as Heroku does them: the first at once, then after 10 s, doubling to a 5-minute
 * cap. Forgotten after 10 minutes up, a new release or an explicit restart.
 */
export class Backoff {
  private states = new Map<string, State>();

  private key(app: string, dyno: string) {
    return `${app}/${dyno}`;
  }

  get(app: string, dyno: string): State | undefined {
    return this.states.get(this.key(app, dyno));
  }

  /** How long the next restart of this dyno will wait. */
  delayBeforeNext(app: string, dyno: string): number {
    const restarts = this.get(app, dyno)?.restarts ?? 0;
    return restarts === 0 ? 0 : Math.min(FIRST_DELAY_MS * 2 ** (restarts - 1), MAX_DELAY_MS);
  }

  due(app: string, dyno: string, now: number): boolean {
    return (this.get(app, dyno)?.nextAt ?? 0) <= now;
  }

  /** Records a restart happening now and when the one after it may happen. */
  restarting(app: string, dyno: string, now: number): void {
    const restarts = (this.get(app, dyno)?.restarts ?? 0) + 1;
    this.states.set(this.key(app, dyno), { restarts, nextAt: now + Math.min(FIRST_DELAY_MS * 2 ** (restarts - 1), MAX_DELAY_MS) });
  }

  /** Puts a dyno's state back as it was before a restart that never got to run. */
  restore(app: string, dyno: string, state: State | undefined): void {
    if (state) this.states.set(this.key(app, dyno), { ...state });
    else this.states.delete(this.key(app, dyno));
  }

  forget(app: string, dyno?: string): void {
    for (const key of [...this.states.keys()]) {
      if (dyno ? key === this.key(app, dyno) : key.startsWith(`${app}/`)) this.states.delete(key);
    }
  }
}
