// Recording doses: the decision of the moment, R9 held by the database under
// concurrency and retries, R10 withholding, the service day in the clinic's
// zone, and dose records that cannot be rewritten.
import { and, eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { auditLog, doseOrders, doses, doseSlots, episodes, guestAuthorisations, patients } from '../../db/schema.ts';
import { FixedClock } from '../../server/clock.ts';
import { Conflict } from '../../server/errors.ts';
import { recordDose, type RecordDoseInput } from '../../server/services/dispense.ts';
import { describeEachDatabase, expectRejection } from '../helpers/db.ts';
import { rows } from '../../db/sql.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';

/** 09:00 in Hải Phòng on 23 November 2026. */
const MORNING = new Date('2026-11-23T02:00:00Z');
const DAY = 86_400_000;

describeEachDatabase('recording doses', (get) => {
  let seq = 0;
  async function setup(opts: { lastDoseDaysAgo?: number | null; orderMg?: number } = {}) {
    const { db } = get();
    const clock = new FixedClock(MORNING);
    const clinic = await makeClinic(db);
    const nurse = await makeUser(db, 'nurse', [clinic.id]);
    const doctor = await makeUser(db, 'doctor', [clinic.id]);
    const [p] = await db.insert(patients).values({ code: `D-${Date.now()}-${++seq}`, homeClinicId: clinic.id, fullName: 'Vũ Văn Hải', searchName: 'vu van hai', birthDate: '1979-03-03', sex: 'male' }).returning();
    const [ep] = await db.insert(episodes).values({ patientId: p!.id, clinicId: clinic.id, kind: 'first', startDate: '2026-10-01' }).returning();
    const [order] = await db
      .insert(doseOrders)
      .values({ patientId: p!.id, episodeId: ep!.id, phase: 'maintenance', startDate: '2026-11-10', endDate: '2026-12-09', dailyMg: opts.orderMg ?? 80, prescribedBy: doctor.id, createdAt: new Date('2026-11-09T03:00:00Z') })
      .returning();
    const services = { db, clock };
    const actor = { userId: nurse.id, address: '10.0.0.5' };
    const input = (over: Partial<RecordDoseInput> = {}): RecordDoseInput => ({ patientId: p!.id, clinicId: clinic.id, outcome: 'given', intoxication: 'none', breathAlcohol: null, requestId: `req-${Math.random()}`, ...over });
    // The last covered day before today, written as the counter would have.
    const lastDose = opts.lastDoseDaysAgo === undefined ? 1 : opts.lastDoseDaysAgo;
    if (lastDose !== null) {
      const day = new Date(MORNING.getTime() - lastDose * DAY).toISOString().slice(0, 10);
      await db.insert(doses).values({ patientId: p!.id, episodeId: ep!.id, orderId: order!.id, clinicId: clinic.id, serviceDay: day, outcome: 'given', prescribedMg: 80, givenMg: 80, ml: 8, concentration: 10, givenBy: nurse.id, at: new Date(MORNING.getTime() - lastDose * DAY) });
    }
    return { db, clock, clinic, nurse, doctor, patient: p!, episode: ep!, services, actor, input };
  }

  it('R9 gives the ordered dose once: mg, ml at 10 mg/ml, the decision and an audit row', async () => {
    const { db, services, actor, input, patient, clinic } = await setup();
    const r = await recordDose(services, actor, input(), [clinic.id]);
    expect(r.kind).toBe('recorded');
    if (r.kind !== 'recorded') return;
    expect(r.dose).toMatchObject({ serviceDay: '2026-11-23', part: 1, outcome: 'given', givenMg: 80, prescribedMg: 80, ml: 8, concentration: 10, method: 'manual', intoxication: 'none' });
    expect((r.dose.decision as { kind: string }).kind).toBe('give');
    const [entry] = await db.select().from(auditLog).where(eq(auditLog.entityId, r.dose.id));
    expect(entry!.action).toBe('dose_record');
    const again = await recordDose(services, actor, input(), [clinic.id]);
    expect(again.kind).toBe('refused');
    if (again.kind === 'refused') expect(again.decision.kind).toBe('already_dosed');
    const rows = await db.select().from(doses).where(and(eq(doses.patientId, patient.id), eq(doses.serviceDay, '2026-11-23')));
    expect(rows).toHaveLength(1);
  });

  it('R9 20 concurrent confirmations for the same patient leave exactly one dose', async () => {
    const { db, services, actor, input, patient, clinic } = await setup();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => recordDose(services, actor, input(), [clinic.id])));
    const recorded = results.filter((r) => r.status === 'fulfilled' && r.value.kind === 'recorded');
    const refusedOrConflict = results.filter((r) => (r.status === 'fulfilled' && r.value.kind === 'refused') || (r.status === 'rejected' && r.reason instanceof Conflict));
    expect(recorded).toHaveLength(1);
    expect(refusedOrConflict).toHaveLength(19);
    const rows = await db.select().from(doses).where(and(eq(doses.patientId, patient.id), eq(doses.serviceDay, '2026-11-23')));
    expect(rows).toHaveLength(1);
    const slots = await db.select().from(doseSlots).where(and(eq(doseSlots.patientId, patient.id), eq(doseSlots.serviceDay, '2026-11-23')));
    expect(slots).toHaveLength(1);
  });

  it('R4 an order written while the dose is being written: the dose waits for it and is decided again under the new order', async () => {
    const { db, driver } = get();
    if (driver !== 'postgres') return; // Needs a second connection to hold the change open; PGlite has one.
    const { services, actor, input, patient, episode, doctor, clinic } = await setup();
    let doseDone: Promise<Awaited<ReturnType<typeof recordDose>>> | null = null;
    const waitedFor = db.transaction(async (tx) => {
      // Not committed yet: a new order of 60 mg from today (it bumps the patient's facts version, holding the row).
      await tx.insert(doseOrders).values({ patientId: patient.id, episodeId: episode.id, phase: 'maintenance', startDate: '2026-11-23', endDate: '2026-12-22', dailyMg: 60, prescribedBy: doctor.id, createdAt: MORNING });
      // The counter reads the facts as committed (the 80 mg order), decides 80 mg, and its write waits on the row.
      doseDone = recordDose(services, actor, input({ expected: { part: 1, mg: 80 } }), [clinic.id]);
      for (let i = 0; ; i++) {
        // Asked outside the transaction: inside it, pg_stat_activity is a snapshot taken once.
        const [waiting] = await rows<{ n: number }>(db, sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        if (waiting!.n > 0) break;
        if (i > 1_500) throw new Error('the dose never waited for the order being written');
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    try {
      await waitedFor;
    } catch (e) {
      // The dose write is settled before failing, not left running unawaited.
      await Promise.allSettled([doseDone]);
      throw e;
    }
    // Committed: the dose's decision (80 mg, the old order) no longer stands, and the card's amount is refused as changed.
    const r = await doseDone!;
    expect(r.kind).toBe('changed');
    if (r.kind === 'changed') expect(r.decision).toMatchObject({ kind: 'give', mg: 60 });
    expect(await db.select().from(doses).where(and(eq(doses.patientId, patient.id), eq(doses.serviceDay, '2026-11-23')))).toHaveLength(0);
    const again = await recordDose(services, actor, input({ expected: { part: 1, mg: 60 } }), [clinic.id]);
    expect(again.kind === 'recorded' && again.dose).toMatchObject({ givenMg: 60, prescribedMg: 60 });
  });

  it('a retried request (same request id) returns the same record and writes nothing more', async () => {
    const { db, services, actor, input, patient, clinic } = await setup();
    const first = await recordDose(services, actor, input({ requestId: 'card-123' }), [clinic.id]);
    const retry = await recordDose(services, actor, input({ requestId: 'card-123' }), [clinic.id]);
    expect(first.kind === 'recorded' && retry.kind === 'recorded' && first.dose.id === retry.dose.id).toBe(true);
    expect(await db.select().from(doses).where(and(eq(doses.patientId, patient.id), eq(doses.serviceDay, '2026-11-23')))).toHaveLength(1);
  });

  it('R10 signs of intoxication withhold the dose: recorded with 0 mg, the day not covered', async () => {
    const { services, actor, input, clinic } = await setup();
    const r = await recordDose(services, actor, input({ intoxication: 'suspected', breathAlcohol: 0.25 }), [clinic.id]);
    expect(r.kind === 'recorded' && r.dose).toMatchObject({ outcome: 'withheld', givenMg: 0, ml: 0, intoxication: 'suspected', breathAlcohol: 0.25 });
  });

  it('the service day is the clinic’s local date: 23:30 and 00:10 fall on their own days', async () => {
    const { services, actor, input, clinic, clock } = await setup();
    clock.set('2026-11-23T16:30:00Z'); // 23:30 in Hải Phòng
    const late = await recordDose(services, actor, input(), [clinic.id]);
    clock.set('2026-11-23T17:10:00Z'); // 00:10 on the 24th
    const early = await recordDose(services, actor, input(), [clinic.id]);
    expect(late.kind === 'recorded' && late.dose.serviceDay).toBe('2026-11-23');
    expect(early.kind === 'recorded' && early.dose.serviceDay).toBe('2026-11-24');
  });

  it('R11 after five missed days no dose is given: a new induction order is needed', async () => {
    const { services, actor, input, clinic } = await setup({ lastDoseDaysAgo: 6 });
    const r = await recordDose(services, actor, input(), [clinic.id]);
    expect(r.kind).toBe('refused');
    if (r.kind === 'refused') expect(r.decision).toMatchObject({ kind: 'doctor_review', code: 'missed_needs_induction' });
  });

  it('R12/R16 another clinic doses only under a guest authorisation covering today', async () => {
    const { db, services, input, episode, patient, doctor } = await setup();
    const host = await makeClinic(db);
    const hostNurse = await makeUser(db, 'nurse', [host.id]);
    const hostActor = { userId: hostNurse.id, address: null };
    const before = await recordDose(services, hostActor, input({ clinicId: host.id }), [host.id]);
    expect(before.kind === 'refused' && before.decision.kind).toBe('not_this_clinic');
    await db.insert(guestAuthorisations).values({ patientId: patient.id, episodeId: episode.id, hostClinicId: host.id, fromDate: '2026-11-22', toDate: '2026-11-25', authorisedBy: doctor.id });
    const after = await recordDose(services, hostActor, input({ clinicId: host.id }), [host.id]);
    expect(after.kind === 'recorded' && after.dose).toMatchObject({ clinicId: host.id, givenMg: 80 });
    // A counter outside the nurse's clinics is not hers to use.
    await expect(recordDose(services, hostActor, input({ clinicId: host.id }), [])).rejects.toThrow(/not found/);
  });

  it('dose records cannot be rewritten: the database refuses to edit or delete a completed dose', async () => {
    const { db, services, actor, input, clinic, patient } = await setup();
    await recordDose(services, actor, input(), [clinic.id]);
    await expectRejection(db.execute(sql`update doses set given_mg = 40 where patient_id = ${patient.id}`), /append-only/);
    await expectRejection(db.execute(sql`delete from doses where patient_id = ${patient.id}`), /append-only/);
    await expectRejection(db.execute(sql`truncate doses cascade`), /append-only/);
  });
});
