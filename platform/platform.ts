import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Settings } from './settings.ts';
import { openDb, type Db } from './store/db.ts';
import { createSecretBox, type SecretBox } from './secrets/secret-box.ts';
import { fileSecret } from './secrets/file-secret.ts';
import { tokensRepo } from './auth/tokens.ts';
import { eventsRepo } from './events/events-repo.ts';
import { createDocker } from './docker.ts';
import type { App } from './store/schema.ts';
import type { Teardown } from './apps/apps-service.ts';

/** Everything a service needs, built once at start and handed down (no globals). */
export interface Platform {
  settings: Settings;
  db: Db;
  box: SecretBox;
  docker: Docker;
  adminToken: string;
  events: ReturnType<typeof eventsRepo>;
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
  return {
    settings,
    db,
    box: createSecretBox(fileSecret(settings.dataDir, 'secret-key', settings.secretKey)),
    docker: createDocker(),
    adminToken,
    events: eventsRepo(db),
    appSetups: [],
    teardowns: [],
  };
}
