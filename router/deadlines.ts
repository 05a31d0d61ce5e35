import { now } from './clock.ts';

/**
 * Timeouts for many in-flight requests on one interval timer instead of a timer each (a timer
 * per request was ~5% of the router's CPU). A deadline fires between `ms` and `ms` + a quarter
 * of `ms` late (at most 1 s) after it was last armed.
 *
 * All deadlines of one Deadlines are `ms` long, so arming order is deadline order: the armed
 * items form a list (links kept on the items themselves, no Map entry per request), oldest
 * first; arm and disarm are O(1) and the sweep stops at the first item not yet due. An item
 * belongs to at most one Deadlines.
 */
export interface Expiring {
  expire(): void;
  /** Deadlines' bookkeeping: when it is due (performance.now() ms); unset or -1 when not armed. */
  deadlineAt?: number;
  deadlinePrev?: Expiring | undefined;
  deadlineNext?: Expiring | undefined;
}

export class Deadlines {
  private first: Expiring | undefined;
  private last: Expiring | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /** Call `item.expire()` after `ms` unless disarmed or armed again first. */
  arm(item: Expiring): void {
    if (item.deadlineAt !== undefined && item.deadlineAt >= 0) this.unlink(item);
    item.deadlineAt = now() + this.ms;
    item.deadlinePrev = this.last;
    item.deadlineNext = undefined;
    if (this.last) this.last.deadlineNext = item;
    else this.first = item;
    this.last = item;
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), Math.max(10, Math.min(1_000, this.ms / 4)));
      this.timer.unref();
    }
  }

  disarm(item: Expiring): void {
    if (item.deadlineAt !== undefined && item.deadlineAt >= 0) this.unlink(item);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    while (this.first) this.unlink(this.first);
  }

  private unlink(item: Expiring): void {
    const { deadlinePrev: prev, deadlineNext: next } = item;
    if (prev) prev.deadlineNext = next;
    else if (this.first === item) this.first = next;
    if (next) next.deadlinePrev = prev;
    else if (this.last === item) this.last = prev;
    item.deadlinePrev = undefined;
    item.deadlineNext = undefined;
    item.deadlineAt = -1;
  }

  private sweep(): void {
    const t = performance.now();
    let item = this.first;
    while (item && item.deadlineAt! <= t) {
      this.unlink(item);
      item.expire();
      item = this.first;
    }
    if (!this.first) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
