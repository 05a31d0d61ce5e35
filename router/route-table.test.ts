import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeHost, RouteTable, watchRouteFile } from './route-table.ts';
import { waitFor } from './test-helpers.ts';

const sample = {
  version: 3,
  apps: {
    demo: {
      hosts: ['demo.localhost', 'www.example.com', '*.example.org'],
      backends: [{ dyno: 'web.1', host: '172.18.0.5', port: 5000 }],
    },
    other: { hosts: ['other.localhost', 'Demo.Localhost'], backends: [] },
  },
};

describe('RouteTable', () => {
  const t = new RouteTable(JSON.parse(JSON.stringify(sample)));

  it('matches exact hosts, ignoring case, port and a trailing dot', () => {
    expect(t.lookup('demo.localhost')?.app).toBe('demo');
    expect(t.lookup('DEMO.localhost:8000')?.app).toBe('demo');
    expect(t.lookup('www.example.com.')?.app).toBe('demo');
    expect(t.lookup('other.localhost')?.app).toBe('other');
  });

  it('matches a wildcard for exactly one extra label, exact hosts first', () => {
    expect(t.lookup('a.example.org')?.app).toBe('demo');
    expect(t.lookup('a.b.example.org')).toBeUndefined();
    expect(t.lookup('example.org')).toBeUndefined();
  });

  it('does not match unknown or empty hosts', () => {
    expect(t.lookup('nope.localhost')).toBeUndefined();
    expect(t.lookup('')).toBeUndefined();
    expect(t.lookup(undefined)).toBeUndefined();
  });

  it('lets the first app keep a host two apps claim', () => {
    const parsed = RouteTable.parse(JSON.stringify(sample));
    expect(parsed.lookup('demo.localhost')?.app).toBe('demo');
    expect(parsed.conflicts).toEqual(['demo.localhost']);
  });

  it('normalizes host headers', () => {
    expect(normalizeHost('[::1]:8000')).toBe('[::1]');
    expect(normalizeHost(' Foo.COM:80 ')).toBe('foo.com');
    expect(normalizeHost(undefined)).toBe('');
  });

  it('rejects unusable files with a readable reason', () => {
    expect(() => RouteTable.parse('{"version": 1, "apps": {')).toThrow(/not valid JSON/);
    expect(() => RouteTable.parse('[]')).toThrow(/object/);
    expect(() => RouteTable.parse('{"version":"x","apps":{}}')).toThrow(/version/);
    expect(() => RouteTable.parse('{"version":1}')).toThrow(/apps/);
  });

  it('skips malformed entries with a warning and keeps the rest', () => {
    const t = RouteTable.parse(
      JSON.stringify({
        version: 1,
        apps: {
          good: {
            hosts: ['good.localhost', 'bad host', 42],
            backends: [
              { dyno: 'web.1', host: '10.0.0.1', port: 5000 },
              { dyno: 'web.2', host: '10.0.0.2', port: 0 },
              { host: '10.0.0.3', port: 5000 },
            ],
          },
          broken: { hosts: 'broken.localhost' },
        },
      }),
    );
    expect(t.lookup('good.localhost')?.backends).toEqual([{ dyno: 'web.1', host: '10.0.0.1', port: 5000 }]);
    expect(t.apps.has('broken')).toBe(false);
    expect(t.warnings).toHaveLength(5);
    expect(t.warnings.join('\n')).toMatch(/hosts\[1\].*bad host/);
  });
});

describe('watchRouteFile', () => {
  let dir: string;
  let source: ReturnType<typeof watchRouteFile> | undefined;
  afterEach(() => {
    source?.close();
    source = undefined;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const writeAtomic = (file: string, content: string) => {
    fs.writeFileSync(`${file}.tmp`, content);
    fs.renameSync(`${file}.tmp`, file);
  };
  const version = (n: number) => JSON.stringify({ ...sample, version: n });

  it('loads the persisted file at start and reloads when it is replaced', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'routes-'));
    const file = path.join(dir, 'routes.json');
    writeAtomic(file, version(1));
    const loaded: number[] = [];
    source = watchRouteFile(file, { log: () => {}, onLoad: (t) => loaded.push(t.version) });
    expect(source.current().version).toBe(1);
    writeAtomic(file, version(2));
    await waitFor(() => source!.current().version === 2, 5_000, 'version 2');
    expect(loaded).toEqual([1, 2]);
  });

  it('picks changes up by polling even without fs events', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'routes-'));
    // The directory does not exist yet, so fs.watch cannot be set up.
    const nested = path.join(dir, 'later', 'routes.json');
    source = watchRouteFile(nested, { log: () => {}, pollMs: 50 });
    expect(source.current().version).toBe(0);
    fs.mkdirSync(path.dirname(nested));
    writeAtomic(nested, version(7));
    await waitFor(() => source!.current().version === 7, 5_000, 'version 7');
  });

  it('keeps the last good table when the file goes missing, partial or invalid, logging each problem once', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'routes-'));
    const file = path.join(dir, 'routes.json');
    writeAtomic(file, version(5));
    const logs: string[] = [];
    source = watchRouteFile(file, { log: (m) => logs.push(m), pollMs: 50 });
    expect(source.current().version).toBe(5);

    fs.rmSync(file);
    await waitFor(() => logs.some((l) => l.includes('not found')), 5_000, 'missing-file log');
    expect(source.current().version).toBe(5);

    fs.writeFileSync(file, version(6).slice(0, 20)); // a torn write
    await waitFor(() => logs.some((l) => l.includes('not valid JSON')), 5_000, 'partial-file log');
    expect(source.current().version).toBe(5);

    writeAtomic(file, JSON.stringify({ version: 8, apps: [] }));
    await waitFor(() => logs.some((l) => l.includes('"apps" must be an object')), 5_000, 'invalid-file log');
    expect(source.current().version).toBe(5);
    expect(source.current().lookup('demo.localhost')?.app).toBe('demo');

    // Several more polls of the same bad file: still logged once.
    await new Promise((r) => setTimeout(r, 300));
    expect(logs.filter((l) => l.includes('"apps" must be an object'))).toHaveLength(1);

    writeAtomic(file, version(9));
    await waitFor(() => source!.current().version === 9, 5_000, 'recovery to version 9');
  });
});
