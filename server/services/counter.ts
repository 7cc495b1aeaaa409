// What the counter reads: finding the patient from a scan or a name, the
// patient card with the decision of this moment, the check-in queue and the
// patients expected today but not yet seen. Writes here are the check-in and
// the call to the counter; the dose itself is server/services/dispense.ts.
import { and, asc, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { checkIns, clinics, doseOrders, doses, episodes, guestAuthorisations, patientPhotos, patients, swallowChecks } from '../../db/schema.ts';
import { pgArray, PREPARED, preparedQuery } from '../../db/sql.ts';
import { serviceDay } from '../clock.ts';
import { decideDose, type Decision, type DoseOutcome } from '../dosing/decision.ts';
import { orderInForce } from '../dosing/orders.ts';
import { NotFound } from '../errors.ts';
import { audit } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';
import { counterFacts, keepFacts, takeHomeAllowance } from './dispense.ts';
import { rulesForClinic } from './rule-sets.ts';
import { searchPatients, type SearchRow } from './patients.ts';

/** How many of the last records the card shows. */
const LAST_DOSES = 5;

const clinicQuery = preparedQuery((db) =>
  db.select({ tz: clinics.timeZone, code: clinics.code, name: clinics.name }).from(clinics).where(eq(clinics.id, sql.placeholder('clinicId'))).prepare(PREPARED),
);

export async function clinicDay(db: Db, clinicId: string, now: Date): Promise<{ today: string; timeZone: string; code: string; name: string }> {
  const [clinic] = await clinicQuery(db).execute({ clinicId });
  if (!clinic) throw new NotFound('clinic');
  return { today: serviceDay(now, clinic.tz), timeZone: clinic.tz, code: clinic.code, name: clinic.name };
}

/** A patient code as a scanner or a person types it: trimmed, upper case. */
export const normaliseCode = (q: string): string => q.normalize('NFC').trim().toUpperCase();

const codeQuery = preparedQuery((db) => db.select({ id: patients.id }).from(patients).where(eq(patients.code, sql.placeholder('code'))).prepare(PREPARED));

export type Found = { kind: 'patient'; patientId: string } | { kind: 'matches'; rows: SearchRow[] } | { kind: 'none' };

/**
 * A scan (the exact code of any clinic's patient: the card then says whether
 * this clinic may dose them) or a part of a name, code or phone (searched in
 * the user's clinics; one match opens its card).
 */
export async function findAtCounter(db: Db, q: string, scope: string[] | null): Promise<Found> {
  const code = normaliseCode(q);
  if (!code) return { kind: 'none' };
  const [exact] = await codeQuery(db).execute({ code });
  if (exact) return { kind: 'patient', patientId: exact.id };
  const { rows } = await searchPatients(db, q, scope, 1, 8, { count: false });
  if (rows.length === 1) return { kind: 'patient', patientId: rows[0]!.id };
  return rows.length ? { kind: 'matches', rows } : { kind: 'none' };
}

export interface CardData {
  clinicId: string;
  /** The counter clinic's time zone (its service day is `today`). */
  timeZone: string;
  today: string;
  patient: { id: string; code: string; fullName: string; birthDate: string; hasPhoto: boolean; homeClinicName: string };
  /** False: the patient is neither at home here nor a guest today; the card shows only the code. */
  visible: boolean;
  guest: boolean;
  diversion: { at: Date } | null;
  order: { dailyMg: number; splitMg: [number, number] | null; phase: string; endDate: string; takeHomeDays: number } | null;
  lastDoses: { serviceDay: string; outcome: DoseOutcome; status: 'completed' | 'pending' | 'unknown'; givenMg: number; at: Date; clinicCode: string; byName: string }[];
  /** The code of the clinic of the record that blocks a dose today (already dosed, take-home day), if any. */
  blockingClinicCode: string | null;
  decision: Decision;
  swallowCheck: boolean;
  /** A pump dose of this patient still pending or unknown (any day): it takes over the card. */
  unresolvedDoseId: string | null;
  /** R14: how many take-home days may be handed out after today's dose (0: none). */
  takeHomeDays: number;
}

/** The card's patient: with the photo and the latest diversion, in one statement. */
const cardPatientQuery = preparedQuery((db) =>
  db
    .select({
      id: patients.id,
      code: patients.code,
      fullName: patients.fullName,
      birthDate: patients.birthDate,
      homeClinicId: patients.homeClinicId,
      homeClinicName: clinics.name,
      hasPhoto: sql<boolean>`exists (select 1 from ${patientPhotos} where ${patientPhotos.patientId} = ${patients.id})`,
      diversionAt: sql<Date | null>`(select max(${swallowChecks.at}) from ${swallowChecks} where ${swallowChecks.patientId} = ${patients.id} and ${swallowChecks.outcome} = 'diversion')`.mapWith(swallowChecks.at),
    })
    .from(patients)
    .innerJoin(clinics, eq(clinics.id, patients.homeClinicId))
    .where(eq(patients.id, sql.placeholder('patientId')))
    .prepare(PREPARED),
);

/** The patient card at a counter: identity, order, last doses and the decision of this moment. */
export async function counterCard(db: Db, now: Date, patientId: string, clinicId: string, scope: string[] | null): Promise<CardData> {
  if (scope && !scope.includes(clinicId)) throw new NotFound('clinic');
  // The patient with the photo and the latest diversion in one statement,
  // beside the facts (with a pump dose still unsettled): a card is a few round trips.
  const [[p], read] = await Promise.all([cardPatientQuery(db).execute({ patientId }), counterFacts(db, patientId, clinicId, now)]);
  const { facts, timeZone, records, unresolvedDoseId } = read;
  if (!p) throw new NotFound('patient');
  const home = facts.episode?.clinicId ?? p.homeClinicId;
  const rules = await rulesForClinic(db, home, facts.today);
  const decision = decideDose(facts, rules.params);
  // A card that offers a dose: its confirmation may write on these facts, if they still hold then.
  if ((decision.kind === 'give' || decision.kind === 'reduced') && !unresolvedDoseId) keepFacts(db, patientId, clinicId, read, now);
  const guest = home !== clinicId && facts.guestAuthorisations.some((g) => g.hostClinicId === clinicId);
  const visible = home === clinicId || guest || !scope || scope.includes(p.homeClinicId);
  const order = orderInForce(facts.orders, facts.today);
  // The last records, from the history the decision was made on (standing records of the last 60 days).
  const last = records
    .filter((r) => r.serviceDay <= facts.today)
    .sort((a, b) => (a.serviceDay === b.serviceDay ? b.at.getTime() - a.at.getTime() : a.serviceDay < b.serviceDay ? 1 : -1))
    .slice(0, LAST_DOSES);
  return {
    clinicId,
    timeZone,
    today: facts.today,
    patient: { id: p.id, code: p.code, fullName: p.fullName, birthDate: p.birthDate, hasPhoto: p.hasPhoto === true, homeClinicName: p.homeClinicName },
    visible,
    guest,
    diversion: p.diversionAt ? { at: p.diversionAt } : null,
    unresolvedDoseId,
    order: order && { dailyMg: order.dailyMg, splitMg: order.splitMg ? [order.splitMg[0], order.splitMg[1]] : null, phase: order.phase, endDate: order.endDate, takeHomeDays: order.takeHomeDays },
    lastDoses: last,
    blockingClinicCode: decision.kind === 'already_dosed' || decision.kind === 'take_home_day' ? (records.find((r) => r.clinicId === decision.clinicId)?.clinicCode ?? null) : null,
    decision,
    swallowCheck: rules.params.swallow_check_enabled === 1,
    takeHomeDays: takeHomeAllowance(facts, rules.params, clinicId),
  };
}

/**
 * Check-in by scanning the card at reception: the patient joins today's
 * queue once (a second scan finds the first). Only patients of the clinic
 * or its guests today; others are a 404 like any record out of scope.
 */
export async function checkIn({ db, clock }: ServiceDeps, actor: Actor, clinicId: string, code: string, scope: string[] | null): Promise<{ patientId: string; code: string; fullName: string; already: boolean }> {
  if (scope && !scope.includes(clinicId)) throw new NotFound('clinic');
  const now = clock.now();
  const { today } = await clinicDay(db, clinicId, now);
  const [p] = await db
    .select({ id: patients.id, code: patients.code, fullName: patients.fullName })
    .from(patients)
    .where(
      and(
        eq(patients.code, normaliseCode(code)),
        or(
          sql`exists (select 1 from ${episodes} e where e.patient_id = ${patients.id} and e.clinic_id = ${clinicId} and e.end_date is null)`,
          sql`exists (select 1 from ${guestAuthorisations} g where g.patient_id = ${patients.id} and g.host_clinic_id = ${clinicId} and g.from_date <= ${today} and g.to_date >= ${today})`,
        ),
      ),
    );
  if (!p) throw new NotFound('patient');
  return db.transaction(async (tx) => {
    const inserted = await tx.insert(checkIns).values({ patientId: p.id, clinicId, serviceDay: today, at: now, by: actor.userId }).onConflictDoNothing().returning({ id: checkIns.id });
    if (inserted.length) {
      await audit(tx, { action: 'check_in', actorId: actor.userId, clinicId, entityType: 'patient', entityId: p.id, details: { serviceDay: today }, address: actor.address, at: now });
    }
    return { patientId: p.id, code: p.code, fullName: p.fullName, already: inserted.length === 0 };
  });
}

/** Not recorded at a counter since checking in (a void, and a record voided as a mistake, are no visit). */
const seenSince = (today: string) =>
  sql`not exists (select 1 from doses d where d.patient_id = ${checkIns.patientId} and d.service_day = ${today} and d.at >= ${checkIns.at} and d.voids_id is null and not exists (select 1 from doses v where v.voids_id = d.id))`;

/** Checked in here today, not yet called, not yet recorded at a counter. */
const waiting = (clinicId: string, today: string) => and(eq(checkIns.clinicId, clinicId), eq(checkIns.serviceDay, today), isNull(checkIns.calledAt), seenSince(today));

/** The queue: patients checked in today, not yet called and not yet recorded at a counter, oldest first. */
export async function queueOf(db: Db, clinicId: string, today: string) {
  return db
    .select({ id: checkIns.id, patientId: patients.id, code: patients.code, fullName: patients.fullName, at: checkIns.at })
    .from(checkIns)
    .innerJoin(patients, eq(patients.id, checkIns.patientId))
    .where(waiting(clinicId, today))
    .orderBy(asc(checkIns.at))
    .limit(200);
}

/**
 * Calls the patient who has waited longest. Two counters calling at once get
 * two different patients: the row is taken with SKIP LOCKED.
 */
export async function callNext({ db, clock }: ServiceDeps, actor: Actor, clinicId: string, scope: string[] | null): Promise<string | null> {
  if (scope && !scope.includes(clinicId)) throw new NotFound('clinic');
  const now = clock.now();
  const { today } = await clinicDay(db, clinicId, now);
  return db.transaction(async (tx) => {
    const [next] = await tx
      .select({ id: checkIns.id, patientId: checkIns.patientId })
      .from(checkIns)
      .where(waiting(clinicId, today))
      .orderBy(asc(checkIns.at))
      .limit(1)
      .for('update', { skipLocked: true });
    if (!next) return null;
    await tx.update(checkIns).set({ calledAt: now, calledBy: actor.userId }).where(eq(checkIns.id, next.id));
    return next.patientId;
  });
}

/**
 * Expected today and not yet seen: an open episode here (or a guest
 * authorisation here covering today) with an order in force today, and no
 * record of today at any counter (a take-home for today counts as seen).
 */
export async function expectedNotSeen(db: Db, clinicId: string, today: string, limit = 500) {
  const orderToday = sql`exists (select 1 from ${doseOrders} o where o.episode_id = ${episodes.id} and o.start_date <= ${today} and o.end_date >= ${today})`;
  // A voided record (a mistake) is no visit: neither the void row nor the record it voids counts.
  const seen = sql`exists (select 1 from doses d where d.patient_id = ${patients.id} and d.service_day = ${today} and d.voids_id is null and d.status <> 'failed' and not exists (select 1 from doses v where v.voids_id = d.id))`;
  const guestHere = sql`exists (select 1 from ${guestAuthorisations} g where g.episode_id = ${episodes.id} and g.host_clinic_id = ${clinicId} and g.from_date <= ${today} and g.to_date >= ${today})`;
  return db
    .select({ patientId: patients.id, code: patients.code, fullName: patients.fullName, guest: sql<boolean>`${episodes.clinicId} <> ${clinicId}` })
    .from(episodes)
    .innerJoin(patients, eq(patients.id, episodes.patientId))
    .where(and(isNull(episodes.endDate), lte(episodes.startDate, today), or(eq(episodes.clinicId, clinicId), guestHere), orderToday, sql`not ${seen}`))
    .orderBy(asc(patients.code))
    .limit(limit);
}

/**
 * The clinic a page works for: the one asked for if it is one of the user's
 * (active) clinics, else their first; with the others, for the switcher.
 */
export async function chooseClinic(db: Db, scope: string[] | null, asked: string | undefined) {
  const list = await counterClinics(db, scope);
  const chosen = asked ? list.find((cl) => cl.id === asked) : list[0];
  if (!chosen) throw new NotFound('clinic');
  return { ...chosen, others: list.filter((cl) => cl.id !== chosen.id) };
}

const clinicRows = (db: Db) => db.select({ id: clinics.id, code: clinics.code, name: clinics.name }).from(clinics);
const allClinicsQuery = preparedQuery((db) => clinicRows(db).where(eq(clinics.active, true)).orderBy(asc(clinics.code)).prepare(PREPARED));
// The scope as one array parameter: one statement text whatever its length.
const scopedClinicsQuery = preparedQuery((db) =>
  clinicRows(db)
    .where(and(eq(clinics.active, true), sql`${clinics.id} = any(${sql.placeholder('scope')}::uuid[])`))
    .orderBy(asc(clinics.code))
    .prepare(PREPARED),
);

/** The clinics a counter may work for: the user's own (active) clinics. */
export async function counterClinics(db: Db, scope: string[] | null) {
  return scope ? scopedClinicsQuery(db).execute({ scope: pgArray(scope) }) : allClinicsQuery(db).execute();
}

/**
 * A nurse sends a patient whose card says "doctor review" to the doctor: the
 * patient is checked in (already called, so not in the counter's queue) and
 * appears on the doctor's review list.
 */
export async function referToDoctor({ db, clock }: ServiceDeps, actor: Actor, clinicId: string, patientId: string, scope: string[] | null): Promise<void> {
  if (scope && !scope.includes(clinicId)) throw new NotFound('clinic');
  const now = clock.now();
  const { today } = await clinicDay(db, clinicId, now);
  await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(checkIns)
      .values({ patientId, clinicId, serviceDay: today, at: now, by: actor.userId, calledAt: now, calledBy: actor.userId })
      .onConflictDoNothing()
      .returning({ id: checkIns.id });
    if (inserted.length) await audit(tx, { action: 'check_in', actorId: actor.userId, clinicId, entityType: 'patient', entityId: patientId, details: { serviceDay: today, referred: true }, address: actor.address, at: now });
  });
}
