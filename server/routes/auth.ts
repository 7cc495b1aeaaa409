// Login, logout and the language switch.
import { Hono } from 'hono';
import { z } from 'zod';
import { messages, isLocale } from '../../views/i18n/index.ts';
import { LoginPage } from '../../views/pages/login.tsx';
import { login, MAX_DEVICE_TOKENS } from '../auth/login.ts';
import { ROLE_HOME } from '../auth/permissions.ts';
import { changingSessions } from '../auth/session-cache.ts';
import { revokeSession } from '../auth/sessions.ts';
import { audit } from '../services/audit.ts';
import { setLocale } from '../services/accounts.ts';
import { actorOf, clearCookie, clientAddress, COOKIE, formBody, readCookie, render, services, str, viewContext, writeCookie, type AppEnv } from './support.ts';

const LoginForm = z.object({
  username: z.string().max(256),
  password: z.string().max(1024),
});

const YEAR = 365 * 24 * 3600;

export const authRoutes = new Hono<AppEnv>()
  .get('/login', (c) => {
    if (c.var.session) return c.redirect(ROLE_HOME[c.var.session.user.role], 303);
    const t = messages(c.var.locale);
    const notice = c.req.query('expired') ? t.login_session_expired : c.req.query('bye') ? t.login_logged_out : null;
    return render(c, LoginPage({ ctx: viewContext(c), notice }));
  })
  .post('/login', async (c) => {
    const { db, clock, config } = c.var.deps;
    const body = await formBody(c);
    const parsed = LoginForm.safeParse({ username: str(body, 'username'), password: str(body, 'password') });
    const t = messages(c.var.locale);
    if (!parsed.success || parsed.data.username.trim() === '' || parsed.data.password === '') {
      return render(c, LoginPage({ ctx: viewContext(c), username: str(body, 'username').slice(0, 64), error: t.login_failed }), 401);
    }
    const devices = (readCookie(c, COOKIE.device) ?? '').split('.').filter((s) => /^[A-Za-z0-9_-]{43}$/.test(s));
    const result = await login(
      db,
      { username: parsed.data.username, password: parsed.data.password, address: clientAddress(c), deviceTokens: devices },
      clock.now(),
      { idleMinutes: config.SESSION_IDLE_MINUTES, absoluteMinutes: config.SESSION_ABSOLUTE_MINUTES },
      { maxFailures: config.LOGIN_MAX_FAILURES, lockMinutes: config.LOGIN_LOCK_MINUTES },
    );
    switch (result.kind) {
      case 'failed':
        return render(c, LoginPage({ ctx: viewContext(c), username: parsed.data.username.slice(0, 64), error: t.login_failed }), 401);
      case 'throttled':
        return render(c, LoginPage({ ctx: viewContext(c), username: parsed.data.username.slice(0, 64), error: t.login_throttled({ minutes: result.minutes }) }), 429);
      case 'ok': {
        // A fresh session id at every login (no fixation); the pre-login token is spent.
        writeCookie(c, COOKIE.session, result.sessionToken, { maxAgeSeconds: config.SESSION_ABSOLUTE_MINUTES * 60 });
        clearCookie(c, COOKIE.csrf);
        if (result.deviceToken) {
          const kept = [result.deviceToken, ...devices].slice(0, MAX_DEVICE_TOKENS);
          writeCookie(c, COOKIE.device, kept.join('.'), { maxAgeSeconds: YEAR });
        }
        return c.redirect('/', 303);
      }
      default:
        return result satisfies never;
    }
  })
  .post('/logout', async (c) => {
    const { db, clock } = c.var.deps;
    const session = c.var.session!;
    await changingSessions(db, () =>
      db.transaction(async (tx) => {
        await revokeSession(tx, session.idHash, clock.now());
        await audit(tx, { action: 'logout', actorId: session.user.id, entityType: 'user', entityId: session.user.id, address: clientAddress(c), at: clock.now() });
      }),
    );
    clearCookie(c, COOKIE.session);
    // The browser drops cached pages and storage too; the trusted-device cookie is
    // re-sent by the next login, so only this site's data is cleared, not the device's trust.
    c.header('Clear-Site-Data', '"cache", "storage"');
    return c.redirect('/login?bye=1', 303);
  })
  .post('/lang', async (c) => {
    const body = await formBody(c);
    const lang = str(body, 'lang');
    const back = str(body, 'back');
    if (isLocale(lang)) {
      writeCookie(c, COOKIE.lang, lang, { maxAgeSeconds: YEAR });
      if (c.var.session) await setLocale(services(c), actorOf(c), lang);
    }
    // Only a local path: never an open redirect.
    const target = /^\/(?![/\\])[A-Za-z0-9/_\-?=&.%]*$/.test(back) ? back : '/';
    return c.redirect(target, 303);
  });
