import { describe, expect, it } from 'vitest';
import { checkHostname } from './hostname.ts';

describe('checkHostname', () => {
  it.each([
    ['www.example.com', 'www.example.com'],
    ['WWW.Example.COM', 'www.example.com'],
    ['  api.example.com.  ', 'api.example.com'],
    ['*.example.com', '*.example.com'],
    ['a-b.c1.example.io', 'a-b.c1.example.io'],
    ['x'.repeat(63) + '.test', 'x'.repeat(63) + '.test'],
  ])('accepts %j as %j', (raw, host) => {
    expect(checkHostname(raw)).toBe(host);
  });

  it.each([
    ['', /required/],
    ['localhost', /fully qualified/],
    ['*.com', /fully qualified/],
    ['www.example.com:8000', /port/],
    ['http://www.example.com', /scheme or path/],
    ['www.example.com/path', /scheme or path/],
    ['a.*.example.com', /leading "\*\."/],
    ['**.example.com', /leading/],
    ['-a.example.com', /label/],
    ['a-.example.com', /label/],
    ['a_b.example.com', /label/],
    ['a..example.com', /label/],
    ['x'.repeat(64) + '.test', /label/],
    [('a'.repeat(60) + '.').repeat(5) + 'com', /253/],
    ['10.0.0.1', /IP address/],
    ['::1', /IP address/],
    ['host.123', /all digits/],
    ['ünï.example.com', /label/],
  ])('refuses %j', (raw, message) => {
    expect(() => checkHostname(raw)).toThrow(message);
  });

  it('refuses non-strings', () => {
    expect(() => checkHostname(42)).toThrow(/required/);
  });
});
