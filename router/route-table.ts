import fs from 'node:fs';
import path from 'node:path';

/** One running web process the router may send traffic to. */
export interface Backend {
  dyno: string;
  host: string;
  port: number;
}

export interface AppRoute {
  app: string;
  hosts: string[];
  backends: Backend[];
}

/** The JSON the platform writes to `$PAAS_DATA_DIR/routes.json`. */
export interface RoutesFile {
  version: number;
  apps: Record<string, { hosts: string[]; backends: Backend[] }>;
}

const HOST_RE = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/**
 * Host header → host name as routes are keyed: port stripped, lower case, no
 * trailing dot. IPv6 literals keep their brackets ("[::1]").
 */
export function normalizeHost(header: string | undefined): string {
  if (!header) return '';
  let host = header.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

/** An immutable, validated route table with O(1) host lookup. */
export class RouteTable {
  readonly version: number;
  readonly apps: ReadonlyMap<string, AppRoute>;
  /** Hosts claimed by more than one app; the first app in file order keeps them. */
  readonly conflicts: string[] = [];
  /** Entries skipped as malformed when parsing. */
  readonly warnings: string[] = [];
  private readonly exact = new Map<string, AppRoute>();
  /** "*.example.org" is stored under "example.org" and matches exactly one extra label. */
  private readonly wildcard = new Map<string, AppRoute>();

  constructor(file: RoutesFile) {
    this.version = file.version;
    const apps = new Map<string, AppRoute>();
    for (const [name, entry] of Object.entries(file.apps)) {
      const route: AppRoute = { app: name, hosts: entry.hosts, backends: entry.backends };
      apps.set(name, route);
      for (const host of entry.hosts) {
        const map = host.startsWith('*.') ? this.wildcard : this.exact;
        const key = host.startsWith('*.') ? host.slice(2) : host;
        if (map.has(key)) this.conflicts.push(host);
        else map.set(key, route);
      }
    }
    this.apps = apps;
  }

  static empty(): RouteTable {
    return new RouteTable({ version: 0, apps: {} });
  }

  /** Parse and validate routes.json text; throws with a readable message if the file is unusable. */
  static parse(text: string): RouteTable {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new Error(`not valid JSON (${(e as Error).message})`);
    }
    const warnings: string[] = [];
    const table = new RouteTable(validate(raw, warnings));
    table.warnings.push(...warnings);
    return table;
  }

  /** Exact host first, then a one-label wildcard. */
  lookup(hostHeader: string | undefined): AppRoute | undefined {
    const host = normalizeHost(hostHeader);
    if (!host) return undefined;
    const hit = this.exact.get(host);
    if (hit) return hit;
    const dot = host.indexOf('.');
    return dot > 0 ? this.wildcard.get(host.slice(dot + 1)) : undefined;
  }
}

/**
 * Structure problems (not an object, no "apps") reject the file; a bad host,
 * backend or app entry is skipped with a warning, so that one odd custom domain
 * cannot freeze route updates for every app.
 */
function validate(raw: unknown, warnings: string[] = []): RoutesFile {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('top level must be an object');
  const obj = raw as Record<string, unknown>;
  if (typeof obj.version !== 'number' || !Number.isFinite(obj.version)) throw new Error('"version" must be a number');
  if (!obj.apps || typeof obj.apps !== 'object' || Array.isArray(obj.apps)) throw new Error('"apps" must be an object');
  const apps: RoutesFile['apps'] = {};
  for (const [name, value] of Object.entries(obj.apps as Record<string, unknown>)) {
    const where = `apps.${name}`;
    const { hosts, backends } = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
    if (!Array.isArray(hosts) || !Array.isArray(backends)) {
      warnings.push(`${where} skipped: needs "hosts" and "backends" arrays`);
      continue;
    }
    const cleanHosts: string[] = [];
    hosts.forEach((h, i) => {
      const host = typeof h === 'string' ? normalizeHost(h) : '';
      if (HOST_RE.test(host)) cleanHosts.push(host);
      else warnings.push(`${where}.hosts[${i}] skipped: not a host name: ${JSON.stringify(h)}`);
    });
    const cleanBackends: Backend[] = [];
    backends.forEach((b, i) => {
      const { dyno, host, port } = (b && typeof b === 'object' ? b : {}) as Record<string, unknown>;
      const ok =
        typeof dyno === 'string' && dyno !== '' && typeof host === 'string' && host !== '' && typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
      if (ok) cleanBackends.push({ dyno, host, port });
      else warnings.push(`${where}.backends[${i}] skipped: needs dyno, host and port 1-65535: ${JSON.stringify(b)}`);
    });
    apps[name] = { hosts: cleanHosts, backends: cleanBackends };
  }
  return { version: obj.version as number, apps };
}

/** Where the router gets its current table from; `current()` is called once per request. */
export interface RouteSource {
  current(): RouteTable;
  close(): void;
}

/** A fixed table, for tests and embedding. */
export function staticRoutes(file: RoutesFile | RouteTable): RouteSource & { set(file: RoutesFile | RouteTable): void } {
  const toTable = (f: RoutesFile | RouteTable) => (f instanceof RouteTable ? f : new RouteTable(validate(f)));
  let table = toTable(file);
  return {
    current: () => table,
    set: (f) => {
      table = toTable(f);
    },
    close: () => {},
  };
}

export interface WatchOptions {
  /** Diagnostics (stderr in production). */
  log?: (msg: string) => void;
  /** Stat fallback interval; fs.watch is not reliable everywhere (network mounts, some containers). */
  pollMs?: number;
  /** Called after each table that replaced the previous one (not for the initial empty table). */
  onLoad?: (table: RouteTable) => void;
}

/**
 * Serve routes from a file the platform replaces atomically (tmp + rename).
 * Loads synchronously at start so a restarted router serves the persisted table
 * before the platform is back; reloads on fs.watch events and on a cheap stat
 * poll. A missing, partial or invalid file never replaces the last good table.
 */
export function watchRouteFile(file: string, opts: WatchOptions = {}): RouteSource & { reload(): void } {
  const log = opts.log ?? ((msg: string) => process.stderr.write(`router: ${msg}\n`));
  const pollMs = opts.pollMs ?? 300;
  let table = RouteTable.empty();
  let signature = '';
  let lastText: string | undefined;
  let lastProblem: string | undefined;

  const problem = (msg: string) => {
    // Log each distinct problem once; polling would otherwise repeat it forever.
    if (msg !== lastProblem) log(msg);
    lastProblem = msg;
  };

  const reload = () => {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      signature = 'missing';
      problem(`${file} not found; keeping the current table (version ${table.version})`);
      return;
    }
    const sig = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (sig === signature) return;
    signature = sig;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      problem(`cannot read ${file}: ${(e as Error).message}; keeping version ${table.version}`);
      return;
    }
    if (text === lastText) {
      lastProblem = undefined;
      return;
    }
    try {
      const next = RouteTable.parse(text);
      lastText = text;
      table = next;
      lastProblem = undefined;
      log(`routes version ${next.version} loaded (${next.apps.size} apps)`);
      for (const warning of next.warnings) log(warning);
      if (next.conflicts.length) log(`hosts claimed by more than one app (first app wins): ${next.conflicts.join(', ')}`);
      opts.onLoad?.(next);
    } catch (e) {
      problem(`ignoring invalid ${path.basename(file)}: ${(e as Error).message}; keeping version ${table.version}`);
    }
  };

  reload();

  let debounce: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (debounce) return;
    debounce = setTimeout(() => {
      debounce = undefined;
      reload();
    }, 20);
    debounce.unref();
  };

  let watcher: fs.FSWatcher | undefined;
  try {
    const base = path.basename(file);
    watcher = fs.watch(path.dirname(file), { persistent: false }, (_event, name) => {
      if (!name || name === base) schedule();
    });
    watcher.on('error', () => {
      watcher?.close();
      watcher = undefined;
    });
  } catch {
    // The directory may not exist yet; the poll below still picks the file up.
  }
  const poll = setInterval(reload, pollMs);
  poll.unref();

  return {
    current: () => table,
    reload,
    close: () => {
      clearInterval(poll);
      if (debounce) clearTimeout(debounce);
      watcher?.close();
    },
  };
}
