// The counsellor's side of missed doses: the list of patients who did not
// come, contacts and their outcomes (with holds), the in-app alert messages,
// and the manager's ruling on a proposed dropout (R18).
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { HOLDING_OUTCOMES, type AlertClosing, type AlertLevel, type ContactMethod, type ContactOutcome } from '../../db/schema.ts';
import { pgArray, rows } from '../../db/sql.ts';
import { addDays } from '../dosing/days.ts';
import { bucketOf, missedAtClose, type MissedBucket, type ReviewGround } from '../dosing/follow-up.ts';
import { serviceDay } from '../clock.ts';
import { Conflict, Invalid, NotFound, type FieldErrors } from '../errors.ts';
import { audit, type AuditAction } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';
import { endEpisode } from './episodes.ts';
import { getPatientInScope } from './patients.ts';


export interface MissedRow {
  patientId: string;
  code: string;
  fullName: string;
  phone: string;
  phone2: string;
  address: string;
  nextOfKin: string;
  nextOfKinPhone: string;
  clinicId: string;
  clinicCode: string;
  counsellorId: string | null;
  counsellorName: string | null;
  lastCovered: string | null;
  /** Consecutive missed days up to the day counted (`asOf`). */
  missed: number;
  bucket: MissedBucket;
  asOf: string;
  alertLevel: AlertLevel | null;
  lastContact: { at: string; method: ContactMethod; outcome: ContactOutcome; nextActionDate: string | null; holdUntil: string | null; returnDate: string | null; byName: string } | null;
  onHoldUntil: string | null;
  /** No contact since the run began, or the next action is due: the top of the list. */
  needsAction: boolean;
}

export interface MissedFilter {
  clinicId?: string;
  /** A counsellor's id, 'none' (no counsellor assigned), or absent for everyone. */
  counsellor?: string;
  bucket?: MissedBucket;
}

const LEVEL_RANK: Record<AlertLevel, number> = { review: 0, missed: 1, counsellor: 2, doctor: 3, dropout: 4 };

/**
 * Patients in an open episode at the given clinics who have missed at least
 * the last day counted: today once the clinic's day is closed, else
 * yesterday. A patient covered after that day (came this morning) is off
 * the list. Most urgent first: those still to be acted on (no contact since
 * the run began, or the next action date reached), longest missing first;
 * then those contacted; those on hold (hospital, custody) last.
 */
export async function missedList(db: Db, now: Date, clinicIds: string[], f: MissedFilter = {}): Promise<MissedRow[]> {
  const ids = f.clinicId ? clinicIds.filter((c) => c === f.clinicId) : clinicIds;
  if (ids.length === 0) return [];
  const found = await rows<{
    patient_id: string;
    code: string;
    full_name: string;
    phone: string;
    phone2: string;
    street: string;
    commune: string | null;
    province: string | null;
    former_address: string;
    next_of_kin_name: string;
    next_of_kin_phone: string;
    clinic_id: string;
    clinic_code: string;
    time_zone: string;
    today: string;
    as_of: string;
    counsellor_id: string | null;
    counsellor_name: string | null;
    start_date: string;
    last_covered: string | null;
    alert_level: AlertLevel | null;
    contact_at: string | null;
    contact_method: ContactMethod | null;
    contact_outcome: ContactOutcome | null;
    contact_next: string | null;
    contact_hold: string | null;
    contact_return: string | null;
    contact_by: string | null;
  }>(
    db,
    // The clinic's open episodes are narrowed to those with no covered day
    // from the day counted through today first (one probe of the slots'
    // primary key each, an anti-join), and only then joined to the patients
    // and their contacts: joined first, the planner read every patient of
    // every clinic to find a thousand. The clinics' days are worked out once
    // (cl is materialized): inlined, each probe converted the time zone again.
    sql`with cl as materialized (
          select c.id, c.code, c.time_zone, d.today, d.today - case when k.today_closed then 0 else 1 end as as_of
          from clinics c
          cross join lateral (select (${now.toISOString()}::timestamptz at time zone c.time_zone)::date as today) d
          cross join lateral (select exists (select 1 from day_closes x where x.clinic_id = c.id and x.service_day = d.today) as today_closed) k
          where c.id = any(${pgArray(ids)}::uuid[])
        ), missing as materialized (
          select e.id, e.patient_id, e.start_date, cl.id as clinic_id, cl.code as clinic_code, cl.time_zone, cl.today, cl.as_of,
                 (select max(s.service_day) from dose_slots s where s.patient_id = e.patient_id and s.service_day < cl.as_of) as day
          from cl
          join episodes e on e.clinic_id = cl.id and e.end_date is null
          where not exists (select 1 from dose_slots s where s.patient_id = e.patient_id and s.service_day between cl.as_of and cl.today)
        )
        select p.id as patient_id, p.code, p.full_name, p.phone, p.phone2, p.street, cm.name as commune, pv.name as province, p.former_address,
               p.next_of_kin_name, p.next_of_kin_phone, m.clinic_id, m.clinic_code, m.time_zone, m.today::text as today, m.as_of::text as as_of,
               p.counsellor_id, cu.full_name as counsellor_name, m.start_date::text as start_date, m.day::text as last_covered,
               (select a.level from alerts a where a.episode_id = m.id and a.closed_at is null and a.level <> 'review'
                 order by array_position(array['missed','counsellor','doctor','dropout'], a.level) desc limit 1) as alert_level,
               ct.at as contact_at, ct.method as contact_method, ct.outcome as contact_outcome, ct.next_action_date::text as contact_next,
               ct.hold_until::text as contact_hold, ct.return_date::text as contact_return, ctu.full_name as contact_by
        from missing m
        -- offset 0: one lookup by primary key per patient on the list, never a scan of all patients.
        cross join lateral (select * from patients p where p.id = m.patient_id
                              ${f.counsellor === 'none' ? sql`and p.counsellor_id is null` : f.counsellor ? sql`and p.counsellor_id = ${f.counsellor}::uuid` : sql``} offset 0) p
        left join users cu on cu.id = p.counsellor_id
        left join communes cm on cm.code = p.commune_code
        left join provinces pv on pv.code = p.province_code
        left join lateral (select c.* from contacts c where c.patient_id = p.id order by c.at desc limit 1) ct on true
        left join users ctu on ctu.id = ct.by`,
  );
  const out: MissedRow[] = [];
  for (const r of found) {
    // The clinic's today and the day counted, as the query narrowed the list on them.
    const { today, as_of: asOf } = r;
    const missed = missedAtClose(r.last_covered, r.start_date, asOf);
    if (missed < 1) continue;
    const bucket = bucketOf(missed);
    if (f.bucket && f.bucket !== bucket) continue;
    const contactAt = r.contact_at ? new Date(r.contact_at).toISOString() : null;
    const contactDay = contactAt ? serviceDay(new Date(contactAt), r.time_zone) : null;
    const runBegan = addDays(asOf, -(missed - 1));
    const onHoldUntil = r.contact_hold && r.contact_hold >= today && HOLDING_OUTCOMES.includes(r.contact_outcome!) ? r.contact_hold : null;
    const needsAction = onHoldUntil === null && (contactDay === null || contactDay < runBegan || (r.contact_next !== null && r.contact_next <= today));
    out.push({
      patientId: r.patient_id,
      code: r.code,
      fullName: r.full_name,
      phone: r.phone,
      phone2: r.phone2,
      address: [r.street, r.commune, r.province].filter(Boolean).join(', ') || r.former_address,
      nextOfKin: r.next_of_kin_name,
      nextOfKinPhone: r.next_of_kin_phone,
      clinicId: r.clinic_id,
      clinicCode: r.clinic_code,
      counsellorId: r.counsellor_id,
      counsellorName: r.counsellor_name,
      lastCovered: r.last_covered,
      missed,
      bucket,
      asOf,
      alertLevel: r.alert_level,
      lastContact:
        contactAt && r.contact_method && r.contact_outcome
          ? { at: contactAt, method: r.contact_method, outcome: r.contact_outcome, nextActionDate: r.contact_next, holdUntil: r.contact_hold, returnDate: r.contact_return, byName: r.contact_by ?? '' }
          : null,
      onHoldUntil,
      needsAction,
    });
  }
  const group = (r: MissedRow) => (r.onHoldUntil ? 2 : r.needsAction ? 0 : 1);
  return out.sort(
    (a, b) =>
      group(a) - group(b) ||
      LEVEL_RANK[b.alertLevel ?? 'missed'] - LEVEL_RANK[a.alertLevel ?? 'missed'] ||
      b.missed - a.missed ||
      byCode(a.code, b.code),
  );
}

/** The order of localeCompare (the default locale), with one collator rather than one per comparison. */
const byCode = new Intl.Collator().compare;

/** The longest hold one contact may set. */
export const MAX_HOLD_DAYS = 180;

export interface ContactInput {
  patientId: string;
  method: ContactMethod;
  outcome: ContactOutcome;
  returnDate: string | null;
  holdUntil: string | null;
  nextActionDate: string | null;
  note: string;
}

/**
 * Logs a contact. "Reached" may carry the day the patient said they will
 * return; hospital and custody need the day until which escalation pauses.
 * Dates are checked against the patient's clinic's today.
 */
export async function logContact({ db, clock }: ServiceDeps, actor: Actor, input: ContactInput, scope: string[] | null): Promise<string> {
  const patient = await getPatientInScope(db, input.patientId, scope);
  const [ep] = await rows<{ id: string; clinic_id: string; time_zone: string }>(
    db,
    sql`select e.id, e.clinic_id, c.time_zone from episodes e join clinics c on c.id = e.clinic_id
        where e.patient_id = ${patient.id}::uuid and e.end_date is null`,
  );
  const [home] = ep ? [] : await rows<{ time_zone: string }>(db, sql`select time_zone from clinics where id = ${patient.homeClinicId}::uuid`);
  const today = serviceDay(clock.now(), ep?.time_zone ?? home?.time_zone ?? 'Asia/Ho_Chi_Minh');
  const errors: FieldErrors = {};
  const holds = HOLDING_OUTCOMES.includes(input.outcome);
  if (holds && !input.holdUntil) errors.holdUntil = 'fu_err_hold_required';
  if (input.holdUntil && input.holdUntil < today) errors.holdUntil = 'fu_err_date_past';
  // A hold pauses escalation, the dropout proposal included: never open-ended; a longer stay is a new contact then.
  else if (input.holdUntil && input.holdUntil > addDays(today, MAX_HOLD_DAYS)) errors.holdUntil = 'fu_err_hold_too_far';
  if (input.returnDate && input.returnDate < today) errors.returnDate = 'fu_err_date_past';
  if (input.nextActionDate && input.nextActionDate < today) errors.nextActionDate = 'fu_err_date_past';
  if (Object.keys(errors).length) throw new Invalid(errors);
  return db.transaction(async (tx) => {
    const [row] = await rows<{ id: string }>(
      tx,
      sql`insert into contacts (patient_id, episode_id, clinic_id, method, outcome, return_date, hold_until, next_action_date, note, by, at)
          values (${patient.id}::uuid, ${ep?.id ?? null}::uuid, ${ep?.clinic_id ?? patient.homeClinicId}::uuid, ${input.method}::text, ${input.outcome}::text,
                  ${input.outcome === 'reached' ? input.returnDate : null}::date, ${holds ? input.holdUntil : null}::date, ${input.nextActionDate}::date,
                  ${input.note}::text, ${actor.userId}::uuid, ${clock.now().toISOString()}::timestamptz)
          returning id`,
    );
    await audit(tx, {
      action: 'contact_log',
      actorId: actor.userId,
      clinicId: ep?.clinic_id ?? patient.homeClinicId,
      entityType: 'contact',
      entityId: row!.id,
      details: { patientId: patient.id, method: input.method, outcome: input.outcome },
      address: actor.address,
      at: clock.now(),
    });
    return row!.id;
  });
}

/** A patient's contacts, newest first. Notes only when the viewer may read them. */
export async function contactsOf(db: Db, patientId: string, withNotes: boolean) {
  const list = await rows<{
    id: string;
    at: string;
    method: ContactMethod;
    outcome: ContactOutcome;
    return_date: string | null;
    hold_until: string | null;
    next_action_date: string | null;
    note: string;
    by_name: string;
  }>(
    db,
    sql`select c.id, c.at, c.method, c.outcome, c.return_date::text as return_date, c.hold_until::text as hold_until,
               c.next_action_date::text as next_action_date, c.note, u.full_name as by_name
        from contacts c join users u on u.id = c.by where c.patient_id = ${patientId}::uuid order by c.at desc limit 200`,
  );
  return list.map((c) => ({ ...c, at: new Date(c.at).toISOString(), note: withNotes ? c.note : null }));
}

/** R19's grounds from an alert's reasons (a jsonb column: an array, or its text on some drivers). */
export function groundsOf(reasons: { rule: string; code: string }[] | string): ReviewGround[] {
  const list = typeof reasons === 'string' ? (JSON.parse(reasons) as { rule: string; code: string }[]) : reasons;
  return list.filter((r) => r.rule === 'R19').map((r) => r.code as ReviewGround);
}

/** A patient's alerts (open and closed), newest first. */
export async function alertsOf(db: Db, patientId: string) {
  return rows<{ id: string; level: AlertLevel; anchor_day: string; raised_day: string; missed_days: number; reasons: { rule: string; code: string }[] | string; closed_at: string | null; closed_as: string | null; closed_note: string }>(
    db,
    sql`select id, level, anchor_day::text as anchor_day, raised_day::text as raised_day, missed_days, reasons, closed_at, closed_as, closed_note
        from alerts where patient_id = ${patientId}::uuid order by raised_at desc, array_position(array['missed','counsellor','doctor','dropout'], level) desc limit 100`,
  );
}

/** For inbox `i`, alert `a`, its clinic `c`: the person still works there (or at the facility over that point). */
const STILL_THERE = sql`exists (select 1 from user_clinics uc where uc.user_id = i.user_id and uc.clinic_id in (c.id, c.parent_id))`;

/** One in-app message with its alert and patient. */
export type InboxRow = {
    id: string;
    alert_id: string;
    created_at: string;
    read_at: string | null;
    level: AlertLevel;
    missed_days: number;
    anchor_day: string;
    reasons: { rule: string; code: string }[] | string;
    alert_open: boolean;
    patient_id: string;
    code: string;
    full_name: string;
    phone: string;
    clinic_code: string;
    time_zone: string;
};

/** The in-app messages of a person, newest first, with the patient (for their list and badge). */
export async function inboxOf(db: Db, userId: string, limit = 100) {
  return rows<InboxRow>(
    db,
    sql`select i.id, i.alert_id, i.created_at, i.read_at, a.level, a.missed_days, a.anchor_day::text as anchor_day, a.reasons, a.closed_at is null as alert_open,
               p.id as patient_id, p.code, p.full_name, p.phone, c.code as clinic_code, c.time_zone
        from inbox i join alerts a on a.id = i.alert_id join patients p on p.id = a.patient_id join clinics c on c.id = a.clinic_id
        where i.user_id = ${userId}::uuid and ${STILL_THERE}
        order by i.created_at desc, i.id limit ${limit}::int`,
  );
}

/** The badge: unread messages whose alert is still open. */
export async function unreadCount(db: Db, userId: string): Promise<number> {
  const [r] = await rows<{ n: number }>(
    db,
    sql`select count(*)::int as n from inbox i join alerts a on a.id = i.alert_id join clinics c on c.id = a.clinic_id
        where i.user_id = ${userId}::uuid and i.read_at is null and a.closed_at is null and ${STILL_THERE}`,
  );
  return Number(r?.n ?? 0);
}

export async function markAllRead(db: Db, userId: string, now: Date): Promise<void> {
  await db.execute(sql`update inbox set read_at = ${now.toISOString()}::timestamptz where user_id = ${userId}::uuid and read_at is null`);
}

/** The patient of an alert of the given level (404 for anything else); the ruling itself checks the clinic. */
export async function patientOfAlert(db: Db, alertId: string, level: AlertLevel): Promise<string> {
  const [a] = await rows<{ patient_id: string }>(db, sql`select patient_id from alerts where id = ${alertId}::uuid and level = ${level}::text`);
  if (!a) throw new NotFound('alert');
  return a.patient_id;
}

/** How one's alerts reach one besides the app; audited (the address may change where patient data goes). */
export async function setAlertChannels({ db, clock }: ServiceDeps, actor: Actor, v: { email: string; notifyEmail: boolean; notifyWebhook: boolean; webhookTo: string }): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(
      sql`update users set email = ${v.email}::text, notify_email = ${v.notifyEmail}::boolean, notify_webhook = ${v.notifyWebhook}::boolean, webhook_to = ${v.webhookTo}::text
          where id = ${actor.userId}::uuid`,
    );
    await audit(tx, { action: 'notify_settings', actorId: actor.userId, entityType: 'user', entityId: actor.userId, details: { notifyEmail: v.notifyEmail, notifyWebhook: v.notifyWebhook }, address: actor.address, at: clock.now() });
  });
}

/** Open dropout alerts (R18) awaiting a manager, at the given clinics. */
export async function dropoutProposals(db: Db, clinicIds: string[]) {
  if (clinicIds.length === 0) return [];
  return rows<{ alert_id: string; patient_id: string; code: string; full_name: string; clinic_code: string; anchor_day: string; raised_day: string; missed_days: number; start_date: string }>(
    db,
    sql`select a.id as alert_id, p.id as patient_id, p.code, p.full_name, c.code as clinic_code, a.anchor_day::text as anchor_day,
               a.raised_day::text as raised_day, a.missed_days, e.start_date::text as start_date
        from alerts a join patients p on p.id = a.patient_id join clinics c on c.id = a.clinic_id join episodes e on e.id = a.episode_id
        where a.level = 'dropout' and a.closed_at is null and a.clinic_id = any(${pgArray(clinicIds)}::uuid[])
        order by a.raised_day, p.code`,
  );
}

/**
 * A manager's ruling on a proposed dropout. Confirming ends the episode as
 * "dropped out" on the day the threshold was reached (R18); returning later
 * is a new episode. Not confirming closes the proposal (the patient is known
 * to be elsewhere, say); the other alerts stay open.
 */
export async function ruleOnDropout(deps: ServiceDeps, actor: Actor, alertId: string, confirm: boolean, note: string, scope: string[] | null): Promise<void> {
  await closeByRuling(deps, actor, alertId, scope, { level: 'dropout', closedAs: confirm ? 'dropout_confirmed' : 'dropout_rejected', action: confirm ? 'dropout_confirm' : 'dropout_reject', note }, async (tx, a) => {
    if (confirm) await endEpisode({ db: tx, clock: deps.clock }, actor, { patientId: a.patient_id, endDate: a.raised_day, reason: 'dropped_out', note }, scope);
  });
}

/**
 * R19: the doctor has reviewed the grounds and treatment goes on (ending the
 * episode for violations is done on the patient page, and closes the alert).
 * The same evidence is not flagged again; new evidence is.
 */
export async function markReviewed(deps: ServiceDeps, actor: Actor, alertId: string, note: string, scope: string[] | null): Promise<void> {
  await closeByRuling(deps, actor, alertId, scope, { level: 'review', closedAs: 'reviewed', action: 'termination_review', note });
}

type RuledAlert = { patient_id: string; clinic_id: string; raised_day: string; closed_at: string | null; level: AlertLevel };

async function closeByRuling(
  deps: ServiceDeps,
  actor: Actor,
  alertId: string,
  scope: string[] | null,
  r: { level: AlertLevel; closedAs: AlertClosing; action: AuditAction; note: string },
  then?: (tx: Db, a: RuledAlert) => Promise<void>,
): Promise<void> {
  const [a] = await rows<RuledAlert>(deps.db, sql`select patient_id, clinic_id, raised_day::text as raised_day, closed_at, level from alerts where id = ${alertId}::uuid`);
  if (!a || a.level !== r.level || (scope && !scope.includes(a.clinic_id))) throw new NotFound('alert');
  if (a.closed_at) throw new Conflict('fu_err_already_ruled');
  await deps.db.transaction(async (tx) => {
    const closed = await rows(
      tx,
      sql`update alerts set closed_at = ${deps.clock.now().toISOString()}::timestamptz, closed_as = ${r.closedAs}::text, closed_by = ${actor.userId}::uuid, closed_note = ${r.note}::text
          where id = ${alertId}::uuid and closed_at is null returning id`,
    );
    if (closed.length !== 1) throw new Conflict('fu_err_already_ruled');
    await audit(tx, { action: r.action, actorId: actor.userId, clinicId: a.clinic_id, entityType: 'alert', entityId: alertId, details: { patientId: a.patient_id }, address: actor.address, at: deps.clock.now() });
    await then?.(tx, a);
  });
}
