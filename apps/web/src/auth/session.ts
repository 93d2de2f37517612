import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppEnv, SessionUser } from '../context.ts';

/** The session cookie: an opaque random token; the database keeps only its SHA-256. */
export const SESSION_COOKIE = 'kk_session';
/** Before sign-in, forms are protected by a double-submit cookie (see csrfTokenFor). */
export const PRE_SESSION_COOKIE = 'kk_csrf';
export const LANG_COOKIE = 'lang';
/** Sessions last 12 hours after the last request. */
export const SESSION_TTL_SECONDS = 12 * 3600;
/** …and at most this long after sign-in, however active (SESSION_MAX_AGE_HOURS). */
export const SESSION_MAX_AGE_SECONDS = 24 * 3600;
/** User administration and platform credentials need a password given within this time. */
export const REAUTH_WINDOW_SECONDS = 15 * 60;

const base = (c: Context<AppEnv>) =>
  ({ httpOnly: true, sameSite: 'Lax', path: '/', secure: c.get('deps').secureCookies }) as const;

export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  setCookie(c, SESSION_COOKIE, token, { ...base(c), maxAge: SESSION_TTL_SECONDS });
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, base(c));
}

export function setLangCookie(c: Context<AppEnv>, lang: string): void {
  setCookie(c, LANG_COOKIE, lang, { ...base(c), maxAge: 365 * 24 * 3600 });
}

/**
 * The secret behind a signed-out visitor's CSRF token: the `kk_csrf` cookie, set when missing. A form
 * posted before sign-in must carry the token derived from the cookie the browser sends back, which a
 * page on another site can neither read nor set.
 */
export function preSessionSecret(c: Context<AppEnv>): string {
  const existing = getCookie(c, PRE_SESSION_COOKIE);
  if (existing !== undefined && /^[A-Za-z0-9_-]{43}$/u.test(existing)) return existing;
  const secret = randomBytes(32).toString('base64url');
  setCookie(c, PRE_SESSION_COOKIE, secret, base(c));
  return secret;
}

/** The CSRF token of a secret (a session's csrf_secret or the pre-session cookie): its HMAC. */
export function csrfTokenFor(secret: string): string {
  return createHmac('sha256', secret).update('kikimimi-csrf-v1').digest('base64url');
}

/** Constant-time comparison of a submitted token with the expected one. */
export function sameToken(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given === '' || expected === '') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Signs `user` in: a new session (any previous one of this browser ends, so a session id planted
 * before sign-in is worthless), its cookie, and the new CSRF token for the rest of this response.
 */
export async function startSession(c: Context<AppEnv>, user: SessionUser): Promise<void> {
  const { repos, now } = c.get('deps');
  const previous = getCookie(c, SESSION_COOKIE);
  if (previous !== undefined) await repos.sessions.destroy(previous);
  const at = now();
  const session = await repos.sessions.create(user.id, SESSION_TTL_SECONDS, at);
  setSessionCookie(c, session.token);
  c.set('user', user);
  c.set('auth', 'session');
  c.set('signedInAt', at);
  c.set('csrfToken', csrfTokenFor(session.csrfSecret));
}

/** Signs the browser out: its session ends and the cookie goes. */
export async function endSession(c: Context<AppEnv>): Promise<void> {
  const token = getCookie(c, SESSION_COOKIE);
  if (token !== undefined) await c.get('deps').repos.sessions.destroy(token);
  clearSessionCookie(c);
  c.set('user', null);
  c.set('auth', null);
  c.set('signedInAt', null);
  c.set('csrfToken', csrfTokenFor(preSessionSecret(c)));
}

/** The web actor of a signed-in user, for the audit log. */
export const actorOf = (user: SessionUser) => ({ kind: 'web', id: user.id, name: user.username }) as const;
