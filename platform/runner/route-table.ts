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

  constructor(
    private readonly file: string,
    private readonly hostsOf: (app: string) => string[],
    private readonly apps: () => string[],
  ) {}

  static inDataDir(dataDir: string, hostsOf: (app: string) => string[], apps: () => string[]) {
    return new RouteTable(path.join(dataDir, 'routes.json'), hostsOf, apps);
  }

  set(app: string, backends: Backend[]): void {
    this.backends.set(app, backends);
    this.publish();
  }

  get(app: string): Backend[] {
    return this.backends.get(app) ?? [];
  }

  delete(app: string): void {
    this.backends.delete(app);
    this.publish();
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
