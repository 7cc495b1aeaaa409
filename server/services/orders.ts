// Dose orders (doctor only). Each change is a new row with its reason; the
// rules of clinical-rules.md decide, with the parameters in force on the
// order's start date, and what was overridden is stored with the order.
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { clinics, doseOrders, urineTests, userClinics, users } from '../../db/schema.ts';
import { verifyPassword } from '../auth/password.ts';
import { serviceDay } from '../clock.ts';
import { daysBetween } from '../dosing/days.ts';
import { checkOrder, orderInForce, resolve, type Finding, type OrderDraft, type TakeHomeFacts } from '../dosing/orders.ts';
import { Conflict, Invalid } from '../errors.ts';
import { audit } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';
import { openEpisode } from './episodes.ts';
import { getPatientInScope } from './patients.ts';
import { rulesForClinic } from './rule-sets.ts';

export type DoseOrder = typeof doseOrders.$inferSelect;

export interface PrescribeInput {
  patientId: string;
  draft: OrderDraft;
  reason: string;
  /** R14: the doctor ticked the clinic's eligibility checklist. */
  takeHomeChecklist: boolean;
  /** R7: the second doctor signs with their own username and password. */
  secondDoctor: { username: string; password: string } | null;
}

export type PrescribeResult = { kind: 'ok'; order: DoseOrder; warnings: Finding[] } | { kind: 'refused'; findings: Finding[] };

export async function ordersOfEpisode(db: Db, episodeId: string): Promise<DoseOrder[]> {
  return db.select().from(doseOrders).where(eq(doseOrders.episodeId, episodeId)).orderBy(asc(doseOrders.startDate), asc(doseOrders.createdAt));
}

export async function ordersOfPatient(db: Db, patientId: string): Promise<(DoseOrder & { prescriber: string })[]> {
  return db
    .select({ order: doseOrders, prescriber: users.fullName })
    .from(doseOrders)
    .innerJoin(users, eq(users.id, doseOrders.prescribedBy))
    .where(eq(doseOrders.patientId, patientId))
    .orderBy(desc(doseOrders.startDate), desc(doseOrders.createdAt))
    .then((rows) => rows.map((r) => ({ ...r.order, prescriber: r.prescriber })));
}

/** The order in force on a day: the latest-starting, then latest-written, covering it. */
export function inForce(orders: readonly DoseOrder[], day: string): DoseOrder | null {
  const sorted = [...orders].sort((a, b) => (a.startDate === b.startDate ? a.createdAt.getTime() - b.createdAt.getTime() : a.startDate < b.startDate ? -1 : 1));
  return orderInForce(sorted, day);
}

async function secondDoctorId(db: Db, given: PrescribeInput['secondDoctor'], prescriberId: string, clinicId: string): Promise<string | null> {
  if (!given || !given.username.trim()) return null;
  const [u] = await db
    .select({ id: users.id, hash: users.passwordHash })
    .from(users)
    .innerJoin(userClinics, eq(userClinics.userId, users.id))
    .where(and(eq(users.username, given.username.trim().toLowerCase()), eq(users.role, 'doctor'), eq(users.active, true), eq(userClinics.clinicId, clinicId)));
  if (!u || u.id === prescriberId || !(await verifyPassword(given.password, u.hash))) throw new Invalid({ secondDoctorUsername: 'err_second_doctor' });
  return u.id;
}

async function takeHomeFacts(db: Db, patientId: string, episodeStart: string, today: string, checklist: boolean): Promise<TakeHomeFacts> {
  const tests = await db.select({ testDate: urineTests.testDate, results: urineTests.results }).from(urineTests).where(eq(urineTests.patientId, patientId));
  const lastPositive = tests.filter((t) => Object.values(t.results).includes('positive')).map((t) => t.testDate).sort().at(-1);
  return {
    daysInTreatment: daysBetween(episodeStart, today),
    // Observed doses arrive with the counter; until then no attendance is on record.
    attendancePercent: 0,
    daysSincePositiveTest: lastPositive ? daysBetween(lastPositive, today) : null,
    checklistComplete: checklist,
  };
}

export async function prescribe({ db, clock }: ServiceDeps, actor: Actor, input: PrescribeInput, scope: string[] | null): Promise<PrescribeResult> {
  const patient = await getPatientInScope(db, input.patientId, scope);
  const episode = await openEpisode(db, patient.id);
  if (!episode) throw new Conflict('err_no_open_episode');
  const [clinic] = await db.select({ tz: clinics.timeZone }).from(clinics).where(eq(clinics.id, episode.clinicId));
  const today = serviceDay(clock.now(), clinic?.tz ?? 'Asia/Ho_Chi_Minh');
  const rules = await rulesForClinic(db, episode.clinicId, input.draft.startDate < today ? today : input.draft.startDate);
  const prior = (await ordersOfEpisode(db, episode.id)).filter((o) => o.startDate <= input.draft.startDate);
  const findings = checkOrder(
    input.draft,
    { today, prior, takeHome: input.draft.takeHomeDays > 0 ? await takeHomeFacts(db, patient.id, episode.startDate, today, input.takeHomeChecklist) : null },
    rules.params,
  );
  if (input.draft.startDate < episode.startDate) findings.push({ rule: 'R12', code: 'order_start_in_past', severity: 'refuse', values: {} });
  const needsSecond = findings.some((f) => f.severity === 'second_doctor');
  const confirmedBy = needsSecond ? await secondDoctorId(db, input.secondDoctor, actor.userId, episode.clinicId) : null;
  const resolution = resolve(findings, { reason: input.reason, secondDoctor: confirmedBy !== null });
  if (!resolution.ok) return { kind: 'refused', findings: resolution.unresolved };

  const order = await db.transaction(async (tx) => {
    const [o] = await tx
      .insert(doseOrders)
      .values({
        patientId: patient.id,
        episodeId: episode.id,
        phase: input.draft.phase,
        startDate: input.draft.startDate,
        endDate: input.draft.endDate,
        dailyMg: input.draft.dailyMg,
        splitFirstMg: input.draft.splitMg?.[0] ?? null,
        splitSecondMg: input.draft.splitMg?.[1] ?? null,
        takeHomeDays: input.draft.takeHomeDays,
        reason: input.reason.trim(),
        findings: findings.map(({ rule, code, severity }) => ({ rule, code, severity })),
        ruleSetVersionId: rules.versionId,
        prescribedBy: actor.userId,
        confirmedBy,
        createdAt: clock.now(),
      })
      .returning();
    await audit(tx, {
      action: 'order_prescribe',
      actorId: actor.userId,
      clinicId: episode.clinicId,
      entityType: 'dose_order',
      entityId: o!.id,
      details: { patientId: patient.id, phase: o!.phase, startDate: o!.startDate, endDate: o!.endDate, dailyMg: o!.dailyMg, overrides: findings.filter((f) => f.severity !== 'warn').map((f) => f.rule), confirmedBy },
      address: actor.address,
      at: clock.now(),
    });
    return o!;
  });
  return { kind: 'ok', order, warnings: findings.filter((f) => f.severity === 'warn') };
}

export const SUBSTANCES = ['opiates', 'methamphetamine', 'amphetamine', 'mdma', 'cannabis', 'benzodiazepines', 'methadone'] as const;
export type Substance = (typeof SUBSTANCES)[number];

export async function recordUrineTest(
  { db, clock }: ServiceDeps,
  actor: Actor,
  input: { patientId: string; testDate: string; results: Partial<Record<Substance, 'positive' | 'negative'>> },
  scope: string[] | null,
) {
  const patient = await getPatientInScope(db, input.patientId, scope);
  const [clinic] = await db.select({ tz: clinics.timeZone }).from(clinics).where(eq(clinics.id, patient.homeClinicId));
  if (input.testDate > serviceDay(clock.now(), clinic?.tz ?? 'Asia/Ho_Chi_Minh')) throw new Invalid({ testDate: 'err_date_future' });
  if (Object.keys(input.results).length === 0) throw new Invalid({ results: 'err_substances_required' });
  return db.transaction(async (tx) => {
    const [t] = await tx.insert(urineTests).values({ patientId: patient.id, clinicId: patient.homeClinicId, testDate: input.testDate, results: input.results, recordedBy: actor.userId, createdAt: clock.now() }).returning();
    await audit(tx, { action: 'urine_test_record', actorId: actor.userId, clinicId: patient.homeClinicId, entityType: 'urine_test', entityId: t!.id, details: { patientId: patient.id }, address: actor.address, at: clock.now() });
    return t!;
  });
}

export async function urineTestsOf(db: Db, patientIds: string[]) {
  if (!patientIds.length) return [];
  return db.select().from(urineTests).where(inArray(urineTests.patientId, patientIds)).orderBy(desc(urineTests.testDate), desc(urineTests.createdAt));
}
