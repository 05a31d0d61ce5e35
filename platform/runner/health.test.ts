import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitHealthy, type StartupCheck } from './health.ts';

const check = (over: Partial<StartupCheck> = {}): StartupCheck => ({ path: '/health', attempts: 3, timeout: 1, wait: 0, initialDelay: 0, ...over });
const alive = async () => false;

describe('waitHealthy', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  /** A server that answers `statuses` in turn (the last one forever), on a free port. */
  const serve = async (statuses: number[], body = 'ok') => {
    const seen: string[] = [];
    server = http.createServer((req, res) => {
      seen.push(req.url!);
      res.writeHead(statuses.length > 1 ? statuses.shift()! : statuses[0]).end(body);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, seen };
  };

  it('is up once the port accepts connections when there is no check', async () => {
    const { port, seen } = await serve([500]);
    expect(await waitHealthy('127.0.0.1', port, { bootTimeoutMs: 2000, checks: [] }, alive)).toEqual({ up: true });
    expect(seen).toEqual([]);
  });

  it('is up only once the health path answers 2xx', async () => {
    const { port, seen } = await serve([503, 503, 200]);
    expect(await waitHealthy('127.0.0.1', port, { bootTimeoutMs: 5000, checks: [check()] }, alive)).toEqual({ up: true });
    expect(seen).toEqual(['/health', '/health', '/health']);
  });

  it('fails after the check’s attempts, saying what the path answered', async () => {
    const { port, seen } = await serve([404]);
    const result = await waitHealthy('127.0.0.1', port, { bootTimeoutMs: 5000, checks: [check({ attempts: 2 })] }, alive);
    expect(result).toEqual({ up: false, reason: 'failed its health check 2 times (last: GET /health answered 404)' });
    expect(seen).toHaveLength(2);
  });

  it('requires the content when one is given', async () => {
    const { port } = await serve([200], 'starting');
    const result = await waitHealthy('127.0.0.1', port, { bootTimeoutMs: 5000, checks: [check({ attempts: 1, content: 'ready' })] }, alive);
    expect(result.up).toBe(false);
    expect(!result.up && result.reason).toMatch(/without "ready"/);
  });

  it('gives up at the boot timeout when nothing listens', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const result = await waitHealthy('127.0.0.1', port, { bootTimeoutMs: 300, checks: [] }, alive);
    expect(result).toEqual({ up: false, reason: `did not accept connections on $PORT (${port}) within 0.3 s` });
  });

  it('stops waiting when the process is gone or the change is aborted', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    expect(await waitHealthy('127.0.0.1', port, { bootTimeoutMs: 60_000, checks: [] }, async () => true)).toEqual({ up: false, reason: 'exited while booting' });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    expect(await waitHealthy('127.0.0.1', port, { bootTimeoutMs: 60_000, checks: [] }, alive, abort.signal)).toEqual({ up: false, reason: 'aborted' });
  });
});
