// The day close (issue 5): after a clinic's closing time, every patient in an
// open episode there is counted — consecutive missed days as R11 defines them,
// covered days being the dose slots (a dose here or as a guest elsewhere, a
// take-home day, a supply) — and the alerts of R17/R18 are raised, with their
// in-app messages and outbox rows, in one transaction per clinic and day.
// R19's grounds to review termination are flagged to the doctors the same way
// (in the app only: they rest on test results, which never leave it).
//
// Once only: the day_closes row is written in the same transaction, after a
// PostgreSQL advisory lock that serialises closers across server instances
// (PGlite has a single process). Running it again finds the row and does
// nothing; a server that was off catches up day by day from the last close.
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { AlertLevel } from '../../db/schema.ts';
import { pgArray, rows } from '../../db/sql.ts';
import { addDays, daysBetween } from '../dosing/days.ts';
import { anchorDay, levelsToRaise, missedAtClose, terminationGrounds } from '../dosing/follow-up.ts';
import { localTime, serviceDay } from '../clock.ts';
import type { ServiceDeps } from './context.ts';
import { audit } from './audit.ts';
import { reconcilePumpDay } from './pumps.ts';
import { rulesForClinic } from './rule-sets.ts';

/** pg_advisory_xact_lock key of the day close (the audit sealer uses 7340001, the default rule set 7340002). */
const DAY_CLOSE_LOCK = 7340003;
/** A server off for longer than this closes only the most recent days: the counts are the same, only the day each alert was raised differs. */
export const MAX_CATCH_UP_DAYS = 31;

/** The outbox channels configured on this server: an alert is queued only for those. */
export interface ChannelsOn {
  email: boolean;
  webhook: boolean;
}

export interface CloseResult {
  clinicId: string;
  serviceDay: string;
  patients: number;
  raised: Record<AlertLevel, number>;
  closed: number;
  /** Each pump's reported volume for the day against the dose records (issue 7). */
  pumpVolumes: { pumpId: string; pumpMl: number; recordMl: number; differs: boolean }[];
}

type Counted = {
  episode_id: string;
  patient_id: string;
  start_date: string;
  /** Null with no covered day by then, or, for one who came back, when R19 does not need it. */
  last_covered: string | null;
  hold_until: string | null;
  /** Covered on a later day already (a catch-up closing a past day): the run has ended. */
  came_back: boolean;
  maintenance_since: string | null;
  violations: string[] | null;
  tests: { d: string; r: Record<string, 'positive' | 'negative'> }[] | string | null;
};

/**
 * Closes one service day at one clinic. Returns null when that day was
 * already closed (by another instance, a manager, or an earlier run).
 */
export async function closeDay({ db, clock }: ServiceDeps, clinicId: string, day: string, runBy: string | null, channels: ChannelsOn): Promise<CloseResult | null> {
  const rules = await rulesForClinic(db, clinicId, day);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${DAY_CLOSE_LOCK}::bigint)`);
    // One statement over tens of thousands of episodes: compiling it (JIT) would cost more than it
    // saves; JIT is off on every connection (db/client.ts).
    const done = await rows(tx, sql`select 1 from day_closes where clinic_id = ${clinicId}::uuid and service_day = ${day}::date`);
    if (done.length > 0) return null;
    const now = clock.now().toISOString();
    const [clinic] = await rows<{ time_zone: string }>(tx, sql`select time_zone from clinics where id = ${clinicId}::uuid`);
    // The end of the day closed, as an instant: what was known by then counts (a catch-up does not use later contacts).
    const dayEnd = sql`((${day}::date + 1)::timestamp at time zone ${clinic?.time_zone ?? 'Asia/Ho_Chi_Minh'}::text)`;

    // Every open episode of the clinic that had begun by that day, with its
    // last covered day up to it, the hold of the latest contact, and R19's
    // facts (start of maintenance, diversion days, the episode's drug tests).
    const counted = await rows<Counted>(
      tx,
      sql`select e.id as episode_id, e.patient_id, e.start_date::text as start_date,
                 -- From the patient's chain of covered days (coverage_spans) that reaches the day: its last day when
                 -- it ends by then. A chain running past the day (a day closed late) means the patient came back:
                 -- then the day is read from the slots only for R19, the one use of it for someone who came back.
                 -- A later day covered is that chain running on, or a later one.
                 (case when sp.to_day <= ${day}::date then sp.to_day
                       when g.positive or g.diverted then
                         (select max(s.service_day) from dose_slots s where s.patient_id = e.patient_id and s.service_day <= ${day}::date) end)::text as last_covered,
                 (coalesce(sp.to_day > ${day}::date, false)
                   or exists (select 1 from coverage_spans cs where cs.patient_id = e.patient_id and cs.from_day > ${day}::date)) as came_back,
                 (select c.hold_until from contacts c where c.patient_id = e.patient_id and c.at < ${dayEnd} order by c.at desc limit 1)::text as hold_until,
                 case when g.positive or g.diverted then
                   (select min(o.start_date) from dose_orders o where o.episode_id = e.id and o.phase = 'maintenance' and o.start_date <= ${day}::date)::text end as maintenance_since,
                 case when g.diverted then
                   (select array_agg(d.service_day::text) from swallow_checks sc join doses d on d.id = sc.dose_id
                     where sc.patient_id = e.patient_id and sc.outcome = 'diversion' and d.service_day between e.start_date and ${day}::date) end as violations,
                 case when g.positive then
                   (select json_agg(json_build_object('d', u.test_date::text, 'r', u.results)) from urine_tests u
                     where u.patient_id = e.patient_id and u.test_date between e.start_date and ${day}::date) end as tests
          from episodes e
          left join lateral (select cs.to_day from coverage_spans cs where cs.patient_id = e.patient_id and cs.from_day <= ${day}::date
                             order by cs.from_day desc limit 1) sp on true
          -- R19 needs a positive test (other than methadone) or a diversion: most patients have neither, found by small indexes.
          cross join lateral (select
              exists (select 1 from urine_tests u where u.patient_id = e.patient_id and u.test_date between e.start_date and ${day}::date
                        and jsonb_path_exists(results - 'methadone', '$.* ? (@ == "positive")')) as positive,
              exists (select 1 from swallow_checks sc where sc.patient_id = e.patient_id and sc.outcome = 'diversion') as diverted
            -- offset 0: worked out once per episode; inlined, each of the three uses above ran both probes again.
            offset 0) g
          where e.clinic_id = ${clinicId}::uuid and e.end_date is null and e.start_date <= ${day}::date`,
    );

    const raise = { episode: [] as string[], patient: [] as string[], level: [] as string[], anchor: [] as string[], missed: [] as number[], reasons: [] as string[] };
    const add = (c: Counted, level: AlertLevel, anchor: string, missed: number, reasons: { rule: string; code: string }[]) => {
      raise.episode.push(c.episode_id);
      raise.patient.push(c.patient_id);
      raise.level.push(level);
      raise.anchor.push(anchor);
      raise.missed.push(missed);
      raise.reasons.push(JSON.stringify(reasons));
    };
    for (const c of counted) {
      const missed = missedAtClose(c.last_covered, c.start_date, day);
      // A run that has already ended (the patient came back after the day being caught up) raises nothing: no one needs to chase them now.
      if (!c.came_back) for (const level of levelsToRaise(missed, c.hold_until, day, rules.params)) add(c, level, anchorDay(c.last_covered, c.start_date), missed, []);
      if (c.violations === null && c.tests === null) continue;
      const tests = typeof c.tests === 'string' ? (JSON.parse(c.tests) as { d: string; r: Record<string, 'positive' | 'negative'> }[]) : (c.tests ?? []);
      const r19 = terminationGrounds(
        { episodeStart: c.start_date, maintenanceSince: c.maintenance_since, violations: c.violations ?? [], tests: tests.map((t) => ({ testDate: t.d, results: t.r })) },
        day,
        rules.params,
      );
      if (r19.evidenceDay !== null) add(c, 'review', r19.evidenceDay, missed, r19.grounds.map((g) => ({ rule: 'R19', code: g })));
    }

    // A patient covered after an alert's run began came back (the dose slot's
    // trigger closes these at once; this catches a day closed late).
    const closed = await rows(
      tx,
      sql`update alerts a set closed_at = ${now}::timestamptz, closed_as = 'returned'
          where a.clinic_id = ${clinicId}::uuid and a.closed_at is null
            and a.level <> 'review'
            and exists (select 1 from dose_slots s where s.patient_id = a.patient_id and s.service_day > a.anchor_day and s.service_day <= ${day}::date)
          returning a.id`,
    );

    // New alerts (an open one of the same episode and level stays as it is;
    // a dropout the manager rejected is not proposed again for the same run,
    // nor a review the doctor did for the same evidence), then who hears of
    // each: the patient's counsellor (or, with none, the clinic's
    // counsellors), the doctors at 'doctor' and 'review', the managers at
    // 'dropout'; staff of the patient's clinic, or, for a satellite point
    // with no one of that role, of the facility it hangs off.
    const raised = await rows<{ level: AlertLevel; n: number }>(
      tx,
      sql`with raised as (
            insert into alerts (patient_id, episode_id, clinic_id, level, anchor_day, raised_day, missed_days, reasons, raised_at)
            select t.patient_id, t.episode_id, ${clinicId}::uuid, t.level, t.anchor, ${day}::date, t.missed, t.reasons, ${now}::timestamptz
            from unnest(${pgArray(raise.patient)}::uuid[], ${pgArray(raise.episode)}::uuid[], ${pgArray(raise.level)}::text[],
                        ${pgArray(raise.anchor)}::date[], ${pgArray(raise.missed.map(String))}::int[], ${pgArray(raise.reasons)}::jsonb[])
                 as t(patient_id, episode_id, level, anchor, missed, reasons)
            where not exists (select 1 from alerts x where x.episode_id = t.episode_id and x.level = t.level
                                and ((x.closed_as = 'dropout_rejected' and x.anchor_day = t.anchor)
                                  or (x.closed_as = 'reviewed' and x.anchor_day >= t.anchor)))
            on conflict (episode_id, level) where closed_at is null do nothing
            returning id, patient_id, level
          ), here as (
            select u.id, u.role, u.notify_email, u.email, u.notify_webhook, u.webhook_to
            from users u where u.active and u.role in ('counsellor', 'doctor', 'manager')
              and exists (select 1 from user_clinics uc where uc.user_id = u.id and uc.clinic_id = ${clinicId}::uuid)
          ), staff as (
            select * from here
            union all
            select u.id, u.role, u.notify_email, u.email, u.notify_webhook, u.webhook_to
            from users u where u.active and u.role in ('counsellor', 'doctor', 'manager')
              and not exists (select 1 from here h where h.role = u.role)
              and exists (select 1 from user_clinics uc join clinics c on c.parent_id = uc.clinic_id where uc.user_id = u.id and c.id = ${clinicId}::uuid)
          ), told as (
            select r.id as alert_id, r.level, s.*
            from raised r join patients p on p.id = r.patient_id
            join staff s on
              (s.role = 'counsellor' and r.level not in ('missed', 'review') and (s.id = p.counsellor_id
                 or not exists (select 1 from staff x where x.id = p.counsellor_id and x.role = 'counsellor')))
              or (s.role = 'doctor' and r.level in ('doctor', 'review'))
              or (s.role = 'manager' and r.level = 'dropout')
          ), in_app as (
            insert into inbox (user_id, alert_id) select id, alert_id from told on conflict do nothing
          ), queued as (
            insert into outbox (alert_id, user_id, channel, next_attempt_at)
            select alert_id, id, 'email', ${now}::timestamptz from told where ${channels.email}::boolean and notify_email and email <> '' and level <> 'review'
            union all
            select alert_id, id, 'webhook', ${now}::timestamptz from told where ${channels.webhook}::boolean and notify_webhook and webhook_to <> '' and level <> 'review'
            on conflict do nothing
          )
          select level, count(*)::int as n from raised group by level`,
    );

    const byLevel: Record<AlertLevel, number> = { missed: 0, counsellor: 0, doctor: 0, dropout: 0, review: 0 };
    for (const r of raised) byLevel[r.level] = Number(r.n);
    const total = raised.reduce((n, r) => n + Number(r.n), 0);
    // Issue 7: what each pump reported for the day against the dose records; a difference is flagged on the pump's page.
    const pumpVolumes = await reconcilePumpDay({ db: tx, clock }, clinicId, day);
    await tx.execute(
      sql`insert into day_closes (clinic_id, service_day, run_by, patients, alerts_raised, alerts_closed, at)
          values (${clinicId}::uuid, ${day}::date, ${runBy}::uuid, ${counted.length}::int, ${total}::int, ${closed.length}::int, ${now}::timestamptz)`,
    );
    // A manager's close is an action of theirs: audited in its own transaction.
    if (runBy !== null) await audit(tx, { action: 'day_close', actorId: runBy, clinicId, entityType: 'clinic', entityId: clinicId, details: { serviceDay: day, patients: counted.length, raised: total }, at: clock.now() });
    return { clinicId, serviceDay: day, patients: counted.length, raised: byLevel, closed: closed.length, pumpVolumes };
  });
}


type ClinicClock = {
  id: string;
  time_zone: string;
  closing_time: string;
  last_closed: string | null;
};

/**
 * The days a clinic has still to close at `now`: from the day after its last
 * close through today once the closing time has passed (yesterday before
 * it). `throughToday` closes today even before the closing time (a manager
 * closing early). A clinic never closed starts at the last day due.
 */
export function daysDue(c: { timeZone: string; closingTime: string; lastClosed: string | null }, now: Date, throughToday = false): string[] {
  const today = serviceDay(now, c.timeZone);
  const last = throughToday || localTime(now, c.timeZone) >= c.closingTime ? today : addDays(today, -1);
  let first = c.lastClosed === null ? last : addDays(c.lastClosed, 1);
  if (daysBetween(first, last) >= MAX_CATCH_UP_DAYS) first = addDays(last, -(MAX_CATCH_UP_DAYS - 1));
  const days: string[] = [];
  for (let d = first; d <= last; d = addDays(d, 1)) days.push(d);
  return days;
}

/**
 * Closes every day due at the given clinics (all active clinics when none
 * are named), oldest first. The scheduler calls it every minute; a manager's
 * "close now" calls it with `throughToday`.
 */
export async function closeDueDays(
  deps: ServiceDeps,
  channels: ChannelsOn,
  opts: { clinicIds?: string[]; runBy?: string | null; throughToday?: boolean } = {},
): Promise<CloseResult[]> {
  const clinicsDue = await rows<ClinicClock>(
    deps.db,
    sql`select c.id, c.time_zone, c.closing_time, (select max(d.service_day) from day_closes d where d.clinic_id = c.id)::text as last_closed
        from clinics c
        where c.active ${opts.clinicIds ? sql`and c.id = any(${pgArray(opts.clinicIds)}::uuid[])` : sql``}
        order by c.code`,
  );
  const now = deps.clock.now();
  const results: CloseResult[] = [];
  const failures: unknown[] = [];
  for (const c of clinicsDue) {
    try {
      for (const day of daysDue({ timeZone: c.time_zone, closingTime: c.closing_time, lastClosed: c.last_closed }, now, opts.throughToday)) {
        const r = await closeDay(deps, c.id, day, opts.runBy ?? null, channels);
        if (r) results.push(r);
      }
    } catch (e) {
      // One clinic's failure (its days stay open, to be tried at the next tick) does not hold up the others.
      failures.push(e);
    }
  }
  if (failures.length > 0) throw new DayCloseError(results, failures);
  return results;
}

/** Some clinics could not be closed; `closed` says what was done meanwhile. */
export class DayCloseError extends Error {
  constructor(
    readonly closed: CloseResult[],
    readonly failures: unknown[],
  ) {
    super(`day close failed at ${failures.length} clinic(s)`);
  }
}

/** The last closes of some clinics, for the manager's page. */
export async function recentCloses(db: Db, clinicIds: string[], limit = 30) {
  return rows<{ clinic_id: string; clinic_code: string; service_day: string; run_by_name: string | null; patients: number; alerts_raised: number; alerts_closed: number; at: string }>(
    db,
    sql`select d.clinic_id, c.code as clinic_code, d.service_day::text as service_day, u.full_name as run_by_name, d.patients, d.alerts_raised, d.alerts_closed, d.at
        from day_closes d join clinics c on c.id = d.clinic_id left join users u on u.id = d.run_by
        where d.clinic_id = any(${pgArray(clinicIds)}::uuid[])
        order by d.service_day desc, c.code limit ${limit}::int`,
  );
}
