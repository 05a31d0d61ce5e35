import { describe, expect, it } from 'vitest';
import { formatLine, formatTime, matches, MAX_LINE_BYTES, splitText } from './format.ts';

describe('log line format', () => {
  it('prints microsecond UTC times with an explicit offset', () => {
    expect(formatTime(new Date('2026-01-01T00:00:00.123Z'))).toBe('2026-01-01T00:00:00.123000+00:00');
    expect(formatTime('2026-01-01T00:00:00.123456789Z')).toBe('2026-01-01T00:00:00.123456+00:00');
    expect(formatTime('2026-01-01T00:00:00Z')).toBe('2026-01-01T00:00:00.000000+00:00');
    expect(formatLine({ time: '2026-01-01T00:00:00.000000+00:00', source: 'app', dyno: 'web.1', text: 'hi' })).toBe('2026-01-01T00:00:00.000000+00:00 app[web.1]: hi');
  });

  it('splits at newlines and at 10 KB on character boundaries, and cleans control characters', () => {
    expect(splitText('a\nb\r\nc\n')).toEqual(['a', 'b', 'c']);
    expect(splitText('')).toEqual(['']);
    expect(splitText('bell\x07 nul\x00 \x1b[31mred')).toEqual(['bell\uFFFD nul\uFFFD \x1b[31mred']);
    const long = 'é'.repeat(MAX_LINE_BYTES); // 2 bytes each
    const pieces = splitText(long);
    expect(pieces).toHaveLength(2);
    for (const p of pieces) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(pieces.join('')).toBe(long);
    const mb = splitText('x'.repeat(1024 * 1024));
    expect(mb).toHaveLength(Math.ceil((1024 * 1024) / MAX_LINE_BYTES));
  });

  it('filters by process type, dyno and source', () => {
    const l = { source: 'app' as const, dyno: 'web.2' };
    expect(matches(l, { ps: 'web' })).toBe(true);
    expect(matches(l, { ps: 'web.2' })).toBe(true);
    expect(matches(l, { ps: 'web.1' })).toBe(false);
    expect(matches(l, { ps: 'we' })).toBe(false);
    expect(matches(l, { source: 'router' })).toBe(false);
    expect(matches(l, { source: 'app', ps: 'web' })).toBe(true);
  });
});
