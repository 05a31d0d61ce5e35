import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSettings } from '../../platform/settings.ts';
import { createPlatform, type Platform } from '../../platform/platform.ts';
import { wireApps } from '../../platform/wiring.ts';

export const TEST_TOKEN = 'test-admin-token';

/** A platform on a temp data dir and an in-memory database with the real migrations. */
export function tempPlatform(): Platform {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-test-'));
  const settings = readSettings({ PAAS_DATA_DIR: dataDir, PAAS_ADMIN_TOKEN: TEST_TOKEN, PAAS_SECRET_KEY: 'test-secret' });
  const p = createPlatform(settings, ':memory:');
  wireApps(p);
  return p;
}
