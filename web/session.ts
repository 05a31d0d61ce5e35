import crypto from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';

/**
 * Dashboard sessions, server-side and in memory: the browser holds only a random id in an
 * HttpOnly, SameSite=Strict cookie; the API token it signed in with never leaves the server.
 * A platform restart signs everyone out, which is the safe direction to fail.
 */
export interface Session {
  id: string;
  /** The API token the user signed in with; the dashboard calls the API with it. */
  token: string;
  user: string;
  /** Sent back by the page on every state-changing request (form field or x-csrf-token header). */
  csrf: string;
  expires: number;
}

export const SESSION_COOKIE = 'paas_session';
const IDLE_MS = 12 * 60 * 60 * 1000;

const same = (a: string, b: string) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && crypto.timingSafeEqual(x, y);
};

export function sessionStore() {
  const sessions = new Map<string, Session>();
  const random = () => crypto.randomBytes(32).toString('base64url');

  return {
    create(c: Context, token: string, user: string): Session {
      const now = Date.now();
      for (const [id, s] of sessions) if (s.expires < now) sessions.delete(id);
      const session = { id: random(), token, user, csrf: random(), expires: Date.now() + IDLE_MS };
      sessions.set(session.id, session);
      setCookie(c, SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'Strict', path: '/' });
      return session;
    },
    /** The caller's session, sliding its expiry; undefined when missing or expired. */
    get(c: Context): Session | undefined {
      const id = getCookie(c, SESSION_COOKIE);
      const session = id ? sessions.get(id) : undefined;
      if (!session) return undefined;
      if (session.expires < Date.now()) {
        sessions.delete(session.id);
        return undefined;
      }
      session.expires = Date.now() + IDLE_MS;
      return session;
    },
    destroy(c: Context, session: Session | undefined): void {
      if (session) sessions.delete(session.id);
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
    },
    csrfOk(session: Session, sent: string | undefined): boolean {
      return typeof sent === 'string' && same(sent, session.csrf);
    },
  };
}

export type SessionStore = ReturnType<typeof sessionStore>;

/**
 * Defence in depth next to the CSRF token: a browser's cross-site POST carries an Origin that is
 * not ours. (Non-browser clients send none; they still need the session and the token.)
 */
export function sameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (!origin || origin === 'null') return origin !== 'null';
  return origin === new URL(c.req.url).origin || new URL(origin).host === c.req.header('host');
}
