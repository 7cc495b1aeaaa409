// The request pipeline's guards: security headers, the session, deny-by-default
// access by route, CSRF, and the forced password change after a reset.
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { isLocale, messages } from '../../views/i18n/index.ts';
import { Forbidden } from '../errors.ts';
import { ErrorPage } from '../../views/pages/error.tsx';
import { COOKIE, readCookie, render, viewContext, writeCookie, type AppEnv, type Ctx } from '../routes/support.ts';
import { can, PUBLIC, ROUTE_ACCESS } from './permissions.ts';
import { loadSession } from './sessions.ts';
import { newToken, sameToken } from './tokens.ts';

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const h = c.res.headers;
  h.set('Content-Security-Policy', CSP);
  h.set('X-Content-Type-Options', 'nosniff');
  h.set('X-Frame-Options', 'DENY');
  // same-origin, not no-referrer: under no-referrer browsers send `Origin: null`
  // on form posts, which the CSRF check must refuse. No referrer leaves the site.
  h.set('Referrer-Policy', 'same-origin');
  h.set('Cross-Origin-Opener-Policy', 'same-origin');
  h.set('Cross-Origin-Resource-Policy', 'same-origin');
  h.set('Permissions-Policy', 'camera=(self), microphone=(), geolocation=(), payment=()');
  // Pages may carry patient data: never stored by the browser or a proxy.
  // Static files set their own (immutable) caching.
  if (!h.has('Cache-Control')) h.set('Cache-Control', 'no-store');
};

/** Requests a page makes on its own (the alerts badge every minute, a pump's state every 5 s): they must not keep an unattended session alive (idle expiry). */
const isPassive = (path: string): boolean => path === '/alerts/badge' || /^\/pumps\/[^/]+\/state$/.test(path);

/** Loads the session (if any), the language and the CSRF token of this request. */
export const sessionLoader: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { db, clock, config } = c.var.deps;
  const token = readCookie(c, COOKIE.session);
  const session = token
    ? await loadSession(db, token, clock.now(), { idleMinutes: config.SESSION_IDLE_MINUTES, absoluteMinutes: config.SESSION_ABSOLUTE_MINUTES }, isPassive(c.req.path))
    : null;
  c.set('session', session);
  const cookieLang = readCookie(c, COOKIE.lang);
  c.set('locale', session?.user.locale ?? (cookieLang && isLocale(cookieLang) ? cookieLang : 'vi'));
  if (session) {
    c.set('csrfToken', session.csrfToken);
  } else {
    // Before login, a double-submit token: a cookie and the same value in the form.
    let anon = readCookie(c, COOKIE.csrf);
    if (!anon || anon.length < 32) {
      anon = newToken();
      writeCookie(c, COOKIE.csrf, anon);
    }
    c.set('csrfToken', anon);
  }
  await next();
};

/**
 * The registered route of the handler that will answer: the first matched
 * non-middleware route (handlers answer; they never pass on), so
 * '/patients/import' is judged as itself, not as '/patients/:patientId'.
 */
export function handlerRoute(c: Ctx): string | null {
  const first = matchedRoutes(c).find((r) => r.method !== 'ALL');
  return first ? `${first.method} ${first.path}` : null;
}

/** Deny by default: the route must be in ROUTE_ACCESS, and the role must hold its action. */
export const accessControl: MiddlewareHandler<AppEnv> = async (c, next) => {
  const route = handlerRoute(c);
  if (route === null) return next(); // nothing matched: the 404 handler answers
  const access = ROUTE_ACCESS[route];
  if (access === undefined) {
    c.var.deps.logger.error('route_missing_from_access_table', { route });
    throw new Forbidden('role');
  }
  if (access === PUBLIC) return next();
  const session = c.var.session;
  if (!session) {
    if (c.req.header('hx-request')) {
      c.header('HX-Redirect', '/login');
      return c.body(null, 401);
    }
    if (c.req.method === 'GET') return c.redirect('/login', 303);
    return render(c, ErrorPage({ ctx: viewContext(c), message: messages(c.var.locale).login_session_expired }), 401);
  }
  if (!can(session.user.role, access)) throw new Forbidden('role');
  return next();
};

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Two layers: the browser's own word on where the request comes from
 * (Sec-Fetch-Site / Origin), and a token bound to the session (or, before
 * login, to a cookie) sent by htmx in a header and by forms in a field.
 */
export const csrfGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!UNSAFE.has(c.req.method)) return next();
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') throw new Forbidden('csrf');
  const origin = c.req.header('origin');
  if (origin && origin !== requestOrigin(c)) throw new Forbidden('csrf');
  let sent = c.req.header('x-csrf-token');
  if (!sent) {
    const type = c.req.header('content-type') ?? '';
    if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
      const field = (await c.req.parseBody({ all: true }))['_csrf'];
      sent = typeof field === 'string' ? field : undefined;
    }
  }
  if (!sameToken(sent, c.var.csrfToken)) throw new Forbidden('csrf');
  return next();
};

function requestOrigin(c: Ctx): string {
  const url = new URL(c.req.url);
  if (c.var.deps.config.TRUST_PROXY) {
    const proto = c.req.header('x-forwarded-proto');
    const host = c.req.header('x-forwarded-host');
    if (proto || host) return `${proto ?? url.protocol.slice(0, -1)}://${host ?? url.host}`;
  }
  return url.origin;
}

/** After an admin reset, nothing but choosing a new password (and logging out) until it is done. */
export const mustChangePassword: MiddlewareHandler<AppEnv> = async (c, next) => {
  const session = c.var.session;
  if (!session?.user.mustChangePassword) return next();
  const route = handlerRoute(c);
  const allowed = route === null || ROUTE_ACCESS[route] === PUBLIC || route.endsWith(' /account/password') || route === 'POST /logout';
  if (allowed) return next();
  if (c.req.header('hx-request')) {
    c.header('HX-Redirect', '/account/password');
    return c.body(null, 204);
  }
  return c.redirect('/account/password', 303);
};
