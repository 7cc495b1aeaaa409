// Recording a dose at the counter: today's order and the history (as the
// card read them moments before on this server, or read now), the rules
// (server/dosing/decision.ts), then the day's slot claimed and the record
// written with its audit row in one statement, only if the patient's facts
// are still the ones decided on (their version, the rule set version, the
// clinics); otherwise decide again on facts read afresh. Two counters (or a
// double click, or a retried request) for one patient cannot both write on
// the same facts; the slot's primary key is the last net.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, gte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { statement } from '../../db/sql.ts';
import { doses, doseSlots, patients, urineTests, users } from '../../db/schema.ts';
import { serviceDay } from '../clock.ts';
import { addDays } from '../dosing/days.ts';
import { COVERING_OUTCOMES, decideDose, missedDays, type CounterFacts, type Decision, type DoseOutcome, type DoseRecord } from '../dosing/decision.ts';
import { orderInForce, type Phase } from '../dosing/orders.ts';
import type { RuleParams } from '../dosing/parameters.ts';
import { volumeFor } from '../dosing/volume.ts';
import { Conflict, Invalid, NotFound, isUniqueViolation } from '../errors.ts';
import { audit } from './audit.ts';
import { unresolved } from './pump-doses.ts';
import type { Actor, ServiceDeps } from './context.ts';
import { forgetRules, rulesForClinic } from './rule-sets.ts';

/** The name of dose_slots' primary key, as the migration made it (not PostgreSQL's default "dose_slots_pkey"). */
const SLOT_PK = 'dose_slots_patient_id_service_day_part_pk';

/** How far back the history is read: enough for R11's longest threshold and R18's dropout. */
const HISTORY_DAYS = 60;

export type Dose = typeof doses.$inferSelect;

/** The counter's facts as one statement returns them (json columns: snake_case, numbers maybe strings). */
interface FactsRow extends Record<string, unknown> {
  version: number | string | null;
  patient_name: string | null;
  tz: string;
  active: boolean;
  today: string;
  episode: { id: string; clinic_id: string; start_date: string; tz: string } | null;
  orders: { id: string; episode_id: string; phase: Phase; start_date: string; end_date: string; daily_mg: number | string; split_first_mg: number | string | null; split_second_mg: number | string | null; take_home_days: number; created_at: string }[];
  history: { id: string; request_id: string | null; service_day: string; part: number; outcome: DoseOutcome; status: 'completed' | 'pending' | 'unknown'; clinic_id: string; clinic_code: string; given_mg: number | string; at: string; by_name: string }[];
  guests: { episode_id: string; host_clinic_id: string; from_date: string; to_date: string }[];
  reviews: { kind: 'resume' | 'reduced' | 'no_dose'; max_mg: number | string | null; at: string }[];
  unresolved_dose_id: string | null;
}

/** A standing record of the history, as the card lists it. */
export interface CounterRecord {
  id: string;
  requestId: string | null;
  serviceDay: string;
  outcome: DoseOutcome;
  /** A pump dose still pending or unknown is not yet what it will be: the card says so. */
  status: 'completed' | 'pending' | 'unknown';
  givenMg: number;
  at: Date;
  clinicId: string;
  clinicCode: string;
  byName: string;
}

/**
 * R14: how many take-home days the counter may hand out today after the dose:
 * the home clinic only, when the rules turn take-home on, within the order's
 * days and the rules' maximum, and none after a missed day (a missed-dose
 * event suspends take-home).
 */
export function takeHomeAllowance(facts: CounterFacts, params: RuleParams, clinicId: string): number {
  const order = orderInForce(facts.orders, facts.today);
  if (!order || !facts.episode || facts.episode.clinicId !== clinicId || params.take_home_enabled !== 1) return 0;
  if (missedDays(facts.history, facts.episode.startDate, facts.today).missed > 0) return 0;
  return Math.min(order.takeHomeDays, params.take_home_max_days);
}

/** The counter's facts of one patient at a clinic on its service day (the clinic's local date of `now`, unless `day` is given). */
const factsStatement = statement<FactsRow, { patientId: string; clinicId: string; now: string; day: string | null }>(
  (v) =>
    sql`select p.facts_version as version, p.full_name as patient_name, c.time_zone as tz, c.active, t.today::text as today,
            -- A pump dose of any day not yet settled holds the patient (the counter asks a person to settle it first).
            (select u.id from doses u where u.patient_id = p.id and ${unresolved(sql`u`)} order by u.at limit 1) as unresolved_dose_id,
            (select row_to_json(e) from (
               select e.id, e.clinic_id, e.start_date::text as start_date, ec.time_zone as tz
               from episodes e join clinics ec on ec.id = e.clinic_id
               where e.patient_id = p.id and e.end_date is null) e) as episode,
            (select coalesce(json_agg(o order by o.start_date, o.created_at), '[]'::json) from (
               select id, episode_id, phase, start_date::text as start_date, end_date::text as end_date, daily_mg, split_first_mg, split_second_mg, take_home_days, created_at
               from dose_orders where patient_id = p.id) o) as orders,
            (select coalesce(json_agg(h), '[]'::json) from (
               select d.id, d.request_id, d.service_day::text as service_day, d.part, d.outcome, d.status, d.clinic_id, dc.code as clinic_code, d.given_mg, d.at, u.full_name as by_name
               from doses d join users u on u.id = d.given_by join clinics dc on dc.id = d.clinic_id
               where d.patient_id = p.id and d.service_day >= t.today - ${HISTORY_DAYS}::int and d.voids_id is null and d.status <> 'failed'
                 and not exists (select 1 from doses v where v.voids_id = d.id)) h) as history,
            (select coalesce(json_agg(g), '[]'::json) from (
               select episode_id, host_clinic_id, from_date::text as from_date, to_date::text as to_date
               from guest_authorisations where patient_id = p.id and from_date <= t.today and to_date >= t.today) g) as guests,
            (select coalesce(json_agg(r), '[]'::json) from (
               select kind, max_mg, at from dose_reviews where patient_id = p.id and service_day = t.today) r) as reviews
          from clinics c
          cross join lateral (select coalesce(${v.day}::date, (${v.now}::timestamptz at time zone c.time_zone)::date) as today) t
          left join patients p on p.id = ${v.patientId}::uuid
          where c.id = ${v.clinicId}::uuid`,
);

/** The facts the rules need, read at a clinic on its service day. */
export async function counterFacts(
  db: Db,
  patientId: string,
  clinicId: string,
  now: Date,
  /** The service day, when the database's zone rules disagree with the application's (see below). */
  dayOverride: string | null = null,
): Promise<FactsRead> {
  // One statement, so the facts and their version come from one snapshot (see
  // recordDose), in one round trip. The service day is the clinic's local date of `now`.
  const [row] = await factsStatement(db, { patientId, clinicId, now: now.toISOString(), day: dayOverride });
  // A closed (deactivated) clinic doses no one, even from a page left open.
  if (!row || !row.active) throw new NotFound('clinic');
  if (row.version === null) throw new NotFound('patient');
  // The service day everywhere else is the application's (server/clock.ts); should
  // the database's time zone data disagree (an older tzdata), read again on that day.
  const today = serviceDay(now, row.tz);
  if (row.today !== today) return counterFacts(db, patientId, clinicId, now, today);
  const clinic = { tz: row.tz };
  const patient = { version: Number(row.version), fullName: row.patient_name! };
  const episode = row.episode && { id: row.episode.id, clinicId: row.episode.clinic_id, startDate: row.episode.start_date, tz: row.episode.tz };
  const allOrders = row.orders.map((o) => ({
    id: o.id,
    episodeId: o.episode_id,
    phase: o.phase,
    startDate: o.start_date,
    endDate: o.end_date,
    dailyMg: Number(o.daily_mg),
    splitFirstMg: o.split_first_mg === null ? null : Number(o.split_first_mg),
    splitSecondMg: o.split_second_mg === null ? null : Number(o.split_second_mg),
    takeHomeDays: o.take_home_days,
    createdAt: new Date(o.created_at),
  }));
  const history = row.history.map((h) => ({
    id: h.id,
    requestId: h.request_id,
    status: h.status,
    serviceDay: h.service_day,
    part: h.part,
    outcome: h.outcome,
    clinicId: h.clinic_id,
    clinicCode: h.clinic_code,
    givenMg: Number(h.given_mg),
    at: new Date(h.at),
    byName: h.by_name,
  }));
  const allGuests = row.guests.map((g) => ({ episodeId: g.episode_id, hostClinicId: g.host_clinic_id, fromDate: g.from_date, toDate: g.to_date }));
  const reviews = row.reviews.map((r) => ({ kind: r.kind, maxMg: r.max_mg === null ? null : Number(r.max_mg), at: new Date(r.at) }));
  const orders = episode ? allOrders.filter((o) => o.episodeId === episode.id) : [];
  const guests = episode ? allGuests.filter((g) => g.episodeId === episode.id).map(({ episodeId: _e, ...g }) => g) : [];
  const facts: CounterFacts = {
    today,
    clinicId,
    episode: episode ? { clinicId: episode.clinicId, startDate: episode.startDate } : null,
    orders: orders.map((o) => ({
      id: o.id,
      phase: o.phase,
      startDate: o.startDate,
      endDate: o.endDate,
      dailyMg: o.dailyMg,
      splitMg: o.splitFirstMg !== null ? [o.splitFirstMg, o.splitSecondMg!] : null,
      takeHomeDays: o.takeHomeDays,
      writtenDay: serviceDay(o.createdAt, episode!.tz),
    })),
    history: history.map((h): DoseRecord => ({ serviceDay: h.serviceDay, part: h.part === 2 ? 2 : 1, outcome: h.outcome, clinicId: h.clinicId, givenMg: h.givenMg, at: h.at, byName: h.byName })),
    guestAuthorisations: guests,
    approvals: reviews.flatMap((r) => (r.kind === 'reduced' && r.maxMg !== null ? [{ day: today, maxMg: r.maxMg }] : [])),
    rulings: reviews.flatMap((r) => (r.kind === 'reduced' ? [] : [{ day: today, kind: r.kind, at: r.at }])),
  };
  const records = history.map((h) => ({ id: h.id, requestId: h.requestId, serviceDay: h.serviceDay, outcome: h.outcome, status: h.status, givenMg: h.givenMg, at: h.at, clinicId: h.clinicId, clinicCode: h.clinicCode, byName: h.byName }));
  return {
    facts,
    timeZone: clinic.tz,
    homeTimeZone: episode?.tz ?? null,
    episodeId: episode?.id ?? null,
    records,
    version: patient.version,
    patientName: patient.fullName,
    unresolvedDoseId: row.unresolved_dose_id,
  };
}

/** The counter's facts of one patient at a clinic, as counterFacts reads them. */
export interface FactsRead {
  facts: CounterFacts;
  /** The counter clinic's time zone: its service day is facts.today. */
  timeZone: string;
  /** The home clinic's (the open episode's), on which an order's written day is counted; null without an episode. */
  homeTimeZone: string | null;
  episodeId: string | null;
  records: CounterRecord[];
  version: number;
  patientName: string;
  unresolvedDoseId: string | null;
}

/**
 * The facts a card offering a dose was decided on, kept by this server for
 * its confirmation: the nurse scans, looks and confirms, and the confirmation
 * does not read them again. They are only ever written on: the dose's write
 * goes through only if nothing they rest on changed since they were read (the
 * patient's facts version, the rule set version in force, the counter clinic
 * still open and on the same time zones), and anything but a write (a
 * refusal, a changed decision, a retried request) is decided again on facts
 * read afresh. Taken once. Another server's card, an old one (KEPT_FACTS_MS)
 * or one of another service day is not used: the facts are read.
 */
const KEPT_FACTS_MS = 10 * 60_000;
/** A bound on memory (a card's facts are some 10–25 kB): more cards than a province's counters show in the time above. */
export const KEPT_FACTS_MAX = 10_000;
const keptFacts = new WeakMap<Db, Map<string, { read: FactsRead; at: number }>>();
const factsKey = (patientId: string, clinicId: string) => `${patientId}/${clinicId}`;

export function keepFacts(db: Db, patientId: string, clinicId: string, read: FactsRead, now: Date): void {
  let kept = keptFacts.get(db);
  if (!kept) keptFacts.set(db, (kept = new Map()));
  const key = factsKey(patientId, clinicId);
  kept.delete(key);
  // Oldest first (the order they were kept in): the expired ones go, then the oldest beyond the bound.
  for (const [k, e] of kept) {
    if (now.getTime() - e.at <= KEPT_FACTS_MS && kept.size < KEPT_FACTS_MAX) break;
    kept.delete(k);
  }
  kept.set(key, { read, at: now.getTime() });
}

/** Whether a card's facts are kept here for its confirmation (see keepFacts). */
export function factsKept(db: Db, patientId: string, clinicId: string): boolean {
  return keptFacts.get(db)?.has(factsKey(patientId, clinicId)) ?? false;
}

function takeFacts(db: Db, patientId: string, clinicId: string, now: Date): FactsRead | null {
  const kept = keptFacts.get(db);
  const key = factsKey(patientId, clinicId);
  const entry = kept?.get(key);
  if (!entry) return null;
  kept!.delete(key);
  const age = now.getTime() - entry.at;
  if (age < 0 || age > KEPT_FACTS_MS || serviceDay(now, entry.read.timeZone) !== entry.read.facts.today) return null;
  return entry.read;
}

export interface RecordDoseInput {
  patientId: string;
  /** The counter's clinic. */
  clinicId: string;
  /** What happened at the counter; signs of intoxication turn 'given' into 'withheld' (R10). */
  outcome: Extract<DoseOutcome, 'given' | 'refused' | 'vomited' | 'spilled'>;
  intoxication: 'none' | 'suspected' | 'intoxicated';
  breathAlcohol: number | null;
  /** A key the counter page generates per card: a retried request returns the same record. */
  requestId: string;
  /**
   * What the card showed: the decision's part and mg. When the decision of
   * this moment differs (another counter dosed meanwhile, a doctor changed
   * the order), nothing is written and the new decision is returned.
   */
  expected?: { part: number; mg: number };
  /** Manual: the nurse measured it. Pump: a given dose is written pending, for this pump to deliver after the commit. */
  method?: 'manual' | 'pump';
  pumpId?: string;
}

/** What the counter shows next after a recorded dose, read in the dose's own transaction. */
export interface FollowUp {
  patientName: string;
  /** R13: the clinic asks for the swallow check. */
  swallowCheck: boolean;
  /** R14: take-home days that may be handed out now (0: none). */
  takeHomeDays: number;
}

export type RecordDoseResult =
  /** `fresh`: written by this call (false: a retried request found its first record — a pump must not be told again). */
  | { kind: 'recorded'; dose: Dose; decision: Decision; followUp: FollowUp; fresh: boolean }
  | { kind: 'refused'; decision: Decision }
  | { kind: 'changed'; decision: Decision };

/**
 * Records what happened at the counter, under the decision of this moment.
 * A dose is given only when the rules say give (or reduced) and the
 * observation check found no sign of intoxication (R10); otherwise it is
 * withheld with the reason. The given mg is the decision's, never more.
 * A retried request (same request id) returns its first record.
 */
export async function recordDose({ db, clock }: ServiceDeps, actor: Actor, input: RecordDoseInput, scope: string[] | null): Promise<RecordDoseResult> {
  if (scope && !scope.includes(input.clinicId)) throw new NotFound('clinic');
  // Optimistic: read and decide without holding a lock, then write in one
  // statement that succeeds only if nothing the decision rests on changed
  // meanwhile (the patient's facts version); otherwise decide again. No lock
  // is ever held across a round trip to the application.
  for (let attempt = 0; attempt < MAX_DECISION_ATTEMPTS; attempt++) {
    const now = clock.now();
    // The facts the card was decided on, if this server showed it (see keepFacts); else read now.
    const kept = attempt === 0 ? takeFacts(db, input.patientId, input.clinicId, now) : null;
    const { facts, episodeId, records, version, patientName, unresolvedDoseId, timeZone, homeTimeZone } = kept ?? (await counterFacts(db, input.patientId, input.clinicId, now));
    // The home clinic's rules apply, also to a guest dose elsewhere (R16).
    const rules = await rulesForClinic(db, facts.episode?.clinicId ?? input.clinicId, facts.today);
    const followUp = (): FollowUp => ({ patientName, swallowCheck: rules.params.swallow_check_enabled === 1, takeHomeDays: takeHomeAllowance(facts, rules.params, input.clinicId) });
    // Kept facts are only written on (the write's guard checks them): any other answer is given on facts read now.
    const retried = records.find((r) => r.requestId === input.requestId);
    const decision = decideDose(facts, rules.params);
    const dosable = decision.kind === 'give' || decision.kind === 'reduced';
    // What the card showed is no longer the decision (another counter dosed meanwhile, a doctor changed the order).
    const changed = dosable && !!input.expected && (input.expected.part !== decision.part || input.expected.mg !== decision.mg);
    if (kept && (retried || unresolvedDoseId || !dosable || changed)) continue;
    // A retry of a request already recorded (its answer was lost): the same record.
    if (retried) {
      const [row] = await db.select().from(doses).where(eq(doses.id, retried.id));
      return { kind: 'recorded', dose: row!, decision: row!.decision as unknown as Decision, followUp: followUp(), fresh: false };
    }
    // A pump dose of any day not yet resolved (a fault waiting for the nurse, a silent pump): nothing more until a person settles it.
    // Asked before the rules, so the nurse is told why (today's unresolved dose also holds the day's slot).
    if (unresolvedDoseId) throw new Conflict('pump_err_unresolved');
    if (decision.kind !== 'give' && decision.kind !== 'reduced') return { kind: 'refused', decision };
    if (changed) return { kind: 'changed', decision };

    // R10: signs of intoxication withhold the dose until a doctor decides.
    const outcome = input.intoxication !== 'none' ? 'withheld' : input.outcome;
    // Given or vomited: the measured dose was swallowed. Spilled: it left the bottle (stock) but was not taken.
    const given = outcome === 'given' || outcome === 'vomited';
    const measured = given || outcome === 'spilled';
    // Only a dose to be given goes to the pump; a withholding or a refusal is recorded as the nurse's act.
    const byPump = input.method === 'pump' && outcome === 'given' && !!input.pumpId;
    const dose: Dose = {
      id: randomUUID(),
      patientId: input.patientId,
      episodeId: episodeId!,
      orderId: decision.orderId,
      clinicId: input.clinicId,
      serviceDay: facts.today,
      part: decision.part,
      outcome,
      // Pending: committed before the pump moves, holding the day; the pump's report completes it.
      status: byPump ? 'pending' : 'completed',
      prescribedMg: decision.orderedMg,
      givenMg: given ? decision.mg : 0,
      ml: measured ? decision.ml : 0,
      concentration: rules.params.concentration_mg_per_ml,
      method: byPump ? 'pump' : 'manual',
      intoxication: input.intoxication,
      breathAlcohol: input.breathAlcohol,
      decision: { kind: decision.kind, reasons: decision.reasons, mg: decision.mg },
      ruleSetVersionId: rules.versionId,
      givenBy: actor.userId,
      at: now,
      voidsId: null,
      voidReason: null,
      requestId: input.requestId,
    };
    const auditDetails = { patientId: input.patientId, outcome, part: decision.part, mg: dose.givenMg, serviceDay: facts.today };
    try {
      const written = await writeDose(db, dose, version, (COVERING_OUTCOMES as readonly string[]).includes(outcome), {
        actorId: actor.userId,
        address: actor.address,
        details: auditDetails,
        rules: { clinicId: facts.episode?.clinicId ?? input.clinicId, day: facts.today, versionId: rules.versionId },
        timeZones: { counter: timeZone, home: homeTimeZone },
        pumpId: byPump ? input.pumpId! : null,
      });
      if (!written) {
        // The facts or the rules changed under the decision: decide again, with the rules read afresh.
        forgetRules();
        continue;
      }
    } catch (e) {
      if (isUniqueViolation(e, SLOT_PK)) throw new Conflict('err_already_dosed');
      if (isUniqueViolation(e, 'doses_request_uq')) {
        // The request id was used before: for this patient, its first record; for another, a forged form.
        const [again] = await db.select().from(doses).where(eq(doses.requestId, input.requestId));
        if (!again || again.patientId !== input.patientId) throw new Invalid({ requestId: 'err_invalid' });
        // Its record was voided since: that card is stale, not a record to show as given.
        const [voided] = await db.select({ id: doses.id }).from(doses).where(eq(doses.voidsId, again.id));
        if (voided) throw new Conflict('ctr_err_stale');
        return { kind: 'recorded', dose: again, decision: again.decision as unknown as Decision, followUp: followUp(), fresh: false };
      }
      throw e;
    }
    return { kind: 'recorded', dose, decision, followUp: followUp(), fresh: true };
  }
  // Facts changing under every attempt: tell the nurse to look again rather than wait.
  throw new Conflict('ctr_err_stale');
}

/** How often a dose is decided again when its facts keep changing under it. */
const MAX_DECISION_ATTEMPTS = 5;

/**
 * The values of a dose's write (see writeDose): the dose's columns (its instant
 * and decision as the driver takes them), the guard's, and its audit row's and
 * pump's.
 */
type WriteValues = Omit<Dose, 'at' | 'decision'> & {
  at: string;
  decision: string;
  version: number;
  /** The guard: the rule set version the decision used, still in force for rulesClinicId on rulesDay. */
  rulesVersionId: string;
  rulesClinicId: string;
  rulesDay: string;
  /** The guard: the time zones the facts were read on, the counter clinic's (still open) and the home clinic's. */
  counterTz: string;
  homeTz: string | null;
  claimsSlot: boolean;
  actorId: string;
  details: string;
  address: string | null;
  pumpId: string | null;
};

const writeStatement = statement<{ id: string }, WriteValues>(
  (v) =>
    sql`with guard as (
            -- Locked, not updated: the dose's insert bumps the version (doses_bump_facts, migration 0011), once.
            -- A writer that bumped it meanwhile and committed makes the lock find no row (the version is checked
            -- again on the newest row), and the dose is decided again; one still running is waited for first.
            -- The lock an update takes (no key update): rows that only reference the patient (check-ins, contacts,
            -- a day close's alerts) are not held up by it, nor hold it up.
            select id from patients
            where id = ${v.patientId}::uuid and facts_version = ${v.version}::bigint
              -- The clinics are as the facts were read: the counter's still open, the service day and an order's
              -- written day counted on the same time zones (no version is bumped by a clinic's change).
              and exists (select 1 from clinics where id = ${v.clinicId}::uuid and active and time_zone = ${v.counterTz}::text)
              and (${v.homeTz}::text is null or exists (select 1 from clinics where id = ${v.rulesClinicId}::uuid and time_zone = ${v.homeTz}::text))
              -- The rule set version the decision used is still the one in force for the home clinic that day.
              and ${v.rulesVersionId}::uuid = (
                select v.id from rule_set_versions v
                where v.rule_set_id = coalesce((select rule_set_id from clinics where id = ${v.rulesClinicId}::uuid), (select id from rule_sets order by created_at limit 1))
                  and v.effective_from <= ${v.rulesDay}::date
                order by v.effective_from desc, v.created_at desc limit 1)
            for no key update
          ), dose as (
            insert into doses (id, patient_id, episode_id, order_id, clinic_id, service_day, part, outcome, status, prescribed_mg, given_mg, ml, concentration,
                               method, intoxication, breath_alcohol, decision, rule_set_version_id, given_by, at, request_id)
            select ${v.id}::uuid, guard.id, ${v.episodeId}::uuid, ${v.orderId}::uuid, ${v.clinicId}::uuid, ${v.serviceDay}::date, ${v.part}::int, ${v.outcome}::text, ${v.status}::text,
                   ${v.prescribedMg}::numeric, ${v.givenMg}::numeric, ${v.ml}::numeric, ${v.concentration}::numeric, ${v.method}::text, ${v.intoxication}::text, ${v.breathAlcohol}::numeric,
                   ${v.decision}::jsonb, ${v.ruleSetVersionId}::uuid, ${v.givenBy}::uuid, ${v.at}::timestamptz, ${v.requestId}::text
            from guard
            returning id, patient_id, service_day, part
          ), slot as (
            insert into dose_slots (patient_id, service_day, part, dose_id)
            select patient_id, service_day, part, id from dose where ${v.claimsSlot}::boolean
          ), audited as (
            insert into audit_log (action, actor_id, clinic_id, entity_type, entity_id, details, address, at)
            select 'dose_record', ${v.actorId}::uuid, ${v.clinicId}::uuid, 'dose', id::text, ${v.details}::jsonb, ${v.address}::text, ${v.at}::timestamptz from dose
          ), sent as (
            -- The transaction the pump will be given, written with the pending dose: a restart finds which pump to ask.
            insert into pump_events (pump_id, dose_id, kind, details, at)
            select ${v.pumpId}::uuid, id, 'dispense', jsonb_build_object('ml', ${v.ml}::numeric, 'mg', ${v.givenMg}::numeric), ${v.at}::timestamptz from dose where ${v.pumpId}::uuid is not null
          )
          select id from dose`,
);

/**
 * The dose, its slot (R9) and its audit row in one statement, written only if
 * the patient's facts are still at `version` (the dose's insert bumps it). Returns false when
 * they changed. One statement is one transaction, and it waits for no other
 * writer: the audit row is chained later by the sealer (migration 0022).
 */
async function writeDose(
  db: Db,
  d: Dose,
  version: number,
  claimsSlot: boolean,
  a: {
    actorId: string;
    address: string | null;
    details: Record<string, unknown>;
    rules: { clinicId: string; day: string; versionId: string };
    timeZones: { counter: string; home: string | null };
    pumpId: string | null;
  },
): Promise<boolean> {
  const result = await writeStatement(db, {
    ...d,
    at: d.at.toISOString(),
    decision: JSON.stringify(d.decision),
    version,
    rulesVersionId: a.rules.versionId,
    rulesClinicId: a.rules.clinicId,
    rulesDay: a.rules.day,
    counterTz: a.timeZones.counter,
    homeTz: a.timeZones.home,
    claimsSlot,
    actorId: a.actorId,
    details: JSON.stringify(a.details),
    address: a.address,
    pumpId: a.pumpId,
  });
  return result.length === 1;
}

export interface TakeHomeInput {
  patientId: string;
  clinicId: string;
  /** How many days after today to hand out, one record (and one bottle) each. */
  days: number;
  requestId: string;
}

/**
 * R14: take-home doses handed out at the counter after today's dose, one
 * record per future day so those days are covered (not missed). Allowed when
 * the patient's rules turn take-home on, the order in force allows that many
 * days (and no more than the rules' maximum), each day lies within the order,
 * and today's dose was taken here. Each day's slot is claimed like a dose.
 */
export async function recordTakeHome({ db, clock }: ServiceDeps, actor: Actor, input: TakeHomeInput, scope: string[] | null): Promise<Dose[]> {
  if (scope && !scope.includes(input.clinicId)) throw new NotFound('clinic');
  const again = await db.select().from(doses).where(sql`${doses.requestId} like ${`${input.requestId}:%`}`).orderBy(asc(doses.serviceDay));
  if (again.length) {
    if (again.some((d) => d.patientId !== input.patientId)) throw new Invalid({ requestId: 'err_invalid' });
    return again;
  }
  try {
    return await db.transaction(async (tx) => {
      const [patient] = await tx.select({ id: patients.id }).from(patients).where(eq(patients.id, input.patientId)).for('update');
      if (!patient) throw new NotFound('patient');
      const now = clock.now();
      const { facts, episodeId } = await counterFacts(tx, input.patientId, input.clinicId, now);
      const rules = await rulesForClinic(tx, facts.episode?.clinicId ?? input.clinicId, facts.today);
      const order = orderInForce(facts.orders, facts.today);
      const dosedHere = facts.history.some((h) => h.serviceDay === facts.today && h.clinicId === input.clinicId && (h.outcome === 'given' || h.outcome === 'vomited'));
      if (!order || !episodeId || !dosedHere) throw new Conflict('err_take_home_not_dosed');
      // R14/R16: take-home is the home clinic's to hand out; a host clinic doses a guest day by day.
      if (facts.episode?.clinicId !== input.clinicId) throw new Conflict('err_take_home_not_home');
      // R14: suspended by a missed-dose event (a day missed before today's dose) or a positive urine test since the order.
      const { missed } = missedDays(facts.history, facts.episode.startDate, facts.today);
      const written = facts.orders.find((o) => o.id === order.id)!.writtenDay;
      const [positive] = await tx
        .select({ id: urineTests.id })
        .from(urineTests)
        .where(and(eq(urineTests.patientId, input.patientId), gte(urineTests.testDate, written), sql`exists (select 1 from jsonb_each_text(${urineTests.results}) r where r.value = 'positive')`))
        .limit(1);
      if (missed > 0 || positive) throw new Conflict('err_take_home_suspended');
      const allowed = rules.params.take_home_enabled === 1 ? Math.min(order.takeHomeDays, rules.params.take_home_max_days) : 0;
      if (input.days < 1 || input.days > allowed) throw new Invalid({ days: 'err_take_home_days' });
      const days = Array.from({ length: input.days }, (_, i) => addDays(facts.today, i + 1));
      if (days.some((d) => d > order.endDate)) throw new Invalid({ days: 'err_take_home_after_order' });
      const volume = volumeFor(order.dailyMg, rules.params.concentration_mg_per_ml, rules.params.measuring_resolution_ml);
      const rows = await tx
        .insert(doses)
        .values(
          days.map((day) => ({
            patientId: input.patientId,
            episodeId,
            orderId: order.id,
            clinicId: input.clinicId,
            serviceDay: day,
            part: 1,
            outcome: 'take_home' as const,
            status: 'completed' as const,
            prescribedMg: order.dailyMg,
            givenMg: volume.mg,
            ml: volume.ml,
            concentration: rules.params.concentration_mg_per_ml,
            method: 'manual' as const,
            decision: { kind: 'take_home', reasons: [{ rule: 'R14', code: 'take_home', values: { days: input.days, handedOutOn: facts.today } }], mg: volume.mg },
            ruleSetVersionId: rules.versionId,
            givenBy: actor.userId,
            at: now,
            requestId: `${input.requestId}:${day}`,
          })),
        )
        .returning();
      // R9: the take-home covers its day; a dose at a counter that day finds the slot taken.
      await tx.insert(doseSlots).values(rows.map((r) => ({ patientId: r.patientId, serviceDay: r.serviceDay, part: 1, doseId: r.id })));
      await audit(tx, {
        action: 'dose_take_home',
        actorId: actor.userId,
        clinicId: input.clinicId,
        entityType: 'patient',
        entityId: input.patientId,
        details: { days: days, mg: volume.mg },
        address: actor.address,
        at: now,
      });
      return rows;
    });
  } catch (e) {
    if (isUniqueViolation(e, SLOT_PK)) throw new Conflict('err_take_home_day_covered');
    throw e;
  }
}

/** The doses of a clinic's service day, with who recorded them (the daily register's rows). */
export async function dosesOfDay(db: Db, clinicId: string, day: string) {
  return db
    .select({ dose: doses, byName: users.fullName })
    .from(doses)
    .innerJoin(users, eq(users.id, doses.givenBy))
    .where(and(eq(doses.clinicId, clinicId), eq(doses.serviceDay, day)))
    .orderBy(asc(doses.at));
}
