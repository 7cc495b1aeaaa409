// Pumps as records: the admin's configuration, a manager confirming a device,
// the calibration check, priming, the pump log, and the day close's comparison
// of what each pump reported with the dose records. Device I/O is the
// runtime's (server/pumps); these only read and write the database.
import { and, asc, desc, eq, gte, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { rows } from '../../db/sql.ts';
import { clinics, pumpEvents, pumps, type PumpEventKind } from '../../db/schema.ts';
import { CAL_FACTOR } from '../../devices/mpp/protocol.ts';
import { Conflict, Invalid, NotFound, isUniqueViolation } from '../errors.ts';
import { audit } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';
import { VOLUME_TOLERANCE_ML } from './pump-doses.ts';

export type PumpRow = typeof pumps.$inferSelect;

export interface PumpInput {
  clinicId: string;
  name: string;
  path: string;
  baudRate: number;
  expectedSerial: string | null;
  active: boolean;
}

export async function listPumps(db: Db, scope: string[] | null): Promise<(PumpRow & { clinicName: string })[]> {
  if (scope && scope.length === 0) return [];
  const q = db
    .select({ pump: pumps, clinicName: clinics.name })
    .from(pumps)
    .innerJoin(clinics, eq(clinics.id, pumps.clinicId))
    .where(scope ? inArray(pumps.clinicId, scope) : undefined)
    .orderBy(asc(clinics.name), asc(pumps.name));
  return (await q).map((r) => ({ ...r.pump, clinicName: r.clinicName }));
}

export async function getPump(db: Db, id: string, scope: string[] | null): Promise<PumpRow> {
  const [row] = await db.select().from(pumps).where(eq(pumps.id, id));
  if (!row || (scope && !scope.includes(row.clinicId))) throw new NotFound('pump');
  return row;
}

/** Adds (id null) or edits a pump; the admin's act, audited with the changed fields. */
export async function savePump({ db, clock }: ServiceDeps, actor: Actor, id: string | null, input: PumpInput): Promise<PumpRow> {
  try {
    return await db.transaction(async (tx) => {
      const [row] = id ? await tx.update(pumps).set(input).where(eq(pumps.id, id)).returning() : await tx.insert(pumps).values(input).returning();
      if (!row) throw new NotFound('pump');
      await audit(tx, { action: 'pump_configure', actorId: actor.userId, clinicId: input.clinicId, entityType: 'pump', entityId: row.id, details: { created: !id, path: input.path, baudRate: input.baudRate, active: input.active }, address: actor.address, at: clock.now() });
      return row;
    });
  } catch (e) {
    if (isUniqueViolation(e, 'pumps_clinic_path_uq')) throw new Invalid({ path: 'pump_err_path_taken' });
    throw e;
  }
}

async function event(db: Db, pumpId: string, kind: PumpEventKind, details: Record<string, unknown>, by: string | null, at: Date): Promise<void> {
  await db.insert(pumpEvents).values({ pumpId, kind, details, by, at });
}

/** A manager accepts the pump that answered with `serial` as this clinic's pump (a replacement, or the first connection). */
export async function confirmPump({ db, clock }: ServiceDeps, actor: Actor, pumpId: string, serial: string, scope: string[] | null): Promise<void> {
  const pump = await getPump(db, pumpId, scope);
  const now = clock.now();
  await db.transaction(async (tx) => {
    await tx.update(pumps).set({ expectedSerial: serial }).where(eq(pumps.id, pumpId));
    await event(tx, pumpId, 'confirm', { serial, previous: pump.expectedSerial }, actor.userId, now);
    await audit(tx, { action: 'pump_confirm', actorId: actor.userId, clinicId: pump.clinicId, entityType: 'pump', entityId: pumpId, details: { serial, previous: pump.expectedSerial }, address: actor.address, at: now });
  });
}

/** An alarm the pump raised on its own (no dose running): a device fact for the pump's log. */
export async function recordAlarm({ db, clock }: ServiceDeps, pumpId: string, code: string): Promise<void> {
  await event(db, pumpId, 'alarm', { code }, null, clock.now());
}

export async function recordPrime({ db, clock }: ServiceDeps, actor: Actor, pump: PumpRow, ml: number): Promise<void> {
  const now = clock.now();
  await db.transaction(async (tx) => {
    await event(tx, pump.id, 'prime', { ml }, actor.userId, now);
    await audit(tx, { action: 'pump_prime', actorId: actor.userId, clinicId: pump.clinicId, entityType: 'pump', entityId: pump.id, details: { ml }, address: actor.address, at: now });
  });
}

/** How long a calibration test volume may wait for its cylinder reading. */
const CAL_TEST_VALID_MS = 30 * 60_000;

/** The first half of a calibration check: the test volume the pump reported delivering. */
export async function recordCalibrationTest({ db, clock }: ServiceDeps, actor: Actor, pump: PumpRow, test: { txn: string; askedMl: number; reportedMl: number; factor: number }): Promise<void> {
  await event(db, pump.id, 'calibration', { step: 'test', ...test }, actor.userId, clock.now());
}

/**
 * The second half: the cylinder's reading sets the new factor. A pump that
 * reports R ml while the cylinder holds M delivers M/R of what it believes,
 * so its factor is scaled by R/M. Outside the protocol's 0.500–1.500 the
 * pump needs a technician, not a factor. Returns the old and new factors for
 * the runtime to send (CAL) and the page to show.
 */
export async function calibrationFactor(db: Db, pump: PumpRow, measuredMl: number, now: Date): Promise<{ old: number; factor: number; test: { txn: string; reportedMl: number; askedMl: number } }> {
  const [test] = await db
    .select({ details: pumpEvents.details, at: pumpEvents.at })
    .from(pumpEvents)
    .where(and(eq(pumpEvents.pumpId, pump.id), eq(pumpEvents.kind, 'calibration'), sql`${pumpEvents.details}->>'step' = 'test'`, gte(pumpEvents.at, new Date(now.getTime() - CAL_TEST_VALID_MS))))
    .orderBy(desc(pumpEvents.id))
    .limit(1);
  if (!test) throw new Conflict('pump_err_cal_no_test');
  const d = test.details as { txn: string; reportedMl: number; askedMl: number; factor: number };
  if (!(measuredMl > 0)) throw new Invalid({ measured: 'pump_err_volume' });
  const factor = Math.round(d.factor * (d.reportedMl / measuredMl) * 1000) / 1000;
  if (!(factor >= CAL_FACTOR.min && factor <= CAL_FACTOR.max)) throw new Invalid({ measured: 'pump_err_cal_range' });
  return { old: d.factor, factor, test: d };
}

/** The calibration set on the pump (after CAL was answered OK): from now the pump may dose for the clinic's limit. */
export async function recordCalibration({ db, clock }: ServiceDeps, actor: Actor, pump: PumpRow, c: { old: number; factor: number; measuredMl: number; reportedMl: number; txn: string }): Promise<void> {
  const now = clock.now();
  await db.transaction(async (tx) => {
    await event(tx, pump.id, 'calibration', { step: 'set', ...c }, actor.userId, now);
    await audit(tx, { action: 'pump_calibrate', actorId: actor.userId, clinicId: pump.clinicId, entityType: 'pump', entityId: pump.id, details: c, address: actor.address, at: now });
  });
}

export interface PumpEventView {
  id: number;
  kind: PumpEventKind;
  details: Record<string, unknown>;
  at: Date;
  byName: string | null;
}

/** The pump's latest events, newest first (device facts only: no patient is named). */
export async function pumpLog(db: Db, pumpId: string, limit = 30): Promise<PumpEventView[]> {
  return rows<{ id: number; kind: PumpEventKind; details: Record<string, unknown>; at: string; by_name: string | null }>(
    db,
    sql`select e.id, e.kind, e.details, e.at, u.full_name as by_name from pump_events e left join users u on u.id = e.by
        where e.pump_id = ${pumpId}::uuid order by e.id desc limit ${limit}::int`,
  ).then((r) => r.map((x) => ({ id: Number(x.id), kind: x.kind, details: x.details, at: new Date(x.at), byName: x.by_name })));
}

/**
 * The day close's check of each pump of a clinic: the volume the pump
 * reported for the day's doses (DONE, FAULT, or the last progress of an
 * unknown one) against the volume the dose records hold as delivered by the
 * pump (a hand top-up is the nurse's, not the pump's). A difference beyond
 * the tolerance is flagged on the pump page. Written once per pump and day.
 */
export async function reconcilePumpDay({ db, clock }: ServiceDeps, clinicId: string, day: string): Promise<{ pumpId: string; pumpMl: number; recordMl: number; differs: boolean }[]> {
  const found = await rows<{ pump_id: string; pump_ml: string | number; record_ml: string | number }>(
    db,
    sql`select x.pump_id,
          coalesce(sum((select (r.details->>'ml')::numeric from pump_events r where r.dose_id = d.id and r.kind in ('done', 'fault', 'unknown')
                        and not coalesce((r.details->>'late')::boolean, false) order by r.id limit 1)), 0) as pump_ml,
          coalesce(sum(d.ml - coalesce((select (r.details->>'handMl')::numeric from pump_events r where r.dose_id = d.id and r.kind = 'resolve' limit 1), 0)), 0) as record_ml
        from doses d
        join lateral (select e.pump_id from pump_events e where e.dose_id = d.id and e.kind = 'dispense' limit 1) x on true
        where d.clinic_id = ${clinicId}::uuid and d.service_day = ${day}::date and d.method = 'pump'
          and not exists (select 1 from pump_events v where v.pump_id = x.pump_id and v.kind = 'day_volume' and v.details->>'day' = ${day}::text)
        group by x.pump_id`,
  );
  const out = found.map((r) => {
    const pumpMl = Number(r.pump_ml);
    const recordMl = Number(r.record_ml);
    return { pumpId: r.pump_id, pumpMl, recordMl, differs: Math.abs(pumpMl - recordMl) > VOLUME_TOLERANCE_ML };
  });
  const at = clock.now();
  for (const r of out) await event(db, r.pumpId, 'day_volume', { day, pumpMl: r.pumpMl, recordMl: r.recordMl, differs: r.differs }, null, at);
  return out;
}

/**
 * `PUMP_PATH` in the environment: the demo clinic (the first facility) gets
 * that serial device as its pump, so `npm run pump:sim` and `npm start`
 * together are a complete demo. Idempotent: an existing pump on the path is kept.
 */
export async function ensureEnvPump({ db, clock }: ServiceDeps, path: string, baudRate: number, serial: string | null): Promise<PumpRow | null> {
  const [clinic] = await db.select({ id: clinics.id }).from(clinics).where(and(eq(clinics.kind, 'facility'), eq(clinics.active, true))).orderBy(asc(clinics.createdAt), asc(clinics.code)).limit(1);
  if (!clinic) return null;
  const [existing] = await db.select().from(pumps).where(and(eq(pumps.clinicId, clinic.id), eq(pumps.path, path), eq(pumps.active, true)));
  if (existing) return existing;
  const [row] = await db.insert(pumps).values({ clinicId: clinic.id, name: 'Bơm 1', path, baudRate, expectedSerial: serial }).returning();
  await audit(db, { action: 'pump_configure', actorId: null, clinicId: clinic.id, entityType: 'pump', entityId: row!.id, details: { created: true, path, baudRate, from: 'PUMP_PATH' }, at: clock.now() });
  return row!;
}
