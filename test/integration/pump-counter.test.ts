// The counter with a pump, through the real app and a real serial line: the
// simulator as its own process on a socat PTY pair. A nurse's dose goes
// pending → DISPENSE → progress → DONE, and the record, the audit log and
// what the simulator says it delivered agree.
import { eq } from 'drizzle-orm';
import { afterEach, expect, it } from 'vitest';
import { auditLog, doseOrders, doses, doseSlots, episodes, patients, pumpEvents, pumps } from '../../db/schema.ts';
import { fold } from '../../db/fold.ts';
import { pumpOptions } from '../../devices/options.ts';
import { txnOfDose } from '../../devices/mpp/protocol.ts';
import { FixedClock } from '../../server/clock.ts';
import { createLogger } from '../../server/log.ts';
import { PumpRuntime } from '../../server/pumps/runtime.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';
import { hasSocat, startSimulator, type SimProcess } from '../helpers/pump-sim.ts';

const MORNING = new Date('2026-11-23T02:00:00Z');
const FAST = pumpOptions({ answerTimeoutMs: 300, silenceMs: 800, queryIntervalMs: 300, queryRetries: 2, statusIntervalMs: 250, reconnectMs: 250 });

function field(html: string, name: string): string {
  const all = [...html.matchAll(new RegExp(`name="${name}" value="([^"]*)"`, 'g'))];
  if (!all.length) throw new Error(`no field ${name}`);
  return all[all.length - 1]![1]!;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});


describeEachDatabase('the counter with a pump on a serial line', (get) => {
  async function setup(sim: SimProcess) {
    const { db } = get();
    const clock = new FixedClock(MORNING);
    const clinic = await makeClinic(db, { name: 'Cơ sở Lê Chân' });
    const doctor = await makeUser(db, 'doctor', [clinic.id]);
    const nurseUser = await makeUser(db, 'nurse', [clinic.id]);
    const [pump] = await db.insert(pumps).values({ clinicId: clinic.id, name: 'Bơm A', path: sim.path, expectedSerial: 'SIM-0001' }).returning();
    await db.insert(pumpEvents).values({ pumpId: pump!.id, kind: 'calibration', details: { step: 'set', old: 1, factor: 1 }, by: doctor.id, at: MORNING });
    const runtime = new PumpRuntime({ db, clock, logger: createLogger('silent') }, FAST);
    await runtime.start();
    cleanups.push(() => runtime.close());
    const app = makeTestApp(db, {}, clock, runtime);
    const nurse = new TestClient(app.app);
    const { token, csrfToken } = await sessionFor(db, nurseUser.id, clock.now());
    nurse.setCookie('mp_session', token);
    nurse.csrf = csrfToken;
    const [p] = await db.insert(patients).values({ code: `${clinic.code}-00001`, homeClinicId: clinic.id, fullName: 'Vũ Văn Hải', searchName: fold('Vũ Văn Hải'), birthDate: '1979-03-03', sex: 'male' }).returning();
    const [ep] = await db.insert(episodes).values({ patientId: p!.id, clinicId: clinic.id, kind: 'first', startDate: '2026-10-01' }).returning();
    const [order] = await db
      .insert(doseOrders)
      .values({ patientId: p!.id, episodeId: ep!.id, phase: 'maintenance', startDate: '2026-11-10', endDate: '2026-12-09', dailyMg: 80, prescribedBy: doctor.id, createdAt: new Date('2026-11-09T03:00:00Z') })
      .returning();
    const [d] = await db
      .insert(doses)
      .values({ patientId: p!.id, episodeId: ep!.id, orderId: order!.id, clinicId: clinic.id, serviceDay: '2026-11-22', outcome: 'given', prescribedMg: 80, givenMg: 80, ml: 8, concentration: 10, givenBy: doctor.id, at: new Date(MORNING.getTime() - 86_400_000) })
      .returning();
    await db.insert(doseSlots).values({ patientId: p!.id, serviceDay: '2026-11-22', part: 1, doseId: d!.id });
    // Wait for the pump to be identified and ready.
    for (let i = 0; i < 100 && runtime.pumpsOf(clinic.id)[0]?.readiness.state !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
    return { db, clinic, pump: pump!, runtime, nurse, patient: p!, clock };
  }

  it('doses one patient through the pump: pending before the pump moves, then the measured volume', async () => {
    const sim = await startSimulator({ flow: 20 });
    cleanups.push(() => sim.stop());
    await sim.set({ deliveryError: 0.99, progressIntervalMs: 50 });
    const { db, clinic, pump, runtime, nurse, patient } = await setup(sim);
    expect(runtime.pumpsOf(clinic.id)[0]?.readiness).toEqual({ state: 'ready' });
    const card = await nurse.get(`/counter/card/${patient.id}?clinic=${clinic.id}`);
    const f = { clinic: clinic.id, patient: patient.id, requestId: field(card.html, 'requestId'), part: field(card.html, 'part'), mg: field(card.html, 'mg') };
    const check = await nurse.post('/counter/check', { ...f, intoxication: 'none' });
    expect(check.html).toContain(`name="pump" value="${pump.id}"`);
    const started = await nurse.post('/counter/dose', { ...f, intoxication: 'none', breathAlcohol: '', outcome: 'given', pump: pump.id });
    expect(started.res.status).toBe(200);
    expect(started.html).toContain('id="pump-step"');
    const [pending] = await db.select().from(doses).where(eq(doses.requestId, f.requestId));
    expect(pending).toMatchObject({ method: 'pump' });
    // Poll as the page does until the server swaps the whole area.
    let last = started;
    for (let i = 0; i < 100; i++) {
      last = await nurse.get(`/counter/pump/${pending!.id}?clinic=${clinic.id}`);
      if (last.res.headers.get('HX-Retarget')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(last.res.headers.get('HX-Retarget')).toBe('#counter');
    const [done] = await db.select().from(doses).where(eq(doses.id, pending!.id));
    const report = await sim.report();
    const txn = report.transactions.find((x) => x.txn === txnOfDose(pending!.id))!;
    expect(done).toMatchObject({ status: 'completed', method: 'pump' });
    expect(done!.ml).toBeCloseTo(txn.deliveredMl, 1);
    expect(txn.deliveredMl).toBeCloseTo(8 * 0.99, 1);
    expect(report.dispenseCommands).toBe(1);
    const events = await db.select().from(pumpEvents).where(eq(pumpEvents.doseId, pending!.id));
    expect(events.map((e) => e.kind).sort()).toEqual(['dispense', 'done']);
    const audits = await db.select().from(auditLog).where(eq(auditLog.entityId, pending!.id));
    expect(audits.map((a) => a.action).sort()).toEqual(['dose_pump_outcome', 'dose_record']);
  });
});
