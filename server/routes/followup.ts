// Missed-dose follow-up over HTTP: the counsellor's list and contacts, the
// in-app alerts (list and badge), the manager's dropout rulings and day
// closes, one's own alert channels, and the admin's delivery log.
import { and, asc, eq, inArray } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { clinics, CONTACT_METHODS, CONTACT_OUTCOMES, HOLDING_OUTCOMES, patients, userClinics, users } from '../../db/schema.ts';
import { AlertsPage, BadgeFragment, ClosesPage, DropoutsPage } from '../../views/pages/alerts.tsx';
import { AlertSettingsPage, DeliveriesPage } from '../../views/pages/deliveries.tsx';
import { BUCKETS, ContactForm, ContactFormPage, FollowupPage, MISSED_PAGE_SIZE, type Bucket, type ContactFormValues, type FollowupView } from '../../views/pages/followup.tsx';
import { can } from '../auth/permissions.ts';
import { addDays } from '../dosing/days.ts';
import { Invalid, NotFound } from '../errors.ts';
import { attemptsOf, deliveryLog, retryFailed } from '../jobs/outbox.ts';
import { channelsOn } from '../jobs/scheduler.ts';
import { closeDueDays, recentCloses } from '../services/day-close.ts';
import { dropoutProposals, groundsOf, inboxOf, logContact, markAllRead, markReviewed, missedList, patientOfAlert, ruleOnDropout, setAlertChannels, unreadCount } from '../services/follow-up.ts';
import { dayInput, noteText, text } from '../services/patient-schema.ts';
import { getPatientInScope } from '../services/patients.ts';
import { renderPatientPage } from './patients.ts';
import { actorOf, fieldErrors, flash, formBody, render, scopeOf, services, str, viewContext, type AppEnv, type Ctx } from './support.ts';

const optionalDay = z
  .string()
  .trim()
  .transform((s) => (s === '' ? null : s))
  .pipe(z.union([z.null(), dayInput]));

const ContactSchema = z
  .object({
    patient: z.uuid('err_invalid'),
    method: z.enum(CONTACT_METHODS, 'err_choose'),
    outcome: z.enum(CONTACT_OUTCOMES, 'err_choose'),
    returnDate: optionalDay,
    holdUntil: optionalDay,
    nextActionDate: optionalDay,
    note: noteText(2000),
  })
  .superRefine((v, ctx) => {
    if (HOLDING_OUTCOMES.includes(v.outcome) && !v.holdUntil) ctx.addIssue({ code: 'custom', path: ['holdUntil'], message: 'fu_err_hold_required' });
  });

const isUuid = (s: string | undefined): s is string => z.uuid().safeParse(s).success;

/** The clinics (facilities and satellite points) the user works at, active ones. */
async function myClinics(c: Ctx) {
  const scope = scopeOf(c);
  const { db } = c.var.deps;
  return db
    .select({ id: clinics.id, code: clinics.code, name: clinics.name, kind: clinics.kind, timeZone: clinics.timeZone })
    .from(clinics)
    .where(and(eq(clinics.active, true), scope ? inArray(clinics.id, scope.length ? scope : ['00000000-0000-0000-0000-000000000000']) : undefined))
    .orderBy(asc(clinics.code));
}

async function dropoutsPage(c: Ctx, failed?: { alertId: string; note: string; error: 'err_invalid' | 'err_too_long' }, status: 200 | 422 = 200) {
  const mine = await myClinics(c);
  const rows = await dropoutProposals(c.var.deps.db, mine.map((m) => m.id));
  if (failed && !rows.some((r) => r.alert_id === failed.alertId)) throw new NotFound('alert');
  return render(c, DropoutsPage({ ctx: viewContext(c), rows: rows.map((r) => ({ ...r, missed_days: Number(r.missed_days) })), failed }), status);
}

async function listView(c: Ctx, q: { clinic?: string; counsellor?: string; bucket?: string; page?: string }, failed?: FollowupView['failed']): Promise<FollowupView> {
  const { db, clock } = c.var.deps;
  const user = c.var.session!.user;
  const mine = await myClinics(c);
  const clinic = q.clinic && mine.some((m) => m.id === q.clinic) ? q.clinic : '';
  const listOf = (counsellor: string) => missedList(db, clock.now(), mine.map((m) => m.id), { clinicId: clinic || undefined, counsellor: counsellor === 'all' ? undefined : counsellor });
  // 'all' and 'none' need no check: the list is read alongside the counsellors (one round trip less).
  const [counsellors, everyone] = await Promise.all([
    mine.length
      ? db
          .selectDistinct({ id: users.id, fullName: users.fullName })
          .from(users)
          .innerJoin(userClinics, eq(userClinics.userId, users.id))
          .where(and(eq(users.role, 'counsellor'), eq(users.active, true), inArray(userClinics.clinicId, mine.map((m) => m.id))))
          .orderBy(asc(users.fullName))
      : [],
    q.counsellor === 'all' || q.counsellor === 'none' ? listOf(q.counsellor) : null,
  ]);
  // A counsellor with patients of their own starts on them; everyone else on all.
  const hasOwn = async () => (await db.select({ id: patients.id }).from(patients).where(eq(patients.counsellorId, user.id)).limit(1)).length > 0;
  const counsellor =
    q.counsellor === 'all' || q.counsellor === 'none' || counsellors.some((x) => x.id === q.counsellor) ? q.counsellor! : user.role === 'counsellor' && q.counsellor === undefined && (await hasOwn()) ? user.id : 'all';
  const bucket = (BUCKETS as readonly string[]).includes(q.bucket ?? '') ? (q.bucket as Bucket) : '';
  const all = everyone ?? (await listOf(counsellor));
  const counts = { today: 0, d2_4: 0, d5_13: 0, d14: 0 } as Record<Bucket, number>;
  for (const r of all) counts[r.bucket]++;
  const inBucket = bucket ? all.filter((r) => r.bucket === bucket) : all;
  const pages = Math.max(1, Math.ceil(inBucket.length / MISSED_PAGE_SIZE));
  // The page asked for; after a failed contact, the page that holds that patient's card.
  const failedAt = failed ? inBucket.findIndex((r) => r.patientId === failed.patientId) : -1;
  const page = failedAt >= 0 ? Math.floor(failedAt / MISSED_PAGE_SIZE) + 1 : Math.min(pages, Math.max(1, Number.parseInt(q.page ?? '1', 10) || 1));
  const rows = inBucket.slice((page - 1) * MISSED_PAGE_SIZE, page * MISSED_PAGE_SIZE);
  const tz = mine.find((m) => m.id === clinic)?.timeZone ?? mine[0]?.timeZone ?? c.var.deps.config.DEFAULT_TIME_ZONE;
  return {
    clinics: mine,
    counsellors: user.role === 'counsellor' && !counsellors.some((x) => x.id === user.id) ? [{ id: user.id, fullName: user.fullName }, ...counsellors] : counsellors,
    filter: { clinic, counsellor, bucket },
    counts,
    page,
    pages,
    rows: rows.map((r) => ({ ...r, since: addDays(r.asOf, -(r.missed - 1)), lastContact: r.lastContact && { ...r.lastContact, at: new Date(r.lastContact.at) } })),
    timeZone: tz,
    canContact: can(user.role, 'followup.contact'),
    failed,
  };
}

const filterQuery = (f: { clinic: string; counsellor: string; bucket: string }) => new URLSearchParams(Object.entries(f).filter(([, v]) => v !== '')).toString();

export const followupRoutes = new Hono<AppEnv>()
  .get('/followup', async (c) => render(c, FollowupPage({ ctx: viewContext(c), v: await listView(c, c.req.query()) })))
  .get('/followup/contact-form', async (c) => {
    const q = c.req.query();
    if (!isUuid(q.patient)) throw new NotFound('patient');
    const patient = await getPatientInScope(c.var.deps.db, q.patient, scopeOf(c));
    const filter = { clinic: isUuid(q.clinic) ? q.clinic : '', counsellor: /^(all|none|[0-9a-f-]{36})$/.test(q.counsellor ?? '') ? q.counsellor! : '', bucket: (BUCKETS as readonly string[]).includes(q.bucket ?? '') ? q.bucket! : '' };
    const ctx = viewContext(c);
    if (c.req.header('hx-request')) return c.html(String(ContactForm({ ctx, patientId: patient.id, filter, failed: null })));
    return render(c, ContactFormPage({ ctx, patient: { id: patient.id, code: patient.code, fullName: patient.fullName }, filter }));
  })
  .post('/followup/contact', async (c) => {
    const body = await formBody(c);
    const raw = { patient: str(body, 'patient'), method: str(body, 'method'), outcome: str(body, 'outcome'), returnDate: str(body, 'returnDate'), holdUntil: str(body, 'holdUntil'), nextActionDate: str(body, 'nextActionDate'), note: str(body, 'note') };
    const back = { clinic: str(body, 'clinic'), counsellor: str(body, 'counsellor'), bucket: str(body, 'bucket') };
    const values: ContactFormValues = { method: raw.method, outcome: raw.outcome, returnDate: raw.returnDate, holdUntil: raw.holdUntil, nextActionDate: raw.nextActionDate, note: raw.note };
    const parsed = ContactSchema.safeParse(raw);
    if (!parsed.success) {
      if (!isUuid(raw.patient)) throw new NotFound('patient');
      return render(c, FollowupPage({ ctx: viewContext(c), v: await listView(c, back, { patientId: raw.patient, values, errors: fieldErrors(parsed.error) }) }), 422);
    }
    const f = parsed.data;
    try {
      await logContact(services(c), actorOf(c), { patientId: f.patient, method: f.method, outcome: f.outcome, returnDate: f.returnDate, holdUntil: f.holdUntil, nextActionDate: f.nextActionDate, note: f.note }, scopeOf(c));
    } catch (e) {
      if (e instanceof Invalid) return render(c, FollowupPage({ ctx: viewContext(c), v: await listView(c, back, { patientId: f.patient, values, errors: e.fields }) }), 422);
      throw e;
    }
    flash(c, 'fu_contact_saved');
    return c.redirect(`/followup?${filterQuery(back)}#missed-list`, 303);
  })
  .get('/alerts', async (c) => {
    const user = c.var.session!.user;
    const list = await inboxOf(c.var.deps.db, user.id);
    return render(c, AlertsPage({ ctx: viewContext(c), rows: list.map((r) => ({ ...r, since: addDays(r.anchor_day, 1), grounds: groundsOf(r.reasons), created_at: new Date(r.created_at), missed_days: Number(r.missed_days) })) }));
  })
  .get('/alerts/badge', async (c) => {
    const n = await unreadCount(c.var.deps.db, c.var.session!.user.id);
    return c.html(String(BadgeFragment({ ctx: viewContext(c), n })));
  })
  .post('/alerts/read', async (c) => {
    await markAllRead(c.var.deps.db, c.var.session!.user.id, c.var.deps.clock.now());
    return c.redirect('/alerts', 303);
  })
  .get('/followup/dropouts', async (c) => dropoutsPage(c))
  .post('/followup/dropouts/:alertId', async (c) => {
    const alertId = c.req.param('alertId');
    if (!isUuid(alertId)) throw new NotFound('alert');
    const body = await formBody(c);
    const decision = str(body, 'decision');
    const note = noteText(500).safeParse(str(body, 'note'));
    if ((decision !== 'confirm' && decision !== 'reject') || !note.success) {
      return dropoutsPage(c, { alertId, note: str(body, 'note').slice(0, 2000), error: note.success ? 'err_invalid' : 'err_too_long' }, 422);
    }
    await ruleOnDropout(services(c), actorOf(c), alertId, decision === 'confirm', note.data, scopeOf(c));
    flash(c, decision === 'confirm' ? 'fu_dropout_confirmed' : 'fu_dropout_rejected');
    return c.redirect('/followup/dropouts', 303);
  })
  .post('/followup/reviews/:alertId', async (c) => {
    const alertId = c.req.param('alertId');
    if (!isUuid(alertId)) throw new NotFound('alert');
    const body = await formBody(c);
    const patientId = await patientOfAlert(c.var.deps.db, alertId, 'review');
    const note = noteText(1000).pipe(z.string().min(1)).safeParse(str(body, 'note'));
    if (!note.success) return renderPatientPage(c, patientId, { reviewError: { alertId, note: str(body, 'note').slice(0, 1000) }, status: 422 });
    await markReviewed(services(c), actorOf(c), alertId, note.data, scopeOf(c));
    flash(c, 'review_done_saved');
    return c.redirect(`/patients/${patientId}#follow-up`, 303);
  })
  .get('/followup/closes', async (c) => {
    const mine = await myClinics(c);
    const rows = await recentCloses(c.var.deps.db, mine.map((m) => m.id));
    const user = c.var.session!.user;
    return render(c, ClosesPage({ ctx: viewContext(c), clinics: mine, rows: rows.map((r) => ({ ...r, at: new Date(r.at) })), canRun: can(user.role, 'dayclose.run'), timeZone: mine[0]?.timeZone ?? c.var.deps.config.DEFAULT_TIME_ZONE }));
  })
  .post('/followup/closes', async (c) => {
    const body = await formBody(c);
    const mine = await myClinics(c);
    const asked = str(body, 'clinic');
    const chosen = mine.find((m) => m.id === asked);
    if (!chosen) throw new NotFound('clinic');
    // Each day closed is audited in its own transaction, under the manager's name.
    const done = await closeDueDays(services(c), channelsOn(c.var.deps.config), { clinicIds: [chosen.id], runBy: actorOf(c).userId, throughToday: true });
    flash(c, done.length ? 'fu_closed_now' : 'fu_nothing_to_close', { n: done.length });
    return c.redirect('/followup/closes', 303);
  })
  .get('/account/alerts', async (c) => {
    const [u] = await c.var.deps.db.select().from(users).where(eq(users.id, c.var.session!.user.id));
    return render(c, AlertSettingsPage({ ctx: viewContext(c), values: { email: u!.email, notifyEmail: u!.notifyEmail, notifyWebhook: u!.notifyWebhook, webhookTo: u!.webhookTo }, errors: {}, channels: channelsOn(c.var.deps.config) }));
  })
  .post('/account/alerts', async (c) => {
    const body = await formBody(c);
    const raw = { email: str(body, 'email').trim(), notifyEmail: str(body, 'notifyEmail') === 'on', notifyWebhook: str(body, 'notifyWebhook') === 'on', webhookTo: str(body, 'webhookTo').trim() };
    const Schema = z
      .object({
        email: z.union([z.literal(''), z.email('fu_err_email').max(200, 'err_too_long')]),
        notifyEmail: z.boolean(),
        notifyWebhook: z.boolean(),
        webhookTo: z.string().max(100, 'err_too_long').regex(/^[\p{L}\p{N} +@._:\-]*$/u, 'fu_err_webhook_to'),
      })
      .superRefine((v, ctx) => {
        if (v.notifyEmail && !v.email) ctx.addIssue({ code: 'custom', path: ['email'], message: 'fu_err_email_required' });
        if (v.notifyWebhook && !v.webhookTo) ctx.addIssue({ code: 'custom', path: ['webhookTo'], message: 'fu_err_webhook_to_required' });
      });
    const parsed = Schema.safeParse(raw);
    if (!parsed.success) return render(c, AlertSettingsPage({ ctx: viewContext(c), values: raw, errors: fieldErrors(parsed.error), channels: channelsOn(c.var.deps.config) }), 422);
    await setAlertChannels(services(c), actorOf(c), parsed.data);
    flash(c, 'fu_settings_saved');
    return c.redirect('/account/alerts', 303);
  })
  .get('/admin/deliveries', async (c) => {
    const status = ['pending', 'delivered', 'failed', 'cancelled'].includes(c.req.query('status') ?? '') ? c.req.query('status') : undefined;
    const { db } = c.var.deps;
    const rows = await deliveryLog(db, { status });
    const open = c.req.query('show');
    const attempts = open && isUuid(open) ? await attemptsOf(db, open) : [];
    return render(
      c,
      DeliveriesPage({
        ctx: viewContext(c),
        status: status ?? '',
        rows: rows.map((r) => ({ ...r, created_at: new Date(r.created_at), next_attempt_at: new Date(r.next_attempt_at), delivered_at: r.delivered_at ? new Date(r.delivered_at) : null })),
        shown: open && isUuid(open) ? { id: open, attempts: attempts.map((a) => ({ ...a, at: new Date(a.at) })) } : null,
        timeZone: c.var.deps.config.DEFAULT_TIME_ZONE,
        channels: channelsOn(c.var.deps.config),
      }),
    );
  })
  .post('/admin/deliveries/:outboxId/retry', async (c) => {
    const id = c.req.param('outboxId');
    if (!isUuid(id)) throw new NotFound('message');
    const ok = await retryFailed(services(c), actorOf(c), id);
    flash(c, ok ? 'fu_retry_queued' : 'fu_retry_not_failed');
    return c.redirect('/admin/deliveries?status=failed', 303);
  });
