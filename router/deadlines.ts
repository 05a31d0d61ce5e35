import { now } from './clock.ts';

/**
 * Timeouts for many in-flight requests on one interval timer instead of a timer each (a timer
 * per request was ~5% of the router's CPU). A deadline fires between `ms` and `ms` + a quarter
 * of `ms` late (at most 1 s) after it was last armed.
 */
export interface Expiring {
  expire(): void;
}

export class Deadlines {
  private readonly due = new Map<Expiring, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /** Call `item.expire()` after `ms` unless disarmed or armed again first. */
  arm(item: Expiring): void {
    this.due.set(item, now() + this.ms);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), Math.max(10, Math.min(1_000, this.ms / 4)));
      this.timer.unref();
    }
  }

  disarm(item: Expiring): void {
    this.due.delete(item);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.due.clear();
  }

  private sweep(): void {
    const t = performance.now();
    for (const [item, at] of this.due) {
      if (at > t) continue;
      this.due.delete(item);
      item.expire();
    }
    if (this.due.size === 0) this.close();
  }
}
