// The counter with a pump, through the real app and a real serial line: the
// simulator as its own process on a socat PTY pair. A nurse's dose goes
// pending → DISPENSE → progress → DONE, and the record, the audit log and
// what the simulator says it delivered agree.
import { eq } from 'drizzle-orm';
import { afterEach, expect, it } from 'vitest';
import { auditLog, doses, pumpEvents } from '../../db/schema.ts';
import { txnOfDose } from '../../devices/mpp/protocol.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { field, pumpWorld, stopPumpWorlds } from '../helpers/pump-world.ts';

afterEach(stopPumpWorlds);

describeEachDatabase('the counter with a pump on a serial line', (get) => {
  it('doses one patient through the pump: pending before the pump moves, then the measured volume', async () => {
    const { db, sim, clinic, pump, runtime, nurse, addPatient } = await pumpWorld(get().db, { behaviour: { deliveryError: 0.99 }, answerMs: 5000 });
    const patient = await addPatient('Vũ Văn Hải');
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
