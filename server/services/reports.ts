// The manager's dashboard and the monthly programme report (issue 6): every
// figure is one SQL aggregate over the records the counter and the doctors
// write (episodes, dose records, alerts), never a count kept on the side.
// Days are service days in each clinic's own zone.
//
// Definitions shared by every figure here:
// - In treatment on day d: an episode with start_date <= d < end_date (an
//   episode ends on its end day: a transfer's old episode ends the day the
//   new one starts, so the patient is counted once that day).
// - A dose dispensed: a standing dose record (not a void row, not voided)
//   with methadone given (given_mg > 0); take-home and supplied doses count.
//   A patient-day dosed is one with a part 1 (R9: one per patient, day and
//   part; a split dose's second part is part 2).
// - Over several clinics (a facility and its satellite points, a province),
//   a transfer between two of them is neither a transfer in nor out, nor an
//   ended episode: the patient stays in treatment and is counted once.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { END_REASONS, type EndReason } from '../../db/schema.ts';
import { pgArray, rows } from '../../db/sql.ts';

/**
 * Standing dispensed doses (alias d), for a scan of many (a clinic's month):
 * the voided ones found in one hash of the void rows instead of a probe per
 * dose, and everything read from doses_clinic_day_idx alone.
 */
const standingDose = sql`d.voids_id is null and d.given_mg > 0 and d.id not in (select v.voids_id from doses v where v.voids_id is not null)`;

const NO_CLINIC = '00000000-0000-0000-0000-000000000000';

/** An episode's end as the reports count it (alias e; see the header). */
export const EFF_END = sql.raw(
  `(case when e.end_reason = 'transferred_out' then greatest(e.end_date, coalesce((select min(nx.start_date) from episodes nx where nx.transferred_from_id = e.id), e.end_date)) else e.end_date end)`,
);
export const uuidArray = (ids: readonly string[]) => sql`${pgArray(ids.length ? ids : [NO_CLINIC])}::uuid[]`;

export type EndedCounts = Record<EndReason, number>;

export interface DashboardFigures {
  activeToday: number;
  dosesToday: number;
  dosesMonth: number;
  mgMonth: number;
  newMonth: number;
  reEnrolMonth: number;
  ended: EndedCounts;
  openAlertPatients: number;
  /** Methadone per patient per dosed day this month, mg; null with no dose yet. */
  avgDailyMg: number | null;
}

export interface DashboardRow extends DashboardFigures {
  clinicId: string;
  code: string;
  name: string;
  kind: 'facility' | 'satellite';
  today: string;
  monthFrom: string;
}

export interface Dashboard {
  rows: DashboardRow[];
  /** All the clinics together: patients counted once, transfers between them not counted as ends. */
  total: DashboardFigures;
}

const endedFrom = (json: unknown): EndedCounts => {
  const obj = (typeof json === 'string' ? JSON.parse(json) : (json ?? {})) as Record<string, number>;
  return Object.fromEntries(END_REASONS.map((r) => [r, Number(obj[r] ?? 0)])) as EndedCounts;
};

const num = (v: unknown) => Number(v ?? 0);
const mgOrNull = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);

/**
 * The episodes in treatment on `day` (alias e; see the header), as patient
 * ids: those still open, those whose end is after the day, and transfers out
 * whose next episode starts after it (their end, EFF_END, is that start).
 * The same episodes as `start_date <= day and (EFF_END is null or EFF_END >
 * day)`, each found on its own partial index instead of reading every
 * episode the clinic ever had.
 */
const inTreatmentOn = (where: SQL, day: SQL) => sql`(
  select e.patient_id from episodes e where ${where} and e.end_date is null and e.start_date <= ${day}
  union all
  select e.patient_id from episodes e where ${where} and e.end_date > ${day} and e.start_date <= ${day}
  union all
  select e.patient_id from episodes e where ${where} and e.end_reason = 'transferred_out' and e.end_date <= ${day} and ${EFF_END} > ${day}
)`;

/**
 * The episodes that ended in [from, to] (alias e; EFF_END in it): an end day
 * in it, or a transfer out before it whose next episode started in it. On
 * the ended episodes' partial indexes, not every episode of the clinic.
 */
const endedIn = (where: SQL, from: SQL, to: SQL) => sql`(
  select e.* from episodes e where ${where} and e.end_date between ${from} and ${to} and ${EFF_END} <= ${to}
  union all
  select e.* from episodes e where ${where} and e.end_reason = 'transferred_out' and e.end_date < ${from} and ${EFF_END} between ${from} and ${to}
)`;

/**
 * A transfer out that continues in another of `scope`'s clinics (alias e):
 * inside the group it is not an end.
 */
const internalTransferOut = (scope: SQL) =>
  sql`e.end_reason = 'transferred_out' and exists (select 1 from episodes n where n.transferred_from_id = e.id and n.clinic_id = any(${scope}))`;
/** A transfer in from another of `scope`'s clinics (alias e). */
const internalTransferIn = (scope: SQL) =>
  sql`e.kind = 'transfer_in' and exists (select 1 from episodes p where p.id = e.transferred_from_id and p.clinic_id = any(${scope}))`;

/**
 * Today's dashboard for each of `clinicIds` and for all of them together.
 * "Today" and "this month" are each clinic's own (its time zone); the total
 * uses the first clinic's day, as a programme's clinics share a zone.
 */
export async function dashboard(db: Db, now: Date, clinicIds: readonly string[]): Promise<Dashboard> {
  if (clinicIds.length === 0) return { rows: [], total: emptyFigures() };
  const scope = uuidArray(clinicIds);
  const perClinic = await rows<Record<string, unknown>>(
    db,
    sql`
      with c as (
        select id, code, name, kind, (${now.toISOString()}::timestamptz at time zone time_zone)::date as today
        from clinics where id = any(${scope})
      ), cm as (select c.*, date_trunc('month', c.today)::date as month_from from c)
      select cm.id, cm.code, cm.name, cm.kind, cm.today::text as today, cm.month_from::text as month_from,
        (select count(*)::int from ${inTreatmentOn(sql`e.clinic_id = cm.id`, sql`cm.today`)} a) as active_today,
        dm.doses_today, dm.doses_month, dm.mg_month, dm.patient_days, dm.avg_mg,
        (select count(*)::int from episodes e where e.clinic_id = cm.id and e.kind = 'first' and e.start_date between cm.month_from and cm.today) as new_month,
        (select count(*)::int from episodes e where e.clinic_id = cm.id and e.kind = 're_enrolment' and e.start_date between cm.month_from and cm.today) as re_month,
        (select coalesce(jsonb_object_agg(r.end_reason, r.n), '{}'::jsonb) from (
           select e.end_reason, count(*)::int as n from ${endedIn(sql`e.clinic_id = cm.id`, sql`cm.month_from`, sql`cm.today`)} e
           group by e.end_reason) r) as ended,
        (select count(distinct a.patient_id)::int from alerts a
          where a.clinic_id = cm.id and a.closed_at is null and a.level in ('missed', 'counsellor', 'doctor', 'dropout')) as alert_patients
      from cm
      cross join lateral (
        select count(*) filter (where d.service_day = cm.today)::int as doses_today,
               count(*)::int as doses_month,
               coalesce(sum(d.given_mg), 0)::float8 as mg_month,
               (count(*) filter (where d.part = 1))::int as patient_days,
               (sum(d.given_mg) / nullif(count(*) filter (where d.part = 1), 0))::float8 as avg_mg
        from doses d where d.clinic_id = cm.id and d.service_day between cm.month_from and cm.today and ${standingDose}
      ) dm
      order by cm.code`,
  );
  const patientDays = perClinic.reduce((n, r) => n + num(r.patient_days), 0);
  const rowsOut: DashboardRow[] = perClinic.map((r) => ({
    clinicId: String(r.id),
    code: String(r.code),
    name: String(r.name),
    kind: r.kind as DashboardRow['kind'],
    today: String(r.today),
    monthFrom: String(r.month_from),
    activeToday: num(r.active_today),
    dosesToday: num(r.doses_today),
    dosesMonth: num(r.doses_month),
    mgMonth: Math.round(num(r.mg_month) * 10) / 10,
    newMonth: num(r.new_month),
    reEnrolMonth: num(r.re_month),
    ended: endedFrom(r.ended),
    openAlertPatients: num(r.alert_patients),
    avgDailyMg: mgOrNull(r.avg_mg),
  }));
  const first = rowsOut[0]!;
  const [t] = await rows<Record<string, unknown>>(
    db,
    sql`
      select
        -- Distinct patients by hashing (count(distinct …) sorts them).
        (select count(*)::int from (select distinct a.patient_id from ${inTreatmentOn(sql`e.clinic_id = any(${scope})`, sql`${first.today}::date`)} a) x) as active_today,
        (select coalesce(jsonb_object_agg(r.end_reason, r.n), '{}'::jsonb) from (
           select e.end_reason, count(*)::int as n from ${endedIn(sql`e.clinic_id = any(${scope})`, sql`${first.monthFrom}::date`, sql`${first.today}::date`)} e
           where not (${internalTransferOut(scope)})
           group by e.end_reason) r) as ended,
        (select count(distinct a.patient_id)::int from alerts a
          where a.clinic_id = any(${scope}) and a.closed_at is null and a.level in ('missed', 'counsellor', 'doctor', 'dropout')) as alert_patients`,
  );
  const sum = (f: (r: DashboardRow) => number) => Math.round(rowsOut.reduce((s, r) => s + f(r), 0) * 10) / 10;
  return {
    rows: rowsOut,
    total: {
      activeToday: num(t?.active_today),
      dosesToday: sum((r) => r.dosesToday),
      dosesMonth: sum((r) => r.dosesMonth),
      mgMonth: sum((r) => r.mgMonth),
      newMonth: sum((r) => r.newMonth),
      reEnrolMonth: sum((r) => r.reEnrolMonth),
      ended: endedFrom(t?.ended),
      openAlertPatients: num(t?.alert_patients),
      avgDailyMg: patientDays ? mgOrNull(perClinic.reduce((n, r) => n + num(r.mg_month), 0) / patientDays) : null,
    },
  };
}

function emptyFigures(): DashboardFigures {
  return { activeToday: 0, dosesToday: 0, dosesMonth: 0, mgMonth: 0, newMonth: 0, reEnrolMonth: 0, ended: endedFrom({}), openAlertPatients: 0, avgDailyMg: null };
}

// ---------------------------------------------------------------------------
// The monthly programme report (any period: month, R21 quarter or year).

export const INDICATORS = ['activeStart', 'newlyEnrolled', 'reEnrolled', 'transferredIn', 'transferredOut', 'droppedOut', 'deceased', 'completed', 'otherEnded', 'activeEnd', 'doses', 'mg'] as const;
export type Indicator = (typeof INDICATORS)[number];
export type Indicators = Record<Indicator, number>;

export interface ProgrammeRow {
  clinicId: string;
  code: string;
  name: string;
  ind: Indicators;
}

export interface ProgrammeReport {
  from: string;
  to: string;
  rows: ProgrammeRow[];
  /** The clinics together: patients once, transfers between them left out. */
  total: Indicators;
}

/**
 * The indicators a province asks for, over [from, to] (inclusive), per clinic
 * and in total. activeStart is the count on the day before `from`, activeEnd
 * on `to`; so activeEnd = activeStart + started − ended, per clinic and in total.
 */
export async function programmeReport(db: Db, clinicIds: readonly string[], from: string, to: string): Promise<ProgrammeReport> {
  const scope = uuidArray(clinicIds);
  const figures = (internal: boolean) => sql`
    count(distinct e.patient_id) filter (where e.start_date < ${from}::date and (${EFF_END} is null or ${EFF_END} >= ${from}::date))::int as active_start,
    count(distinct e.patient_id) filter (where e.start_date <= ${to}::date and (${EFF_END} is null or ${EFF_END} > ${to}::date))::int as active_end,
    count(*) filter (where e.kind = 'first' and e.start_date between ${from}::date and ${to}::date)::int as newly,
    count(*) filter (where e.kind = 're_enrolment' and e.start_date between ${from}::date and ${to}::date)::int as re_enrolled,
    count(*) filter (where e.kind = 'transfer_in' and e.start_date between ${from}::date and ${to}::date ${internal ? sql`and not (${internalTransferIn(scope)})` : sql``})::int as transferred_in,
    count(*) filter (where e.end_reason = 'transferred_out' and ${EFF_END} between ${from}::date and ${to}::date ${internal ? sql`and not (${internalTransferOut(scope)})` : sql``})::int as transferred_out,
    count(*) filter (where e.end_reason = 'dropped_out' and ${EFF_END} between ${from}::date and ${to}::date)::int as dropped_out,
    count(*) filter (where e.end_reason = 'deceased' and ${EFF_END} between ${from}::date and ${to}::date)::int as deceased,
    count(*) filter (where e.end_reason = 'completed_taper' and ${EFF_END} between ${from}::date and ${to}::date)::int as completed,
    count(*) filter (where e.end_reason not in ('transferred_out', 'dropped_out', 'deceased', 'completed_taper') and ${EFF_END} between ${from}::date and ${to}::date)::int as other_ended`;
  const perClinic = await rows<Record<string, unknown>>(
    db,
    sql`
      select c.id, c.code, c.name, f.*, dd.doses, dd.mg
      from clinics c
      cross join lateral (select ${figures(false)} from episodes e where e.clinic_id = c.id) f
      cross join lateral (
        select count(*)::int as doses, coalesce(sum(d.given_mg), 0)::float8 as mg from doses d
        where d.clinic_id = c.id and d.service_day between ${from}::date and ${to}::date and ${standingDose}) dd
      where c.id = any(${scope})
      order by c.code`,
  );
  const [t] = await rows<Record<string, unknown>>(
    db,
    sql`
      select f.*, dd.doses, dd.mg
      from (select ${figures(true)} from episodes e where e.clinic_id = any(${scope})) f
      cross join (
        select count(*)::int as doses, coalesce(sum(d.given_mg), 0)::float8 as mg from doses d
        where d.clinic_id = any(${scope}) and d.service_day between ${from}::date and ${to}::date and ${standingDose}) dd`,
  );
  const ind = (r: Record<string, unknown> | undefined): Indicators => ({
    activeStart: num(r?.active_start),
    newlyEnrolled: num(r?.newly),
    reEnrolled: num(r?.re_enrolled),
    transferredIn: num(r?.transferred_in),
    transferredOut: num(r?.transferred_out),
    droppedOut: num(r?.dropped_out),
    deceased: num(r?.deceased),
    completed: num(r?.completed),
    otherEnded: num(r?.other_ended),
    activeEnd: num(r?.active_end),
    doses: num(r?.doses),
    mg: Math.round(num(r?.mg) * 10) / 10,
  });
  return { from, to, rows: perClinic.map((r) => ({ clinicId: String(r.id), code: String(r.code), name: String(r.name), ind: ind(r) })), total: ind(t) };
}

// ---------------------------------------------------------------------------
// Drill-down: the patients behind an indicator.

/** Indicators made of patients (doses and mg are not). */
export const PATIENT_INDICATORS = ['activeStart', 'newlyEnrolled', 'reEnrolled', 'transferredIn', 'transferredOut', 'droppedOut', 'deceased', 'completed', 'otherEnded', 'activeEnd', 'openAlerts', 'endedAs'] as const;
export type PatientIndicator = (typeof PATIENT_INDICATORS)[number];

export interface IndicatorPatient {
  patientId: string;
  code: string;
  fullName: string;
  clinicCode: string;
  startDate: string;
  endDate: string | null;
  endReason: EndReason | null;
}

/**
 * The episodes (one line each) counted in `indicator` over [from, to] for
 * `clinicIds`, as programmeReport counts them; `together` leaves out the
 * transfers between those clinics, as its total does. openAlerts ignores the
 * period: the patients with a missed-dose alert open now; endedAs takes `reason`.
 */
export async function indicatorPatients(db: Db, clinicIds: readonly string[], from: string, to: string, indicator: PatientIndicator, together: boolean, reason?: EndReason): Promise<IndicatorPatient[]> {
  const scope = uuidArray(clinicIds);
  const inPeriod = (col: SQL) => sql`${col} between ${from}::date and ${to}::date`;
  const ended = (reason: SQL) => sql`${reason} and ${inPeriod(EFF_END)}`;
  const where: Record<PatientIndicator, SQL> = {
    activeStart: sql`e.start_date < ${from}::date and (${EFF_END} is null or ${EFF_END} >= ${from}::date)`,
    activeEnd: sql`e.start_date <= ${to}::date and (${EFF_END} is null or ${EFF_END} > ${to}::date)`,
    newlyEnrolled: sql`e.kind = 'first' and ${inPeriod(sql`e.start_date`)}`,
    reEnrolled: sql`e.kind = 're_enrolment' and ${inPeriod(sql`e.start_date`)}`,
    transferredIn: sql`e.kind = 'transfer_in' and ${inPeriod(sql`e.start_date`)} ${together ? sql`and not (${internalTransferIn(scope)})` : sql``}`,
    transferredOut: sql`${ended(sql`e.end_reason = 'transferred_out'`)} ${together ? sql`and not (${internalTransferOut(scope)})` : sql``}`,
    droppedOut: ended(sql`e.end_reason = 'dropped_out'`),
    deceased: ended(sql`e.end_reason = 'deceased'`),
    completed: ended(sql`e.end_reason = 'completed_taper'`),
    otherEnded: ended(sql`e.end_reason not in ('transferred_out', 'dropped_out', 'deceased', 'completed_taper')`),
    // One end reason (the dashboard's breakdown); inside the group a transfer is not an end.
    endedAs: sql`${ended(sql`e.end_reason = ${reason ?? ''}`)} ${together ? sql`and not (${internalTransferOut(scope)})` : sql``}`,
    openAlerts: sql`e.end_date is null and exists (select 1 from alerts a where a.episode_id = e.id and a.closed_at is null and a.level in ('missed', 'counsellor', 'doctor', 'dropout'))`,
  };
  const out = await rows<Record<string, unknown>>(
    db,
    sql`select p.id, p.code, p.full_name, c.code as clinic_code, e.start_date::text as start_date, e.end_date::text as end_date, e.end_reason
      from episodes e join patients p on p.id = e.patient_id join clinics c on c.id = e.clinic_id
      where e.clinic_id = any(${scope}) and ${where[indicator]}
      order by p.code, e.start_date limit 1000`,
  );
  return out.map((r) => ({
    patientId: String(r.id),
    code: String(r.code),
    fullName: String(r.full_name),
    clinicCode: String(r.clinic_code),
    startDate: String(r.start_date),
    endDate: r.end_date === null ? null : String(r.end_date),
    endReason: (r.end_reason ?? null) as EndReason | null,
  }));
}
