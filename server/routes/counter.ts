// The counter (nurse) and check-in (reception): HTTP only — parse with zod,
// call a service, render the working area. Every counter action answers with
// the whole working area (#counter), so the page is always what the server
// says it is; a stale card is re-decided, never trusted.
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { CheckInPage } from '../../views/pages/checkin.tsx';
import { PumpProgress, pumpNotReadyText } from '../../views/pages/counter-pump.tsx';
import { CounterPage, CounterWork, QueuePanel, type CardView, type DecisionView, type Notice, type QueueView, type Step, type WorkView } from '../../views/pages/counter.tsx';
import { formatNumber, formatTime } from '../../views/format.ts';
import { can } from '../auth/permissions.ts';
import { serviceDay } from '../clock.ts';
import type { Decision } from '../dosing/decision.ts';
import { Conflict, Invalid, NotFound } from '../errors.ts';
import { callNext, checkIn, chooseClinic, clinicDay, counterCard, expectedNotSeen, findAtCounter, queueOf, referToDoctor, type CardData } from '../services/counter.ts';
import { recordDose, recordTakeHome } from '../services/dispense.ts';
import { recordSwallowCheck } from '../services/dose-reviews.ts';
import { pumpDose, recordStop, resolvePumpDose, RESOLUTIONS, type PumpDose } from '../services/pump-doses.ts';
import { actorOf, formBody, render, scopeOf, services, str, viewContext, type AppEnv, type Ctx } from './support.ts';

const Uuid = z.uuid();
const RequestId = z.string().regex(/^[A-Za-z0-9-]{8,64}$/);
const Part = z.coerce.number().int().min(1).max(2);
const Mg = z.coerce.number().finite().min(0).max(10_000);
/** Breath alcohol in mg/l as typed: "0,25" or "0.25", from 0 to 5; empty when not measured. */
const Breath = z
  .string()
  .trim()
  .max(8)
  .transform((s) => s.replace(',', '.'))
  .pipe(z.union([z.literal(''), z.string().regex(/^\d(\.\d{1,3})?$/)]))
  .transform((s) => (s === '' ? null : Number(s)))
  .pipe(z.number().min(0).max(5).nullable());

const CardForm = z.object({ clinic: Uuid, patient: Uuid, requestId: RequestId, part: Part, mg: Mg });
const CheckForm = CardForm.extend({ intoxication: z.enum(['none', 'signs']), finding: z.enum(['suspected', 'intoxicated']).catch('suspected'), breathAlcohol: z.string().catch('') });
const DoseForm = CardForm.extend({
  intoxication: z.literal('none'),
  outcome: z.enum(['given', 'refused', 'vomited', 'spilled']),
  breathAlcohol: Breath.catch(null),
  /** The pump button posts its pump; the hand-measured button posts none. */
  pump: z.union([z.literal(''), Uuid]).catch(''),
});

/** A clinic posted by a counter form must be one the user works at (the service checks it exists). */
function inScope(c: Ctx, clinicId: string): void {
  const scope = scopeOf(c);
  if (scope && !scope.includes(clinicId)) throw new NotFound('clinic');
}

/** The clinic the counter works for: the one asked for if the user works there, else their first. */
const counterClinic = (c: Ctx, asked: string | undefined) => chooseClinic(c.var.deps.db, scopeOf(c), asked);

function decisionView(d: Decision, blockingClinicCode: string | null): DecisionView {
  switch (d.kind) {
    case 'give':
    case 'reduced':
      return { kind: d.kind, part: d.part, mg: d.mg, ml: d.ml, orderedMg: d.orderedMg, checkMandatory: d.intoxicationCheckMandatory, reasons: d.reasons };
    case 'doctor_review':
      return { kind: 'doctor_review', code: d.code, reasons: d.reasons };
    case 'already_dosed':
    case 'take_home_day':
      return { kind: d.kind, at: d.at, byName: d.byName, clinicCode: blockingClinicCode ?? '', reasons: d.reasons };
    case 'not_this_clinic':
      return { kind: 'not_this_clinic', reasons: d.reasons };
  }
}

function cardView(c: Ctx, data: CardData, requestId: string = randomUUID()): CardView {
  const role = c.var.session!.user.role;
  const timeZone = data.timeZone;
  // A reason's time is shown in the clinic's zone.
  const decision = decisionView(data.decision, data.blockingClinicCode);
  decision.reasons = decision.reasons.map((r) => (typeof r.values.at === 'string' ? { ...r, values: { ...r.values, at: formatTimeOf(r.values.at, timeZone) } } : r));
  return {
    clinicId: data.clinicId,
    timeZone,
    patient: data.patient,
    visible: data.visible,
    guest: data.guest,
    // The incident's local day at this clinic (not the UTC date: 06:30 in Hải Phòng is the day before in UTC).
    diversionDay: data.diversion ? serviceDay(data.diversion.at, timeZone) : null,
    order: data.order && { dailyMg: data.order.dailyMg, splitMg: data.order.splitMg, phase: data.order.phase as 'induction', endDate: data.order.endDate },
    lastDoses: data.lastDoses,
    decision,
    requestId,
    canRefer: can(role, 'counter.dose'),
    canReview: can(role, 'dose.review'),
    canPrescribe: can(role, 'order.prescribe'),
    pump: pumpOf(c, data.clinicId),
  };
}

/** The clinic's pump the counter offers (the first ready one, else the first, to say why not), or null: measured by hand. */
function pumpOf(c: Ctx, clinicId: string): CardView['pump'] {
  const list = c.var.deps.pumps?.pumpsOf(clinicId) ?? [];
  const p = list.find((x) => x.readiness.state === 'ready') ?? list[0];
  return p ? { id: p.id, name: p.name, readiness: p.readiness } : null;
}

function formatTimeOf(iso: string, timeZone: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : formatTime(at, timeZone);
}

/** The working area with a patient's card at a step (re-decided now), or empty with a notice. */
async function work(
  c: Ctx,
  clinicId: string,
  opts: { patientId?: string; data?: CardData; step?: Step; notice?: Notice | null; requestId?: string; q?: string; matches?: WorkView['matches'] } = {},
): Promise<WorkView> {
  let card: WorkView['card'] = null;
  if (opts.patientId) {
    // The card as just read by the caller, or read now.
    const data = opts.data ?? (await readCard(c, opts.patientId, clinicId));
    card = { ...cardView(c, data, opts.requestId), step: opts.step ?? (await pumpStep(c, data.unresolvedDoseId)) ?? { kind: 'check' } };
  }
  return { clinicId, q: opts.q ?? '', notice: opts.notice ?? null, card, matches: opts.matches ?? [] };
}

/** A pump dose of this patient not yet settled takes over the card: its progress, or the decision it waits for. */
async function pumpStep(c: Ctx, unresolvedDoseId: string | null): Promise<Step | null> {
  const d = unresolvedDoseId ? await pumpDose(c.var.deps.db, unresolvedDoseId) : null;
  // Settled in the moment since the card was read: nothing takes over.
  if (!d || (d.status !== 'pending' && d.status !== 'unknown')) return null;
  const live = c.var.deps.pumps?.progress(d.id);
  if (live) return { kind: 'pumping', doseId: d.id, ml: live.ml, plannedMl: live.plannedMl, stopping: live.stopping };
  return { kind: 'resolve', dose: { id: d.id, status: d.status === 'unknown' ? 'unknown' : d.fault ? 'fault' : 'pending', plannedMl: d.plannedMl, ml: d.fault?.ml ?? d.ml, code: d.fault?.code ?? null, lateMl: d.lateReport?.ml ?? null } };
}

const readCard = (c: Ctx, patientId: string, clinicId: string) => counterCard(c.var.deps.db, c.var.deps.clock.now(), patientId, clinicId, scopeOf(c));

function workResponse(c: Ctx, w: WorkView, status: 200 | 409 | 422 = 200): Response {
  return c.html(String(CounterWork({ ctx: viewContext(c), w })), status);
}

async function queueView(c: Ctx, clinicId: string): Promise<QueueView> {
  const { db, clock } = c.var.deps;
  const now = clock.now();
  const { today, timeZone } = await clinicDay(db, clinicId, now);
  const [queue, expected] = await Promise.all([queueOf(db, clinicId, today), expectedNotSeen(db, clinicId, today)]);
  return { clinicId, timeZone, now, queue, expected };
}

const ok = (text: string): Notice => ({ tone: 'ok', text });
const warn = (text: string): Notice => ({ tone: 'warn', text });
const error = (text: string): Notice => ({ tone: 'error', text });

/** Parses a counter form; a malformed one (a tampered page) is a 422 that keeps the working area. */
async function parse<T extends z.ZodType>(c: Ctx, schema: T): Promise<z.infer<T>> {
  const body = await formBody(c);
  const flat = Object.fromEntries(Object.keys(body).map((k) => [k, str(body, k)]));
  const parsed = schema.safeParse(flat);
  if (!parsed.success) throw new Invalid({ _: 'err_invalid' });
  return parsed.data;
}

export const counterRoutes = new Hono<AppEnv>()
  .get('/counter', async (c) => {
    const clinic = await counterClinic(c, c.req.query('clinic'));
    const ctx = viewContext(c);
    return render(c, CounterPage({ ctx, clinic, others: clinic.others, work: await work(c, clinic.id), queue: await queueView(c, clinic.id) }));
  })
  .get('/counter/queue', async (c) => {
    const clinic = await counterClinic(c, c.req.query('clinic'));
    return c.html(String(QueuePanel({ ctx: viewContext(c), q: await queueView(c, clinic.id) })));
  })
  .get('/counter/find', async (c) => {
    const clinic = await counterClinic(c, c.req.query('clinic'));
    const q = (c.req.query('q') ?? '').slice(0, 100);
    const t = viewContext(c).t;
    if (!q.trim()) return workResponse(c, await work(c, clinic.id));
    const found = await findAtCounter(c.var.deps.db, q, scopeOf(c));
    if (found.kind === 'patient') return workResponse(c, await work(c, clinic.id, { patientId: found.patientId }));
    if (found.kind === 'matches') return workResponse(c, await work(c, clinic.id, { q, matches: found.rows }));
    return workResponse(c, await work(c, clinic.id, { q, notice: error(t.ctr_not_found({ q: q.trim() })) }));
  })
  .get('/counter/card/:patientId', async (c) => {
    const clinic = await counterClinic(c, c.req.query('clinic'));
    const id = Uuid.safeParse(c.req.param('patientId'));
    if (!id.success) throw new NotFound('patient');
    const w = await work(c, clinic.id, { patientId: id.data });
    if (c.req.header('hx-request')) return workResponse(c, w);
    return render(c, CounterPage({ ctx: viewContext(c), clinic, others: clinic.others, work: w, queue: await queueView(c, clinic.id) }));
  })
  .post('/counter/check', async (c) => {
    const f = await parse(c, CheckForm);
    inScope(c, f.clinic);
    const t = viewContext(c).t;
    if (f.intoxication === 'none') {
      // The confirmation step, if the decision still stands as the card showed it.
      const w = await work(c, f.clinic, { patientId: f.patient, requestId: f.requestId, step: { kind: 'confirm', intoxication: 'none', breathAlcohol: '' } });
      const d = w.card!.decision;
      if ((d.kind === 'give' || d.kind === 'reduced') && d.part === f.part && d.mg === f.mg) return workResponse(c, w);
      return workResponse(c, { ...w, card: { ...w.card!, step: { kind: 'check' } }, notice: error(t.ctr_err_stale) }, 409);
    }
    // Signs of intoxication: R10 withholds the dose, recorded with the finding.
    const breath = Breath.safeParse(f.breathAlcohol);
    if (!breath.success) return workResponse(c, await work(c, f.clinic, { patientId: f.patient, requestId: f.requestId, step: { kind: 'check', errors: { breathAlcohol: 'err_breath' } } }), 422);
    return dose(c, { ...f, outcome: 'given', intoxication: f.finding, breathAlcohol: breath.data, pump: '' });
  })
  .post('/counter/dose', async (c) => {
    const f = await parse(c, DoseForm);
    inScope(c, f.clinic);
    return dose(c, f);
  })
  .post('/counter/swallow', async (c) => {
    const f = await parse(c, z.object({ clinic: Uuid, dose: Uuid, outcome: z.enum(['swallowed', 'diversion']), note: z.string().max(500).catch('') }));
    inScope(c, f.clinic);
    const t = viewContext(c).t;
    const { patientId } = await recordSwallowCheck(services(c), actorOf(c), { doseId: f.dose, clinicId: f.clinic, outcome: f.outcome, note: f.note.trim() }, scopeOf(c));
    const data = await readCard(c, patientId, f.clinic);
    const name = data.patient.fullName;
    const notice = f.outcome === 'swallowed' ? ok(t.ctr_result_swallowed({ name })) : warn(t.ctr_result_diversion({ name }));
    if (data.takeHomeDays > 0) return workResponse(c, await work(c, f.clinic, { patientId, data, notice, step: { kind: 'take_home', maxDays: data.takeHomeDays } }));
    return workResponse(c, await work(c, f.clinic, { notice }));
  })
  .post('/counter/take-home', async (c) => {
    const f = await parse(c, z.object({ clinic: Uuid, patient: Uuid, requestId: RequestId, days: z.coerce.number().int().min(1).max(30) }));
    inScope(c, f.clinic);
    const t = viewContext(c).t;
    try {
      const rows = await recordTakeHome(services(c), actorOf(c), { patientId: f.patient, clinicId: f.clinic, days: f.days, requestId: f.requestId }, scopeOf(c));
      const data = await readCard(c, f.patient, f.clinic);
      return workResponse(c, await work(c, f.clinic, { notice: ok(t.ctr_result_take_home({ name: data.patient.fullName, days: rows.length })) }));
    } catch (e) {
      const key = e instanceof Conflict ? e.messageKey : e instanceof Invalid ? Object.values(e.fields)[0] : null;
      if (!key) throw e;
      const data = await readCard(c, f.patient, f.clinic);
      return workResponse(c, await work(c, f.clinic, { patientId: f.patient, data, notice: error(t[key]), step: { kind: 'take_home', maxDays: Math.max(1, data.takeHomeDays) } }), e instanceof Conflict ? 409 : 422);
    }
  })
  .post('/counter/refer', async (c) => {
    const f = await parse(c, z.object({ clinic: Uuid, patient: Uuid }));
    inScope(c, f.clinic);
    const data = await readCard(c, f.patient, f.clinic);
    if (!data.visible) throw new NotFound('patient');
    await referToDoctor(services(c), actorOf(c), f.clinic, f.patient, scopeOf(c));
    return workResponse(c, await work(c, f.clinic, { notice: ok(viewContext(c).t.ctr_result_referred({ name: data.patient.fullName })) }));
  })
  .post('/counter/call-next', async (c) => {
    const f = await parse(c, z.object({ clinic: Uuid }));
    inScope(c, f.clinic);
    const patientId = await callNext(services(c), actorOf(c), f.clinic, scopeOf(c));
    if (!patientId) return workResponse(c, await work(c, f.clinic, { notice: warn(viewContext(c).t.ctr_queue_empty_call) }));
    return workResponse(c, await work(c, f.clinic, { patientId }));
  })
  .get('/counter/pump/:doseId', async (c) => {
    const clinic = await counterClinic(c, c.req.query('clinic'));
    const d = await pumpDoseAt(c, c.req.param('doseId'), clinic.id);
    const live = c.var.deps.pumps?.progress(d.id);
    if (live) return c.html(String(PumpProgress({ ctx: viewContext(c), clinicId: clinic.id, step: { kind: 'pumping', doseId: d.id, ml: live.ml, plannedMl: live.plannedMl, stopping: live.stopping } })));
    // Finished: the whole working area, with the outcome and the next step.
    c.header('HX-Retarget', '#counter');
    c.header('HX-Reswap', 'outerHTML');
    return workResponse(c, await afterPump(c, d));
  })
  .post('/counter/pump/:doseId/stop', async (c) => {
    const f = await parse(c, z.object({ clinic: Uuid }));
    inScope(c, f.clinic);
    const d = await pumpDoseAt(c, c.req.param('doseId'), f.clinic);
    const live = c.var.deps.pumps?.progress(d.id);
    if (live) {
      await recordStop(services(c), actorOf(c), d.id, live.pumpId);
      await c.var.deps.pumps!.stop(d.id);
      // The pump answers with FAULT STOPPED in a moment; the progress poll carries on until it is recorded.
      const now = c.var.deps.pumps!.progress(d.id);
      if (now) return workResponse(c, await work(c, f.clinic, { patientId: d.patientId, step: { kind: 'pumping', doseId: d.id, ml: now.ml, plannedMl: now.plannedMl, stopping: true } }));
    }
    return workResponse(c, await afterPump(c, (await pumpDose(c.var.deps.db, d.id))!));
  })
  .post('/counter/pump/:doseId/resolve', async (c) => {
    const f = await parse(c, z.object({ clinic: Uuid, decision: z.enum(RESOLUTIONS), ml: z.string().max(10).catch('') }));
    inScope(c, f.clinic);
    const t = viewContext(c).t;
    const d = await pumpDoseAt(c, c.req.param('doseId'), f.clinic);
    const ml = f.ml.trim() === '' ? null : Number(f.ml.trim().replace(',', '.'));
    try {
      await resolvePumpDose(services(c), actorOf(c), { doseId: d.id, clinicId: f.clinic, decision: f.decision, ml: ml !== null && Number.isFinite(ml) ? ml : f.decision === 'given' ? NaN : null }, scopeOf(c));
    } catch (e) {
      const key = e instanceof Conflict ? e.messageKey : e instanceof Invalid ? Object.values(e.fields)[0] : null;
      if (!key) throw e;
      return workResponse(c, await work(c, f.clinic, { patientId: d.patientId, notice: error(t[key]) }), e instanceof Conflict ? 409 : 422);
    }
    const data = await readCard(c, d.patientId, f.clinic);
    return workResponse(c, await work(c, f.clinic, { patientId: d.patientId, data, notice: ok(t.pump_resolved({ name: data.patient.fullName })) }));
  })
  .get('/checkin', async (c) => {
    const clinic = await counterClinic(c, c.req.query('clinic'));
    return render(c, CheckInPage({ ctx: viewContext(c), clinic, others: clinic.others, notice: null }));
  })
  .post('/checkin', async (c) => {
    const body = await formBody(c);
    const clinic = await counterClinic(c, str(body, 'clinic') || undefined);
    const t = viewContext(c).t;
    const code = str(body, 'code').slice(0, 100);
    let notice: Notice;
    let status: 200 | 404 = 200;
    try {
      const r = await checkIn(services(c), actorOf(c), clinic.id, code, scopeOf(c));
      const { today } = await clinicDay(c.var.deps.db, clinic.id, c.var.deps.clock.now());
      const queue = await queueOf(c.var.deps.db, clinic.id, today);
      const place = queue.findIndex((q) => q.patientId === r.patientId) + 1;
      notice = r.already ? warn(t.checkin_already({ code: r.code })) : ok(t.checkin_done({ code: r.code, n: place || queue.length }));
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
      notice = error(t.checkin_not_found);
      status = 404;
    }
    const page = CheckInPage({ ctx: viewContext(c), clinic, others: clinic.others, notice });
    return c.req.header('hx-request') ? c.html(String(page), status) : render(c, page, status);
  });

type DoseRequest = Omit<z.infer<typeof DoseForm>, 'intoxication'> & { intoxication: 'none' | 'suspected' | 'intoxicated' };

/** Records the counter's act under the decision of this moment, and answers with the next step. */
async function dose(c: Ctx, f: DoseRequest): Promise<Response> {
  const t = viewContext(c).t;
  // The pump must belong to this clinic and be ready now; otherwise the card says why, and nothing is written.
  const pumpId = f.pump ? f.pump : null;
  if (pumpId) {
    const p = c.var.deps.pumps?.pumpsOf(f.clinic).find((x) => x.id === pumpId);
    if (!p) throw new NotFound('pump');
    if (p.readiness.state !== 'ready') return workResponse(c, await work(c, f.clinic, { patientId: f.patient, notice: error(pumpNotReadyText(t, p.name, p.readiness)) }), 409);
  }
  let result;
  try {
    result = await recordDose(
      services(c),
      actorOf(c),
      {
        patientId: f.patient,
        clinicId: f.clinic,
        outcome: f.outcome,
        intoxication: f.intoxication,
        breathAlcohol: f.breathAlcohol,
        requestId: f.requestId,
        expected: { part: f.part, mg: f.mg },
        ...(pumpId ? { method: 'pump' as const, pumpId } : {}),
      },
      scopeOf(c),
    );
  } catch (e) {
    // Another counter took the slot between our decision and our insert.
    if (e instanceof Conflict) return workResponse(c, await work(c, f.clinic, { patientId: f.patient, notice: error(t[e.messageKey]) }), 409);
    throw e;
  }
  if (result.kind !== 'recorded') {
    // Refused or changed: either way the card was stale (dosed elsewhere, order or ruling changed); it is re-decided below.
    return workResponse(c, await work(c, f.clinic, { patientId: f.patient, notice: error(t.ctr_err_stale) }), 409);
  }
  const { dose: row, followUp } = result;
  if (row.status === 'pending' && pumpId && result.fresh) {
    // Committed: now, and only now, the pump is told to move — once: a retried confirmation never sends DISPENSE again.
    const started = await c.var.deps.pumps!.dispense(pumpId, { id: row.id, ml: row.ml });
    if (started.acked) return workResponse(c, await work(c, f.clinic, { patientId: f.patient, step: { kind: 'pumping', doseId: row.id, ml: 0, plannedMl: row.ml, stopping: false } }));
    return workResponse(c, await afterPump(c, (await pumpDose(c.var.deps.db, row.id))!));
  }
  // A retried confirmation of a pump dose no longer pending (its answer was lost, or the server restarted): where that dose
  // is (completed, not started, unknown), never the hand-measured "given" notice (it said "given 0 mg" for an unknown dose).
  if (row.method === 'pump') {
    const live = c.var.deps.pumps?.progress(row.id);
    if (live) return workResponse(c, await work(c, f.clinic, { patientId: f.patient, step: { kind: 'pumping', doseId: row.id, ml: live.ml, plannedMl: live.plannedMl, stopping: live.stopping } }));
    return workResponse(c, await afterPump(c, (await pumpDose(c.var.deps.db, row.id))!));
  }
  const name = followUp.patientName;
  const mg = formatNumber(row.givenMg, c.var.locale, 1);
  const ml = formatNumber(row.ml, c.var.locale, 2);
  const notice = {
    given: () => ok(t.ctr_result_given({ name, mg, ml })),
    withheld: () => warn(t.ctr_result_withheld({ name })),
    refused: () => warn(t.ctr_result_refused({ name })),
    spilled: () => warn(t.ctr_result_spilled({ name })),
    vomited: () => warn(t.ctr_result_vomited({ name, mg })),
    take_home: () => ok(t.ctr_result_given({ name, mg, ml })),
    supplied: () => ok(t.ctr_result_given({ name, mg, ml })),
  }[row.outcome]();
  if (row.outcome === 'given' && followUp.swallowCheck) return workResponse(c, await work(c, f.clinic, { patientId: f.patient, notice, step: { kind: 'swallow', doseId: row.id } }));
  if (row.outcome === 'given' && followUp.takeHomeDays > 0) return workResponse(c, await work(c, f.clinic, { patientId: f.patient, notice, step: { kind: 'take_home', maxDays: followUp.takeHomeDays } }));
  // A spilled dose may be measured again: the card stays, re-decided.
  if (row.outcome === 'spilled') return workResponse(c, await work(c, f.clinic, { patientId: f.patient, notice }));
  return workResponse(c, await work(c, f.clinic, { notice }));
}

/** A pump dose of a clinic the user works at, by id from the URL. */
async function pumpDoseAt(c: Ctx, id: string, clinicId: string): Promise<PumpDose> {
  inScope(c, clinicId);
  const parsed = Uuid.safeParse(id);
  const d = parsed.success ? await pumpDose(c.var.deps.db, parsed.data) : null;
  if (!d || d.clinicId !== clinicId || !d.pumpId) throw new NotFound('dose');
  return d;
}


/** The working area once the pump is done with a dose: the recorded volume and the next step, or the decision it waits for. */
async function afterPump(c: Ctx, d: PumpDose): Promise<WorkView> {
  const t = viewContext(c).t;
  const data = await readCard(c, d.patientId, d.clinicId);
  const name = data.patient.fullName;
  if (d.status === 'completed') {
    const notice = ok(t.pump_result_done({ name, mg: formatNumber(d.givenMg, c.var.locale, 1), ml: formatNumber(d.ml, c.var.locale, 2) }));
    if (data.swallowCheck) return work(c, d.clinicId, { patientId: d.patientId, data, notice, step: { kind: 'swallow', doseId: d.id } });
    if (data.takeHomeDays > 0) return work(c, d.clinicId, { patientId: d.patientId, data, notice, step: { kind: 'take_home', maxDays: data.takeHomeDays } });
    return work(c, d.clinicId, { notice });
  }
  if (d.status === 'failed') {
    const reason = d.notStarted ?? 'refused';
    return work(c, d.clinicId, { patientId: d.patientId, data, notice: error(t.pump_result_not_started({ reason: t[`pump_reason_${reason}`] })) });
  }
  return work(c, d.clinicId, { patientId: d.patientId, data });
}
