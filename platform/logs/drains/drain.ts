import type { LogLine } from '../format.ts';

export const DRAIN_BUFFER = 1024;

export interface DrainStats {
  /** Lines delivered. */
  sent: number;
  /** Lines dropped because the buffer was full, since the drain was added (or the platform started). */
  dropped: number;
  /** Waiting in the buffer. */
  buffered: number;
  /** The last delivery error, cleared by the next success. */
  error: string | null;
}

/**
 * What every drain shares: a bounded buffer filled by `push` (never blocking, dropping and
 * counting when full), a sender that delivers from it, and reconnection with backoff.
 * Subclasses implement `deliver`, which takes lines off the buffer and resolves when they are
 * handed over, or throws to back off.
 */
export abstract class Drain {
  protected queue: LogLine[] = [];
  readonly stats: DrainStats = { sent: 0, dropped: 0, buffered: 0, error: null };
  /** Drops not yet reported: count and the time of the first. */
  private unreported = { count: 0, since: '' };
  private running = false;
  private closed = false;
  private backoffMs = 0;
  private wake: (() => void) | undefined;

  constructor(
    readonly url: string,
    protected readonly opts: { capacity?: number; minBackoffMs?: number; maxBackoffMs?: number } = {},
  ) {}

  protected get capacity() {
    return this.opts.capacity ?? DRAIN_BUFFER;
  }

  /** Lines held that count against the buffer besides the queue (a batch in flight). */
  protected inFlight = 0;

  push(line: LogLine): void {
    if (this.closed) return;
    if (this.queue.length + this.inFlight >= this.capacity) {
      this.drop(1, line.time);
      return;
    }
    this.queue.push(line);
    this.stats.buffered = this.queue.length;
    this.wake?.();
  }

  /** Lines in order: those that fit in the buffer are taken, the rest dropped and counted. */
  pushMany(lines: LogLine[]): void {
    if (this.closed) return;
    const room = this.capacity - this.queue.length - this.inFlight;
    const take = Math.max(0, Math.min(room, lines.length));
    for (let i = 0; i < take; i++) this.queue.push(lines[i]);
    if (take < lines.length) this.drop(lines.length - take, lines[take].time);
    this.stats.buffered = this.queue.length;
    if (take) this.wake?.();
  }

  protected drop(n: number, since: string): void {
    this.stats.dropped += n;
    if (this.unreported.count === 0) this.unreported.since = since;
    this.unreported.count += n;
  }

  /** Drops since the last call (for the L10 notice), resetting the count. */
  takeDrops(): { count: number; since: string } | undefined {
    if (this.unreported.count === 0) return undefined;
    const d = this.unreported;
    this.unreported = { count: 0, since: '' };
    return d;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
    this.disconnect();
  }

  protected abstract deliver(): Promise<void>;
  protected disconnect(): void {}

  private async loop() {
    while (!this.closed) {
      if (this.queue.length === 0) {
        await new Promise<void>((resolve) => (this.wake = () => {
          this.wake = undefined;
          resolve();
        }));
        continue;
      }
      try {
        await this.deliver();
        this.stats.error = null;
        this.backoffMs = 0;
      } catch (err) {
        this.stats.error = err instanceof Error ? err.message : String(err);
        this.disconnect();
        const min = this.opts.minBackoffMs ?? 500;
        this.backoffMs = Math.min(this.opts.maxBackoffMs ?? 30_000, this.backoffMs ? this.backoffMs * 2 : min);
        await new Promise((r) => setTimeout(r, this.backoffMs));
      }
      this.stats.buffered = this.queue.length;
    }
  }
}
