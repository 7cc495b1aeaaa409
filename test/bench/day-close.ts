// The day close (server/services/day-close.ts) at a programme's scale: one
// service day closed at every clinic, timed. BENCH_CLOSE_PATIENTS patients
// (default 60,000) in open episodes that began BENCH_CLOSE_DAYS days ago
// (default 730), in clinics of 3,000 (at most 20), with a dose a day each and
// its dose slot: about 41 million of each at the full scale, seeded in some
// 15 minutes on a 2-core machine. On PGlite (no BENCH_DATABASE_URL), which
// holds everything in memory, the defaults are 3,000 patients and 120 days.
//
// Who the patients are, by their number n (1..N, contiguous per clinic), D
// being today:
//   n % 100 in 0–1     never came: no dose at all (every level, dropout included);
//   n % 100 in 2–11    stopped k days ago (k from 1 to 45, their last dose on
//                      day D−k), so each level is raised for some; those at
//                      10–11 are in hospital (a contact's hold until D+5) and
//                      raise nothing; the others' latest contact: unreachable;
//   the rest (88%)     come almost every day: about 1 day in 25 missed, at
//                      random (D included).
// A urine test a month (opiates positive in about 6% of tests, another drug
// in 0.3%) and, for one patient in 50, a diversion at about one swallow check
// in 128: R19's facts, read by the close. One maintenance order each; one
// counsellor, doctor, nurse and manager per clinic (the doctors and every
// other counsellor by e-mail, every other manager by webhook); one patient in
// 20 has no counsellor of their own.
//
// Seeded with set-based SQL (insert … select from generate_series), with the
// triggers off (session_replication_role = replica: the facts version and
// foreign-key triggers; the rows are right by construction) and the secondary
// indexes of doses and dose_slots dropped for the load and built again after;
// then VACUUM (ANALYZE), as autovacuum would have left the tables, and a
// CHECKPOINT, so that neither falls in the measured closes.
//
// Measured, with closeDueDays for the bench clinics and the clock at 18:00 in
// Hà Nội (after their 17:00 closing):
//   first_ms   the close of D−1, the first on the fresh database: caches cold
//              after the load, nothing open, so every alert is new;
//   ms         the close of D, as the scheduler runs it every day: yesterday's
//              alerts open, those who came back closed, only new levels raised;
//   repeat_ms  D closed again at every clinic: closeDay finds the day_closes
//              row and does nothing.
// `alerts` is what the close of D raised; the dropout alerts of both closes
// are checked against the plan.
import { rebuildCoverageAll } from './database.ts';
import { secondsSince, stepTimer, type Measure } from './measure.ts';
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { fold } from '../../db/fold.ts';
import { ALERT_LEVELS, type AlertLevel } from '../../db/schema.ts';
import { rows } from '../../db/sql.ts';
import { NAME_PARTS } from '../../db/synthetic.ts';
import { FixedClock, serviceDay } from '../../server/clock.ts';
import { addDays } from '../../server/dosing/days.ts';
import { levelsToRaise, missedAtClose } from '../../server/dosing/follow-up.ts';
import { closeDay, closeDueDays, type ChannelsOn } from '../../server/services/day-close.ts';
import { rulesForClinic } from '../../server/services/rule-sets.ts';
import { round } from './report.ts';

const DEFAULTS = { postgres: { patients: 60_000, days: 730 }, pglite: { patients: 3_000, days: 120 } } as const;
const PER_CLINIC = 3_000;
const MAX_CLINICS = 20;
const TIME_ZONE = 'Asia/Ho_Chi_Minh';
/** Both channels on, as a server with SMTP and a webhook configured. */
const CHANNELS: ChannelsOn = { email: true, webhook: true };
/** A regular patient misses a day when the day's hash falls under this (of 1024): about 4%. */
const ABSENT_OF_1024 = 41;
/** Scratch table of the seeding (dropped after). */
const PLAN = sql.raw('bench_day_close_plan');

export interface CloseScale {
  patients: number;
  days: number;
}

function readWhole(name: string, raw: string | undefined, min: number, max: number): number | null {
  if (raw === undefined || raw === '') return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return n;
}

/** A text[] literal, one parameter for both drivers. */
export function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * The patients of a seed plan (a table with n, k, patient_id, clinic_id,
 * clinic_code, female, counsellor_id and doctor_id), named from NAME_PARTS by
 * their number, born 1960–2000, and their clinics' counters after them.
 */
export async function insertPlannedPatients(tx: Db, plan: SQL, o: { homeClinic: SQL; createdAt: SQL }): Promise<void> {
  const { family, middleMale, middleFemale, givenMale, givenFemale } = NAME_PARTS;
  const names = (xs: readonly string[]) => [textArray(xs), textArray(xs.map(fold))] as const;
  const [fam, famF] = names(family);
  const [midM, midMF] = names(middleMale);
  const [midW, midWF] = names(middleFemale);
  const [givM, givMF] = names(givenMale);
  const [givW, givWF] = names(givenFemale);
  await tx.execute(sql`
        insert into patients (id, code, home_clinic_id, full_name, search_name, birth_date, sex, phone, phone_digits, counsellor_id, created_by, created_at)
        select patient_id, clinic_code || '-' || lpad(k::text, 5, '0'), ${o.homeClinic},
               f.fam || ' ' || f.mid || ' ' || f.giv, f.fam_f || ' ' || f.mid_f || ' ' || f.giv_f,
               date '1960-01-01' + (n * 37) % 15000, case when female then 'female' else 'male' end,
               '09' || lpad((10000000 + (n::bigint * 7919) % 90000000)::text, 8, '0'),
               '09' || lpad((10000000 + (n::bigint * 7919) % 90000000)::text, 8, '0'),
               counsellor_id, doctor_id, ${o.createdAt}
        from ${plan}
        cross join lateral (select
          (${fam}::text[])[1 + n % 20] as fam, (${famF}::text[])[1 + n % 20] as fam_f,
          case when female then (${midW}::text[])[1 + (n / 20) % 6] else (${midM}::text[])[1 + (n / 20) % 10] end as mid,
          case when female then (${midWF}::text[])[1 + (n / 20) % 6] else (${midMF}::text[])[1 + (n / 20) % 10] end as mid_f,
          case when female then (${givW}::text[])[1 + (n / 7) % 14] else (${givM}::text[])[1 + (n / 7) % 22] end as giv,
          case when female then (${givWF}::text[])[1 + (n / 7) % 14] else (${givMF}::text[])[1 + (n / 7) % 22] end as giv_f) as f`);
  await tx.execute(sql`
        insert into clinic_counters (clinic_id, next_patient_number)
        select clinic_id, max(k) from ${plan} group by clinic_id
        on conflict (clinic_id) do update set next_patient_number = excluded.next_patient_number`);
}

/** Rows a statement wrote (postgres.js: count; PGlite: affectedRows). */
export function affected(result: unknown): number {
  const r = result as { count?: number | null; affectedRows?: number | null };
  return Number(r.count ?? r.affectedRows ?? 0);
}

const seconds = secondsSince;

export interface SeededClose {
  today: string;
  clinics: { id: string; code: string }[];
  /** Dose records in the database once seeded (those of other measures included). */
  doseRows: number;
  /** The patients with a dropout alert due at the close of yesterday and of today (those who never came or stopped 30 days or more before, not on hold). */
  dropouts: { yesterday: number; today: number };
  seconds: number;
  /** Where the seeding time went, for the log. */
  steps: string[];
}

export type IndexDef = { table: string; name: string; def: string; constraint: string | null };

/** The secondary indexes (and the primary key of dose_slots) that the load goes without. */
export async function droppableIndexes(db: Db): Promise<IndexDef[]> {
  return rows<IndexDef>(
    db,
    sql`select t.relname as table, i.relname as name,
               coalesce(pg_get_constraintdef(c.oid), pg_get_indexdef(i.oid)) as def, c.conname as constraint
        from pg_index x
        join pg_class i on i.oid = x.indexrelid
        join pg_class t on t.oid = x.indrelid
        left join pg_constraint c on c.conindid = i.oid and c.conrelid = t.oid and c.contype in ('p', 'u')
        where t.relnamespace = current_schema()::regnamespace and t.relname in ('doses', 'dose_slots')
          and not (t.relname = 'doses' and x.indisprimary)
        order by t.relname, i.relname`,
  );
}

/**
 * Seeds the clinics, staff, patients, episodes, orders, contacts, doses and
 * dose slots of the measure into `db` (a bench database or a scratch one).
 */
export async function seedDayClose(db: Db, kind: 'pglite' | 'postgres', scale: CloseScale, log: (line: string) => void): Promise<SeededClose> {
  const started = performance.now();
  const { steps, step } = stepTimer('day-close', log);
  const today = serviceDay(new Date(), TIME_ZONE);
  const firstDay = addDays(today, -(scale.days - 1));
  const clinicCount = Math.min(MAX_CLINICS, Math.ceil(scale.patients / PER_CLINIC));
  const perClinic = Math.ceil(scale.patients / clinicCount);
  const [before] = await rows<{ n: number }>(db, sql`select count(*)::int as n from doses`);

  // Clinics DC01…, and their staff (no one logs in: the password hash is a placeholder).
  const clinics = await step(`${clinicCount} clinics and their staff`, () =>
    db.transaction(async (tx) => {
      const made = await rows<{ id: string; code: string }>(
        tx,
        sql`insert into clinics (code, name, kind, province_code, commune_code, address, time_zone)
            select 'DC' || lpad(i::text, 2, '0'), 'Cơ sở điều trị Methadone số ' || i, 'facility', 31, 11329, '', ${TIME_ZONE}
            from generate_series(1, ${clinicCount}::int) as i
            returning id, code`,
      );
      await tx.execute(sql`
        with staff as (
          insert into users (username, full_name, role, password_hash, email, notify_email, notify_webhook, webhook_to)
          select lower(c.code) || '-' || r.role, r.title || ' ' || c.code, r.role, 'bench: no login',
                 lower(c.code) || '-' || r.role || '@bench.invalid',
                 r.role = 'doctor' or (r.role = 'counsellor' and substr(c.code, 3)::int % 2 = 1),
                 r.role = 'manager' and substr(c.code, 3)::int % 2 = 0,
                 case when r.role = 'manager' and substr(c.code, 3)::int % 2 = 0 then '+8490000' || substr(c.code, 3) else '' end
          from clinics c
          cross join (values ('counsellor', 'Tư vấn viên'), ('doctor', 'Bác sĩ'), ('nurse', 'Điều dưỡng'), ('manager', 'Trưởng cơ sở')) as r(role, title)
          where c.code like 'DC%'
          returning id, username
        )
        insert into user_clinics (user_id, clinic_id)
        select s.id, c.id from staff s join clinics c on lower(c.code) = split_part(s.username, '-', 1)`);
      return made.sort((a, b) => a.code.localeCompare(b.code));
    }),
  );
  // The rules in force (the programme's default set, created here on a database that has none).
  const rules = await rulesForClinic(db, clinics[0]!.id, today);

  // The plan: one row per patient, with everything the inserts below need.
  await step(`${scale.patients} patients with their episodes, orders, urine tests and contacts`, () =>
    db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`drop table if exists ${PLAN}`);
      await tx.execute(sql`create table ${PLAN} (
        n int primary key, clinic_no int not null, k int not null, clinic_id uuid not null, clinic_code text not null,
        patient_id uuid not null default gen_random_uuid(), episode_id uuid not null default gen_random_uuid(),
        order_id uuid not null default gen_random_uuid(),
        counsellor_id uuid, doctor_id uuid not null, nurse_id uuid not null,
        kind text not null, first_day date not null, last_day date not null, hold boolean not null,
        daily_mg int not null, female boolean not null, first_at timestamptz not null)`);
      await tx.execute(sql`
        with c as (
          select c.id, c.code, substr(c.code, 3)::int - 1 as no,
                 (select u.id from users u where u.username = lower(c.code) || '-counsellor') as counsellor_id,
                 (select u.id from users u where u.username = lower(c.code) || '-doctor') as doctor_id,
                 (select u.id from users u where u.username = lower(c.code) || '-nurse') as nurse_id
          from clinics c where c.code like 'DC%'
        ), p as (
          select n, n % 100 as m, (n - 1) / ${perClinic}::int as clinic_no, (n - 1) % ${perClinic}::int + 1 as k
          from generate_series(1, ${scale.patients}::int) as n
        )
        insert into ${PLAN} (n, clinic_no, k, clinic_id, clinic_code, counsellor_id, doctor_id, nurse_id, kind, first_day, last_day, hold, daily_mg, female, first_at)
        select p.n, p.clinic_no, p.k, c.id, c.code, case when p.m between 20 and 24 then null else c.counsellor_id end, c.doctor_id, c.nurse_id,
               case when p.m < 2 then 'never' when p.m < 12 then 'stopped' else 'regular' end,
               ${firstDay}::date,
               case when p.m < 2 then ${firstDay}::date - 1
                    when p.m < 12 then ${today}::date - (1 + ((p.n / 100) * 7 + p.m) % 45)
                    else ${today}::date end,
               p.m in (10, 11),
               40 + (p.n % 11) * 10,
               p.n % 17 = 0,
               -- 07:00–09:59 in Hà Nội (no daylight saving: a whole day later is the same hour).
               (${firstDay}::date + time '07:00' + (p.n % 180) * interval '1 minute') at time zone ${TIME_ZONE}
        from p join c on c.no = p.clinic_no`);
      await insertPlannedPatients(tx, PLAN, { homeClinic: sql`clinic_id`, createdAt: sql`first_at - interval '1 hour'` });
      await tx.execute(sql`
        insert into episodes (id, patient_id, clinic_id, kind, start_date, created_by, created_at)
        select episode_id, patient_id, clinic_id, 'first', first_day, doctor_id, first_at - interval '1 hour' from ${PLAN}`);
      await tx.execute(sql`
        insert into dose_orders (id, patient_id, episode_id, phase, start_date, end_date, daily_mg, prescribed_by, created_at)
        select order_id, patient_id, episode_id, 'maintenance', first_day, ${today}::date + 7, daily_mg, doctor_id, first_at - interval '1 hour' from ${PLAN}`);
      // A urine test a month during the episode (up to the last dose): opiates positive in about 6% of
      // tests, methamphetamine in 0.3% (R19's grounds for some), methadone positive as expected.
      await tx.execute(sql`
        insert into urine_tests (patient_id, clinic_id, test_date, results, recorded_by, created_at)
        select patient_id, clinic_id, first_day + 3 + n % 30 + 30 * j,
               jsonb_build_object(
                 'opiates', case when (hashint8(n::bigint * 64 + j + 1000000000) & 1023) < 61 then 'positive' else 'negative' end,
                 'methamphetamine', case when (hashint8(n::bigint * 64 + j + 2000000000) & 1023) < 3 then 'positive' else 'negative' end,
                 'methadone', 'positive'),
               doctor_id, first_at + (3 + n % 30 + 30 * j) * interval '1 day' + interval '1 hour'
        from ${PLAN}
        cross join lateral generate_series(0, (least(last_day, ${today}::date) - first_day - 3 - n % 30) / 30) as j
        where least(last_day, ${today}::date) >= first_day + 3 + n % 30`);
      // The latest contact of each patient who stopped: in hospital (a hold) or not reached.
      await tx.execute(sql`
        insert into contacts (patient_id, episode_id, clinic_id, method, outcome, hold_until, by, at)
        select patient_id, episode_id, clinic_id, 'phone', case when hold then 'hospital' else 'unreachable' end,
               case when hold then ${today}::date + 5 end, coalesce(counsellor_id, doctor_id),
               first_at + (least(last_day + 1, ${today}::date) - first_day) * interval '1 day' + interval '3 hours'
        from ${PLAN} where kind = 'stopped'`);
    }),
  );

  // The doses and their slots, a clinic at a time (two at once on a server: 2 cores).
  const dropped = await droppableIndexes(db);
  log(`day-close: loading without ${dropped.map((i) => i.name).join(', ')}`);
  await step(`${dropped.length} indexes of doses and dose_slots dropped`, async () => {
    for (const i of dropped) {
      await db.execute(i.constraint ? sql`alter table ${sql.identifier(i.table)} drop constraint ${sql.identifier(i.constraint)}` : sql`drop index ${sql.identifier(i.name)}`);
    }
  });
  let doseRows = 0;
  await step('doses and dose slots', async () => {
    const t = performance.now();
    // Whether patient p came on day i of the episode (the stopped ones on their last day for sure).
    const came = sql`((p.kind = 'stopped' and p.first_day + g.i = p.last_day) or (hashint8(p.n::bigint * 8192 + g.i) & 1023) >= ${ABSENT_OF_1024}::int)`;
    let next = 0;
    let finished = 0;
    const worker = async () => {
      for (let c = next++; c < clinicCount; c = next++) {
        const written = await db.transaction(async (tx) => {
          await tx.execute(sql`set local session_replication_role = replica`);
          await tx.execute(sql`set local synchronous_commit = off`);
          await tx.execute(sql`set local work_mem = '256MB'`);
          // Ids in the order written (a uuid made of n and the day i): the primary key grows at its right edge.
          const result = await tx.execute(sql`
            with d as (
              insert into doses (id, patient_id, episode_id, order_id, clinic_id, service_day, part, outcome, status,
                                 prescribed_mg, given_mg, ml, concentration, method, intoxication, given_by, at)
              select ('00000000-0000-7000-8000-' || lpad(to_hex(p.n::bigint * 8192 + g.i), 12, '0'))::uuid,
                     p.patient_id, p.episode_id, p.order_id, p.clinic_id, p.first_day + g.i, 1, 'given', 'completed',
                     p.daily_mg, p.daily_mg, p.daily_mg / 10.0, 10, 'manual', 'none', p.nurse_id,
                     p.first_at + g.i * interval '1 day'
              from ${PLAN} p
              cross join lateral generate_series(0, p.last_day - p.first_day) as g(i)
              where p.clinic_no = ${c}::int and ${came}
              returning id, patient_id, service_day
            )
            insert into dose_slots (patient_id, service_day, part, dose_id)
            select patient_id, service_day, 1, id from d`);
          // Diversion incidents at the swallow check (R13, R19's violations): one patient in 50, on about one dose in 128.
          await tx.execute(sql`
            insert into swallow_checks (dose_id, patient_id, outcome, note, by, at)
            select ('00000000-0000-7000-8000-' || lpad(to_hex(p.n::bigint * 8192 + g.i), 12, '0'))::uuid,
                   p.patient_id, 'diversion', '', p.nurse_id, p.first_at + g.i * interval '1 day' + interval '5 minutes'
            from ${PLAN} p
            cross join lateral generate_series(0, p.last_day - p.first_day) as g(i)
            where p.clinic_no = ${c}::int and p.n % 50 = 7 and (hashint8(p.n::bigint * 8192 + g.i + 7) & 127) = 0 and ${came}`);
          return affected(result);
        });
        doseRows += written;
        finished += 1;
        const s = seconds(t);
        log(`day-close: doses of ${finished} / ${clinicCount} clinics: ${doseRows} rows in ${s.toFixed(1)} s (${Math.round(doseRows / s)} a second)`);
      }
    };
    await Promise.all(Array.from({ length: kind === 'postgres' ? 2 : 1 }, worker));
  });
  await step('indexes of doses and dose_slots built again', async () => {
    for (const i of dropped) {
      const t = performance.now();
      await db.transaction(async (tx) => {
        await tx.execute(sql.raw(`set local maintenance_work_mem = '${kind === 'postgres' ? '2GB' : '256MB'}'`));
        await tx.execute(i.constraint ? sql`alter table ${sql.identifier(i.table)} add constraint ${sql.identifier(i.constraint)} ${sql.raw(i.def)}` : sql.raw(i.def));
      });
      log(`day-close: ${i.name} built in ${seconds(t).toFixed(1)} s`);
    }
  });

  await step('coverage spans rebuilt from the slots', () => rebuildCoverageAll(db));

  // The patients with a dropout alert due at the close of each day, from the plan (the regular
  // patients never miss 30 days in a row; the others' last covered day is their last dose's).
  const plan = await rows<{ kind: string; first_day: string; last_day: string; hold: boolean }>(
    db,
    sql`select kind, first_day::text as first_day, last_day::text as last_day, hold from ${PLAN} where kind <> 'regular'`,
  );
  const dropoutsAt = (day: string) =>
    plan.filter((p) => levelsToRaise(missedAtClose(p.last_day >= p.first_day ? p.last_day : null, p.first_day, day), p.hold ? addDays(today, 5) : null, day, rules.params).includes('dropout')).length;
  const dropouts = { yesterday: dropoutsAt(addDays(today, -1)), today: dropoutsAt(today) };
  await db.execute(sql`drop table ${PLAN}`);

  await step('vacuum (analyze) and checkpoint', async () => {
    // As autovacuum would have left them (hint bits, the visibility map the index-only scans rely on, statistics).
    await db.execute(sql`vacuum (analyze) dose_slots, coverage_spans, patients, episodes, dose_orders, contacts, urine_tests, swallow_checks, clinics, users, user_clinics`);
    await db.execute(sql`analyze doses`);
    // The load's dirty pages written now rather than during the close.
    await db.execute(sql`checkpoint`);
  });
  return { today, clinics, doseRows: Number(before?.n ?? 0) + doseRows, dropouts, seconds: seconds(started), steps };
}

export const dayClose: Measure = {
  name: 'day-close',
  oneShot: true,
  async run(ctx) {
    const { db, kind } = await ctx.database();
    const defaults = DEFAULTS[kind];
    const scale: CloseScale = {
      patients: readWhole('BENCH_CLOSE_PATIENTS', process.env.BENCH_CLOSE_PATIENTS, 1, 1_000_000) ?? defaults.patients,
      // Two at least: yesterday is closed first.
      days: readWhole('BENCH_CLOSE_DAYS', process.env.BENCH_CLOSE_DAYS, 2, 4_000) ?? defaults.days,
    };
    const notes: string[] = [];
    if (kind === 'pglite' && !process.env.BENCH_CLOSE_PATIENTS && !process.env.BENCH_CLOSE_DAYS) {
      const note = `PGlite (in memory): the small scale, ${scale.patients} patients × ${scale.days} days (the full one, ${DEFAULTS.postgres.patients} × ${DEFAULTS.postgres.days}, is for BENCH_DATABASE_URL)`;
      ctx.log(`day-close: ${note}`);
      notes.push(note);
    }
    ctx.log(`day-close: seeding ${scale.patients} patients with ${scale.days} days of doses (about ${Math.round((scale.patients * scale.days * 0.93) / 1e6)} million dose rows)`);
    const seeded = await seedDayClose(db, kind, scale, ctx.log);
    ctx.log(`day-close: seeded in ${seeded.seconds.toFixed(1)} s (${seeded.steps.join('; ')})`);

    // Yesterday closed first (cold caches, nothing open: every alert is new), then today, timed
    // as the scheduler runs it every day (yesterday's alerts open, those who came back closed),
    // then today again (nothing to do). At 18:00 in Hà Nội, after the clinics' closing (17:00).
    const today = seeded.today;
    const yesterday = addDays(today, -1);
    const at = (day: string) => new FixedClock(new Date(`${day}T11:00:00Z`));
    const clinicIds = seeded.clinics.map((c) => c.id);
    const closeAll = async (day: string) => {
      ctx.log(`day-close: closing ${day} at ${clinicIds.length} clinics`);
      const t = performance.now();
      const closed = await closeDueDays({ db, clock: at(day) }, CHANNELS, { clinicIds });
      const ms = performance.now() - t;
      if (closed.length !== clinicIds.length || closed.some((r) => r.serviceDay !== day)) {
        throw new Error(`expected ${day} closed at ${clinicIds.length} clinics, got ${JSON.stringify(closed.map((r) => [r.clinicId, r.serviceDay]))}`);
      }
      const raised = Object.fromEntries(ALERT_LEVELS.map((l) => [l, closed.reduce((n, r) => n + (r.raised[l] ?? 0), 0)])) as Record<AlertLevel, number>;
      const alerts = ALERT_LEVELS.reduce((n, l) => n + raised[l], 0);
      const patients = closed.reduce((n, r) => n + r.patients, 0);
      const returned = closed.reduce((n, r) => n + r.closed, 0);
      if (patients !== scale.patients) throw new Error(`the close of ${day} counted ${patients} patients, ${scale.patients} were seeded`);
      const line = `close of ${day}: ${round(ms, 0)} ms, ${alerts} alerts raised (${ALERT_LEVELS.map((l) => `${l} ${raised[l]}`).join(', ')}), ${returned} closed (came back)`;
      ctx.log(`day-close: ${line}`);
      return { ms, raised, alerts, patients, line };
    };
    const first = await closeAll(yesterday);
    if (first.raised.dropout !== seeded.dropouts.yesterday) throw new Error(`the close of ${yesterday} raised ${first.raised.dropout} dropout alerts, the plan says ${seeded.dropouts.yesterday}`);
    const daily = await closeAll(today);
    const newDropouts = seeded.dropouts.today - seeded.dropouts.yesterday;
    if (daily.raised.dropout !== newDropouts) throw new Error(`the close of ${today} raised ${daily.raised.dropout} dropout alerts, the plan says ${newDropouts}`);
    const again = performance.now();
    for (const id of clinicIds) {
      const r = await closeDay({ db, clock: at(today) }, id, today, null, CHANNELS);
      if (r !== null) throw new Error(`the second close of ${today} at clinic ${id} did something: ${JSON.stringify(r)}`);
    }
    const repeatMs = performance.now() - again;

    const [told] = await rows<{ inbox: number; outbox: number }>(
      db,
      sql`select (select count(*) from inbox i join alerts a on a.id = i.alert_id where a.clinic_id = any(${textArray(clinicIds)}::uuid[]))::int as inbox,
                 (select count(*) from outbox o join alerts a on a.id = o.alert_id where a.clinic_id = any(${textArray(clinicIds)}::uuid[]))::int as outbox`,
    );
    notes.push(
      `${scale.patients} patients × ${scale.days} days at ${clinicIds.length} clinics, ${seeded.doseRows} dose rows; seeded in ${seeded.seconds.toFixed(1)} s`,
      `first ${first.line}`,
      `daily ${daily.line} (ms)`,
      `${today} closed again (nothing to do): ${round(repeatMs, 1)} ms; ${told?.inbox ?? 0} in-app messages and ${told?.outbox ?? 0} outbox rows over both days`,
    );
    return [{ bench: 'day-close', ms: round(daily.ms, 0), first_ms: round(first.ms, 0), repeat_ms: round(repeatMs, 1), patients: daily.patients, dose_rows: seeded.doseRows, alerts: daily.alerts, notes }];
  },
};
