import { describe, expect, it } from 'vitest';
import { accessJson, formatAccess, type AccessFields } from './access-log.ts';

const base: AccessFields = {
  method: 'GET',
  path: '/',
  host: 'demo.localhost',
  requestId: 'abc',
  fwd: '127.0.0.1',
  dyno: 'web.1',
  connect: 1.4,
  service: 3.6,
  status: 200,
  bytes: 123,
  protocol: 'http',
};

describe('formatAccess', () => {
  it("writes Heroku's router line", () => {
    expect(formatAccess(base)).toBe(
      'at=info method=GET path="/" host=demo.localhost request_id=abc fwd="127.0.0.1" dyno=web.1 connect=1ms service=4ms status=200 bytes=123 protocol=http',
    );
  });

  it('writes errors with code and description, and blanks for what never happened', () => {
    expect(formatAccess({ ...base, code: 'H12', desc: 'Request timeout', dyno: null, connect: undefined, service: undefined, status: 503 })).toBe(
      'at=error code=H12 desc="Request timeout" method=GET path="/" host=demo.localhost request_id=abc fwd="127.0.0.1" dyno= connect= service= status=503 bytes=123 protocol=http',
    );
  });

  it('keeps the line parseable whatever the client sent', () => {
    const line = formatAccess({ ...base, path: '/a"b\\c', host: 'evil host"x', method: 'G T' });
    expect(line).toContain('path="/a\\"b\\\\c"');
    expect(line).toContain('host=evil?host?x ');
    expect(line).toContain('method=G?T ');
  });

  it('builds the same JSON line as JSON.stringify of the entry', () => {
    const cases: Array<[string | null, AccessFields]> = [
      ['demo', base],
      [null, { ...base, dyno: null, connect: undefined, service: undefined }],
      ['demo', { ...base, code: 'H12', desc: 'Request timeout', status: 503 }],
      ['we"ird\\app', { ...base, path: '/a"b\\c\x01\x7f\u00e9', fwd: '1.2.3.4, "x"', dyno: 'web"1\\\n\u2028\ud800', host: 'a b"c', method: 'G\tET' }],
      ['demo', { ...base, code: 'H25', desc: 'HTTP restriction: "bad" \\ request', requestId: 'id with spaces\u00ff' }],
    ];
    for (const [app, f] of cases) {
      const line = accessJson(app, f);
      expect(line).toBe(JSON.stringify({ app, dyno: f.dyno, text: formatAccess(f) }));
      expect(JSON.parse(line).text).toBe(formatAccess(f));
    }
  });
});
