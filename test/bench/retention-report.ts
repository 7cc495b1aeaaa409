// The retention report (server/services/retention.ts, R22) of a whole
// province, as the page computes it: the cohorts by month, the Kaplan–Meier
// curves without and with censoring, and the Circular 05 cross-sectional
// counts, over every clinic of the province, timed.
//
// BENCH_REPORT_PATIENTS patients (default 60,000 on PostgreSQL, 3,000 on
// PGlite) in facilities of 3,000 (two at least, so that there are transfers
// between them), with BENCH_REPORT_DAYS days of history (default 730 on
// PostgreSQL, 120 on PGlite; 60 at least). The programme went live on the
// first day of the history: about half the patients were enrolled in its
// first month (the caseload of the time), the others over the rest of it, so
// that there are ~24 monthly cohorts. What becomes of each patient (a hash of
// their number, so not by clinic):
//   58% come almost every day (about 1 day in 25 missed, at random);
//   10% come irregularly (about 1 day in 5 missed, and one break of 8–25
//       days, never the 30 of a dropout);
//    6% drop out (their last dose, then 30 uncovered days) and their episode
//       is ended 'dropped_out' 30–34 days later; 2% drop out with the episode
//       left open (no one has confirmed it yet);
//    6% drop out, the episode ended, and come back 31–150 days after their
//       last dose as a new episode ('re_enrolment', a new run and cohort);
//    5% leave: deceased, transferred out of the province, completed taper
//       (two in a hundred) or incarcerated, their episode ended 1–3 days
//       after the last dose;
//    6% move to the next facility: as transferEpisode writes it, the old
//       episode ends 'transferred_out' the day before the new one
//       ('transfer_in', transferred_from_id) starts, doses at the new
//       clinic from that day on (one run, counted at the first clinic).
// Patients enrolled too late for their story to fit (a dropout needs 45
// days, a departure 10) come every day instead. Each episode has one
// maintenance order, each dose its dose slot.
//
// Seeded as day-close is (set-based insert … select from generate_series,
// triggers off, the doses of each facility and its satellite points in the
// order they were given, day after day, as a clinic's table grows (so a
// day's doses lie together, as they do in a clinic's database, not one
// patient's two years), the secondary indexes of doses and dose_slots
// dropped for the load unless the tables already hold more than twice as
// many rows,
// VACUUM (ANALYZE) and CHECKPOINT after); the seed (seedHistory) is shared
// with the dashboard measure. 60,000 × 730 is about 27.9 million doses and
// as many slots, seeded in some 8 minutes on 2 cores.
//
// Measured: one full report as GET /reports/retention computes it, one
// statement after the other: retentionReport(…, 'month', 'all') (the cohort
// table and both Kaplan–Meier curves, without and with censoring, from one
// working-out of the runs), crossSectional(…) (the Circular 05 counts) and
// referralSources(…) (the filter's choices), as of yesterday over every
// clinic of the province, with no other filter; the first
// report (first_ms, right after the seed) and BENCH_REPORT_RUNS more
// (default 3; ms is their median). The notes give each part's time. With
// BENCH_REPORT_EXPLAIN=1, the slowest part is run once more under EXPLAIN
// (ANALYZE, BUFFERS) and its plan logged (stderr). The issue's goal, under
// 2 s at the full scale, is reported, never asserted.
import { rebuildCoverageAll } from './database.ts';
import { availableParallelism, loadavg } from 'node:os';
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { rows } from '../../db/sql.ts';
import { serviceDay } from '../../server/clock.ts';
import { addDays } from '../../server/dosing/days.ts';
import { crossSectional, referralSources, retentionReport as retentionFigures, type RunFilter } from '../../server/services/retention.ts';
import { affected, droppableIndexes, insertPlannedPatients } from './day-close.ts';
import { secondsSince, stepTimer, type Measure } from './measure.ts';
import { round } from './report.ts';

const DEFAULTS = { postgres: { patients: 60_000, days: 730 }, pglite: { patients: 3_000, days: 120 } } as const;
const PER_FACILITY = 3_000;
const TIME_ZONE = 'Asia/Ho_Chi_Minh';
/** The issue's goal for one full report at the full scale. */
const GOAL_MS = 2_000;

const seconds = secondsSince;

export function readWhole(name: string, raw: string | undefined, min: number, max: number): number | null {
  if (raw === undefined || raw === '') return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return n;
}

/** How busy the machine was (other work on it skews the figures): for the notes. */
export function machineNote(): string {
  const [one, five] = loadavg();
  return `load average ${one!.toFixed(1)} (1 min), ${five!.toFixed(1)} (5 min) on ${availableParallelism()} cores at the end of the measure`;
}

// ---------------------------------------------------------------------------
// The seed, shared with dashboard.ts.

export interface HistoryOptions {
  /** For the log. */
  label: string;
  /** Facilities are PREFIX01…, their satellite points PREFIX01A…: two capital letters no other measure uses. */
  prefix: string;
  patients: number;
  /** Days of dose history, today included. */
  days: number;
  /** Facilities (each with its satellite points): at most 99. */
  facilities: number;
  /** Satellite points per facility (0–4), and the share of a facility's patients who dose at one of them (%). */
  satellites: number;
  satellitePct: number;
  /**
   * The share of patients in treatment from the start of the history (%):
   * 'go_live', enrolled in its first 30 days (their first dose is their
   * induction); 'before', enrolled years before (their earlier doses are not
   * in the database). The others are enrolled over the rest of the history.
   */
  caseloadPct: number;
  caseloadSince: 'go_live' | 'before';
  /**
   * The share of patients (%) whose story may be more than coming regularly
   * or irregularly (a dropout, a departure, a transfer): 100 over a history
   * of years; less over a few months, where the same events would all be
   * squeezed into them.
   */
  eventPct: number;
  /** The share of those expected today who have come so far (%). */
  cameTodayPct: number;
  /** Four hex digits in the ids of the dose rows (day-close's are 8000). */
  idTag: string;
}

export interface Facility {
  id: string;
  code: string;
  /** The facility and its satellite points. */
  clinicIds: string[];
  managerId: string;
}

export interface SeededHistory {
  today: string;
  firstDay: string;
  facilities: Facility[];
  clinicIds: string[];
  /** Patients by story (see the header). */
  stories: Record<string, number>;
  /** Re-enrolments seeded (each a second run). */
  reEnrolled: number;
  /** The runs seeded (a patient's first episode and the transfers that continue it; a re-enrolment), by kind and first dose. */
  runStarts: { kind: 'first' | 're_enrolment'; day: string; n: number }[];
  /** Dose rows this seed wrote, and in the database once seeded (those of other measures included). */
  seededDoses: number;
  doseRows: number;
  seconds: number;
  steps: string[];
}

/** A hash of patient n for purpose k, in [0, 2^31). */
const h = (k: number) => sql.raw(`(hashint8(p.n::bigint * 16 + ${k}) & 2147483647)`);

export async function seedHistory(db: Db, kind: 'pglite' | 'postgres', o: HistoryOptions, log: (line: string) => void): Promise<SeededHistory> {
  if (!/^[A-Z]{2}$/.test(o.prefix)) throw new Error(`prefix ${o.prefix}: two capital letters`);
  if (!/^[0-9a-f]{4}$/.test(o.idTag)) throw new Error(`idTag ${o.idTag}: four hex digits`);
  if (o.facilities < 1 || o.facilities > 99 || o.satellites < 0 || o.satellites > 4) throw new Error('1–99 facilities of 0–4 satellite points');
  const started = performance.now();
  const { steps, step } = stepTimer(o.label, log);
  const today = serviceDay(new Date(), TIME_ZONE);
  const firstDay = addDays(today, -(o.days - 1));
  const perFacility = Math.ceil(o.patients / o.facilities);
  const plan = sql.raw(`bench_${o.prefix.toLowerCase()}_plan`);
  const stints = sql.raw(`bench_${o.prefix.toLowerCase()}_stints`);
  const codeRe = `^${o.prefix}[0-9]{2}`;
  const [before] = await rows<{ n: number }>(db, sql`select count(*)::int as n from doses`);

  // The facilities, their satellite points and staff (no one logs in with a password).
  const facilities = await step(`${o.facilities} facilities of ${o.satellites} satellite points, and their staff`, () =>
    db.transaction(async (tx) => {
      await tx.execute(sql`
        insert into clinics (code, name, kind, province_code, commune_code, address, time_zone)
        select ${o.prefix} || lpad(i::text, 2, '0'), 'Cơ sở điều trị Methadone ' || ${o.prefix} || ' số ' || i, 'facility', 31, 11329, '', ${TIME_ZONE}
        from generate_series(1, ${o.facilities}::int) as i`);
      await tx.execute(sql`
        insert into clinics (code, name, kind, parent_id, province_code, commune_code, address, time_zone)
        select f.code || substr('ABCD', s, 1), 'Điểm cấp phát thuốc Methadone ' || f.code || substr('ABCD', s, 1), 'satellite', f.id, 31, 11383, '', ${TIME_ZONE}
        from clinics f cross join generate_series(1, ${o.satellites}::int) as s
        where f.kind = 'facility' and f.code ~ ${`${codeRe}$`}`);
      // One counsellor, doctor, nurse and manager per facility, working at it and its satellite points.
      await tx.execute(sql`
        with staff as (
          insert into users (username, full_name, role, password_hash)
          select lower(c.code) || '-' || r.role, r.title || ' ' || c.code, r.role, 'bench: no login'
          from clinics c
          cross join (values ('counsellor', 'Tư vấn viên'), ('doctor', 'Bác sĩ'), ('nurse', 'Điều dưỡng'), ('manager', 'Trưởng cơ sở')) as r(role, title)
          where c.kind = 'facility' and c.code ~ ${`${codeRe}$`}
          returning id, username
        )
        insert into user_clinics (user_id, clinic_id)
        select s.id, c.id from staff s join clinics c on lower(left(c.code, 4)) = split_part(s.username, '-', 1) and c.code ~ ${codeRe}`);
      const made = await rows<{ id: string; code: string; clinic_ids: string[] | string; manager_id: string }>(
        tx,
        sql`select f.id, f.code, array_agg(c.id::text order by c.code) as clinic_ids,
                   (select u.id from users u where u.username = lower(f.code) || '-manager') as manager_id
            from clinics f join clinics c on c.id = f.id or c.parent_id = f.id
            where f.kind = 'facility' and f.code ~ ${`${codeRe}$`}
            group by f.id, f.code order by f.code`,
      );
      // PGlite hands arrays back as arrays, postgres.js too; a text form just in case.
      const ids = (v: string[] | string) => (Array.isArray(v) ? v : v.replace(/[{}]/g, '').split(',').filter(Boolean));
      return made.map((f): Facility => ({ id: f.id, code: f.code, clinicIds: ids(f.clinic_ids), managerId: f.manager_id }));
    }),
  );
  if (facilities.length !== o.facilities) throw new Error(`${o.label}: ${facilities.length} facilities made, ${o.facilities} asked for`);

  // The plan: one row per patient with their story, then one per episode's doses (a stint).
  const lateFrom = o.caseloadSince === 'go_live' ? 30 : 0;
  const stories = await step(`${o.patients} patients with their episodes and orders`, () =>
    db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`drop table if exists ${plan}`);
      await tx.execute(sql`drop table if exists ${stints}`);
      await tx.execute(sql`create table ${plan} (
        n int primary key, grp int not null, clinic_id uuid not null, clinic_code text not null, k int not null,
        patient_id uuid not null default gen_random_uuid(),
        ep1_id uuid not null default gen_random_uuid(), ep2_id uuid not null default gen_random_uuid(),
        order1_id uuid not null default gen_random_uuid(), order2_id uuid not null default gen_random_uuid(),
        story text not null, ep1_start date not null, dose1_from date not null, dose1_to date not null,
        ep1_end date, ep1_reason text, ep2_kind text, ep2_clinic_id uuid, ep2_grp int, ep2_start date, ep2_nurse_id uuid,
        absent int not null, gap_from date, gap_to date,
        doctor_id uuid not null, nurse_id uuid not null, counsellor_id uuid not null,
        daily_mg int not null, female boolean not null, referral text not null)`);
      const day = (d: string) => sql`${d}::date`;
      await tx.execute(sql`
        with f as (
          select f.id, substr(f.code, 3, 2)::int - 1 as grp,
                 (select u.id from users u where u.username = lower(f.code) || '-doctor') as doctor_id,
                 (select u.id from users u where u.username = lower(f.code) || '-nurse') as nurse_id,
                 (select u.id from users u where u.username = lower(f.code) || '-counsellor') as counsellor_id
          from clinics f where f.kind = 'facility' and f.code ~ ${`${codeRe}$`}
        ), c as (
          select f.*, c.id as clinic_id, c.code as clinic_code, case when c.kind = 'facility' then 0 else ascii(right(c.code, 1)) - 64 end as sub
          from f join clinics c on c.id = f.id or c.parent_id = f.id
        ), p0 as (
          select n, (n - 1) / ${perFacility}::int as grp,
                 ${h(1)} % 100 as s,
                 case when ${o.satellites}::int = 0 or ${h(2)} % 100 >= ${o.satellitePct}::int then 0 else 1 + ${h(2)} % ${Math.max(1, o.satellites)}::int end as sub,
                 ${h(3)} % 100 < ${o.caseloadPct}::int as caseload,
                 ${h(12)} % 100 < ${o.eventPct}::int as eventful,
                 ${h(4)} as h4, ${h(5)} as h5, ${h(6)} as h6, ${h(7)} as h7, ${h(9)} as h9, ${h(10)} as h10, ${h(11)} as h11
          from generate_series(1, ${o.patients}::int) as p(n)
        ), p1 as (
          select p0.*,
                 case when caseload then ${o.caseloadSince === 'go_live' ? sql`${day(firstDay)} + h4 % 30` : sql`${day(firstDay)}`}
                      else ${day(firstDay)} + ${lateFrom}::int + h4 % ${Math.max(1, o.days - lateFrom)}::int end as dose_from
          from p0
        ), p2 as (
          select p1.*, ${day(today)} - dose_from as room,
                 case when caseload and ${sql.raw(String(o.caseloadSince === 'before'))} then ${day(firstDay)} - 1 - h5 % 2000 else dose_from end as ep1_start
          from p1
        ), p3 as (
          select p2.*,
                 case when s between 58 and 67 then 'irregular'
                      when not eventful then 'regular'
                      when s between 68 and 73 and room >= 45 then 'dropout_ended'
                      when s between 74 and 75 and room >= 45 then 'dropout_open'
                      when s between 76 and 81 and room >= 45 then 're_enrolled'
                      when s = 82 and room >= 10 then 'deceased'
                      when s = 83 and room >= 10 then 'transferred_out'
                      when s between 84 and 85 and room >= 10 then 'completed_taper'
                      when s = 86 and room >= 10 then 'incarcerated'
                      when s between 87 and 92 and room >= 10 and ${o.facilities}::int > 1 then 'transfer'
                      else 'regular' end as story
          from p2
        ), p4 as (
          -- x: the last dose of a dropout or departure (up to 36 days before today for a dropout), the day of a transfer.
          select p3.*,
                 case when story in ('dropout_ended', 'dropout_open', 're_enrolled') then dose_from + 5 + h6 % (room - 40)
                      when story in ('deceased', 'transferred_out', 'completed_taper', 'incarcerated', 'transfer') then dose_from + 5 + h6 % (room - 5) end as x
          from p3
        ), p5 as (
          select p4.*,
                 case when story in ('dropout_ended', 're_enrolled') then x + 30 + h7 % 5
                      when story in ('deceased', 'transferred_out', 'completed_taper', 'incarcerated') then least(x + 1 + h7 % 3, ${day(today)})
                      when story = 'transfer' then x - 1 end as ep1_end
          from p4
        )
        insert into ${plan} (n, grp, clinic_id, clinic_code, k, story, ep1_start, dose1_from, dose1_to, ep1_end, ep1_reason,
                             ep2_kind, ep2_clinic_id, ep2_grp, ep2_start, ep2_nurse_id, absent, gap_from, gap_to,
                             doctor_id, nurse_id, counsellor_id, daily_mg, female, referral)
        select p.n, p.grp, c.clinic_id, c.clinic_code, (row_number() over (partition by c.clinic_id order by p.n))::int,
               p.story, p.ep1_start, p.dose_from,
               case when p.story in ('regular', 'irregular') then ${day(today)} when p.story = 'transfer' then p.x - 1 else p.x end,
               p.ep1_end,
               case when p.story in ('dropout_ended', 're_enrolled') then 'dropped_out' when p.story = 'transfer' then 'transferred_out'
                    when p.story in ('deceased', 'transferred_out', 'completed_taper', 'incarcerated') then p.story end,
               case p.story when 're_enrolled' then 're_enrolment' when 'transfer' then 'transfer_in' end,
               case p.story when 're_enrolled' then c.clinic_id when 'transfer' then nf.id end,
               case p.story when 're_enrolled' then p.grp when 'transfer' then nf.grp end,
               case p.story when 're_enrolled' then greatest(p.ep1_end + 1, p.x + 31 + p.h9 % least(120, ${day(today)} - p.x - 30)) when 'transfer' then p.x end,
               case p.story when 're_enrolled' then c.nurse_id when 'transfer' then nf.nurse_id end,
               case when p.story = 'irregular' then 200 else 41 end,
               case when p.story = 'irregular' then p.dose_from + 1 + p.h10 % greatest(1, p.room) end,
               case when p.story = 'irregular' then p.dose_from + 1 + p.h10 % greatest(1, p.room) + 7 + p.h11 % 18 end,
               c.doctor_id, c.nurse_id, c.counsellor_id,
               40 + (p.n % 11) * 10, p.n % 17 = 0,
               (array['', 'Tự đến', 'Gia đình', 'Công an', 'Trạm y tế', 'Cơ sở cai nghiện'])[1 + p.n % 6]
        from p5 p
        join c on c.grp = p.grp and c.sub = p.sub
        left join f nf on nf.grp = (p.grp + 1) % ${o.facilities}::int`);
      // Everyone is a man or a woman of the name lists, born 1960–2000 (every age band).
      await insertPlannedPatients(tx, plan, { homeClinic: sql`coalesce(ep2_clinic_id, clinic_id)`, createdAt: sql`(ep1_start + time '07:00') at time zone ${TIME_ZONE}` });
      await tx.execute(sql`
        insert into episodes (id, patient_id, clinic_id, kind, start_date, referral_source, end_date, end_reason, ended_by, created_by, created_at)
        select ep1_id, patient_id, clinic_id, 'first', ep1_start, referral, ep1_end, ep1_reason, case when ep1_end is not null then doctor_id end,
               doctor_id, (ep1_start + time '07:00') at time zone ${TIME_ZONE}
        from ${plan}`);
      await tx.execute(sql`
        insert into episodes (id, patient_id, clinic_id, kind, start_date, referral_source, transferred_from_id, created_by, created_at)
        select ep2_id, patient_id, ep2_clinic_id, ep2_kind, ep2_start, case when ep2_kind = 're_enrolment' then referral else '' end,
               case when ep2_kind = 'transfer_in' then ep1_id end, doctor_id, (ep2_start + time '07:00') at time zone ${TIME_ZONE}
        from ${plan} where ep2_kind is not null`);
      // The doses of each episode (a stint): the first day always, the last one of a stint that stopped too.
      await tx.execute(sql`create table ${stints} (
        n int not null, sn int not null, patient_id uuid not null, episode_id uuid not null, order_id uuid not null,
        clinic_id uuid not null, grp int not null, nurse_id uuid not null, doctor_id uuid not null,
        dose_from date not null, dose_to date not null, force_last boolean not null, absent int not null,
        gap_from date, gap_to date, daily_mg int not null, primary key (n, sn))`);
      await tx.execute(sql`
        insert into ${stints}
        select n, 1, patient_id, ep1_id, order1_id, clinic_id, grp, nurse_id, doctor_id, dose1_from, dose1_to,
               story not in ('regular', 'irregular'), absent, gap_from, gap_to, daily_mg from ${plan}
        union all
        select n, 2, patient_id, ep2_id, order2_id, ep2_clinic_id, ep2_grp, ep2_nurse_id, doctor_id, ep2_start, ${day(today)},
               false, 41, null, null, daily_mg from ${plan} where ep2_kind is not null`);
      await tx.execute(sql`create index on ${stints} (grp)`);
      await tx.execute(sql`
        insert into dose_orders (id, patient_id, episode_id, phase, start_date, end_date, daily_mg, prescribed_by, created_at)
        select order_id, patient_id, episode_id, 'maintenance', dose_from, dose_to + 7, daily_mg, doctor_id, (dose_from + time '06:30') at time zone ${TIME_ZONE}
        from ${stints}`);
      const counted = await rows<{ story: string; n: number }>(tx, sql`select story, count(*)::int as n from ${plan} group by story order by story`);
      return Object.fromEntries(counted.map((r) => [r.story, Number(r.n)])) as Record<string, number>;
    }),
  );
  log(`${o.label}: stories ${Object.entries(stories).map(([k, v]) => `${k} ${v}`).join(', ')}`);

  // The doses and their slots, a facility's stints at a time (two at once on a server: 2 cores).
  const [planned] = await rows<{ n: number }>(db, sql`select coalesce(sum(dose_to - dose_from + 1), 0)::bigint::float8 as n from ${stints}`);
  const expected = Math.round(Number(planned?.n ?? 0) * 0.96);
  const existing = Number(before?.n ?? 0);
  const dropped = expected * 2 >= existing ? await droppableIndexes(db) : [];
  if (dropped.length > 0) {
    log(`${o.label}: loading about ${expected} doses without ${dropped.map((i) => i.name).join(', ')}`);
    await step(`${dropped.length} indexes of doses and dose_slots dropped`, async () => {
      for (const i of dropped) {
        await db.execute(i.constraint ? sql`alter table ${sql.identifier(i.table)} drop constraint ${sql.identifier(i.constraint)}` : sql`drop index ${sql.identifier(i.name)}`);
      }
    });
  } else log(`${o.label}: loading about ${expected} doses with the indexes in place (${existing} rows there already)`);
  let seededDoses = 0;
  await step('doses and dose slots', async () => {
    const t = performance.now();
    const dayNo = sql`(s.dose_from + g.i - ${firstDay}::date)`;
    const id = sql`('00000000-0000-7000-${sql.raw(o.idTag)}-' || lpad(to_hex((s.n::bigint * 2 + s.sn) * 8192 + ${dayNo}), 12, '0'))::uuid`;
    const came = sql`(g.i = 0 or (s.force_last and s.dose_from + g.i = s.dose_to)
      or case when s.dose_from + g.i = ${today}::date then (hashint8(s.n::bigint * 16 + 8) & 2147483647) % 100 < ${o.cameTodayPct}::int
              else not coalesce(s.dose_from + g.i between s.gap_from and s.gap_to, false)
                   and (hashint8(s.n::bigint * 8192 + (s.dose_from + g.i - date '2000-01-01')) & 1023) >= s.absent end)`;
    let next = 0;
    let finished = 0;
    const worker = async () => {
      for (let c = next++; c < o.facilities; c = next++) {
        const written = await db.transaction(async (tx) => {
          await tx.execute(sql`set local session_replication_role = replica`);
          await tx.execute(sql`set local synchronous_commit = off`);
          await tx.execute(sql`set local work_mem = '256MB'`);
          const result = await tx.execute(sql`
            with d as (
              insert into doses (id, patient_id, episode_id, order_id, clinic_id, service_day, part, outcome, status,
                                 prescribed_mg, given_mg, ml, concentration, method, intoxication, given_by, at)
              select ${id}, s.patient_id, s.episode_id, s.order_id, s.clinic_id, s.dose_from + g.i, 1, 'given', 'completed',
                     s.daily_mg, s.daily_mg, s.daily_mg / 10.0, 10, 'manual', 'none', s.nurse_id,
                     -- 07:00–09:59 in Hà Nội.
                     ((s.dose_from + g.i) + time '07:00' + (s.n % 180) * interval '1 minute') at time zone ${TIME_ZONE}
              from ${stints} s
              cross join lateral generate_series(0, s.dose_to - s.dose_from) as g(i)
              where s.grp = ${c}::int and ${came}
              -- In the order they were given (as a clinic writes them: day after day), not patient by patient.
              order by s.dose_from + g.i, s.n % 180, s.n, s.sn
              returning id, patient_id, service_day
            )
            insert into dose_slots (patient_id, service_day, part, dose_id)
            select patient_id, service_day, 1, id from d`);
          return affected(result);
        });
        seededDoses += written;
        finished += 1;
        const s = seconds(t);
        log(`${o.label}: doses of ${finished} / ${o.facilities} facilities: ${seededDoses} rows in ${s.toFixed(1)} s (${Math.round(seededDoses / s)} a second)`);
      }
    };
    await Promise.all(Array.from({ length: kind === 'postgres' ? 2 : 1 }, worker));
  });
  if (dropped.length > 0) {
    await step('indexes of doses and dose_slots built again', async () => {
      for (const i of dropped) {
        const t = performance.now();
        await db.transaction(async (tx) => {
          await tx.execute(sql.raw(`set local maintenance_work_mem = '${kind === 'postgres' ? '2GB' : '256MB'}'`));
          await tx.execute(i.constraint ? sql`alter table ${sql.identifier(i.table)} add constraint ${sql.identifier(i.constraint)} ${sql.raw(i.def)}` : sql.raw(i.def));
        });
        log(`${o.label}: ${i.name} built in ${seconds(t).toFixed(1)} s`);
      }
    });
  }
  await step('coverage spans rebuilt from the slots', () => rebuildCoverageAll(db));
  const [re] = await rows<{ n: number }>(db, sql`select count(*)::int as n from ${plan} where ep2_kind = 're_enrolment'`);
  const runStarts = await rows<{ kind: 'first' | 're_enrolment'; day: string; n: number }>(
    db,
    sql`select 'first' as kind, dose1_from::text as day, count(*)::int as n from ${plan} group by dose1_from
        union all
        select 're_enrolment', ep2_start::text, count(*)::int from ${plan} where ep2_kind = 're_enrolment' group by ep2_start`,
  );
  await db.execute(sql`drop table ${stints}`);
  await db.execute(sql`drop table ${plan}`);

  await step('vacuum (analyze) and checkpoint', async () => {
    // As autovacuum would have left them (hint bits, the visibility map, statistics).
    await db.execute(sql`vacuum (analyze) dose_slots, coverage_spans, doses, patients, episodes, dose_orders, clinics, users, user_clinics`);
    if (kind === 'postgres') await db.execute(sql`checkpoint`);
  });
  const [after] = await rows<{ n: number }>(db, sql`select count(*)::int as n from doses`);
  return {
    today,
    firstDay,
    facilities,
    clinicIds: facilities.flatMap((f) => f.clinicIds),
    stories,
    reEnrolled: Number(re?.n ?? 0),
    runStarts: runStarts.map((r) => ({ kind: r.kind, day: String(r.day), n: Number(r.n) })),
    seededDoses,
    doseRows: Number(after?.n ?? 0),
    seconds: seconds(started),
    steps,
  };
}

// ---------------------------------------------------------------------------
// The measure.

const PARTS = ['cohorts_km', 'cross_sectional', 'referrals'] as const;
type Part = (typeof PARTS)[number];

/** A statement a service ran, with those run before it in its transaction (e.g. `set local jit = off`). */
interface Ran {
  query: SQL;
  before: SQL[];
}

/**
 * A db whose raw statements are remembered (the services go through
 * db.execute, in a transaction or not), to EXPLAIN the last one after as it ran.
 */
function recording(db: Db): { db: Db; last: () => Ran | undefined } {
  let last: Ran | undefined;
  const wrap = (target: Db, inTx: SQL[] | null): Db =>
    new Proxy(target, {
      get(t, prop) {
        if (prop === 'execute') {
          return (query: SQL) => {
            last = { query, before: inTx ? [...inTx] : [] };
            inTx?.push(query);
            return t.execute(query);
          };
        }
        if (prop === 'transaction') {
          return (run: (tx: Db) => Promise<unknown>, config?: unknown) => t.transaction((tx) => run(wrap(tx as unknown as Db, [])), config as undefined);
        }
        const v = Reflect.get(t, prop, t) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
  return { db: wrap(db, null), last: () => last };
}

/** EXPLAIN (ANALYZE, BUFFERS) of a statement as it ran (its transaction's settings replayed first). */
async function explain(db: Db, ran: Ran): Promise<string[]> {
  return db.transaction(async (tx) => {
    for (const q of ran.before) await tx.execute(q);
    const plan = await rows<Record<string, unknown>>(tx, sql`explain (analyze, buffers) ${ran.query}`);
    return plan.map((line) => String(Object.values(line)[0]));
  });
}

export const retentionReport: Measure = {
  name: 'retention-report',
  oneShot: true,
  async run(ctx) {
    const { db, kind } = await ctx.database();
    const defaults = DEFAULTS[kind];
    const patients = readWhole('BENCH_REPORT_PATIENTS', process.env.BENCH_REPORT_PATIENTS, 2, 1_000_000) ?? defaults.patients;
    const days = readWhole('BENCH_REPORT_DAYS', process.env.BENCH_REPORT_DAYS, 60, 4_000) ?? defaults.days;
    const repeats = readWhole('BENCH_REPORT_RUNS', process.env.BENCH_REPORT_RUNS, 1, 50) ?? 3;
    const explainSlowest = process.env.BENCH_REPORT_EXPLAIN === '1';
    const facilities = Math.min(99, Math.max(2, Math.ceil(patients / PER_FACILITY)));
    const notes: string[] = [];
    if (kind === 'pglite' && !process.env.BENCH_REPORT_PATIENTS && !process.env.BENCH_REPORT_DAYS) {
      const note = `PGlite (in memory): the small scale, ${patients} patients × ${days} days (the full one, ${DEFAULTS.postgres.patients} × ${DEFAULTS.postgres.days}, is for BENCH_DATABASE_URL)`;
      ctx.log(`retention-report: ${note}`);
      notes.push(note);
    }
    ctx.log(`retention-report: seeding ${patients} patients at ${facilities} facilities with ${days} days of history`);
    const seeded = await seedHistory(
      db,
      kind,
      { label: 'retention-report', prefix: 'RR', patients, days, facilities, satellites: 0, satellitePct: 0, caseloadPct: 50, caseloadSince: 'go_live', eventPct: 100, cameTodayPct: 100, idTag: '8001' },
      ctx.log,
    );
    ctx.log(`retention-report: seeded in ${seeded.seconds.toFixed(1)} s (${seeded.steps.join('; ')})`);

    // As GET /reports/retention: as of yesterday (today is not over), over every clinic in scope.
    const asOf = addDays(seeded.today, -1);
    const filter: RunFilter = { clinicIds: seeded.clinicIds };
    const rec = recording(db);
    const queries: Partial<Record<Part, Ran>> = {};
    const report = async () => {
      const ms = {} as Record<Part, number>;
      const time = async <T>(part: Part, run: () => Promise<T>): Promise<T> => {
        const t = performance.now();
        const out = await run();
        ms[part] = performance.now() - t;
        const ran = rec.last();
        if (ran) queries[part] = ran;
        return out;
      };
      const t = performance.now();
      const { cohorts, all: km, censored: kmCensored } = await time('cohorts_km', () => retentionFigures(rec.db, asOf, filter, 'month', 'all'));
      const cross = await time('cross_sectional', () => crossSectional(rec.db, asOf, filter));
      await time('referrals', () => referralSources(rec.db, filter.clinicIds));
      return { total: performance.now() - t, ms, cohorts, km, kmCensored, cross };
    };

    ctx.log(`retention-report: the first report, as of ${asOf} over ${seeded.clinicIds.length} clinics`);
    const first = await report();
    ctx.log(`retention-report: first report ${round(first.total, 0)} ms (${PARTS.map((p) => `${p} ${round(first.ms[p], 0)}`).join(', ')})`);

    // Against the plan: every patient is one first run (transfers continue it), every re-enrolment one
    // more, each in the cohorts from its first dose (always on its first day) on.
    const planned = (k: string) => seeded.runStarts.filter((r) => r.kind === k && r.day <= asOf).reduce((n, r) => n + r.n, 0);
    const size = (k: string) => first.cohorts.filter((c) => c.kind === k).reduce((n, c) => n + c.size, 0);
    for (const k of ['first', 're_enrolment']) {
      if (size(k) !== planned(k)) throw new Error(`retention-report: ${size(k)} ${k} runs in the cohorts as of ${asOf}, ${planned(k)} seeded`);
    }
    const runs = planned('first') + planned('re_enrolment');
    if (first.km.runs !== runs || first.kmCensored.runs !== runs) throw new Error(`retention-report: Kaplan–Meier over ${first.km.runs} / ${first.kmCensored.runs} runs, ${runs} seeded`);

    const again: Awaited<ReturnType<typeof report>>[] = [];
    for (let i = 0; i < repeats; i++) {
      const r = await report();
      again.push(r);
      ctx.log(`retention-report: report ${i + 2}: ${round(r.total, 0)} ms (${PARTS.map((p) => `${p} ${round(r.ms[p], 0)}`).join(', ')})`);
    }
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    };
    const ms = median(again.map((r) => r.total));
    const partMs = Object.fromEntries(PARTS.map((p) => [p, median(again.map((r) => r.ms[p]))])) as Record<Part, number>;

    if (explainSlowest) {
      const slowest = PARTS.reduce((a, b) => (partMs[b] > partMs[a] ? b : a));
      const ran = queries[slowest];
      if (ran) {
        ctx.log(`retention-report: EXPLAIN (ANALYZE, BUFFERS) of ${slowest} (median ${round(partMs[slowest], 0)} ms):`);
        for (const line of await explain(db, ran)) ctx.log(`  ${line}`);
      }
    }

    const cohorts = new Set(first.cohorts.map((c) => c.cohort));
    const at12 = first.cohorts.reduce((a, c) => ({ e: a.e + c.at[12].eligible, r: a.r + c.at[12].retained }), { e: 0, r: 0 });
    const storyLine = Object.entries(seeded.stories).map(([k, v]) => `${k} ${v}`).join(', ');
    notes.push(
      `${patients} patients × ${days} days at ${seeded.clinicIds.length} facilities (${storyLine}), ${seeded.seededDoses} dose rows seeded (${seeded.doseRows} in the database); seeded in ${seeded.seconds.toFixed(1)} s`,
      `report as of ${asOf}: ${cohorts.size} monthly cohorts, ${first.km.runs} runs (${seeded.reEnrolled} re-enrolments), retained at 12 months ${at12.r} of ${at12.e}; in treatment ${first.cross.inTreatment} (over 6 months ${first.cross.over6}, over 12 ${first.cross.over12})`,
      `first report ${round(first.total, 0)} ms (${PARTS.map((p) => `${p} ${round(first.ms[p], 0)}`).join(', ')})`,
      `median of ${repeats} more ${round(ms, 0)} ms (${PARTS.map((p) => `${p} ${round(partMs[p], 0)}`).join(', ')}); the goal is under ${GOAL_MS} ms at the full scale: ${ms < GOAL_MS ? 'met' : 'not met'} at this one`,
      machineNote(),
    );
    return [{ bench: 'retention-report', ms: round(ms, 0), first_ms: round(first.total, 0), runs: repeats + 1, patients, dose_rows: seeded.doseRows, notes }];
  },
};
