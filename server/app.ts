// Builds the Hono app: middleware, routes, and the one place where failures
// become HTTP statuses. No I/O at import time: tests call createApp() and
// app.request() with their own database and clock.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { sql } from 'drizzle-orm';
import { isUnavailable } from '../db/client.ts';
import { messages, type TextKey } from '../views/i18n/index.ts';
import { ErrorPage } from '../views/pages/error.tsx';
import { accessControl, csrfGuard, mustChangePassword, securityHeaders, sessionLoader } from './auth/middleware.ts';
import { Conflict, Forbidden, Invalid, NotFound } from './errors.ts';
import { accountRoutes } from './routes/account.ts';
import { adminClinicRoutes } from './routes/admin-clinics.ts';
import { adminRuleRoutes } from './routes/admin-rules.ts';
import { adminStaffRoutes } from './routes/admin-staff.ts';
import { authRoutes } from './routes/auth.ts';
import { homeRoutes } from './routes/home.ts';
import { placeRoutes } from './routes/places.ts';
import { patientImportRoutes } from './routes/patient-import.ts';
import { patientRoutes } from './routes/patients.ts';
import { patientCardRoutes } from './routes/patient-card.ts';
import { counterRoutes } from './routes/counter.ts';
import { registerRoutes } from './routes/register.ts';
import { reviewRoutes } from './routes/review.ts';
import { followupRoutes } from './routes/followup.ts';
import { reportRoutes } from './routes/reports.ts';
import { pumpRoutes } from './routes/pumps.ts';
import { loadStaticFiles, staticRoutes, type StaticFiles } from './routes/static.ts';
import { render, viewContext, type AppDeps, type AppEnv, type Ctx } from './routes/support.ts';

/** Largest request body: forms are small; a patient photo is shrunk in the browser first. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

let assetsCache: StaticFiles | null = null;

export function createApp(deps: AppDeps): Hono<AppEnv> {
  assetsCache ??= loadStaticFiles();
  const fullDeps: AppDeps = { ...deps, staticVersion: assetsCache.version };
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    c.set('deps', fullDeps);
    c.set('session', null);
    c.set('locale', 'vi');
    c.set('csrfToken', '');
    await next();
  });
  app.use('*', securityHeaders);
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.text(messages('vi').error_413 + ' / ' + messages('en').error_413, 413),
    }),
  );
  app.route('/', staticRoutes(assetsCache));
  app.get('/healthz', async (c) => {
    await deps.db.execute(sql`select 1`);
    return c.json({ ok: true });
  });
  app.use('*', sessionLoader);
  app.use('*', accessControl);
  app.use('*', csrfGuard);
  app.use('*', mustChangePassword);

  app.route('/', authRoutes);
  app.route('/', homeRoutes);
  app.route('/', accountRoutes);
  app.route('/', adminClinicRoutes);
  app.route('/', placeRoutes);
  app.route('/', adminStaffRoutes);
  app.route('/', adminRuleRoutes);
  app.route('/', patientImportRoutes);
  app.route('/', patientCardRoutes);
  app.route('/', patientRoutes);
  app.route('/', counterRoutes);
  app.route('/', reviewRoutes);
  app.route('/', followupRoutes);
  app.route('/', registerRoutes);
  app.route('/', reportRoutes);
  app.route('/', pumpRoutes);

  app.notFound((c) => errorResponse(c as Ctx, 404));
  app.onError((err, c) => {
    const ctx = c as Ctx;
    if (err instanceof NotFound) return errorResponse(ctx, 404);
    if (err instanceof Forbidden) return errorResponse(ctx, 403, err.reason === 'csrf' ? 'error_csrf' : 'error_403');
    if (err instanceof Conflict) return errorResponse(ctx, 409, err.messageKey);
    if (err instanceof Invalid) return errorResponse(ctx, 422, 'err_invalid');
    if (err instanceof HTTPException) return err.getResponse();
    if (isUnavailable(err)) {
      deps.logger.warn('database_unavailable', { path: ctx.req.routePath, code: (err as { code?: string }).code ?? null });
      return errorResponse(ctx, 503);
    }
    // Only the error's class and the route: a message may quote patient data.
    deps.logger.error('unhandled_error', { name: err.name, code: errorCode(err), route: ctx.req.routePath, method: ctx.req.method });
    if (deps.config.NODE_ENV !== 'production') deps.logger.debug('unhandled_error_stack', { stack: err.stack ?? null });
    return errorResponse(ctx, 500);
  });
  return app;
}


function errorResponse(c: Ctx, status: 403 | 404 | 409 | 422 | 500 | 503, key?: TextKey): Response {
  const messageKey: TextKey = key ?? (status === 422 ? 'err_invalid' : `error_${status}`);
  // The page may be built before the session loaded (e.g. a fault in the loader itself).
  const locale = c.get('locale') ?? 'vi';
  c.set('locale', locale);
  const message = messages(locale)[messageKey];
  if (c.req.header('hx-request')) return c.html(`<p class="form-errors" role="alert">${escapeHtml(message)}</p>`, status);
  if (status === 503) c.header('Retry-After', '10');
  return render(c, ErrorPage({ ctx: viewContext(c), message }), status);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The first error code in the cause chain (driver codes are not patient data). */
function errorCode(e: unknown): string | null {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}
