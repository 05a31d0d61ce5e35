import type { MiddlewareHandler } from 'hono';
import { PlatformError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import { tokensRepo, type TokenOwner } from '../auth/tokens.ts';
import type { ApiEnv } from './api-env.ts';

/** The token in `Authorization: Bearer T`, or the password of `Authorization: Basic` (git sends that). */
export function tokenFrom(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value.trim();
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

export function authenticate(p: Platform, header: string | undefined): TokenOwner | undefined {
  const token = tokenFrom(header);
  return token ? tokensRepo(p.db).verify(token) : undefined;
}

export function requireToken(p: Platform): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const user = authenticate(p, c.req.header('authorization'));
    if (!user) throw new PlatformError(401, 'unauthorized', 'missing or invalid API token (run `paas login`, or set PAAS_TOKEN)');
    c.set('user', user);
    await next();
  };
}
