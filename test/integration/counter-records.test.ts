// The counter's records at the service level: R14 take-home days, R11 reduced
// doses under a doctor's approval, what vomited / spilled / refused leave
// behind (R9), records that cannot be rewritten, voids, and the patients
// expected today but not seen.
import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { clinics, doseOrders, doseReviews, doses, doseSlots, episodes, guestAuthorisations, patients, ruleSetVersions, swallowChecks, urineTests } from '../../db/schema.ts';
import { fold } from '../../db/fold.ts';
import { FixedClock } from '../../server/clock.ts';
import type { ParameterKey } from '../../server/dosing/parameters.ts';
import { Conflict, Invalid, NotFound } from '../../server/errors.ts';
import { checkIn, counterCard, expectedNotSeen, queueOf } from '../../server/services/counter.ts';
import { recordDose, recordTakeHome, type RecordDoseInput } from '../../server/services/dispense.ts';
import { recordReview, recordSwallowCheck, reviewList, voidDose } from '../../server/services/dose-reviews.ts';
import { dayRegister } from '../../server/services/register.ts';
import { addRuleSetVersion, assignRuleSet, createRuleSet, listRuleSets, ruleSetOn } from '../../server/services/rule-sets.ts';
import { describeEachDatabase, expectRejection } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';

/** 09:00 in Hải Phòng (UTC+7) on 23 November 2026. */
const MORNING = new Date('2026-11-23T02:00:00Z');
const TODAY = '2026-11-23';
const DAY = 86_400_000;
const MINUTE = 60_000;
/** 09:00 local on a day. */
const nineOn = (day: string) => new Date(`${day}T02:00:00Z`);

/** The promise rejects with this error class (and message key or field, when given). */
async function rejectsWith(p: Promise<unknown>, kind: typeof Conflict | typeof Invalid | typeof NotFound, key?: string): Promise<void> {
  let error: unknown = null;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  expect(error, `expected a ${kind.name}`).toBeInstanceOf(kind);
  if (key && error instanceof Conflict) expect(error.messageKey).toBe(key);
  if (key && error instanceof Invalid) expect(Object.values(error.fields)).toContain(key);
}

describeEachDatabase('counter records', (get) => {
  let seq = 0;

  async function setup() {
    const { db } = get();
    const clock = new FixedClock(MORNING);
    const clinic = await makeClinic(db);
    const nurse = await makeUser(db, 'nurse', [clinic.id]);
    const doctor = await makeUser(db, 'doctor', [clinic.id]);
    const manager = await makeUser(db, 'manager', [clinic.id]);
    const services = { db, clock };
    const actor = { userId: nurse.id, address: '10.0.0.5' };
    const doctorActor = { userId: doctor.id, address: null };
    const managerActor = { userId: manager.id, address: null };
    const scope = [clinic.id];

    /** A patient in maintenance (80 mg/day unless asked), last covered `lastDoseDaysAgo` days ago (default yesterday). */
    async function addPatient(o: { at?: typeof clinic; orderMg?: number; takeHomeDays?: number; orderEnd?: string; orderStart?: string; lastDoseDaysAgo?: number | null; episodeEnded?: boolean } = {}) {
      const home = o.at ?? clinic;
      const fullName = `Người bệnh ${++seq}`;
      const [p] = await db
        .insert(patients)
        .values({ code: `${home.code}-${String(seq).padStart(5, '0')}`, homeClinicId: home.id, fullName, searchName: fold(fullName), birthDate: '1980-05-05', sex: 'male' })
        .returning();
      const [ep] = await db
        .insert(episodes)
        .values({ patientId: p!.id, clinicId: home.id, kind: 'first', startDate: '2026-09-01', ...(o.episodeEnded ? { endDate: '2026-11-20', endReason: 'withdrew' as const } : {}) })
        .returning();
      const [order] = await db
        .insert(doseOrders)
        .values({
          patientId: p!.id,
          episodeId: ep!.id,
          phase: 'maintenance',
          startDate: o.orderStart ?? '2026-11-10',
          endDate: o.orderEnd ?? '2026-12-09',
          dailyMg: o.orderMg ?? 80,
          takeHomeDays: o.takeHomeDays ?? 0,
          prescribedBy: doctor.id,
          createdAt: new Date('2026-11-09T03:00:00Z'),
        })
        .returning();
      const ago = o.lastDoseDaysAgo === undefined ? 1 : o.lastDoseDaysAgo;
      if (ago !== null) {
        const at = new Date(MORNING.getTime() - ago * DAY);
        const day = at.toISOString().slice(0, 10);
        const [d] = await db
          .insert(doses)
          .values({ patientId: p!.id, episodeId: ep!.id, orderId: order!.id, clinicId: home.id, serviceDay: day, outcome: 'given', prescribedMg: order!.dailyMg, givenMg: order!.dailyMg, ml: order!.dailyMg / 10, concentration: 10, givenBy: nurse.id, at })
          .returning();
        await db.insert(doseSlots).values({ patientId: p!.id, serviceDay: day, part: 1, doseId: d!.id });
      }
      return { ...p!, episode: ep!, order: order! };
    }

    /** This clinic follows a rule set of its own with some parameters changed from today. */
    async function useRules(values: Partial<Record<ParameterKey, number>>, clinicId = clinic.id) {
      const admin = await makeUser(db, 'admin', []);
      const a = { userId: admin.id, address: null };
      const setId = await createRuleSet(services, a, { fromRuleSetId: (await listRuleSets(db)).defaultSetId!, name: `Test ${randomUUID()}` }, TODAY);
      const entries = { ...(await ruleSetOn(db, setId, TODAY)).entries };
      for (const [k, v] of Object.entries(values) as [ParameterKey, number][]) entries[k] = { ...entries[k], value: v };
      await addRuleSetVersion(services, a, { ruleSetId: setId, effectiveFrom: TODAY, approvedBy: 'Sở Y tế (test)', note: '', entries }, TODAY);
      await assignRuleSet(services, a, clinicId, setId);
    }

    const input = (patientId: string, over: Partial<RecordDoseInput> = {}): RecordDoseInput => ({
      patientId,
      clinicId: clinic.id,
      outcome: 'given',
      intoxication: 'none',
      breathAlcohol: null,
      requestId: randomUUID(),
      ...over,
    });
    const give = (patientId: string, over: Partial<RecordDoseInput> = {}) => recordDose(services, actor, input(patientId, over), scope);
    const decision = async (patientId: string, clinicId = clinic.id) => (await counterCard(db, clock.now(), patientId, clinicId, null)).decision;
    const dosesOn = (patientId: string, day = TODAY) => db.select().from(doses).where(and(eq(doses.patientId, patientId), eq(doses.serviceDay, day)));
    const slotsOf = (patientId: string) => db.select().from(doseSlots).where(eq(doseSlots.patientId, patientId)).orderBy(doseSlots.serviceDay);
    const recorded = async (p: ReturnType<typeof give>) => {
      const r = await p;
      if (r.kind !== 'recorded') throw new Error(`expected a record, got ${r.kind}: ${JSON.stringify(r.decision)}`);
      return r.dose;
    };

    return { db, clock, clinic, nurse, doctor, manager, services, actor, doctorActor, managerActor, scope, addPatient, useRules, input, give, decision, dosesOn, slotsOf, recorded };
  }

  it('R14 take-home: one record per future day, each day’s slot claimed, those days decided take_home_day', async () => {
    const { services, actor, scope, clinic, clock, addPatient, useRules, give, decision, recorded, slotsOf, db } = await setup();
    await useRules({ take_home_enabled: 1 });
    const p = await addPatient({ takeHomeDays: 3 });

    // Before today's dose: refused.
    await rejectsWith(recordTakeHome(services, actor, { patientId: p.id, clinicId: clinic.id, days: 2, requestId: 'th-early' }, scope), Conflict, 'err_take_home_not_dosed');
    expect((await counterCard(db, clock.now(), p.id, clinic.id, scope)).takeHomeDays).toBe(3);

    await recorded(give(p.id));
    // More days than the order allows; none at all.
    await rejectsWith(recordTakeHome(services, actor, { patientId: p.id, clinicId: clinic.id, days: 4, requestId: 'th-four' }, scope), Invalid, 'err_take_home_days');
    await rejectsWith(recordTakeHome(services, actor, { patientId: p.id, clinicId: clinic.id, days: 0, requestId: 'th-zero' }, scope), Invalid, 'err_take_home_days');

    const rows = await recordTakeHome(services, actor, { patientId: p.id, clinicId: clinic.id, days: 3, requestId: 'th-ok' }, scope);
    expect(rows.map((r) => [r.serviceDay, r.outcome, r.givenMg, r.ml, r.part, r.clinicId])).toEqual([
      ['2026-11-24', 'take_home', 80, 8, 1, clinic.id],
      ['2026-11-25', 'take_home', 80, 8, 1, clinic.id],
      ['2026-11-26', 'take_home', 80, 8, 1, clinic.id],
    ]);
    expect(rows.every((r) => r.at.getTime() === MORNING.getTime() && r.givenBy === actor.userId)).toBe(true);
    const slots = await slotsOf(p.id);
    for (const r of rows) expect(slots.find((s) => s.serviceDay === r.serviceDay)?.doseId).toBe(r.id);
    // A retried request returns the same records and writes nothing more.
    const again = await recordTakeHome(services, actor, { patientId: p.id, clinicId: clinic.id, days: 3, requestId: 'th-ok' }, scope);
    expect(again.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    // A second hand-out over the same days finds them covered.
    await rejectsWith(recordTakeHome(services, actor, { patientId: p.id, clinicId: clinic.id, days: 1, requestId: 'th-again' }, scope), Conflict, 'err_take_home_day_covered');
    expect(await db.select().from(doses).where(and(eq(doses.patientId, p.id), eq(doses.outcome, 'take_home')))).toHaveLength(3);

    // On a take-home day the counter does not dose, and the patient is not expected.
    clock.set(nineOn('2026-11-25'));
    const d = await decision(p.id);
    expect(d).toMatchObject({ kind: 'take_home_day', outcome: 'take_home', clinicId: clinic.id, reasons: [{ rule: 'R9', code: 'take_home_day' }] });
    const refused = await give(p.id);
    expect(refused.kind === 'refused' && refused.decision.kind).toBe('take_home_day');
    expect((await expectedNotSeen(db, clinic.id, '2026-11-25')).map((r) => r.patientId)).not.toContain(p.id);
    // R11: take-home days are covered days, so the day after them is no missed day.
    clock.set(nineOn('2026-11-27'));
    expect(await decision(p.id)).toMatchObject({ kind: 'give', mg: 80, missedDays: 0 });
  });

  it('R14 take-home is refused when the rules turn it off, beyond the rules’ maximum, and after the order ends', async () => {
    const { services, actor, scope, clinic, addPatient, useRules, give, recorded, db } = await setup();
    const off = await addPatient({ takeHomeDays: 3 });
    await recorded(give(off.id));
    // The shipped rules: take-home off.
    await rejectsWith(recordTakeHome(services, actor, { patientId: off.id, clinicId: clinic.id, days: 1, requestId: randomUUID() }, scope), Invalid, 'err_take_home_days');
    expect((await counterCard(db, MORNING, off.id, clinic.id, scope)).takeHomeDays).toBe(0);

    await useRules({ take_home_enabled: 1, take_home_max_days: 2 });
    const many = await addPatient({ takeHomeDays: 7 });
    await recorded(give(many.id));
    expect((await counterCard(db, MORNING, many.id, clinic.id, scope)).takeHomeDays).toBe(2);
    await rejectsWith(recordTakeHome(services, actor, { patientId: many.id, clinicId: clinic.id, days: 3, requestId: randomUUID() }, scope), Invalid, 'err_take_home_days');
    expect(await recordTakeHome(services, actor, { patientId: many.id, clinicId: clinic.id, days: 2, requestId: randomUUID() }, scope)).toHaveLength(2);

    const ending = await addPatient({ takeHomeDays: 2, orderEnd: '2026-11-24' });
    await recorded(give(ending.id));
    await rejectsWith(recordTakeHome(services, actor, { patientId: ending.id, clinicId: clinic.id, days: 2, requestId: randomUUID() }, scope), Invalid, 'err_take_home_after_order');
    // A dose spilled (not taken) is not today's dose.
    const spilled = await addPatient({ takeHomeDays: 2 });
    await recorded(give(spilled.id, { outcome: 'spilled' }));
    await rejectsWith(recordTakeHome(services, actor, { patientId: spilled.id, clinicId: clinic.id, days: 1, requestId: randomUUID() }, scope), Conflict, 'err_take_home_not_dosed');
    for (const p of [off, many, ending, spilled]) expect(await db.select().from(doses).where(and(eq(doses.patientId, p.id), eq(doses.outcome, 'take_home')))).toHaveLength(p === many ? 2 : 0);
  });

  it('R11 three missed days: no dose until the doctor approves; then at most min(approval, half the order)', async () => {
    const { services, doctorActor, scope, clinic, addPatient, give, decision, recorded, dosesOn, db, clock } = await setup();
    // Last covered the 19th: the 20th, 21st and 22nd missed.
    const p = await addPatient({ lastDoseDaysAgo: 4 });
    expect(await decision(p.id)).toMatchObject({ kind: 'doctor_review', code: 'missed_needs_approval', reasons: [{ rule: 'R11', values: { missedDays: 3 } }] });
    const before = await give(p.id);
    expect(before.kind === 'refused' && before.decision).toMatchObject({ kind: 'doctor_review', code: 'missed_needs_approval' });
    expect(await dosesOn(p.id)).toHaveLength(0);
    // A nurse referred them: the doctor's list shows them.
    await checkIn(services, { userId: doctorActor.userId, address: null }, clinic.id, p.code, scope);
    expect((await reviewList(db, clock.now(), clinic.id)).map((r) => r.patientId)).toContain(p.id);

    // The doctor approves up to 50 mg: half of 80 is less, so 40 mg.
    await recordReview(services, doctorActor, { patientId: p.id, clinicId: clinic.id, kind: 'reduced', maxMg: 50, note: 'Bỏ 3 ngày, tỉnh táo' }, scope);
    expect(await decision(p.id)).toMatchObject({ kind: 'reduced', approvedMaxMg: 50, mg: 40, ml: 4, orderedMg: 80, intoxicationCheckMandatory: true });
    expect((await reviewList(db, clock.now(), clinic.id)).map((r) => r.patientId)).not.toContain(p.id);
    // The card's old amount (the full order) is not given.
    const stale = await give(p.id, { expected: { part: 1, mg: 80 } });
    expect(stale.kind).toBe('changed');
    expect(await dosesOn(p.id)).toHaveLength(0);
    const dose = await recorded(give(p.id, { expected: { part: 1, mg: 40 } }));
    expect(dose).toMatchObject({ givenMg: 40, prescribedMg: 80, ml: 4, outcome: 'given' });
    expect((dose.decision as { kind: string }).kind).toBe('reduced');
    // The day's reduced total is reached.
    expect((await decision(p.id)).kind).toBe('already_dosed');
    expect((await give(p.id)).kind).toBe('refused');

    // An approval below half is the limit; two approvals: the lower one.
    const q = await addPatient({ lastDoseDaysAgo: 4 });
    await recordReview(services, doctorActor, { patientId: q.id, clinicId: clinic.id, kind: 'reduced', maxMg: 35, note: 'Duyệt 35 mg' }, scope);
    expect(await decision(q.id)).toMatchObject({ kind: 'reduced', mg: 35 });
    await recordReview(services, doctorActor, { patientId: q.id, clinicId: clinic.id, kind: 'reduced', maxMg: 30, note: 'Giảm còn 30 mg' }, scope);
    expect(await decision(q.id)).toMatchObject({ kind: 'reduced', mg: 30, ml: 3 });
    expect(await recorded(give(q.id))).toMatchObject({ givenMg: 30 });

    // An approval carries its mg, a ruling does not; the database agrees.
    await rejectsWith(recordReview(services, doctorActor, { patientId: q.id, clinicId: clinic.id, kind: 'reduced', maxMg: null, note: 'x' }, scope), Invalid, 'err_mg');
    await rejectsWith(recordReview(services, doctorActor, { patientId: q.id, clinicId: clinic.id, kind: 'resume', maxMg: 40, note: 'x' }, scope), Invalid, 'err_mg');
    await rejectsWith(recordReview(services, doctorActor, { patientId: q.id, clinicId: clinic.id, kind: 'resume', maxMg: null, note: 'x' }, []), NotFound);
    expect(await db.select().from(doseReviews).where(eq(doseReviews.patientId, q.id))).toHaveLength(2);
  });

  it('R11 an approval is for its own day only', async () => {
    const { services, doctorActor, scope, clinic, addPatient, decision, clock } = await setup();
    const p = await addPatient({ lastDoseDaysAgo: 4 });
    await recordReview(services, doctorActor, { patientId: p.id, clinicId: clinic.id, kind: 'reduced', maxMg: 40, note: 'Hôm nay 40 mg' }, scope);
    expect((await decision(p.id)).kind).toBe('reduced');
    // Not dosed: the next day is the fourth missed day, and yesterday's approval does not carry over.
    clock.set(nineOn('2026-11-24'));
    expect(await decision(p.id)).toMatchObject({ kind: 'doctor_review', code: 'missed_needs_order' });
  });

  it('R9 vomited counts as taken and blocks a second dose; spilled and refused do not', async () => {
    const { addPatient, give, recorded, dosesOn, slotsOf } = await setup();
    const v = await addPatient();
    expect(await recorded(give(v.id, { outcome: 'vomited' }))).toMatchObject({ outcome: 'vomited', givenMg: 80, ml: 8 });
    expect((await slotsOf(v.id)).filter((s) => s.serviceDay === TODAY)).toHaveLength(1);
    const second = await give(v.id);
    expect(second.kind === 'refused' && second.decision.kind).toBe('already_dosed');
    expect(await dosesOn(v.id)).toHaveLength(1);

    const s = await addPatient();
    // Spilled: measured out of the bottle (ml), not taken (0 mg), no slot.
    expect(await recorded(give(s.id, { outcome: 'spilled' }))).toMatchObject({ outcome: 'spilled', givenMg: 0, ml: 8 });
    expect((await slotsOf(s.id)).filter((x) => x.serviceDay === TODAY)).toHaveLength(0);
    expect(await recorded(give(s.id))).toMatchObject({ outcome: 'given', givenMg: 80 });
    expect((await slotsOf(s.id)).filter((x) => x.serviceDay === TODAY)).toHaveLength(1);
    expect((await give(s.id)).kind).toBe('refused');

    const r = await addPatient();
    expect(await recorded(give(r.id, { outcome: 'refused' }))).toMatchObject({ outcome: 'refused', givenMg: 0, ml: 0 });
    expect(await recorded(give(r.id))).toMatchObject({ outcome: 'given', givenMg: 80 });
    expect((await dosesOn(r.id)).map((d) => d.outcome).sort()).toEqual(['given', 'refused']);
  });

  it('R10 a withholding stands until a "resume" recorded after it; "no dose" closes the day for good', async () => {
    const { services, doctorActor, scope, clinic, addPatient, give, decision, recorded, clock } = await setup();
    const p = await addPatient();
    await recorded(give(p.id, { intoxication: 'suspected', breathAlcohol: 0.1 }));
    expect(await decision(p.id)).toMatchObject({ kind: 'doctor_review', code: 'withheld_intoxication' });
    clock.advance(15 * MINUTE);
    await recordReview(services, doctorActor, { patientId: p.id, clinicId: clinic.id, kind: 'resume', maxMg: null, note: 'Tỉnh' }, scope);
    expect((await decision(p.id)).kind).toBe('give');
    // Withheld again after the ruling: it stands again.
    clock.advance(MINUTE);
    await recorded(give(p.id, { intoxication: 'intoxicated' }));
    expect(await decision(p.id)).toMatchObject({ kind: 'doctor_review', code: 'withheld_intoxication' });
    clock.advance(MINUTE);
    await recordReview(services, doctorActor, { patientId: p.id, clinicId: clinic.id, kind: 'no_dose', maxMg: null, note: 'Không cấp' }, scope);
    clock.advance(MINUTE);
    await recordReview(services, doctorActor, { patientId: p.id, clinicId: clinic.id, kind: 'resume', maxMg: null, note: 'Đổi ý' }, scope);
    expect(await decision(p.id)).toMatchObject({ kind: 'doctor_review', code: 'doctor_no_dose' });
    expect((await give(p.id)).kind).toBe('refused');
  });

  it('dose records, doctors’ rulings and swallow checks are append-only: an UPDATE or DELETE raises', async () => {
    const { services, actor, doctorActor, scope, clinic, addPatient, give, recorded, db, managerActor } = await setup();
    const p = await addPatient();
    const dose = await recorded(give(p.id));
    await recordSwallowCheck(services, actor, { doseId: dose.id, clinicId: clinic.id, outcome: 'swallowed', note: '' }, scope);
    const q = await addPatient({ lastDoseDaysAgo: 4 });
    await recordReview(services, doctorActor, { patientId: q.id, clinicId: clinic.id, kind: 'reduced', maxMg: 40, note: 'Duyệt' }, scope);
    await voidDose(services, managerActor, dose.id, 'Ghi nhầm', scope);

    await expectRejection(db.execute(sql`update doses set given_mg = 40 where patient_id = ${p.id}`), /append-only/);
    await expectRejection(db.execute(sql`update doses set void_reason = 'sửa' where voids_id = ${dose.id}`), /append-only/);
    await expectRejection(db.execute(sql`delete from doses where patient_id = ${p.id}`), /append-only/);
    await expectRejection(db.execute(sql`update dose_reviews set max_mg = 80 where patient_id = ${q.id}`), /append-only/);
    await expectRejection(db.execute(sql`delete from dose_reviews where patient_id = ${q.id}`), /append-only/);
    await expectRejection(db.execute(sql`update swallow_checks set outcome = 'diversion' where dose_id = ${dose.id}`), /append-only/);
    await expectRejection(db.execute(sql`delete from swallow_checks where dose_id = ${dose.id}`), /append-only/);
    await expectRejection(db.execute(sql`truncate doses cascade`), /append-only/);
    expect(await db.select().from(doses).where(eq(doses.patientId, p.id))).toHaveLength(3);
    expect(await db.select().from(doseReviews).where(eq(doseReviews.patientId, q.id))).toHaveLength(1);
    expect(await db.select().from(swallowChecks).where(eq(swallowChecks.doseId, dose.id))).toHaveLength(1);
  });

  it('R13 a swallow check is for a given dose of this clinic, once; a diversion flags the card', async () => {
    const { services, actor, scope, clinic, addPatient, give, recorded, db } = await setup();
    const p = await addPatient();
    const refused = await recorded(give(p.id, { outcome: 'refused' }));
    await rejectsWith(recordSwallowCheck(services, actor, { doseId: refused.id, clinicId: clinic.id, outcome: 'swallowed', note: '' }, scope), Conflict, 'err_swallow_not_given');
    const dose = await recorded(give(p.id));
    const other = await makeClinic(db);
    await rejectsWith(recordSwallowCheck(services, actor, { doseId: dose.id, clinicId: other.id, outcome: 'swallowed', note: '' }, [other.id]), NotFound);
    await recordSwallowCheck(services, actor, { doseId: dose.id, clinicId: clinic.id, outcome: 'diversion', note: 'Nhổ ra' }, scope);
    await recordSwallowCheck(services, actor, { doseId: dose.id, clinicId: clinic.id, outcome: 'swallowed', note: '' }, scope);
    expect(await db.select().from(swallowChecks).where(eq(swallowChecks.patientId, p.id))).toMatchObject([{ outcome: 'diversion' }]);
    const [stored] = await db.select({ at: swallowChecks.at }).from(swallowChecks).where(eq(swallowChecks.patientId, p.id));
    const card = await counterCard(db, MORNING, p.id, clinic.id, scope);
    // The card's flag carries the time of the latest diversion, as a Date on both drivers.
    expect(card.diversion?.at).toBeInstanceOf(Date);
    expect(card.diversion?.at.getTime()).toBe(stored!.at.getTime());
    expect(card).toMatchObject({ unresolvedDoseId: null, patient: { hasPhoto: false } });
  });

  it('voiding: releases the slot, refuses to void a void, refuses a second void (also when two run at once), stays in scope', async () => {
    const { services, managerActor, scope, clinic, addPatient, give, recorded, slotsOf, dosesOn, decision, db, clock } = await setup();
    const p = await addPatient();
    const dose = await recorded(give(p.id));
    await rejectsWith(voidDose(services, managerActor, dose.id, 'Ghi nhầm', []), NotFound);
    await rejectsWith(voidDose(services, managerActor, randomUUID(), 'Ghi nhầm', scope), NotFound);

    clock.advance(10 * MINUTE);
    const v = await voidDose(services, managerActor, dose.id, 'Ghi nhầm người bệnh', scope);
    expect(v).toEqual({ patientId: p.id, clinicId: clinic.id, serviceDay: TODAY });
    const [voidRow] = (await dosesOn(p.id)).filter((d) => d.voidsId === dose.id);
    expect(voidRow).toMatchObject({ voidReason: 'Ghi nhầm người bệnh', givenMg: 0, ml: 0, givenBy: managerActor.userId, serviceDay: TODAY });
    expect((await slotsOf(p.id)).filter((s) => s.serviceDay === TODAY)).toHaveLength(0);
    expect((await decision(p.id)).kind).toBe('give');

    await rejectsWith(voidDose(services, managerActor, voidRow!.id, 'Hủy bản ghi hủy', scope), Conflict, 'err_void_a_void');
    await rejectsWith(voidDose(services, managerActor, dose.id, 'Hủy lần hai', scope), Conflict, 'err_already_voided');
    // The right record is made, then the first one is voided again: still refused, the new slot stays.
    const right = await recorded(give(p.id));
    await rejectsWith(voidDose(services, managerActor, dose.id, 'Hủy lần ba', scope), Conflict, 'err_already_voided');
    expect((await slotsOf(p.id)).find((s) => s.serviceDay === TODAY)?.doseId).toBe(right.id);
    expect(await dosesOn(p.id)).toHaveLength(3);

    // Two managers voiding the same record at once: one void.
    const q = await addPatient();
    const qDose = await recorded(give(q.id));
    const results = await Promise.allSettled([voidDose(services, managerActor, qDose.id, 'Ghi nhầm A', scope), voidDose(services, managerActor, qDose.id, 'Ghi nhầm B', scope)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toBeInstanceOf(Conflict);
    expect(await db.select().from(doses).where(eq(doses.voidsId, qDose.id))).toHaveLength(1);
  });

  it('the day register lists every record with its void, totals only what stands', async () => {
    const { scope, clinic, addPatient, give, recorded, services, managerActor, db, clock } = await setup();
    const a = await addPatient();
    const b = await addPatient({ orderMg: 60 });
    const c = await addPatient();
    await recorded(give(a.id));
    clock.advance(MINUTE);
    const bDose = await recorded(give(b.id));
    clock.advance(MINUTE);
    await recorded(give(c.id, { intoxication: 'suspected' }));
    clock.advance(MINUTE);
    await voidDose(services, managerActor, bDose.id, 'Ghi nhầm liều', scope);
    const reg = await dayRegister(db, clock.now(), clinic.id, null, scope);
    expect(reg.day).toBe(TODAY);
    expect(reg.rows.map((r) => [r.code, r.outcome, r.givenMg, r.voidsId === bDose.id, r.voidedBy !== null])).toEqual([
      [a.code, 'given', 80, false, false],
      [b.code, 'given', 60, false, true],
      [c.code, 'withheld', 0, false, false],
      [b.code, 'given', 0, true, false],
    ]);
    expect(reg.totals).toEqual({ givenMg: 80, ml: 8, patients: 1, byOutcome: { given: 1, withheld: 1 } });
    await rejectsWith(dayRegister(db, clock.now(), clinic.id, null, []), NotFound);
  });

  it('expected today, not yet seen: excludes those seen today, includes guests authorised here; a voided record is no visit', async () => {
    const { db, services, managerActor, scope, clinic, doctor, addPatient, give, recorded, actor } = await setup();
    const waiting = await addPatient();
    const dosed = await addPatient();
    const withheld = await addPatient();
    const voided = await addPatient();
    const noOrderToday = await addPatient({ orderStart: '2026-11-25' });
    const ended = await addPatient({ episodeEnded: true });
    await recorded(give(dosed.id));
    await recorded(give(withheld.id, { intoxication: 'suspected' }));
    const mistake = await recorded(give(voided.id));
    await voidDose(services, managerActor, mistake.id, 'Ghi nhầm người bệnh', scope);

    // A patient of another clinic, guest-authorised here for a range covering today; another one not.
    const home = await makeClinic(db);
    const guest = await addPatient({ at: home });
    const notGuest = await addPatient({ at: home });
    const expiredGuest = await addPatient({ at: home });
    await db.insert(guestAuthorisations).values([
      { patientId: guest.id, episodeId: guest.episode.id, hostClinicId: clinic.id, fromDate: '2026-11-22', toDate: '2026-11-26', authorisedBy: doctor.id },
      { patientId: expiredGuest.id, episodeId: expiredGuest.episode.id, hostClinicId: clinic.id, fromDate: '2026-11-10', toDate: '2026-11-22', authorisedBy: doctor.id },
    ]);

    const list = await expectedNotSeen(db, clinic.id, TODAY);
    const ids = list.map((r) => r.patientId);
    expect(ids).toContain(waiting.id);
    expect(ids).toContain(guest.id);
    expect(list.find((r) => r.patientId === guest.id)!.guest).toBe(true);
    expect(list.find((r) => r.patientId === waiting.id)!.guest).toBe(false);
    for (const p of [dosed, withheld, noOrderToday, ended, notGuest, expiredGuest]) expect(ids, p.fullName).not.toContain(p.id);
    // The voided record was a mistake: the patient is still expected.
    expect(ids).toContain(voided.id);
    // The home clinic expects its guest too, until the host doses them.
    expect((await expectedNotSeen(db, home.id, TODAY)).map((r) => r.patientId)).toContain(guest.id);
    await recorded(recordDose(services, actor, { patientId: guest.id, clinicId: clinic.id, outcome: 'given', intoxication: 'none', breathAlcohol: null, requestId: randomUUID() }, scope));
    expect((await expectedNotSeen(db, clinic.id, TODAY)).map((r) => r.patientId)).not.toContain(guest.id);
    expect((await expectedNotSeen(db, home.id, TODAY)).map((r) => r.patientId)).not.toContain(guest.id);
  });

  it('R16 a guest checks in and is dosed at the host; check-in elsewhere and a call without a check-in find nobody', async () => {
    const { db, services, actor, scope, clinic, doctor, addPatient, give, recorded } = await setup();
    const home = await makeClinic(db);
    const guest = await addPatient({ at: home });
    await rejectsWith(checkIn(services, actor, clinic.id, guest.code, scope), NotFound);
    await db.insert(guestAuthorisations).values({ patientId: guest.id, episodeId: guest.episode.id, hostClinicId: clinic.id, fromDate: TODAY, toDate: '2026-11-24', authorisedBy: doctor.id });
    const r = await checkIn(services, actor, clinic.id, guest.code.toLowerCase(), scope);
    expect(r).toMatchObject({ patientId: guest.id, already: false });
    expect((await queueOf(db, clinic.id, TODAY)).map((q) => q.patientId)).toEqual([guest.id]);
    const card = await counterCard(db, MORNING, guest.id, clinic.id, scope);
    expect(card).toMatchObject({ visible: true, guest: true, takeHomeDays: 0, decision: { kind: 'give', mg: 80 } });
    await recorded(give(guest.id));
    // Dosed: out of the queue.
    expect(await queueOf(db, clinic.id, TODAY)).toHaveLength(0);
    // A check-in at a counter outside the user's clinics.
    await rejectsWith(checkIn(services, actor, home.id, guest.code, scope), NotFound);
  });
  it('R14 take-home is suspended by a missed day before today or a positive urine test since the order; a host clinic never hands it out (R16); a request id of another patient is refused', async () => {
    const { services, actor, scope, clinic, doctor, addPatient, useRules, give, recorded, db } = await setup();
    await useRules({ take_home_enabled: 1 });
    // A day missed before today's dose.
    const missed = await addPatient({ takeHomeDays: 3, lastDoseDaysAgo: 2 });
    await recorded(give(missed.id));
    await rejectsWith(recordTakeHome(services, actor, { patientId: missed.id, clinicId: clinic.id, days: 1, requestId: 'th-missed' }, scope), Conflict, 'err_take_home_suspended');
    // A positive test after the order was written.
    const positive = await addPatient({ takeHomeDays: 3 });
    await db.insert(urineTests).values({ patientId: positive.id, clinicId: clinic.id, testDate: '2026-11-20', results: { heroin: 'positive' }, recordedBy: doctor.id });
    await recorded(give(positive.id));
    await rejectsWith(recordTakeHome(services, actor, { patientId: positive.id, clinicId: clinic.id, days: 1, requestId: 'th-positive' }, scope), Conflict, 'err_take_home_suspended');
    // A negative test does not suspend it.
    const negative = await addPatient({ takeHomeDays: 3 });
    await db.insert(urineTests).values({ patientId: negative.id, clinicId: clinic.id, testDate: '2026-11-20', results: { heroin: 'negative' }, recordedBy: doctor.id });
    await recorded(give(negative.id));
    expect(await recordTakeHome(services, actor, { patientId: negative.id, clinicId: clinic.id, days: 1, requestId: 'th-negative' }, scope)).toHaveLength(1);
    // Another patient's request id finds nothing of theirs.
    await rejectsWith(recordTakeHome(services, actor, { patientId: positive.id, clinicId: clinic.id, days: 1, requestId: 'th-negative' }, scope), Invalid);
    expect(await db.select().from(doses).where(and(eq(doses.patientId, positive.id), eq(doses.outcome, 'take_home')))).toHaveLength(0);

    // R16: a guest dosed at a host clinic gets no take-home there.
    const host = await makeClinic(db);
    const hostNurse = await makeUser(db, 'nurse', [host.id]);
    await useRules({ take_home_enabled: 1 }, host.id);
    const guest = await addPatient({ takeHomeDays: 3 });
    await db.insert(guestAuthorisations).values({ patientId: guest.id, episodeId: guest.episode.id, hostClinicId: host.id, fromDate: TODAY, toDate: TODAY, authorisedBy: doctor.id });
    const hostActor = { userId: hostNurse.id, address: null };
    const r = await recordDose(services, hostActor, { patientId: guest.id, clinicId: host.id, outcome: 'given', intoxication: 'none', breathAlcohol: null, requestId: randomUUID() }, [host.id]);
    expect(r.kind).toBe('recorded');
    await rejectsWith(recordTakeHome(services, hostActor, { patientId: guest.id, clinicId: host.id, days: 1, requestId: 'th-guest' }, [host.id]), Conflict, 'err_take_home_not_home');
  });

  it('the queue: a voided record is no visit, so the patient waits again', async () => {
    const { services, actor, managerActor, scope, clinic, clock, addPatient, give, recorded, db } = await setup();
    const p = await addPatient();
    await checkIn(services, actor, clinic.id, p.code, scope);
    clock.set(new Date(MORNING.getTime() + MINUTE));
    const dose = await recorded(give(p.id));
    expect(await queueOf(db, clinic.id, TODAY)).toHaveLength(0);
    clock.set(new Date(MORNING.getTime() + 2 * MINUTE));
    await voidDose(services, managerActor, dose.id, 'Ghi nhầm người bệnh', scope);
    expect((await queueOf(db, clinic.id, TODAY)).map((q) => q.patientId)).toEqual([p.id]);
  });
  it('R10 only a doctor voids a withholding for intoxication (a manager may not lift it)', async () => {
    const { services, managerActor, doctorActor, scope, addPatient, give, recorded, decision } = await setup();
    const p = await addPatient();
    const withheld = await recorded(give(p.id, { intoxication: 'intoxicated' }));
    expect(withheld.outcome).toBe('withheld');
    await rejectsWith(voidDose(services, managerActor, withheld.id, 'Nhầm người bệnh', scope), Conflict, 'err_void_withheld_doctor');
    expect(await decision(p.id)).toMatchObject({ kind: 'doctor_review', code: 'withheld_intoxication' });
    await voidDose(services, doctorActor, withheld.id, 'Ghi nhầm người bệnh', scope);
    expect(await decision(p.id)).toMatchObject({ kind: 'give' });
  });

  it('a deactivated clinic doses no one, even from a card left open', async () => {
    const { db, clinic, addPatient, give } = await setup();
    const p = await addPatient();
    await db.update(clinics).set({ active: false }).where(eq(clinics.id, clinic.id));
    await rejectsWith(give(p.id), NotFound);
    expect(await db.select().from(doses).where(and(eq(doses.patientId, p.id), eq(doses.serviceDay, TODAY)))).toHaveLength(0);
  });

  it('R1 a rule change that lands between the decision and the write is not missed: the dose is decided again under the rules in force', async () => {
    const { db, clinic, addPatient, useRules, give, recorded, decision } = await setup();
    await useRules({ concentration_mg_per_ml: 10 });
    const p = await addPatient();
    // The rules are read (and kept for a few seconds) ...
    expect(await decision(p.id)).toMatchObject({ kind: 'give', mg: 80, ml: 8 });
    // ... then another server instance adds a version effective today (this process is not told).
    const [current] = await db.select().from(ruleSetVersions).innerJoin(clinics, eq(clinics.ruleSetId, ruleSetVersions.ruleSetId)).where(eq(clinics.id, clinic.id));
    const entries = { ...current!.rule_set_versions.parameters, concentration_mg_per_ml: { value: 5, source: 'test', confirmed: true } };
    await db.insert(ruleSetVersions).values({ ruleSetId: current!.rule_set_versions.ruleSetId, effectiveFrom: TODAY, parameters: entries, approvedBy: 'test', note: 'another instance' });
    const dose = await recorded(give(p.id, { expected: undefined }));
    expect([dose.concentration, dose.givenMg, dose.ml]).toEqual([5, 80, 16]);
  });
  it('R9 a retry of a confirmation whose record was voided meanwhile is a stale card, not a record shown as given', async () => {
    const { services, actor, doctorActor, scope, addPatient, give, recorded, input } = await setup();
    const p = await addPatient();
    const first = input(p.id);
    const dose = await recorded(recordDose(services, actor, first, scope));
    await voidDose(services, doctorActor, dose.id, 'Ghi nhầm người bệnh', scope);
    await rejectsWith(recordDose(services, doctorActor, first, scope), Conflict, 'ctr_err_stale');
    // A new confirmation (a new card) doses normally.
    expect((await recorded(give(p.id))).outcome).toBe('given');
  });
});
