// Adherence: the share of days in treatment with a dose taken — observed at
// the counter or taken home (any covered day: a standing dose slot) — per
// patient and per clinic, over a period. By SQL over episodes and dose slots.
// Days in treatment are an episode's days in the period up to the day before
// its end (as the reports count ends: services/reports.ts), and
// never after `upTo` (the last whole day).
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { rows } from '../../db/sql.ts';
import { EFF_END, uuidArray } from './reports.ts';

/** Bands of per-patient adherence, lower bounds in percent. */
export const ADHERENCE_BANDS = [0, 50, 80, 95] as const;

export interface ClinicAdherence {
  clinicId: string;
  code: string;
  name: string;
  patients: number;
  days: number;
  covered: number;
  /** covered / days over the clinic's patients, 0–1; null with no day in treatment. */
  pooled: number | null;
  /** Patients per band of ADHERENCE_BANDS. */
  bands: number[];
}

export interface PatientAdherence {
  patientId: string;
  code: string;
  fullName: string;
  clinicCode: string;
  days: number;
  covered: number;
}

const perPatient = (clinicIds: readonly string[], from: string, to: string) => sql`
  ep as (
    select e.patient_id, e.clinic_id, greatest(e.start_date, ${from}::date) as a,
      least(coalesce(${EFF_END} - 1, ${to}::date), ${to}::date) as b
    from episodes e
    where e.clinic_id = any(${uuidArray(clinicIds)}) and e.start_date <= ${to}::date and (e.end_date is null or ${EFF_END} > ${from}::date)
  ), pp as (
    select ep.patient_id, ep.clinic_id, sum(ep.b - ep.a + 1)::int as days,
      sum((select count(distinct s.service_day) from dose_slots s where s.patient_id = ep.patient_id and s.service_day between ep.a and ep.b))::int as covered
    from ep where ep.b >= ep.a group by ep.patient_id, ep.clinic_id
  )`;

export async function clinicAdherence(db: Db, clinicIds: readonly string[], from: string, to: string): Promise<ClinicAdherence[]> {
  const [b0, b1, b2, b3] = ADHERENCE_BANDS;
  const out = await rows<Record<string, unknown>>(
    db,
    sql`with ${perPatient(clinicIds, from, to)}
      select c.id, c.code, c.name, count(pp.patient_id)::int as patients, coalesce(sum(pp.days), 0)::int as days, coalesce(sum(pp.covered), 0)::int as covered,
        count(*) filter (where pp.covered * 100 >= ${b0}::int * pp.days and pp.covered * 100 < ${b1}::int * pp.days)::int as band0,
        count(*) filter (where pp.covered * 100 >= ${b1}::int * pp.days and pp.covered * 100 < ${b2}::int * pp.days)::int as band1,
        count(*) filter (where pp.covered * 100 >= ${b2}::int * pp.days and pp.covered * 100 < ${b3}::int * pp.days)::int as band2,
        count(*) filter (where pp.covered * 100 >= ${b3}::int * pp.days)::int as band3
      from clinics c left join pp on pp.clinic_id = c.id
      where c.id = any(${uuidArray(clinicIds)})
      group by c.id, c.code, c.name order by c.code`,
  );
  return out.map((r) => {
    const days = Number(r.days);
    const covered = Number(r.covered);
    return {
      clinicId: String(r.id),
      code: String(r.code),
      name: String(r.name),
      patients: Number(r.patients),
      days,
      covered,
      pooled: days > 0 ? covered / days : null,
      bands: [Number(r.band0), Number(r.band1), Number(r.band2), Number(r.band3)],
    };
  });
}

/** Each patient's adherence in the period, lowest first (those to talk to first). */
export async function patientAdherence(db: Db, clinicIds: readonly string[], from: string, to: string, limit = 500): Promise<PatientAdherence[]> {
  const out = await rows<Record<string, unknown>>(
    db,
    sql`with ${perPatient(clinicIds, from, to)}
      select p.id, p.code, p.full_name, c.code as clinic_code, pp.days, pp.covered
      from pp join patients p on p.id = pp.patient_id join clinics c on c.id = pp.clinic_id
      order by pp.covered::float8 / pp.days, p.code limit ${limit}::int`,
  );
  return out.map((r) => ({ patientId: String(r.id), code: String(r.code), fullName: String(r.full_name), clinicCode: String(r.clinic_code), days: Number(r.days), covered: Number(r.covered) }));
}
