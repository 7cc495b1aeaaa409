// Recording a dose at the counter: one transaction that reads today's order
// and the history, asks the rules (server/dosing/decision.ts), claims the
// day's slot and writes the record with its audit row. The patient's row is
// locked first, so two counters (or a double click, or a retried request)
// deciding for one patient take turns; the slot's primary key is the last net.
import { and, asc, eq, gte, isNull, lte, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { clinics, doseOrders, doseReviews, doses, doseSlots, episodes, guestAuthorisations, patients, urineTests, users } from '../../db/schema.ts';
import { serviceDay } from '../clock.ts';
import { addDays } from '../dosing/days.ts';
import { COVERING_OUTCOMES, decideDose, missedDays, type CounterFacts, type Decision, type DoseOutcome, type DoseRecord } from '../dosing/decision.ts';
import { orderInForce } from '../dosing/orders.ts';
import { volumeFor } from '../dosing/volume.ts';
import { Conflict, Invalid, NotFound, isUniqueViolation } from '../errors.ts';
import { audit } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';
import { rulesForClinic } from './rule-sets.ts';

/** The name of dose_slots' primary key, as the migration made it (not PostgreSQL's default "dose_slots_pkey"). */
const SLOT_PK = 'dose_slots_patient_id_service_day_part_pk';

/** How far back the history is read: enough for R11's longest threshold and R18's dropout. */
const HISTORY_DAYS = 60;

export type Dose = typeof doses.$inferSelect;

/** The facts the rules need, read at a clinic on its service day. */
export async function counterFacts(
  db: Db,
  patientId: string,
  clinicId: string,
  now: Date,
): Promise<{ facts: CounterFacts; timeZone: string; episodeId: string | null; records: { serviceDay: string; outcome: DoseOutcome; givenMg: number; at: Date; clinicCode: string; byName: string }[] }> {
  // Independent reads go out together (on PostgreSQL they overlap; PGlite runs them in turn).
  const [[clinic], [episode]] = await Promise.all([
    db.select({ tz: clinics.timeZone }).from(clinics).where(eq(clinics.id, clinicId)),
    db
      .select({ id: episodes.id, clinicId: episodes.clinicId, startDate: episodes.startDate, tz: clinics.timeZone })
      .from(episodes)
      .innerJoin(clinics, eq(clinics.id, episodes.clinicId))
      .where(and(eq(episodes.patientId, patientId), isNull(episodes.endDate))),
  ]);
  if (!clinic) throw new NotFound('clinic');
  const today = serviceDay(now, clinic.tz);
  const [orders, history, guests, reviews] = await Promise.all([
    episode ? db.select().from(doseOrders).where(eq(doseOrders.episodeId, episode.id)).orderBy(asc(doseOrders.startDate), asc(doseOrders.createdAt)) : [],
    db
      .select({ serviceDay: doses.serviceDay, part: doses.part, outcome: doses.outcome, clinicId: doses.clinicId, clinicCode: clinics.code, givenMg: doses.givenMg, at: doses.at, byName: users.fullName, status: doses.status })
      .from(doses)
      .innerJoin(users, eq(users.id, doses.givenBy))
      .innerJoin(clinics, eq(clinics.id, doses.clinicId))
      .where(
        and(
          eq(doses.patientId, patientId),
          gte(doses.serviceDay, addDays(today, -HISTORY_DAYS)),
          isNull(doses.voidsId),
          notInArray(doses.status, ['failed']),
          // Not voided by a later row.
          sql`not exists (select 1 from doses v where v.voids_id = ${doses.id})`,
        ),
      ),
    episode
      ? db
          .select({ hostClinicId: guestAuthorisations.hostClinicId, fromDate: guestAuthorisations.fromDate, toDate: guestAuthorisations.toDate })
          .from(guestAuthorisations)
          .where(and(eq(guestAuthorisations.episodeId, episode.id), lte(guestAuthorisations.fromDate, today), gte(guestAuthorisations.toDate, today)))
      : [],
    db
      .select({ kind: doseReviews.kind, maxMg: doseReviews.maxMg, at: doseReviews.at })
      .from(doseReviews)
      .where(and(eq(doseReviews.patientId, patientId), eq(doseReviews.serviceDay, today))),
  ]);
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
  const records = history.map((h) => ({ serviceDay: h.serviceDay, outcome: h.outcome, givenMg: h.givenMg, at: h.at, clinicCode: h.clinicCode, byName: h.byName }));
  return { facts, timeZone: clinic.tz, episodeId: episode?.id ?? null, records };
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
  /** Manual (what the nurse measured) now; the pump issue adds its own states after the record. */
  method?: 'manual';
}

export type RecordDoseResult =
  | { kind: 'recorded'; dose: Dose; decision: Decision }
  | { kind: 'refused'; decision: Decision }
  | { kind: 'changed'; decision: Decision };

/**
 * Records what happened at the counter, under the decision of this moment.
 * A dose is given only when the rules say give (or reduced) and the
 * observation check found no sign of intoxication (R10); otherwise it is
 * withheld with the reason. The given mg is the decision's, never more.
 */
export async function recordDose({ db, clock }: ServiceDeps, actor: Actor, input: RecordDoseInput, scope: string[] | null): Promise<RecordDoseResult> {
  if (scope && !scope.includes(input.clinicId)) throw new NotFound('clinic');
  const [already] = await db.select().from(doses).where(eq(doses.requestId, input.requestId));
  if (already) {
    if (already.patientId !== input.patientId) throw new Invalid({ requestId: 'err_invalid' });
    return { kind: 'recorded', dose: already, decision: already.decision as unknown as Decision };
  }
  try {
    return await db.transaction(async (tx) => {
      // Concurrent decisions for one patient take turns here.
      const [patient] = await tx.select({ id: patients.id }).from(patients).where(eq(patients.id, input.patientId)).for('update');
      if (!patient) throw new NotFound('patient');
      const now = clock.now();
      const { facts, episodeId } = await counterFacts(tx, input.patientId, input.clinicId, now);
      // The home clinic's rules apply, also to a guest dose elsewhere (R16).
      const rules = await rulesForClinic(tx, facts.episode?.clinicId ?? input.clinicId, facts.today);
      const decision = decideDose(facts, rules.params);
      if (decision.kind !== 'give' && decision.kind !== 'reduced') return { kind: 'refused' as const, decision };
      if (input.expected && (input.expected.part !== decision.part || input.expected.mg !== decision.mg)) return { kind: 'changed' as const, decision };

      // R10: signs of intoxication withhold the dose until a doctor decides.
      const outcome = input.intoxication !== 'none' ? 'withheld' : input.outcome;
      // Given or vomited: the measured dose was swallowed. Spilled: it left the bottle (stock) but was not taken.
      const given = outcome === 'given' || outcome === 'vomited';
      const measured = given || outcome === 'spilled';
      const [row] = await tx
        .insert(doses)
        .values({
          patientId: input.patientId,
          episodeId: episodeId!,
          orderId: decision.orderId,
          clinicId: input.clinicId,
          serviceDay: facts.today,
          part: decision.part,
          outcome,
          status: 'completed',
          prescribedMg: decision.orderedMg,
          givenMg: given ? decision.mg : 0,
          ml: measured ? decision.ml : 0,
          concentration: rules.params.concentration_mg_per_ml,
          method: input.method ?? 'manual',
          intoxication: input.intoxication,
          breathAlcohol: input.breathAlcohol,
          decision: { kind: decision.kind, reasons: decision.reasons, mg: decision.mg },
          ruleSetVersionId: rules.versionId,
          givenBy: actor.userId,
          at: now,
          requestId: input.requestId,
        })
        .returning();
      if ((COVERING_OUTCOMES as readonly string[]).includes(outcome)) {
        // R9 in the database: a second claim for this day and part fails here.
        await tx.insert(doseSlots).values({ patientId: input.patientId, serviceDay: facts.today, part: decision.part, doseId: row!.id });
      }
      await audit(tx, {
        action: 'dose_record',
        actorId: actor.userId,
        clinicId: input.clinicId,
        entityType: 'dose',
        entityId: row!.id,
        details: { patientId: input.patientId, outcome, part: decision.part, mg: row!.givenMg, serviceDay: facts.today },
        address: actor.address,
        at: now,
      });
      return { kind: 'recorded' as const, dose: row!, decision };
    });
  } catch (e) {
    if (isUniqueViolation(e, SLOT_PK)) throw new Conflict('err_already_dosed');
    if (isUniqueViolation(e, 'doses_request_uq')) {
      const [again] = await db.select().from(doses).where(eq(doses.requestId, input.requestId));
      if (again) return { kind: 'recorded', dose: again, decision: again.decision as unknown as Decision };
    }
    throw e;
  }
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
