// Retention (R22), time in treatment (Kaplan–Meier), the Circular 05
// cross-sectional counts and adherence, by SQL over episodes and dose slots.
//
// A treatment run is a patient's episode and the transfers that continue it
// (an episode whose transferred_from_id points at the one before): moving
// between the clinics reported on (a province's, a facility and its satellite
// points) is not leaving treatment, and the patient is one run, counted once,
// in the clinic where the run began. A move to a clinic outside them is a
// transfer out; a run that came in from outside them began elsewhere.
// - Cohort: the run's first dose (its induction), by month or R21 quarter;
//   first enrolments and re-enrolments apart. A run with no dose yet is in
//   no cohort; a run that began as a transfer from outside is in none either.
// - Exit: the first of the run's end (the end of its last episode) and the
//   30th consecutive day with no dose covered (R18), counted from the last
//   covered day before the gap. The reason is the episode's end reason, or
//   dropout when the 30th uncovered day came first.
// - Retained at N months: no exit before day D = ⌊N × 30.44⌋ after the first
//   dose. Within a run the gaps are shorter than 30 days, so this is R22's
//   "no dropout or termination before day D and a covered day within the 30
//   days before it". A cohort is counted at N only once day D has come.
// - With censoring: a run that left by death, transfer out (of the clinics
//   reported on) or custody before day D is taken out of the count instead
//   of lost.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { Sex } from '../../db/schema.ts';
import { rows } from '../../db/sql.ts';
import { uuidArray } from './reports.ts';

export const RETENTION_MONTHS = [3, 6, 12, 24] as const;
export type RetentionMonth = (typeof RETENTION_MONTHS)[number];
/** Day D of month N (R22). */
export const dayOfMonth = (n: number) => Math.floor(n * 30.44);
/** R22's separate outcomes. */
export const CENSORED_REASONS = ['deceased', 'transferred_out', 'incarcerated'] as const;
/** CENSORED_REASONS as an SQL list. */
const CENSORED_IN = sql.raw(`(${CENSORED_REASONS.map((r) => `'${r}'`).join(', ')})`);
/** R18: this many consecutive uncovered days is a dropout. */
export const DROPOUT_GAP = 30;

export const AGE_BANDS = ['u30', '30_39', '40_49', '50p'] as const;
export type AgeBand = (typeof AGE_BANDS)[number];
export const RUN_KINDS = ['first', 're_enrolment'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export interface RunFilter {
  clinicIds: readonly string[];
  sex?: Sex;
  ageBand?: AgeBand;
  referral?: string;
}


const ageBandSql = sql`case when r.age < 30 then 'u30' when r.age < 40 then '30_39' when r.age < 50 then '40_49' else '50p' end`;

/**
 * How runs are chained. 'scope': only through the filter's clinics — a move
 * between two of them continues the run, a move out ends it (transferred
 * out), a run that came in from elsewhere began outside and is in no cohort.
 * 'programme': through every clinic, for "how long has this patient been in
 * treatment" (Circular 05), attributed to the clinic of its latest episode.
 */
type Chaining = 'scope' | 'programme';

/**
 * Every run with a first dose on or before `asOf`, with its exit as seen on
 * `asOf` (alias runs: patient_id, clinic_id, kind, first_day, exit_day,
 * exit_reason, age at the first dose, sex, referral; truncated and since, for
 * a run whose induction is not in the records). With 'scope' chaining (the
 * cohorts, the curve, the drill-down) runs leaves the truncated out; runs_all
 * keeps them, for their count.
 */
function runsSql(asOf: string, f: RunFilter, chaining: Chaining = 'scope', gaps: GapSource = 'spans'): SQL {
  const scope = uuidArray(f.clinicIds);
  const day = sql`${asOf}::date`;
  const continues =
    chaining === 'scope'
      ? sql`e.kind = 'transfer_in' and exists (select 1 from episodes prev where prev.id = e.transferred_from_id and prev.clinic_id = any(${scope}))`
      : sql`e.kind = 'transfer_in' and e.transferred_from_id is not null`;
  const episodesOf = chaining === 'scope' ? sql`e.clinic_id = any(${scope})` : sql`e.patient_id in (select patient_id from episodes where clinic_id = any(${scope}))`;
  // Who the patient is (sex, age) is read only for a filter on it.
  const withPerson = f.sex !== undefined || f.ageBand !== undefined;
  // The cross-section needs only the runs going on that day.
  const runWhere =
    chaining === 'scope'
      ? sql`run.first_clinic = any(${scope}) and run.kind in ('first', 're_enrolment')`
      : sql`run.last_clinic = any(${scope}) and (run.end_date is null or run.end_date > ${day})`;
  const beforeRecords = sql`r3.first_day > r3.started + ${DROPOUT_GAP}::int`;
  return sql`
    ep as (
      select e.*, sum(case when ${continues} then 0 else 1 end)
        over (partition by e.patient_id order by e.start_date, e.created_at, e.id) as run_no
      from episodes e
      where e.start_date <= ${day} and ${episodesOf}
    ), run_ep as (
      -- One pass over the runs' episodes in order (a window), not an ordered aggregate per column and run.
      select ep.patient_id, ep.run_no,
        first_value(ep.clinic_id) over w as first_clinic,
        last_value(ep.clinic_id) over w as last_clinic,
        first_value(ep.kind) over w as kind,
        first_value(ep.referral_source) over w as referral,
        first_value(ep.start_date) over w as started,
        last_value(ep.end_date) over w as end_date,
        last_value(ep.end_reason) over w as end_reason,
        row_number() over w as nth
      from ep
      window w as (partition by ep.patient_id, ep.run_no order by ep.start_date, ep.created_at, ep.id rows between unbounded preceding and unbounded following)
    ), run as (
      select * from run_ep where nth = 1
    ), r0 as (
      select run.*, ${chaining === 'scope' ? sql`run.first_clinic` : sql`run.last_clinic`} as clinic_id,
        case when run.end_date <= ${day} then run.end_date end as end_seen,
        -- The last day the run is seen on (asOf, or its end), and the last it is seen in treatment (the day before its end).
        least(coalesce(case when run.end_date <= ${day} then run.end_date end, ${day}), ${day}) as seen_by,
        least(coalesce(case when run.end_date <= ${day} then run.end_date end - 1, ${day}), ${day}) as seen_to,
        ${withPerson ? sql`p.sex, p.birth_date` : sql`null::text as sex, null::date as birth_date`}
      from run ${withPerson ? sql`join patients p on p.id = run.patient_id` : sql``}
      where ${runWhere}
        ${f.sex ? sql`and p.sex = ${f.sex}` : sql``}
        ${f.referral !== undefined ? sql`and run.referral = ${f.referral}` : sql``}
    ), r2 as (
      ${gaps === 'spans' ? fromSpans : fromSlots}
    ), r3 as (
      select r2.*, case when r2.e + ${DROPOUT_GAP}::int <= r2.seen_by then r2.e + ${DROPOUT_GAP}::int end as dropout_day from r2
    ), runs0 as (
      select r3.patient_id, r3.clinic_id, r3.kind, r3.first_day, r3.sex, r3.referral,
        extract(year from age(r3.first_day, r3.birth_date))::int as age,
        -- A first recorded dose more than 30 days after the run began: its induction is not in the
        -- records (a patient enrolled before the clinic's dose records began). Not in the cohorts
        -- or the curve; the cross-section counts its time in treatment from the run's start.
        ${beforeRecords} as truncated,
        case when ${beforeRecords} then r3.started else r3.first_day end as since,
        case when r3.dropout_day is not null and (r3.end_seen is null or r3.dropout_day < r3.end_seen) then r3.dropout_day else r3.end_seen end as exit_day,
        case when r3.dropout_day is not null and (r3.end_seen is null or r3.dropout_day < r3.end_seen) then 'dropped_out'
             when r3.end_seen is not null then r3.end_reason end as exit_reason
      from r3
    ), runs_all as (
      select * from runs0 r ${f.ageBand ? sql`where ${ageBandSql} = ${f.ageBand}` : sql``}
    ), runs as (
      select * from runs_all ${chaining === 'scope' ? sql`where not runs_all.truncated` : sql``}
    )`;
}

/**
 * Each run's first dose (first_day: its first covered day from its start to
 * the day it is seen to, asOf or its end) and e, the last covered day before
 * its first gap of 30 or more uncovered days where that gap can show by
 * seen_to (alias r0 → r2).
 *
 * From coverage_spans: the patient's first chain that reaches the run's
 * start (one probe of its key). A chain that begins on or after the start
 * begins with the run's first dose; one that began before it (a re-enrolment
 * within 30 days of the last run's doses) holds it, found in the slots. The
 * chain ends at the run's first such gap. Where it runs past seen_to, e is
 * left null: the chain's next covered day after any day up to seen_to is at
 * most 30 days on and after seen_to, so no dropout falls on a day the run is
 * seen (e + 30 > seen_to: after `asOf`, or on or after the run's end, which
 * then comes first); e is read for that dropout only (r3). At 60,000
 * patients × 2 years this replaced a probe of the slots for the first dose
 * and a walk through them in steps of up to 30 days, some 25 probes a run.
 */
const fromSpans = sql`
      select r1.*, case when r1.chain_end <= r1.seen_to then r1.chain_end end as e
      from (
        select r0.*, sp.to_day as chain_end,
          case when sp.from_day >= r0.started then sp.from_day
            else (select min(s.service_day) from dose_slots s
                  where s.patient_id = r0.patient_id and s.service_day >= r0.started and s.service_day <= r0.seen_by)
          end as first_day
        from r0 cross join lateral (
          select cs.from_day, cs.to_day from coverage_spans cs
          where cs.patient_id = r0.patient_id and cs.to_day >= r0.started
          order by cs.from_day limit 1
        ) sp
      ) r1
      where r1.first_day <= r1.seen_by`;

/**
 * The same read from the slots alone: the first dose by a probe of the
 * slots' index, e by walking each run in steps of up to 30 days (one probe
 * per step, some 25 a run over two years). The reference the tests hold
 * fromSpans to.
 */
const fromSlots = sql`
      select r1.*, w.e
      from (
        select r0.*, fd.first_day
        from r0
        cross join lateral (select min(s.service_day) as first_day from dose_slots s
          where s.patient_id = r0.patient_id and s.service_day >= r0.started and s.service_day <= r0.seen_by) fd
        where fd.first_day is not null
      ) r1 cross join lateral (
        with recursive walk(d) as (
          select r1.first_day
          union all
          select (select max(s.service_day) from dose_slots s
                  where s.patient_id = r1.patient_id and s.service_day > walk.d and s.service_day <= least(walk.d + ${DROPOUT_GAP}::int, r1.seen_to))
          from walk where walk.d is not null
        ) select max(walk.d) as e from walk
      ) w`;

/**
 * Where a run's first 30-day gap is read from: 'spans' (coverage_spans, what
 * the pages use) or 'slots' (the walk through dose_slots, for the tests).
 */
export type GapSource = 'spans' | 'slots';

/** The R22 cohort key of a run (alias runs). */
const cohortKey = (grouping: 'month' | 'quarter') =>
  grouping === 'month' ? sql`to_char(runs.first_day, 'YYYY-MM')` : sql`to_char((runs.first_day - 14 + interval '1 month')::date, 'YYYY-"Q"Q')`;

export interface RetentionCell {
  /** Runs whose day D has come. */
  eligible: number;
  retained: number;
  /** Left by death, transfer out or custody before day D. */
  censored: number;
}

export interface CohortRow {
  cohort: string;
  kind: RunKind;
  size: number;
  at: Record<RetentionMonth, RetentionCell>;
}

const cellSql = (n: number) => {
  const d = dayOfMonth(n);
  return sql`
    count(*) filter (where runs.first_day + ${d}::int <= ${sql.raw('asof.day')})::int as ${sql.raw(`elig_${n}`)},
    count(*) filter (where runs.first_day + ${d}::int <= ${sql.raw('asof.day')} and (runs.exit_day is null or runs.exit_day >= runs.first_day + ${d}::int))::int as ${sql.raw(`ret_${n}`)},
    count(*) filter (where runs.first_day + ${d}::int <= ${sql.raw('asof.day')} and runs.exit_day < runs.first_day + ${d}::int and runs.exit_reason in ${CENSORED_IN})::int as ${sql.raw(`cens_${n}`)}`;
};

const cohortRowOf = (r: Record<string, unknown>): CohortRow => ({
  cohort: String(r.cohort),
  kind: r.kind as RunKind,
  size: Number(r.size),
  at: Object.fromEntries(RETENTION_MONTHS.map((n) => [n, { eligible: Number(r[`elig_${n}`]), retained: Number(r[`ret_${n}`]), censored: Number(r[`cens_${n}`]) }])) as Record<RetentionMonth, RetentionCell>,
});

/** The cohort table's statement over `runs` (joined with asof). */
const cohortSelect = (grouping: 'month' | 'quarter') => sql`
  select ${cohortKey(grouping)} as cohort, runs.kind, count(*)::int as size,
    ${sql.join(RETENTION_MONTHS.map(cellSql), sql`, `)}
  from runs cross join asof
  group by 1, 2`;

/** Retention by cohort at 3, 6, 12 and 24 months, as seen on `asOf`. */
export async function cohortRetention(db: Db, asOf: string, f: RunFilter, grouping: 'month' | 'quarter'): Promise<CohortRow[]> {
  const out = await rows<Record<string, unknown>>(db, sql`with ${runsSql(asOf, f)}, asof as (select ${asOf}::date as day) ${cohortSelect(grouping)} order by 1, 2`);
  return out.map(cohortRowOf);
}

export interface KmStep {
  /** Days since the first dose. */
  day: number;
  atRisk: number;
  events: number;
  /** The share still in treatment just after `day`. */
  survival: number;
}

export interface KmCurve {
  runs: number;
  steps: KmStep[];
  /** Number at risk at the start of months 0, 3, 6, 12, 18, 24 (day ⌊N × 30.44⌋). */
  atRisk: { month: number; n: number }[];
}

export const AT_RISK_MONTHS = [0, 3, 6, 12, 18, 24] as const;


/**
 * The Kaplan–Meier steps over `runs` of `kind`, both ways at once: every exit
 * an event (e_all, s_all), or deaths, transfers out and custody censored
 * (e_cens, s_cens). A run still in treatment is censored on `asOf`. One row
 * per day on which someone left or was censored, with the number at risk.
 */
const kmSelect = (asOf: string, kind: RunKind | 'all') => {
  const survival = (e: string) =>
    sql.raw(`case when bool_or(${e} = at_risk and ${e} > 0) over (order by day) then 0
      else exp(sum(case when ${e} > 0 and ${e} < at_risk then ln(1 - ${e}::float8 / at_risk) else 0 end) over (order by day)) end`);
  return sql`
    t as (select (coalesce(runs.exit_day, ${asOf}::date) - runs.first_day) as day, runs.exit_day is not null as ev_all,
            (runs.exit_day is not null and runs.exit_reason not in ${CENSORED_IN}) as ev_cens
          from runs where ${kind === 'all' ? sql`true` : sql`runs.kind = ${kind}`}),
    g as (select day, count(*) filter (where ev_all)::int as e_all, count(*) filter (where ev_cens)::int as e_cens, count(*)::int as leaving from t group by day),
    r as (select day, e_all, e_cens, (sum(leaving) over (order by day desc))::int as at_risk from g),
    k as (select day, at_risk, e_all, e_cens, ${survival('e_all')} as s_all, ${survival('e_cens')} as s_cens from r)`;
};

function curvesOf(steps: Record<string, unknown>[]): { all: KmCurve; censored: KmCurve } {
  const rowsOf = steps.map((s) => ({ day: Number(s.day), atRisk: Number(s.at_risk), eAll: Number(s.e_all), eCens: Number(s.e_cens), sAll: Number(s.s_all), sCens: Number(s.s_cens) }));
  const total = rowsOf[0]?.atRisk ?? 0;
  const atRisk = AT_RISK_MONTHS.map((month) => {
    const first = rowsOf.find((s) => s.day >= dayOfMonth(month));
    return { month, n: first ? first.atRisk : 0 };
  });
  const curve = (events: 'eAll' | 'eCens', survival: 'sAll' | 'sCens'): KmCurve => ({
    runs: total,
    steps: rowsOf.filter((s) => s[events] > 0).map((s) => ({ day: s.day, atRisk: s.atRisk, events: s[events], survival: s[survival] })),
    atRisk,
  });
  return { all: curve('eAll', 'sAll'), censored: curve('eCens', 'sCens') };
}

/**
 * Kaplan–Meier estimate of time in treatment: every exit is an event, or,
 * with `censorOutcomes`, deaths, transfers out and custody are censored
 * instead. A run still in treatment is censored on `asOf`.
 */
export async function kaplanMeier(db: Db, asOf: string, f: RunFilter, kind: RunKind | 'all', censorOutcomes: boolean): Promise<KmCurve> {
  const steps = await rows<Record<string, unknown>>(db, sql`with ${runsSql(asOf, f)}, ${kmSelect(asOf, kind)} select * from k order by day`);
  const curves = curvesOf(steps);
  return censorOutcomes ? curves.censored : curves.all;
}

export interface RetentionReport {
  cohorts: CohortRow[];
  all: KmCurve;
  censored: KmCurve;
  /** Runs left out because their induction is not in the records (first recorded dose more than 30 days after the run began). */
  truncated: number;
}

/**
 * The retention page's figures in one statement: the runs (the costly part:
 * every covered day of every run) are worked out once for the cohort table
 * and both curves. Same figures as cohortRetention and kaplanMeier.
 */
export async function retentionReport(db: Db, asOf: string, f: RunFilter, grouping: 'month' | 'quarter', kind: RunKind | 'all', gaps: GapSource = 'spans'): Promise<RetentionReport> {
  const [r] = await rows<{ cohorts: unknown; km: unknown; truncated: number }>(
    db,
    sql`with ${runsSql(asOf, f, 'scope', gaps)}, asof as (select ${asOf}::date as day), c as (${cohortSelect(grouping)}), ${kmSelect(asOf, kind)}
      select (select coalesce(json_agg(c order by c.cohort, c.kind), '[]'::json) from c) as cohorts,
             (select coalesce(json_agg(k order by k.day), '[]'::json) from k) as km,
             (select count(*)::int from runs_all where runs_all.truncated) as truncated`,
  );
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : (v ?? [])) as Record<string, unknown>[];
  return { cohorts: json(r?.cohorts).map(cohortRowOf), ...curvesOf(json(r?.km)), truncated: Number(r?.truncated ?? 0) };
}

export interface CrossSectional {
  day: string;
  inTreatment: number;
  over6: number;
  over12: number;
}

/**
 * Circular 05/2023's counts on a day: patients in treatment at the filter's
 * clinics (an episode there, no exit: R18's 30 uncovered days count as one),
 * and of them those in treatment for more than 6 and 12 months — since the
 * first dose of their run, followed through transfers from any clinic. A
 * snapshot of who is there, not retention: those who left are not in it.
 */
export async function crossSectional(db: Db, day: string, f: RunFilter, gaps: GapSource = 'spans'): Promise<CrossSectional> {
  const [r] = await rows<Record<string, unknown>>(
    db,
    sql`with ${runsSql(day, f, 'programme', gaps)}
      select count(*)::int as n,
        count(*) filter (where runs.since < (${day}::date - interval '6 months')::date)::int as over6,
        count(*) filter (where runs.since < (${day}::date - interval '12 months')::date)::int as over12
      from runs where runs.exit_day is null`,
  );
  return { day, inTreatment: Number(r?.n ?? 0), over6: Number(r?.over6 ?? 0), over12: Number(r?.over12 ?? 0) };
}

/** The referral sources written on the runs of these clinics, for the filter. */
export async function referralSources(db: Db, clinicIds: readonly string[]): Promise<string[]> {
  const out = await rows<{ s: string }>(
    db,
    sql`select distinct referral_source as s from episodes where clinic_id = any(${uuidArray(clinicIds)}) and kind in ('first', 're_enrolment') and referral_source <> '' order by 1 limit 50`,
  );
  return out.map((r) => r.s);
}

// ---------------------------------------------------------------------------
// Drill-down: the runs behind a retention figure.

export type CohortOutcome = 'all' | 'retained' | 'lost' | 'censored';

export interface RunListRow {
  patientId: string;
  code: string;
  fullName: string;
  clinicCode: string;
  firstDay: string;
  exitDay: string | null;
  exitReason: string | null;
}

export async function cohortRuns(
  db: Db,
  asOf: string,
  f: RunFilter,
  q: { grouping: 'month' | 'quarter'; cohort: string; kind: RunKind; month?: RetentionMonth; outcome: CohortOutcome },
): Promise<RunListRow[]> {
  const d = q.month ? dayOfMonth(q.month) : 0;
  const eligible = sql`runs.first_day + ${d}::int <= ${asOf}::date`;
  const before = sql`runs.exit_day < runs.first_day + ${d}::int`;
  const outcome =
    q.outcome === 'all' || !q.month
      ? sql`true`
      : q.outcome === 'retained'
        ? sql`${eligible} and (runs.exit_day is null or not (${before}))`
        : q.outcome === 'censored'
          ? sql`${eligible} and ${before} and runs.exit_reason in ${CENSORED_IN}`
          : sql`${eligible} and ${before}`;
  const out = await rows<Record<string, unknown>>(
    db,
    sql`with ${runsSql(asOf, f)}
      select p.id, p.code, p.full_name, c.code as clinic_code, runs.first_day::text as first_day, runs.exit_day::text as exit_day, runs.exit_reason
      from runs join patients p on p.id = runs.patient_id join clinics c on c.id = runs.clinic_id
      where ${cohortKey(q.grouping)} = ${q.cohort} and runs.kind = ${q.kind} and ${outcome}
      order by p.code limit 500`,
  );
  return out.map((r) => ({
    patientId: String(r.id),
    code: String(r.code),
    fullName: String(r.full_name),
    clinicCode: String(r.clinic_code),
    firstDay: String(r.first_day),
    exitDay: r.exit_day === null ? null : String(r.exit_day),
    exitReason: r.exit_reason === null ? null : String(r.exit_reason),
  }));
}
