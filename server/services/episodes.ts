// Treatment episodes: enrolment, end (with a reason), re-enrolment, transfer
// between clinics, and guest dosing authorisations (R16). Retention is
// computed from these rows, so each act is one audited transaction.
import { and, asc, desc, eq, gte, isNull, lte } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { clinics, episodes, guestAuthorisations, patients, type EndReason } from '../../db/schema.ts';
import { serviceDay } from '../clock.ts';
import { checkGuestAuthorisation } from '../dosing/orders.ts';
import { Conflict, Invalid, Refused, isUniqueViolation } from '../errors.ts';
import { audit } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';
import { getPatientInScope } from './patients.ts';
import { rulesForClinic } from './rule-sets.ts';

export type Episode = typeof episodes.$inferSelect;

export async function episodesOf(db: Db, patientId: string): Promise<Episode[]> {
  return db.select().from(episodes).where(eq(episodes.patientId, patientId)).orderBy(desc(episodes.startDate), desc(episodes.createdAt));
}

export async function openEpisode(db: Db, patientId: string): Promise<Episode | null> {
  const [e] = await db.select().from(episodes).where(and(eq(episodes.patientId, patientId), isNull(episodes.endDate)));
  return e ?? null;
}

async function clinicToday(db: Db, clinicId: string, now: Date): Promise<string> {
  const [c] = await db.select({ tz: clinics.timeZone }).from(clinics).where(eq(clinics.id, clinicId));
  return serviceDay(now, c?.tz ?? 'Asia/Ho_Chi_Minh');
}

/** Starts an episode at the patient's home clinic: the first, or a re-enrolment. */
export async function enrol(
  { db, clock }: ServiceDeps,
  actor: Actor,
  input: { patientId: string; startDate: string; referralSource: string },
  scope: string[] | null,
): Promise<Episode> {
  const patient = await getPatientInScope(db, input.patientId, scope);
  const today = await clinicToday(db, patient.homeClinicId, clock.now());
  if (input.startDate > today) throw new Invalid({ startDate: 'err_date_future' });
  const previous = await episodesOf(db, patient.id);
  if (previous.some((e) => e.endDate === null)) throw new Conflict('err_episode_open');
  const lastEnd = previous.map((e) => e.endDate!).sort().at(-1);
  if (lastEnd && input.startDate <= lastEnd) throw new Invalid({ startDate: 'err_episode_overlap' });
  try {
    return await db.transaction(async (tx) => {
      const [e] = await tx
        .insert(episodes)
        .values({ patientId: patient.id, clinicId: patient.homeClinicId, kind: previous.length ? 're_enrolment' : 'first', startDate: input.startDate, referralSource: input.referralSource, createdBy: actor.userId, createdAt: clock.now() })
        .returning();
      await audit(tx, { action: 'episode_enrol', actorId: actor.userId, clinicId: e!.clinicId, entityType: 'episode', entityId: e!.id, details: { patientId: patient.id, kind: e!.kind, startDate: e!.startDate }, address: actor.address, at: clock.now() });
      return e!;
    });
  } catch (err) {
    // Two enrolments at once: the database keeps one open episode.
    if (isUniqueViolation(err, 'episodes_one_open_uq')) throw new Conflict('err_episode_open');
    throw err;
  }
}

export async function endEpisode(
  { db, clock }: ServiceDeps,
  actor: Actor,
  input: { patientId: string; endDate: string; reason: EndReason; note: string },
  scope: string[] | null,
): Promise<Episode> {
  const patient = await getPatientInScope(db, input.patientId, scope);
  const open = await openEpisode(db, patient.id);
  if (!open) throw new Conflict('err_no_open_episode');
  const today = await clinicToday(db, open.clinicId, clock.now());
  if (input.endDate > today) throw new Invalid({ endDate: 'err_date_future' });
  if (input.endDate < open.startDate) throw new Invalid({ endDate: 'err_end_before_start' });
  return db.transaction(async (tx) => {
    const [e] = await tx
      .update(episodes)
      .set({ endDate: input.endDate, endReason: input.reason, endNote: input.note, endedBy: actor.userId })
      .where(and(eq(episodes.id, open.id), isNull(episodes.endDate)))
      .returning();
    if (!e) throw new Conflict('err_no_open_episode');
    await audit(tx, { action: 'episode_end', actorId: actor.userId, clinicId: e.clinicId, entityType: 'episode', entityId: e.id, details: { patientId: patient.id, endDate: e.endDate, reason: e.endReason }, address: actor.address, at: clock.now() });
    return e;
  });
}

/**
 * Permanent transfer (R16): the episode at the old clinic ends "transferred
 * out" the day before, one opens "transferred in" at the new clinic, and the
 * patient's home clinic moves. History stays with the same patient.
 */
export async function transfer(
  { db, clock }: ServiceDeps,
  actor: Actor,
  input: { patientId: string; toClinicId: string; date: string; note: string },
  scope: string[] | null,
): Promise<Episode> {
  const patient = await getPatientInScope(db, input.patientId, scope);
  const open = await openEpisode(db, patient.id);
  if (!open) throw new Conflict('err_no_open_episode');
  if (input.toClinicId === open.clinicId) throw new Invalid({ toClinicId: 'err_same_clinic' });
  const [target] = await db.select({ id: clinics.id, active: clinics.active }).from(clinics).where(eq(clinics.id, input.toClinicId));
  if (!target?.active) throw new Invalid({ toClinicId: 'err_choose' });
  const today = await clinicToday(db, open.clinicId, clock.now());
  if (input.date > today) throw new Invalid({ date: 'err_date_future' });
  if (input.date <= open.startDate) throw new Invalid({ date: 'err_end_before_start' });
  const endDate = new Date(Date.parse(`${input.date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  return db.transaction(async (tx) => {
    const [ended] = await tx
      .update(episodes)
      .set({ endDate, endReason: 'transferred_out', endNote: input.note, endedBy: actor.userId })
      .where(and(eq(episodes.id, open.id), isNull(episodes.endDate)))
      .returning();
    if (!ended) throw new Conflict('err_no_open_episode');
    const [next] = await tx
      .insert(episodes)
      .values({ patientId: patient.id, clinicId: input.toClinicId, kind: 'transfer_in', startDate: input.date, referralSource: '', transferredFromId: open.id, createdBy: actor.userId, createdAt: clock.now() })
      .returning();
    await tx.update(patients).set({ homeClinicId: input.toClinicId }).where(eq(patients.id, patient.id));
    await audit(tx, {
      action: 'episode_transfer',
      actorId: actor.userId,
      clinicId: open.clinicId,
      entityType: 'episode',
      entityId: next!.id,
      details: { patientId: patient.id, fromEpisodeId: open.id, fromClinicId: open.clinicId, toClinicId: input.toClinicId, date: input.date },
      address: actor.address,
      at: clock.now(),
    });
    return next!;
  });
}

export async function authoriseGuest(
  { db, clock }: ServiceDeps,
  actor: Actor,
  input: { patientId: string; hostClinicId: string; fromDate: string; toDate: string; reason: string },
  scope: string[] | null,
) {
  const patient = await getPatientInScope(db, input.patientId, scope);
  const open = await openEpisode(db, patient.id);
  const today = await clinicToday(db, patient.homeClinicId, clock.now());
  const { params } = await rulesForClinic(db, patient.homeClinicId, today);
  const findings = checkGuestAuthorisation({ homeClinicId: patient.homeClinicId, hostClinicId: input.hostClinicId, fromDate: input.fromDate, toDate: input.toDate, episodeActive: !!open }, today, params);
  if (findings.length) throw new Refused(findings);
  return db.transaction(async (tx) => {
    const [g] = await tx
      .insert(guestAuthorisations)
      .values({ patientId: patient.id, episodeId: open!.id, hostClinicId: input.hostClinicId, fromDate: input.fromDate, toDate: input.toDate, reason: input.reason, authorisedBy: actor.userId, createdAt: clock.now() })
      .returning();
    await audit(tx, { action: 'guest_authorise', actorId: actor.userId, clinicId: patient.homeClinicId, entityType: 'guest_authorisation', entityId: g!.id, details: { patientId: patient.id, hostClinicId: input.hostClinicId, fromDate: input.fromDate, toDate: input.toDate }, address: actor.address, at: clock.now() });
    return g!;
  });
}

export async function guestAuthorisationsOf(db: Db, patientId: string) {
  return db
    .select({ id: guestAuthorisations.id, hostClinicId: guestAuthorisations.hostClinicId, hostName: clinics.name, fromDate: guestAuthorisations.fromDate, toDate: guestAuthorisations.toDate, reason: guestAuthorisations.reason })
    .from(guestAuthorisations)
    .innerJoin(clinics, eq(clinics.id, guestAuthorisations.hostClinicId))
    .where(eq(guestAuthorisations.patientId, patientId))
    .orderBy(desc(guestAuthorisations.fromDate));
}

/** Guest authorisations covering a day at a host clinic (what the counter will ask). */
export async function guestsAt(db: Db, hostClinicId: string, day: string) {
  return db
    .select()
    .from(guestAuthorisations)
    .where(and(eq(guestAuthorisations.hostClinicId, hostClinicId), lte(guestAuthorisations.fromDate, day), gte(guestAuthorisations.toDate, day)))
    .orderBy(asc(guestAuthorisations.fromDate));
}
