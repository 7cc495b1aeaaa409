// GET /followup?clinic=…&counsellor=all: the counsellor's missed-dose list
// (server/services/follow-up.ts missedList, views/pages/followup.tsx), the
// whole page through the real app with a logged-in counsellor's session.
// Goal: p99 under 50 ms for the list a counsellor waits for when she opens
// it: missed-list@1 asks from one connection, one request at a time, as
// counter-card@1 does for the nurse's card. missed-list runs under the
// runner's `connections` like every measure, with no pause between requests:
// its per_s is how many lists a second the server can give (its p99 is about
// connections / per_s, the queue's length).
//
// One clinic of its own (ML01: a counsellor, doctor, nurse and manager) with
// PATIENTS patients in open episodes (db/synthetic.ts: names, phones,
// addresses, an order each), all the counsellor's, and 60–90 days of dose
// history each (fewer for episodes that began later), written with set-based
// SQL. By the patient's number n (1..PATIENTS, in code order):
//   n % 100 in 0–14   (15%) stopped: their last dose k days before yesterday,
//                     k from 1 to 40, short runs more often than long ones
//                     (k = 1 + ⌊40u²⌋, u uniform), so every bucket of the
//                     list has some; by n % 100: 0 in hospital and 1 in custody
//                     (a hold), 2–5 reached (a return date, the next action
//                     due today or in two days), 6–8 unreachable, the rest
//                     not contacted yet;
//   the rest          come almost every day (about 1 day in 25 missed, at
//                     random), and about half have come this morning.
// One patient in ten also has an older contact ("reached", weeks ago).
// The days up to yesterday are closed one by one (closeDay, CLOSED_DAYS of
// them, the contacts logged before the last), so the alerts a real clinic
// would have are there, open and closed; today is not closed yet: the
// counsellor's morning, the list counted as of yesterday.
import { rebuildCoverageAll } from './database.ts';
import { secondsSince, stepTimer, type Measure } from './measure.ts';
import { MISSED_PAGE_SIZE } from '../../views/pages/followup.tsx';
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { rows } from '../../db/sql.ts';
import { seedPatients } from '../../db/synthetic.ts';
import { createApp } from '../../server/app.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { FixedClock, serviceDay, systemClock } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { addDays } from '../../server/dosing/days.ts';
import { createLogger } from '../../server/log.ts';
import { closeDay, type ChannelsOn } from '../../server/services/day-close.ts';
import { missedList as listMissed } from '../../server/services/follow-up.ts';
import { measureHttp } from './load.ts';

const PATIENTS = 1_000;
const SEED = 90_000_000;
const CLINIC_CODE = 'ML01';
const TIME_ZONE = 'Asia/Ho_Chi_Minh';
/** Days closed before the measure (yesterday and the days before it): longer than the longest run of missed days. */
const CLOSED_DAYS = 45;
/** A regular patient misses a day when the day's hash falls under this (of 1024): about 4%. */
const ABSENT_OF_1024 = 41;
/** The alerts go to the in-app inbox only (no e-mail or webhook configured). */
const CHANNELS: ChannelsOn = { email: false, webhook: false };
/** Scratch table of the seeding (dropped after). */
const PLAN = sql.raw('bench_missed_list_plan');

const seconds = secondsSince;

interface Seeded {
  clinicId: string;
  counsellorId: string;
  today: string;
  doseRows: number;
  contacts: number;
  alerts: { raised: number; open: number };
  seconds: number;
  steps: string[];
}

export async function seedMissedList(db: Db, log: (line: string) => void): Promise<Seeded> {
  const started = performance.now();
  const { steps, step } = stepTimer('missed-list', log);
  const today = serviceDay(new Date(), TIME_ZONE);
  const yesterday = addDays(today, -1);

  const { clinicId, staff } = await step('the clinic and its staff', () =>
    db.transaction(async (tx) => {
      const [clinic] = await rows<{ id: string }>(
        tx,
        sql`insert into clinics (code, name, kind, province_code, commune_code, address, time_zone)
            values (${CLINIC_CODE}, 'Cơ sở điều trị Methadone (bench missed-list)', 'facility', 31, 11329, '', ${TIME_ZONE})
            returning id`,
      );
      if (!clinic) throw new Error('the bench clinic was not created');
      // No one logs in with a password (the counsellor's session is made directly).
      const made = await rows<{ id: string; role: string }>(
        tx,
        sql`insert into users (username, full_name, role, password_hash)
            select ${CLINIC_CODE.toLowerCase()} || '-' || r.role, r.title || ' ' || ${CLINIC_CODE}, r.role, 'bench: no login'
            from (values ('counsellor', 'Tư vấn viên'), ('doctor', 'Bác sĩ'), ('nurse', 'Điều dưỡng'), ('manager', 'Trưởng cơ sở')) as r(role, title)
            returning id, role`,
      );
      await tx.execute(sql`insert into user_clinics (user_id, clinic_id) select u.id, ${clinic.id}::uuid from users u where u.username like ${`${CLINIC_CODE.toLowerCase()}-%`}`);
      const role = (r: string) => made.find((m) => m.role === r)!.id;
      return { clinicId: clinic.id, staff: { counsellor: role('counsellor'), doctor: role('doctor'), nurse: role('nurse') } };
    }),
  );

  await step(`${PATIENTS} patients with their episodes and orders`, () =>
    seedPatients(db, {
      clinics: [{ id: clinicId, code: CLINIC_CODE }],
      count: PATIENTS,
      today,
      prescriberId: staff.doctor,
      counsellorId: staff.counsellor,
      seed: SEED,
      communes: [{ code: 11329, provinceCode: 31 }, { code: 11383, provinceCode: 31 }],
    }),
  );

  // The plan: one row per patient, with what the inserts below need.
  await db.execute(sql`drop table if exists ${PLAN}`);
  await db.execute(sql`create table ${PLAN} (
    n int primary key, patient_id uuid not null, episode_id uuid not null, start_date date not null,
    order_id uuid not null, order_start date not null, daily_mg numeric not null,
    first_day date not null, last_day date not null, stopped boolean not null, came_today boolean not null)`);
  await db.execute(sql`
    with p as (
      select p.id as patient_id, e.id as episode_id, e.start_date, o.id as order_id, o.start_date as order_start, o.daily_mg,
             row_number() over (order by p.code)::int as n
      from patients p
      join episodes e on e.patient_id = p.id and e.end_date is null
      join lateral (select o.id, o.start_date, o.daily_mg from dose_orders o where o.episode_id = e.id order by o.start_date desc limit 1) o on true
      where p.home_clinic_id = ${clinicId}::uuid
    )
    insert into ${PLAN} (n, patient_id, episode_id, start_date, order_id, order_start, daily_mg, first_day, last_day, stopped, came_today)
    select n, patient_id, episode_id, start_date, order_id, order_start, daily_mg,
           greatest(start_date, ${today}::date - (60 + n % 31)),
           -- k = 1 + ⌊40·u²⌋ for u uniform in [0, 1): short runs more often than long ones.
           case when n % 100 < 15 then ${yesterday}::date - (1 + floor(40 * ((hashint8(n::bigint * 104729) & 1023) / 1024.0) ^ 2)::int)
                when (hashint8(n::bigint * 7919) & 1) = 0 then ${today}::date
                else ${yesterday}::date end,
           n % 100 < 15,
           n % 100 >= 15 and (hashint8(n::bigint * 7919) & 1) = 0
    from p`);
  const [planned] = await rows<{ n: number; stopped: number }>(db, sql`select count(*)::int as n, count(*) filter (where stopped)::int as stopped from ${PLAN}`);
  if (Number(planned?.n) !== PATIENTS) throw new Error(`missed-list: ${PATIENTS} patients seeded but ${planned?.n} found at the clinic`);

  // The doses and their slots, with the triggers off (the facts version and
  // foreign-key triggers; the rows are right by construction).
  const doseRows = await step('doses and dose slots', () =>
    db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      const result = await tx.execute(sql`
        with d as (
          insert into doses (patient_id, episode_id, order_id, clinic_id, service_day, part, outcome, status,
                             prescribed_mg, given_mg, ml, concentration, method, intoxication, given_by, at)
          select p.patient_id, p.episode_id, case when p.first_day + g.i >= p.order_start then p.order_id end, ${clinicId}::uuid,
                 p.first_day + g.i, 1, 'given', 'completed', p.daily_mg, p.daily_mg, p.daily_mg / 10.0, 10, 'manual', 'none', ${staff.nurse}::uuid,
                 -- 07:00–09:59 in Hà Nội.
                 ((p.first_day + g.i) + time '07:00' + (p.n % 180) * interval '1 minute') at time zone ${TIME_ZONE}
          from ${PLAN} p
          cross join lateral generate_series(0, p.last_day - p.first_day) as g(i)
          where case when p.stopped and p.first_day + g.i = p.last_day then true
                     when p.first_day + g.i = ${today}::date then p.came_today
                     else (hashint8(p.n::bigint * 8192 + (p.first_day + g.i - date '2000-01-01')) & 1023) >= ${ABSENT_OF_1024}::int end
          returning id, patient_id, service_day
        )
        insert into dose_slots (patient_id, service_day, part, dose_id)
        select patient_id, service_day, 1, id from d`);
      const r = result as { count?: number | null; affectedRows?: number | null };
      return Number(r.count ?? r.affectedRows ?? 0);
    }),
  );

  await step('coverage spans rebuilt from the slots', () => rebuildCoverageAll(db));

  // The days up to the day before yesterday closed in turn, each at 18:00 (after the clinic's 17:00 closing).
  let raised = 0;
  const close = async (day: string) => {
    const r = await closeDay({ db, clock: new FixedClock(new Date(`${day}T11:00:00Z`)) }, clinicId, day, null, CHANNELS);
    if (!r) throw new Error(`missed-list: ${day} was already closed at the bench clinic`);
    raised += Object.values(r.raised).reduce((a, b) => a + b, 0);
  };
  await step(`${CLOSED_DAYS - 1} days closed`, async () => {
    for (let i = CLOSED_DAYS; i >= 2; i--) await close(addDays(today, -i));
  });

  // The contacts, logged by the counsellor (before yesterday's close: the holds pause its escalation).
  const at = (day: SQL) => sql`((${day}) + time '10:00' + (p.n % 240) * interval '1 minute') at time zone ${TIME_ZONE}`;
  const contacts = await step('contacts', async () => {
    await db.execute(sql`
      insert into contacts (patient_id, episode_id, clinic_id, method, outcome, return_date, hold_until, next_action_date, note, by, at)
      select p.patient_id, p.episode_id, ${clinicId}::uuid, 'phone', 'reached', null, null, null, 'Đã gọi: vẫn đến uống đều.', ${staff.counsellor}::uuid,
             ${at(sql`${today}::date - (20 + p.n % 30)`)}
      from ${PLAN} p where p.n % 10 = 3 and ${today}::date - (20 + p.n % 30) >= p.start_date`);
    await db.execute(sql`
      insert into contacts (patient_id, episode_id, clinic_id, method, outcome, return_date, hold_until, next_action_date, note, by, at)
      select p.patient_id, p.episode_id, ${clinicId}::uuid,
             case when p.n % 100 in (0, 1) then 'family' when p.n % 2 = 0 then 'phone' else 'home_visit' end,
             case p.n % 100 when 0 then 'hospital' when 1 then 'custody' when 2 then 'reached' when 3 then 'reached' when 4 then 'reached' when 5 then 'reached' else 'unreachable' end,
             case when p.n % 100 between 2 and 5 then ${today}::date + p.n % 3 end,
             case when p.n % 100 in (0, 1) then ${today}::date + 2 + p.n % 6 end,
             case when p.n % 100 in (2, 3) then ${today}::date when p.n % 100 between 4 and 7 then ${today}::date + 2 end,
             'Liên hệ theo danh sách bỏ liều.', ${staff.counsellor}::uuid,
             ${at(sql`least(p.last_day + 2, ${yesterday}::date)`)}
      from ${PLAN} p where p.stopped and p.n % 100 < 9`);
    const [n] = await rows<{ n: number }>(db, sql`select count(*)::int as n from contacts where clinic_id = ${clinicId}::uuid`);
    return Number(n?.n ?? 0);
  });
  await step('yesterday closed', () => close(yesterday));
  await db.execute(sql`drop table ${PLAN}`);

  await step('vacuum (analyze)', () => db.execute(sql`vacuum (analyze) doses, dose_slots, coverage_spans, patients, episodes, dose_orders, contacts, alerts, day_closes, users, user_clinics, clinics`));
  const [open] = await rows<{ n: number }>(db, sql`select count(*)::int as n from alerts where clinic_id = ${clinicId}::uuid and closed_at is null`);
  return { clinicId, counsellorId: staff.counsellor, today, doseRows, contacts, alerts: { raised, open: Number(open?.n ?? 0) }, seconds: seconds(started), steps };
}

export const missedList: Measure = {
  name: 'missed-list',
  async run(ctx) {
    const { db } = await ctx.database();
    ctx.log(`missed-list: seeding one clinic of ${PATIENTS} patients with 60–90 days of dose history and ${CLOSED_DAYS} closed days`);
    const seeded = await seedMissedList(db, ctx.log);
    ctx.log(`missed-list: seeded in ${seeded.seconds.toFixed(1)} s (${seeded.steps.join('; ')})`);

    // What the list holds, straight from the service (the page must show as many).
    const list = await listMissed(db, new Date(), [seeded.clinicId], { clinicId: seeded.clinicId });
    if (serviceDay(new Date(), TIME_ZONE) !== seeded.today) throw new Error(`the service day changed during the setup (${seeded.today}): run again`);
    if (list.length === 0) throw new Error('missed-list: the list is empty');
    const buckets = { today: 0, d2_4: 0, d5_13: 0, d14: 0 };
    for (const r of list) buckets[r.bucket]++;
    const onHold = list.filter((r) => r.onHoldUntil).length;
    const needsAction = list.filter((r) => r.needsAction).length;

    const { token } = await createSession(db, seeded.counsellorId, new Date(), { idleMinutes: 30, absoluteMinutes: 720 });
    const app = createApp({
      db,
      clock: systemClock,
      config: loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', SEED_DEMO: 'false' }),
      logger: createLogger('silent'),
    });
    const path = `/followup?${new URLSearchParams({ clinic: seeded.clinicId, counsellor: 'all' })}`;
    const headers = { cookie: `mp_session=${token}` };
    const page = await app.fetch(new Request(`http://bench${path}`, { headers }));
    const html = await page.text();
    const cards = html.split('data-missed=').length - 1;
    // The first page: the most urgent MISSED_PAGE_SIZE cards of the list.
    const expected = Math.min(list.length, MISSED_PAGE_SIZE);
    if (page.status !== 200 || cards !== expected) throw new Error(`missed-list: the page answered ${page.status} with ${cards} cards, expected ${expected} of ${list.length} rows`);

    const target = { fetch: app.fetch, path, headers, expectBody: 'class="missed-list"', expectBodyEveryTime: true };
    const result = await measureHttp('missed-list', ctx, target);
    ctx.log(`missed-list@1: ${ctx.warmupSeconds} s warm-up + ${ctx.seconds} s, 1 connection`);
    const serial = await measureHttp('missed-list@1', { ...ctx, connections: 1 }, target);
    const notes = [
      `${list.length} rows on the list, the first ${expected} on the page (missed 1 day ${buckets.today}, 2–4 ${buckets.d2_4}, 5–13 ${buckets.d5_13}, 14+ ${buckets.d14}; ${needsAction} to act on, ${onHold} on hold), a page of ${Math.round(Buffer.byteLength(html) / 1024)} KB`,
      `one clinic of ${PATIENTS} patients, ${seeded.doseRows} dose rows, ${seeded.contacts} contacts, ${CLOSED_DAYS} days closed (${seeded.alerts.raised} alerts raised, ${seeded.alerts.open} open); seeded in ${seeded.seconds.toFixed(1)} s`,
    ];
    ctx.log(`missed-list: ${notes.join('; ')}`);
    return [
      { ...result, patients: PATIENTS, notes },
      { ...serial, notes: ['the same page from 1 connection, one request at a time'] },
    ];
  },
};
