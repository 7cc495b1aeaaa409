// What every route shares: the Hono environment type, cookies, the client
// address, building a page's view context, flash messages and rendering.
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { ZodError } from 'zod';
import type { Locale } from '../../db/schema.ts';
import type { ViewContext } from '../../views/context.ts';
import { isTextKey, messages, type MessageKey, type TextKey } from '../../views/i18n/index.ts';
import type { CurrentSession } from '../auth/sessions.ts';
import { can, ROLE_HOME } from '../auth/permissions.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { FieldErrors } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { PumpRuntime } from '../pumps/runtime.ts';
import type { Actor, ServiceDeps } from '../services/context.ts';
import type { Db } from '../../db/client.ts';

export interface AppDeps {
  db: Db;
  clock: Clock;
  config: Config;
  logger: Logger;
  /** The pumps this instance drives; absent: no pump, every counter measures by hand. */
  pumps?: PumpRuntime;
  /** Version stamp of the static files (their hash), for cache busting. */
  staticVersion?: string;
}

export type AppEnv = {
  Variables: {
    deps: AppDeps;
    session: CurrentSession | null;
    locale: Locale;
    csrfToken: string;
  };
};
export type Ctx = Context<AppEnv>;

export const COOKIE = { session: 'mp_session', device: 'mp_device', lang: 'mp_lang', csrf: 'mp_csrf', flash: 'mp_flash' } as const;

export function isSecure(c: Ctx): boolean {
  const { COOKIE_SECURE, TRUST_PROXY } = c.var.deps.config;
  if (COOKIE_SECURE !== 'auto') return COOKIE_SECURE === 'true';
  if (new URL(c.req.url).protocol === 'https:') return true;
  return TRUST_PROXY && c.req.header('x-forwarded-proto') === 'https';
}

/** Cookies get the `__Host-` prefix (and Secure) over HTTPS; plain HTTP on a clinic LAN gets neither. */
export function readCookie(c: Ctx, name: string): string | undefined {
  return isSecure(c) ? getCookie(c, name, 'host') : getCookie(c, name);
}

export function writeCookie(c: Ctx, name: string, value: string, opts: { maxAgeSeconds?: number; httpOnly?: boolean } = {}): void {
  setCookie(c, name, value, {
    path: '/',
    httpOnly: opts.httpOnly ?? true,
    sameSite: 'Lax',
    ...(opts.maxAgeSeconds !== undefined ? { maxAge: opts.maxAgeSeconds } : {}),
    ...(isSecure(c) ? { secure: true, prefix: 'host' as const } : {}),
  });
}

export function clearCookie(c: Ctx, name: string): void {
  deleteCookie(c, name, { path: '/', ...(isSecure(c) ? { secure: true, prefix: 'host' as const } : {}) });
}

export function clientAddress(c: Ctx): string {
  if (c.var.deps.config.TRUST_PROXY) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'local';
}

export function actorOf(c: Ctx): Actor {
  const session = c.var.session;
  if (!session) throw new Error('actorOf called without a session');
  return { userId: session.user.id, address: clientAddress(c) };
}

export function services(c: Ctx): ServiceDeps {
  return { db: c.var.deps.db, clock: c.var.deps.clock };
}

export function scopeOf(c: Ctx): string[] | null {
  const user = c.var.session?.user;
  if (!user) return [];
  // The admin manages clinics and accounts programme-wide; everyone else sees their own clinics.
  return user.role === 'admin' ? null : user.clinicIds;
}

const NAV: { href: string; label: TextKey; action: Parameters<typeof can>[1] }[] = [
  { href: '/counter', label: 'nav_counter', action: 'counter.dose' },
  { href: '/checkin', label: 'nav_checkin', action: 'counter.checkin' },
  { href: '/review', label: 'nav_review', action: 'dose.review' },
  { href: '/register', label: 'nav_register', action: 'register.view' },
  { href: '/pumps', label: 'nav_pumps', action: 'pump.view' },
  { href: '/followup', label: 'nav_followup', action: 'followup.view' },
  { href: '/alerts', label: 'nav_alerts', action: 'alerts.inbox' },
  { href: '/reports', label: 'nav_reports', action: 'report.view' },
  { href: '/patients', label: 'nav_patients', action: 'patient.view' },
  { href: '/admin/clinics', label: 'nav_clinics', action: 'clinic.manage' },
  { href: '/admin/staff', label: 'nav_staff', action: 'staff.manage' },
  { href: '/admin/rules', label: 'nav_rules', action: 'rules.manage' },
  { href: '/admin/deliveries', label: 'nav_deliveries', action: 'delivery.view' },
  { href: '/audit', label: 'nav_audit', action: 'audit.view' },
  { href: '/account/password', label: 'nav_account', action: 'account.self' },
];

type FlashPayload = { k: MessageKey; p?: Record<string, string | number> };

/** A one-time message for the page after a redirect (post → redirect → get). */
export function flash<K extends MessageKey>(c: Ctx, key: K, params?: Record<string, string | number>): void {
  writeCookie(c, COOKIE.flash, encodeURIComponent(JSON.stringify({ k: key, p: params } satisfies FlashPayload)), { maxAgeSeconds: 60 });
}

function takeFlash(c: Ctx): string | null {
  const raw = readCookie(c, COOKIE.flash);
  if (!raw) return null;
  clearCookie(c, COOKIE.flash);
  try {
    const { k, p } = JSON.parse(decodeURIComponent(raw)) as FlashPayload;
    const m = messages(c.var.locale)[k] as unknown;
    if (typeof m === 'string') return m;
    if (typeof m === 'function') return (m as (p: unknown) => string)(p ?? {});
  } catch {
    // A tampered or stale cookie shows nothing.
  }
  return null;
}

export function viewContext(c: Ctx): ViewContext {
  const user = c.var.session?.user ?? null;
  const home = user ? ROLE_HOME[user.role] : '/login';
  return {
    t: messages(c.var.locale),
    locale: c.var.locale,
    path: c.req.path,
    user: user && { fullName: user.fullName, role: user.role },
    csrfToken: c.var.csrfToken,
    nav: user ? [{ href: home, label: 'nav_home' }, ...NAV.filter((n) => can(user.role, n.action)).map(({ href, label }) => ({ href, label }))] : [],
    flash: c.req.method === 'GET' ? takeFlash(c) : null,
    staticVersion: c.var.deps.staticVersion ?? '0',
  };
}

export function render(c: Ctx, page: JSX.Element, status: 200 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 503 = 200): Response {
  return c.html(`<!DOCTYPE html>${String(page)}`, status);
}

/** Field messages from a zod error: each issue's message is a catalogue key. */
export function fieldErrors(error: ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? '_');
    if (out[field]) continue;
    out[field] = isTextKey(issue.message) ? issue.message : 'err_invalid';
  }
  return out;
}

/** A form body as plain strings (and string arrays for repeated fields), whatever was sent. */
export async function formBody(c: Ctx): Promise<Record<string, string | string[]>> {
  // No prototype: a field named __proto__ is a field like any other.
  const out: Record<string, string | string[]> = Object.create(null);
  // NUL is never text a person typed, and PostgreSQL refuses it in text columns.
  const clean = (x: string) => (x.includes('\u0000') ? x.replace(/\u0000/g, '') : x);
  const type = c.req.header('content-type')?.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded' && !c.req.bodyCache.formData) {
    // Every htmx form: parsed as the URL standard says (what Request.formData does for this type, at a tenth of its cost).
    // A field sent twice, or named with [], is a list, as parseBody({ all: true }) makes it.
    for (const [k, raw] of new URLSearchParams(await c.req.text())) {
      const v = clean(raw);
      const had = out[k];
      out[k] = had === undefined ? (k.endsWith('[]') ? [v] : v) : Array.isArray(had) ? [...had, v] : [had, v];
    }
    return out;
  }
  const body = await c.req.parseBody({ all: true });
  for (const [k, v] of Object.entries(body)) {
    if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string').map(clean);
    else if (typeof v === 'string') out[k] = clean(v);
  }
  return out;
}

/** The first value of a field as a string ('' when absent). */
export const str = (body: Record<string, string | string[]>, key: string): string => {
  const v = body[key];
  return Array.isArray(v) ? (v[v.length - 1] ?? '') : (v ?? '');
};
export const list = (body: Record<string, string | string[]>, key: string): string[] => {
  const v = body[key];
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
};
