import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Settings } from './settings.ts';
import { openDb, type Db } from './store/db.ts';
import type { App } from './store/schema.ts';
import { createSecretBox, type SecretBox } from './secrets/secret-box.ts';
import { fileSecret } from './secrets/file-secret.ts';
import { tokensRepo } from './auth/tokens.ts';
import { eventsRepo } from './events/events-repo.ts';
import { appsRepo } from './apps/apps-repo.ts';
import { domainsRepo } from './domains/domains-repo.ts';
import { createDocker } from './docker.ts';
import type { Teardown } from './apps/apps-service.ts';
import type { Scheduler } from './runner/scheduler.ts';
import { dockerScheduler } from './runner/docker-scheduler.ts';
import { cpuSetsOf, ENGINE_CPU_GROUP } from './setup/cpu-group.ts';
import { RouteTable } from './runner/route-table.ts';
import { createRunner, type Runner } from './runner/runner.ts';
import { createLogs, withLogLines, type Logs } from './logs/logs.ts';

/** Everything a service needs, built once at start and handed down (no globals). */
export interface Platform {
  settings: Settings;
  /** The ports actually listened on (the settings may say 0). */
  ports: { api: number; http: number };
  db: Db;
  box: SecretBox;
  docker: Docker;
  adminToken: string;
  /** Labels everything this platform creates on the engine (paas.owner). */
  owner: string;
  events: ReturnType<typeof eventsRepo>;
  scheduler: Scheduler;
  routes: RouteTable;
  runner: Runner;
  /** Per-app log streams, collection and drains (platform/logs). */
  logs: Logs;
  /** Run when an app is created (e.g. its bare git repo). */
  appSetups: Array<(app: App) => Promise<void>>;
  /** Run when an app is destroyed, each saying what it removed. */
  teardowns: Teardown[];
}

export function createPlatform(settings: Settings, dbFile = path.join(settings.dataDir, 'paas.db')): Platform {
  fs.mkdirSync(settings.dataDir, { recursive: true });
  const db = openDb(dbFile);
  const adminToken = fileSecret(settings.dataDir, 'admin-token', settings.adminToken);
  tokensRepo(db).ensure('admin', adminToken);
  const docker = createDocker();
  const owner = crypto.createHash('sha256').update(settings.dataDir).digest('hex').slice(0, 12);
  const hostsOf = (app: string) => {
    const row = appsRepo(db).byName(app);
    const custom = row ? domainsRepo(db).ofApp(row.id).map((d) => d.hostname) : [];
    return [`${app}.${settings.domain}`, ...custom];
  };
  const p = {
    settings,
    ports: { api: settings.apiPort, http: settings.httpPort },
    db,
    box: createSecretBox(fileSecret(settings.dataDir, 'secret-key', settings.secretKey)),
    docker,
    adminToken,
    owner,
    events: eventsRepo(db),
    scheduler: dockerScheduler(docker, owner, settings.sandboxPool, cpuSetsOf(ENGINE_CPU_GROUP)),
    routes: RouteTable.inDataDir(settings.dataDir, hostsOf, () => appsRepo(db).all().map((a) => a.name)),
    appSetups: [],
    teardowns: [],
  } as Omit<Platform, 'runner' | 'logs'> as Platform;
  p.runner = createRunner(p, { bootTimeoutMs: settings.bootTimeoutMs, stopGraceSeconds: settings.stopGraceSeconds });
  p.logs = createLogs({ dataDir: settings.dataDir, db, docker, owner }, { retention: settings.logLines });
  p.events = withLogLines(p.events, p.logs);
  return p;
}
