// After the counter: the doctor's review of patients the counter could not
// dose (R10 withholding, R11 missed days), voiding a mistaken record, and the
// swallow check (R13). All of them append rows; none rewrites a dose.
import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { checkIns, doseReviews, doses, doseSlots, patients, swallowChecks, users, type REVIEW_KINDS, type SWALLOW_OUTCOMES } from '../../db/schema.ts';
import { decideDose, type Decision } from '../dosing/decision.ts';
import { Conflict, Invalid, NotFound, isUniqueViolation } from '../errors.ts';
import { audit } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';
import { clinicDay } from './counter.ts';
import { counterFacts } from './dispense.ts';
import { rulesForClinic } from './rule-sets.ts';

export interface ReviewRow {
  patientId: string;
  code: string;
  fullName: string;
  decision: Decision;
  /** The last withholding today (R10), if any: its intoxication finding and breath reading. */
  withheld: { at: Date; intoxication: string | null; breathAlcohol: number | null; byName: string } | null;
  reviews: { kind: string; maxMg: number | null; note: string; at: Date; doctorName: string }[];
}

/**
 * The doctor's review list of a clinic today: the patients withheld today at
 * this clinic or checked in / referred today whose card now says "doctor
 * review", with the decision of this moment and the rulings already made.
 */
export async function reviewList(db: Db, now: Date, clinicId: string): Promise<ReviewRow[]> {
  const { today } = await clinicDay(db, clinicId, now);
  const withheldIds = await db
    .selectDistinct({ patientId: doses.patientId })
    .from(doses)
    .where(and(eq(doses.clinicId, clinicId), eq(doses.serviceDay, today), eq(doses.outcome, 'withheld'), isNull(doses.voidsId)));
  const checkedIn = await db.select({ patientId: checkIns.patientId }).from(checkIns).where(and(eq(checkIns.clinicId, clinicId), eq(checkIns.serviceDay, today)));
  const ids = [...new Set([...withheldIds, ...checkedIn].map((r) => r.patientId))];
  if (!ids.length) return [];
  const people = await db.select({ id: patients.id, code: patients.code, fullName: patients.fullName }).from(patients).where(inArray(patients.id, ids));
  const out: ReviewRow[] = [];
  for (const p of people.sort((a, b) => a.code.localeCompare(b.code))) {
    const { facts } = await counterFacts(db, p.id, clinicId, now);
    const rules = await rulesForClinic(db, facts.episode?.clinicId ?? clinicId, today);
    const decision = decideDose(facts, rules.params);
    const [withheld] = await db
      .select({ at: doses.at, intoxication: doses.intoxication, breathAlcohol: doses.breathAlcohol, byName: users.fullName })
      .from(doses)
      .innerJoin(users, eq(users.id, doses.givenBy))
      .where(and(eq(doses.patientId, p.id), eq(doses.serviceDay, today), eq(doses.outcome, 'withheld'), isNull(doses.voidsId), sql`not exists (select 1 from doses v where v.voids_id = ${doses.id})`))
      .orderBy(desc(doses.at))
      .limit(1);
    const reviews = await db
      .select({ kind: doseReviews.kind, maxMg: doseReviews.maxMg, note: doseReviews.note, at: doseReviews.at, doctorName: users.fullName })
      .from(doseReviews)
      .innerJoin(users, eq(users.id, doseReviews.doctorId))
      .where(and(eq(doseReviews.patientId, p.id), eq(doseReviews.serviceDay, today)))
      .orderBy(desc(doseReviews.at));
    // Only what is still waiting for the doctor: once ruled on (or ordered), the card decides again.
    // A 'no dose' ruling closes the day (decideDose lets no later ruling reopen it): nothing waits any more.
    if (decision.kind !== 'doctor_review' || decision.code === 'doctor_no_dose') continue;
    out.push({ patientId: p.id, code: p.code, fullName: p.fullName, decision, withheld: withheld ?? null, reviews });
  }
  return out;
}

export interface ReviewInput {
  patientId: string;
  clinicId: string;
  kind: (typeof REVIEW_KINDS)[number];
  maxMg: number | null;
  note: string;
}

/** A doctor's ruling on today's dose (R10 resume / no dose; R11 approval of a reduced dose). */
export async function recordReview({ db, clock }: ServiceDeps, actor: Actor, input: ReviewInput, scope: string[] | null): Promise<void> {
  if (scope && !scope.includes(input.clinicId)) throw new NotFound('clinic');
  if ((input.kind === 'reduced') !== (input.maxMg !== null)) throw new Invalid({ maxMg: 'err_mg' });
  const now = clock.now();
  const { today } = await clinicDay(db, input.clinicId, now);
  await db.transaction(async (tx) => {
    const [p] = await tx.select({ id: patients.id }).from(patients).where(eq(patients.id, input.patientId)).for('update');
    if (!p) throw new NotFound('patient');
    const [row] = await tx
      .insert(doseReviews)
      .values({ patientId: input.patientId, clinicId: input.clinicId, serviceDay: today, kind: input.kind, maxMg: input.maxMg, note: input.note, doctorId: actor.userId, at: now })
      .returning({ id: doseReviews.id });
    await audit(tx, {
      action: 'dose_review',
      actorId: actor.userId,
      clinicId: input.clinicId,
      entityType: 'patient',
      entityId: input.patientId,
      details: { reviewId: row!.id, kind: input.kind, maxMg: input.maxMg, serviceDay: today },
      address: actor.address,
      at: now,
    });
  });
}

/**
 * Voids a mistaken dose record: a new row that references it, with who and
 * why; the day's slot is released so the right record can be made. Both rows
 * stay in the register.
 */
export async function voidDose({ db, clock }: ServiceDeps, actor: Actor, doseId: string, reason: string, scope: string[] | null): Promise<{ patientId: string; clinicId: string; serviceDay: string }> {
  const now = clock.now();
  try {
    return await db.transaction(async (tx) => {
      const [dose] = await tx.select().from(doses).where(eq(doses.id, doseId));
      if (!dose || (scope && !scope.includes(dose.clinicId))) throw new NotFound('dose');
      if (dose.voidsId) throw new Conflict('err_void_a_void');
      // A pump dose not yet settled is resolved at the counter (what the pump delivered decides), never voided meanwhile.
      if (dose.status === 'pending' || dose.status === 'unknown') throw new Conflict('pump_err_void_unresolved');
      // R10: a withholding for intoxication is lifted by a doctor's ruling; voiding it is a doctor's act too.
      if (dose.outcome === 'withheld') {
        const [who] = await tx.select({ role: users.role }).from(users).where(eq(users.id, actor.userId));
        if (who?.role !== 'doctor') throw new Conflict('err_void_withheld_doctor');
      }
      await tx.select({ id: patients.id }).from(patients).where(eq(patients.id, dose.patientId)).for('update');
      const [row] = await tx
        .insert(doses)
        .values({
          patientId: dose.patientId,
          episodeId: dose.episodeId,
          orderId: dose.orderId,
          clinicId: dose.clinicId,
          serviceDay: dose.serviceDay,
          part: dose.part,
          outcome: dose.outcome,
          status: 'completed',
          prescribedMg: dose.prescribedMg,
          givenMg: 0,
          ml: 0,
          concentration: dose.concentration,
          method: dose.method,
          decision: { kind: 'void' },
          ruleSetVersionId: dose.ruleSetVersionId,
          givenBy: actor.userId,
          at: now,
          voidsId: dose.id,
          voidReason: reason,
        })
        .returning({ id: doses.id });
      await tx.delete(doseSlots).where(eq(doseSlots.doseId, dose.id));
      await audit(tx, {
        action: 'dose_void',
        actorId: actor.userId,
        clinicId: dose.clinicId,
        entityType: 'dose',
        entityId: dose.id,
        details: { voidId: row!.id, patientId: dose.patientId, serviceDay: dose.serviceDay, outcome: dose.outcome },
        address: actor.address,
        at: now,
      });
      return { patientId: dose.patientId, clinicId: dose.clinicId, serviceDay: dose.serviceDay };
    });
  } catch (e) {
    if (isUniqueViolation(e, 'doses_voids_uq')) throw new Conflict('err_already_voided');
    throw e;
  }
}

/** R13: the swallow check after a dose, once per dose; a diversion flags the patient. Returns whose dose it was. */
export async function recordSwallowCheck(
  { db, clock }: ServiceDeps,
  actor: Actor,
  input: { doseId: string; clinicId: string; outcome: (typeof SWALLOW_OUTCOMES)[number]; note: string },
  scope: string[] | null,
): Promise<{ patientId: string }> {
  if (scope && !scope.includes(input.clinicId)) throw new NotFound('clinic');
  const now = clock.now();
  const [dose] = await db.select({ id: doses.id, patientId: doses.patientId, clinicId: doses.clinicId, outcome: doses.outcome }).from(doses).where(eq(doses.id, input.doseId));
  if (!dose || dose.clinicId !== input.clinicId) throw new NotFound('dose');
  if (dose.outcome !== 'given') throw new Conflict('err_swallow_not_given');
  try {
    await db.transaction(async (tx) => {
      await tx.insert(swallowChecks).values({ doseId: dose.id, patientId: dose.patientId, outcome: input.outcome, note: input.note, by: actor.userId, at: now });
      await audit(tx, {
        action: 'dose_swallow_check',
        actorId: actor.userId,
        clinicId: dose.clinicId,
        entityType: 'dose',
        entityId: dose.id,
        details: { patientId: dose.patientId, outcome: input.outcome },
        address: actor.address,
        at: now,
      });
    });
  } catch (e) {
    // A retried confirmation of the same dose: the first stands.
    if (!isUniqueViolation(e, 'swallow_checks_dose_uq')) throw e;
  }
  return { patientId: dose.patientId };
}

/** Whether a dose is still without its swallow check (the card keeps asking). */
export async function swallowPending(db: Db, doseId: string): Promise<boolean> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(swallowChecks).where(eq(swallowChecks.doseId, doseId));
  return (row?.n ?? 0) === 0;
}
