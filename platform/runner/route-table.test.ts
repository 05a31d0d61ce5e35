import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RouteTable } from './route-table.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const dataDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-routes-'));
  dirs.push(d);
  return d;
};
const read = (d: string) => JSON.parse(fs.readFileSync(path.join(d, 'routes.json'), 'utf8'));
const table = (d: string) => RouteTable.inDataDir(d, (app) => [`${app}.localhost`], () => ['shop']);

describe('RouteTable', () => {
  it('writes routes.json with a new version on each change, backends in dyno order', () => {
    const d = dataDir();
    const t = table(d);
    t.set('shop', [{ dyno: 'web.2', host: '10.0.0.3', port: 5000 }, { dyno: 'web.1', host: '10.0.0.2', port: 5000 }]);
    expect(read(d)).toEqual({ version: 1, apps: { shop: { hosts: ['shop.localhost'], backends: [{ dyno: 'web.1', host: '10.0.0.2', port: 5000 }, { dyno: 'web.2', host: '10.0.0.3', port: 5000 }] } } });
    t.set('shop', [{ dyno: 'web.1', host: '10.0.0.2', port: 5000 }, { dyno: 'web.2', host: '10.0.0.3', port: 5000 }]);
    expect(read(d).version).toBe(1);
  });

  it('carries on from the table the router serves: its version and its backends', () => {
    const d = dataDir();
    table(d).set('shop', [{ dyno: 'web.1', host: '10.0.0.2', port: 5000 }]);
    const restarted = table(d);
    expect(restarted.get('shop')).toEqual([{ dyno: 'web.1', host: '10.0.0.2', port: 5000 }]);
    restarted.set('shop', [{ dyno: 'web.1', host: '10.0.0.2', port: 5000 }]);
    expect(read(d).version).toBe(1);
    restarted.set('shop', []);
    expect(read(d)).toMatchObject({ version: 2, apps: { shop: { backends: [] } } });
  });

  it('starts empty without a readable table', () => {
    const d = dataDir();
    fs.writeFileSync(path.join(d, 'routes.json'), '{not json');
    const t = table(d);
    expect(t.get('shop')).toEqual([]);
    t.publish();
    expect(read(d).version).toBe(1);
  });
});
