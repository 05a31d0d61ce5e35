import { describe, expect, it } from 'vitest';
import { parseAppJson } from './app-json.ts';

describe('app.json', () => {
  it('reads Dokku’s startup checks for web with Dokku’s defaults', () => {
    const health = parseAppJson(JSON.stringify({
      name: 'demo',
      healthchecks: {
        web: [
          { type: 'startup', name: 'ready', path: '/health', attempts: 10, timeout: 2, wait: 1 },
          { path: '/ready', content: 'ok' },
          { type: 'liveness', path: '/live' },
        ],
        worker: [{ type: 'startup', command: ['true'] }],
      },
    }));
    expect(health).toEqual({
      web: [
        { path: '/health', attempts: 10, timeout: 2, wait: 1, initialDelay: 0 },
        { path: '/ready', attempts: 3, timeout: 5, wait: 5, initialDelay: 0, content: 'ok' },
      ],
    });
  });

  it('reads a per-app boot timeout', () => {
    expect(parseAppJson('{"paas": {"boot_timeout": 120}}')).toEqual({ web: [], bootTimeoutSeconds: 120 });
  });

  it('has nothing to say without healthchecks or boot timeout', () => {
    expect(parseAppJson('{"name": "x", "env": {}}')).toBeUndefined();
  });

  it('refuses malformed parts with a message naming the field', () => {
    const cases: Array<[string, RegExp]> = [
      ['{', /not valid JSON/],
      ['[]', /must be a JSON object/],
      ['{"healthchecks": []}', /"healthchecks" must be an object/],
      ['{"healthchecks": {"web": {}}}', /healthchecks.web must be a list/],
      ['{"healthchecks": {"web": [{"path": "health"}]}}', /healthchecks.web\[0\].path must be a URL path/],
      ['{"healthchecks": {"web": [{"path": "/", "attempts": 0}]}}', /healthchecks.web\[0\].attempts must be a whole number from 1 to 100, got 0/],
      ['{"healthchecks": {"web": [{"path": "/", "timeout": "5"}]}}', /timeout must be a whole number/],
      ['{"healthchecks": {"web": [{"type": "sometimes"}]}}', /type must be startup, liveness or readiness/],
      ['{"healthchecks": {"web": [{"command": ["curl", "x"]}]}}', /only HTTP path checks are supported/],
      ['{"healthchecks": {"web": [{"path": "/", "port": 8080}]}}', /leave "port" out/],
      ['{"paas": {"boot_timeout": 0}}', /paas.boot_timeout must be a whole number from 1 to 3600/],
      ['{"paas": {"boot_timeout": 99999}}', /paas.boot_timeout/],
      ['{"paas": 5}', /"paas" must be an object/],
    ];
    for (const [text, message] of cases) expect(() => parseAppJson(text), text).toThrow(message);
  });
});
