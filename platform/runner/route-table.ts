import fs from 'node:fs';
import path from 'node:path';

export interface Backend {
  dyno: string;
  host: string;
  port: number;
}

/**
 * The platform's half of the router contract: routes.json in the data dir, replaced atomically,
 * which the router watches and keeps serving from when the platform is down.
 */
export class RouteTable {
  private backends = new Map<string, Backend[]>();
  private version = 0;
  private routerVersion = 0;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly file: string,
    private readonly hostsOf: (app: string) => string[],
    private readonly apps: () => string[],
  ) {
    // Carry on from the table the router already serves: versions keep increasing across restarts,
    // and what it sends requests to is known (a process adopted without being in it was never proven up).
    try {
      const served = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown; apps?: Record<string, { backends?: Backend[] }> };
      this.version = Number(served.version) || 0;
      for (const [app, { backends }] of Object.entries(served.apps ?? {})) if (Array.isArray(backends)) this.backends.set(app, backends);
    } catch {
      this.version = 0;
    }
  }

  static inDataDir(dataDir: string, hostsOf: (app: string) => string[], apps: () => string[]) {
    return new RouteTable(path.join(dataDir, 'routes.json'), hostsOf, apps);
  }

  set(app: string, backends: Backend[]): void {
    // Not localeCompare: its first call loads ICU's collator, ~8 ms on the event loop in the middle of the first scale-up.
    const sorted = [...backends].sort((a, b) => (a.dyno < b.dyno ? -1 : 1));
    if (JSON.stringify(sorted) === JSON.stringify(this.backends.get(app))) return;
    this.backends.set(app, sorted);
    this.publish();
  }

  get(app: string): Backend[] {
    return this.backends.get(app) ?? [];
  }

  delete(app: string): void {
    this.backends.delete(app);
    this.publish();
  }

  /** The router loaded this version of the table. */
  applied(version: number): void {
    this.routerVersion = version;
    if (version >= this.version) for (const wake of this.waiters.splice(0)) wake();
  }

  /**
   * Resolves once the router serves the latest table, so old backends can go without a request
   * reaching them; gives up after `timeoutMs` (a router that is down serves nothing anyway).
   */
  settled(timeoutMs = 2000): Promise<void> {
    if (this.routerVersion >= this.version) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Rewrites the file (e.g. after a domain change). */
  publish(): void {
    const table = {
      version: ++this.version,
      apps: Object.fromEntries(this.apps().map((app) => [app, { hosts: this.hostsOf(app), backends: this.get(app) }])),
    };
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(table));
    fs.renameSync(tmp, this.file);
  }
}
