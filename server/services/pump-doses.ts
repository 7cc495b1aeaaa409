// A pump dose after its record was committed as pending (dispense.ts): what
// the pump reported, and what a nurse decided when it could not finish. Each
// move is one statement: the dose's single allowed update (pending or unknown
// → its final state), the pump event, the slot when the day is freed, and
// the audit row, together or not at all.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { rows } from '../../db/sql.ts';
import type { DispenseOutcome, NotStartedReason } from '../../devices/pump.ts';
import { Conflict, Invalid, NotFound } from '../errors.ts';
import type { Actor, ServiceDeps } from './context.ts';

/** Delivered more or less than asked by this much (ml) and the record says so: the graduation of a 10 ml cylinder. */
export const VOLUME_TOLERANCE_ML = 0.2;

/** mg in `ml` of the dose's solution, never above what was prescribed (the record's own limit). */
const mgOf = (ml: string) => sql`least(d.prescribed_mg, round(${ml}::numeric * d.concentration, 1))`;

export interface PumpDose {
  id: string;
  patientId: string;
  clinicId: string;
  status: 'pending' | 'unknown' | 'completed' | 'failed';
  plannedMl: number;
  plannedMg: number;
  ml: number;
  /** mg recorded as given (0 until completed). */
  givenMg: number;
  pumpId: string | null;
  /** The fault the pump reported, while the dose waits for a nurse's decision. */
  fault: { code: string; ml: number } | null;
  /** What the pump reported after the dose went unknown (a late answer), for the nurse deciding. */
  lateReport: { state: string; ml: number } | null;
  /** Why the pump did not take the transaction, for a dose that failed so. */
  notStarted: NotStartedReason | null;
}

interface PumpDoseRow extends Record<string, unknown> {
  id: string;
  patient_id: string;
  clinic_id: string;
  status: PumpDose['status'];
  planned_ml: string | number;
  planned_mg: string | number;
  ml: string | number;
  given_mg: string | number;
  pump_id: string | null;
  fault: { code: string; ml: number } | null;
  late: { state: string; ml: number } | null;
  not_started: NotStartedReason | null;
}

const SELECT_PUMP_DOSE = sql`select d.id, d.patient_id, d.clinic_id, d.status, d.ml as ml, d.given_mg,
    coalesce((x.details->>'ml')::numeric, d.ml) as planned_ml, (d.decision->>'mg')::numeric as planned_mg, x.pump_id,
    (select jsonb_build_object('code', f.details->>'code', 'ml', (f.details->>'ml')::numeric) from pump_events f
      where f.dose_id = d.id and f.kind = 'fault' order by f.id desc limit 1) as fault,
    (select jsonb_build_object('state', l.details->>'state', 'ml', (l.details->>'ml')::numeric) from pump_events l
      where l.dose_id = d.id and l.kind = 'done' and d.status = 'unknown' order by l.id desc limit 1) as late,
    (select n.details->>'reason' from pump_events n where n.dose_id = d.id and n.kind = 'not_started' limit 1) as not_started
  from doses d
  left join lateral (select e.pump_id, e.details from pump_events e where e.dose_id = d.id and e.kind = 'dispense' order by e.id limit 1) x on true`;

function toPumpDose(r: PumpDoseRow): PumpDose {
  return {
    id: r.id,
    patientId: r.patient_id,
    clinicId: r.clinic_id,
    status: r.status,
    plannedMl: Number(r.planned_ml),
    plannedMg: Number(r.planned_mg),
    ml: Number(r.ml),
    givenMg: Number(r.given_mg),
    pumpId: r.pump_id,
    fault: r.fault && { code: r.fault.code, ml: Number(r.fault.ml) },
    lateReport: r.late && { state: r.late.state, ml: Number(r.late.ml) },
    notStarted: r.not_started,
  };
}

export async function pumpDose(db: Db, doseId: string): Promise<PumpDose | null> {
  const [r] = await rows<PumpDoseRow>(db, sql`${SELECT_PUMP_DOSE} where d.id = ${doseId}::uuid`);
  return r ? toPumpDose(r) : null;
}

/** A dose still holding its patient (pending, or unknown after a silent pump): doses_unresolved_idx's predicate, on the alias given. */
export const unresolved = (d: SQL) => sql`${d}.status in ('pending', 'unknown')`;

/** Pending doses sent to a pump: after a restart, each is asked after (QUERY) before anyone doses again. */
export async function pendingOnPump(db: Db, pumpId: string): Promise<{ id: string; plannedMl: number }[]> {
  const r = await rows<{ id: string; ml: string | number }>(
    db,
    sql`select d.id, e.details->>'ml' as ml from pump_events e join doses d on d.id = e.dose_id
        where e.pump_id = ${pumpId}::uuid and e.kind = 'dispense' and d.status = 'pending'
          and not exists (select 1 from pump_events f where f.dose_id = d.id and f.kind = 'fault')
        order by d.at`,
  );
  return r.map((x) => ({ id: x.id, plannedMl: Number(x.ml) }));
}

/**
 * Records what the pump reported of a dose. DONE completes it with the
 * measured volume; a fault is recorded and the dose waits, still pending and
 * still holding the day, for the nurse's decision; silence makes it unknown
 * with the last volume heard; a transaction the pump never took fails the
 * dose with nothing delivered and frees the day. Only a pending dose moves:
 * a report arriving twice (the pump repeats its final frame) changes nothing.
 */
export async function recordPumpOutcome({ db, clock }: ServiceDeps, doseId: string, pumpId: string, o: DispenseOutcome): Promise<PumpDose | null> {
  const at = clock.now().toISOString();
  const details = JSON.stringify(o.kind === 'not_started' ? { reason: o.reason } : o.kind === 'fault' ? { code: o.code, ml: o.ml } : { ml: o.ml });
  const audit = (kind: string) => sql`insert into audit_log (action, actor_id, clinic_id, entity_type, entity_id, details, at)
      select 'dose_pump_outcome', null, clinic_id, 'dose', id::text, jsonb_build_object('outcome', ${kind}::text, 'pumpId', ${pumpId}::text) || ${details}::jsonb, ${at}::timestamptz from moved`;
  switch (o.kind) {
    case 'done': {
      const ml = String(o.ml);
      await db.execute(sql`with moved as (
          update doses d set status = 'completed', ml = ${ml}::numeric, given_mg = ${mgOf(ml)}
          where d.id = ${doseId}::uuid and d.status = 'pending' returning d.id, d.clinic_id
        ), ev as (
          insert into pump_events (pump_id, dose_id, kind, details, at)
          select ${pumpId}::uuid, id, 'done', ${details}::jsonb || jsonb_build_object('state', 'DONE'), ${at}::timestamptz from moved
        ) ${audit('done')}`);
      break;
    }
    case 'fault':
      // The dose keeps its slot: the nurse decides (top up, partial, withhold) with the cup in front of her.
      await db.execute(sql`with moved as (select d.id, d.clinic_id from doses d where d.id = ${doseId}::uuid and d.status = 'pending'
            and not exists (select 1 from pump_events f where f.dose_id = d.id and f.kind = 'fault')),
          ev as (insert into pump_events (pump_id, dose_id, kind, details, at) select ${pumpId}::uuid, id, 'fault', ${details}::jsonb, ${at}::timestamptz from moved)
        ${audit('fault')}`);
      break;
    case 'unknown': {
      const ml = String(o.ml);
      await db.execute(sql`with moved as (
          update doses d set status = 'unknown', ml = ${ml}::numeric, given_mg = ${mgOf(ml)}
          where d.id = ${doseId}::uuid and d.status = 'pending' returning d.id, d.clinic_id
        ), ev as (insert into pump_events (pump_id, dose_id, kind, details, at) select ${pumpId}::uuid, id, 'unknown', ${details}::jsonb, ${at}::timestamptz from moved)
        ${audit('unknown')}`);
      break;
    }
    case 'not_started':
      await db.execute(sql`with moved as (
          update doses d set status = 'failed', ml = 0, given_mg = 0
          where d.id = ${doseId}::uuid and d.status = 'pending' returning d.id, d.clinic_id
        ), freed as (delete from dose_slots where dose_id in (select id from moved)),
        ev as (insert into pump_events (pump_id, dose_id, kind, details, at) select ${pumpId}::uuid, id, 'not_started', ${details}::jsonb, ${at}::timestamptz from moved)
        ${audit('not_started')}`);
      break;
    default:
      o satisfies never;
  }
  return pumpDose(db, doseId);
}

/** A pump's late word on a dose already unknown: kept for the nurse, never applied by itself. */
export async function recordLateReport({ db, clock }: ServiceDeps, doseId: string, pumpId: string, state: string, ml: number): Promise<void> {
  await db.execute(sql`insert into pump_events (pump_id, dose_id, kind, details, at)
    select ${pumpId}::uuid, id, 'done', jsonb_build_object('state', ${state}::text, 'ml', ${ml}::numeric, 'late', true), ${clock.now().toISOString()}::timestamptz
    from doses where id = ${doseId}::uuid and status = 'unknown'`);
}

export const RESOLUTIONS = ['top_up', 'partial', 'withhold', 'given', 'not_given'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface ResolveInput {
  doseId: string;
  clinicId: string;
  decision: Resolution;
  /** For 'given' after an unknown outcome: the volume the nurse found in the cup (ml). */
  ml?: number | null;
}

/**
 * A nurse's decision on a pump dose that could not finish. After a fault
 * (dose pending, fault recorded): top up by hand to the planned volume,
 * record what was delivered as a partial dose, or withhold (nothing swallowed;
 * the day is freed). After silence (dose unknown): given, with the volume in
 * the cup, or not given (the day is freed). The decision, the volumes and who
 * made it are a pump event and an audit row in the same statement.
 */
export async function resolvePumpDose({ db, clock }: ServiceDeps, actor: Actor, input: ResolveInput, scope: string[] | null): Promise<PumpDose> {
  if (scope && !scope.includes(input.clinicId)) throw new NotFound('clinic');
  const d = await pumpDose(db, input.doseId);
  if (!d || d.clinicId !== input.clinicId || !d.pumpId) throw new NotFound('dose');
  const waiting = (d.status === 'pending' && d.fault) || d.status === 'unknown';
  if (!waiting) throw new Conflict('pump_err_not_waiting');
  const afterFault = d.status === 'pending';
  const allowed: readonly Resolution[] = afterFault ? ['top_up', 'partial', 'withhold'] : ['given', 'not_given'];
  if (!allowed.includes(input.decision)) throw new Invalid({ decision: 'err_invalid' });
  const pumpMl = afterFault ? d.fault!.ml : d.ml;
  let finalMl: number;
  let handMl = 0;
  let status: 'completed' | 'failed';
  switch (input.decision) {
    case 'top_up':
      finalMl = d.plannedMl;
      handMl = Math.max(0, Math.round((d.plannedMl - pumpMl) * 100) / 100);
      status = 'completed';
      break;
    case 'partial':
      finalMl = pumpMl;
      status = 'completed';
      break;
    case 'withhold':
    case 'not_given':
      // What left the bottle is kept (stock); nothing was swallowed.
      finalMl = pumpMl;
      status = 'failed';
      break;
    case 'given': {
      const ml = input.ml;
      if (ml === null || ml === undefined || !Number.isFinite(ml) || ml <= 0 || ml > d.plannedMl + VOLUME_TOLERANCE_ML) throw new Invalid({ ml: 'pump_err_ml' });
      finalMl = ml;
      status = 'completed';
      break;
    }
    default:
      input.decision satisfies never;
      throw new Invalid({ decision: 'err_invalid' });
  }
  const at = clock.now().toISOString();
  const details = JSON.stringify({ decision: input.decision, pumpMl, handMl, ml: finalMl, from: d.status });
  const ml = String(finalMl);
  const given = status === 'completed' ? mgOf(ml) : sql`0`;
  const moved = await rows<{ id: string }>(
    db,
    sql`with moved as (
          update doses d set status = ${status}::text, ml = ${ml}::numeric, given_mg = ${given}
          where d.id = ${d.id}::uuid and d.status = ${d.status}::text returning d.id, d.clinic_id
        ), freed as (delete from dose_slots where ${status === 'failed'}::boolean and dose_id in (select id from moved)),
        ev as (insert into pump_events (pump_id, dose_id, kind, details, by, at) select ${d.pumpId}::uuid, id, 'resolve', ${details}::jsonb, ${actor.userId}::uuid, ${at}::timestamptz from moved),
        au as (insert into audit_log (action, actor_id, clinic_id, entity_type, entity_id, details, address, at)
          select 'dose_pump_resolve', ${actor.userId}::uuid, clinic_id, 'dose', id::text, ${details}::jsonb, ${actor.address}::text, ${at}::timestamptz from moved)
        select id from moved`,
  );
  // Another nurse decided first: her decision stands.
  if (moved.length === 0) throw new Conflict('pump_err_not_waiting');
  return (await pumpDose(db, d.id))!;
}

/** The nurse pressed stop: recorded before the pump is told, so the record shows who stopped it even if the line is gone. */
export async function recordStop({ db, clock }: ServiceDeps, actor: Actor, doseId: string, pumpId: string): Promise<void> {
  const at = clock.now().toISOString();
  await db.execute(sql`with ev as (insert into pump_events (pump_id, dose_id, kind, by, at) values (${pumpId}::uuid, ${doseId}::uuid, 'stop', ${actor.userId}::uuid, ${at}::timestamptz))
    insert into audit_log (action, actor_id, clinic_id, entity_type, entity_id, details, address, at)
    select 'dose_pump_stop', ${actor.userId}::uuid, clinic_id, 'dose', id::text, jsonb_build_object('pumpId', ${pumpId}::text), ${actor.address}::text, ${at}::timestamptz from doses where id = ${doseId}::uuid`);
}
