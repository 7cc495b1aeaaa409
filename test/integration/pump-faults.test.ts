// A pump dose that does not end in DONE, through the real app and a real
// serial line (the simulator as its own process on a socat PTY pair), as the
// nurse meets it: each fault code, the nurse pressing stop, corrupted frames,
// a pump gone silent, a pump unplugged mid-dose. After each, the dose record,
// the pump events, the audit log and what the simulator says it delivered
// agree, the nurse's decision is recorded, and nothing is delivered twice.
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterEach, expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { auditLog, doses, doseSlots, pumpEvents } from '../../db/schema.ts';
import type { MppDriver } from '../../devices/mpp/driver.ts';
import { txnOfDose } from '../../devices/mpp/protocol.ts';
import { pumpOptions } from '../../devices/options.ts';
import { verifyAuditChain } from '../../server/services/audit.ts';
import { messages } from '../../views/i18n/index.ts';
import { formatNumber } from '../../views/format.ts';
import { faultText } from '../../views/pages/pumps.tsx';
import { describeEachDatabase } from '../helpers/db.ts';
import type { SimReport } from '../helpers/pump-sim.ts';
import { cardFields, FAST, MORNING, PLANNED_ML, pumpWorld, sleep, stopPumpWorlds, TODAY, until, type Patient, type PumpWorld as World, type PumpWorldOptions } from '../helpers/pump-world.ts';

/** The next morning, within the 24 h the calibration is good for. */
const NEXT_MORNING = new Date(MORNING.getTime() + 23 * 3_600_000);
const t = messages('vi');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const mlText = (n: number) => formatNumber(n, 'vi', 2);

afterEach(stopPumpWorlds);

describeEachDatabase('pump doses that do not end in DONE, over a serial line', (get) => {
  /** A clinic with a calibrated pump on its own simulator, a nurse logged in, and patients on 80 mg who came yesterday. */
  const world = (opts: PumpWorldOptions = {}) => pumpWorld(get().db, opts);

  /** The nurse's steps up to the pump button: card, no signs of intoxication, "dispense with the pump". Returns the pending dose. */
  async function startPumpDose(w: World, p: Patient) {
    const f = await cardFields(w, p);
    const check = await w.nurse.post('/counter/check', { ...f, intoxication: 'none' });
    expect(check.html).toContain(`name="pump" value="${w.pump.id}"`);
    const started = await w.nurse.post('/counter/dose', { ...f, intoxication: 'none', breathAlcohol: '', outcome: 'given', pump: w.pump.id });
    expect(started.res.status).toBe(200);
    expect(started.html).toContain('id="pump-step"');
    const [pending] = await w.db.select().from(doses).where(eq(doses.requestId, f.requestId));
    expect(pending).toMatchObject({ method: 'pump', status: 'pending', ml: PLANNED_ML });
    return pending!;
  }

  /** Polls as the page does until the server swaps the whole working area; returns that answer, once the outcome is written. */
  async function pollToEnd(w: World, doseId: string) {
    const last = await until(
      'the pump step to finish',
      async () => {
        const r = await w.nurse.get(`/counter/pump/${doseId}?clinic=${w.clinic.id}`);
        expect(r.res.status).toBe(200);
        if (!r.res.headers.get('HX-Retarget')) {
          expect(r.html).toContain('id="pump-step"');
          await sleep(75);
          return null;
        }
        return r;
      },
      20_000,
    );
    expect(last.res.headers.get('HX-Retarget')).toBe('#counter');
    await w.runtime.settled(doseId);
    return last;
  }

  /** A dose given by hand (the hand-measured button: no pump in the form). */
  async function handDose(w: World, p: Patient) {
    const f = await cardFields(w, p);
    const check = await w.nurse.post('/counter/check', { ...f, intoxication: 'none' });
    expect(check.res.status).toBe(200);
    const given = await w.nurse.post('/counter/dose', { ...f, intoxication: 'none', breathAlcohol: '', outcome: 'given' });
    expect(given.res.status).toBe(200);
    const [row] = await w.db.select().from(doses).where(eq(doses.requestId, f.requestId));
    expect(row).toMatchObject({ method: 'manual', status: 'completed', givenMg: 80, ml: 8 });
    return { check, given, row: row! };
  }

  async function doseRow(db: Db, id: string) {
    const [d] = await db.select().from(doses).where(eq(doses.id, id));
    return d!;
  }

  const eventsOf = (db: Db, doseId: string) => db.select().from(pumpEvents).where(eq(pumpEvents.doseId, doseId)).orderBy(pumpEvents.id);
  const auditsOf = (db: Db, doseId: string) => db.select().from(auditLog).where(and(eq(auditLog.entityType, 'dose'), eq(auditLog.entityId, doseId))).orderBy(auditLog.id);
  const slotOf = async (db: Db, doseId: string) => (await db.select().from(doseSlots).where(eq(doseSlots.doseId, doseId)))[0] ?? null;
  const txnIn = (r: SimReport, doseId: string) => r.transactions.filter((x) => x.txn === txnOfDose(doseId));

  /** The nurse's decision on the card's resolve step, by the button's form. */
  async function resolve(w: World, doseId: string, decision: string, ml?: string) {
    return w.nurse.post(`/counter/pump/${doseId}/resolve`, { clinic: w.clinic.id, decision, ...(ml !== undefined && { ml }) });
  }

  /** What a decision after a fault must leave in the dose record, given what the pump delivered. */
  function expectDecided(d: typeof doses.$inferSelect, decision: 'top_up' | 'partial' | 'withhold', deliveredMl: number) {
    if (decision === 'top_up') expect(d).toMatchObject({ status: 'completed', ml: PLANNED_ML, givenMg: 80 });
    if (decision === 'partial') expect(d).toMatchObject({ status: 'completed', ml: deliveredMl, givenMg: Math.round(deliveredMl * 10 * 10) / 10 });
    // Withheld: what left the bottle stays on record (stock); nothing was swallowed.
    if (decision === 'withhold') expect(d).toMatchObject({ status: 'failed', ml: deliveredMl, givenMg: 0 });
  }

  const FAULTS = [
    { code: 'RESERVOIR_EMPTY', atMl: 3, decision: 'top_up' },
    { code: 'AIR_IN_LINE', atMl: 2.5, decision: 'partial' },
    { code: 'OCCLUSION', atMl: 6, decision: 'withhold' },
    { code: 'DOOR_OPEN', atMl: 4, decision: 'top_up' },
  ] as const;

  it.each(FAULTS)('FAULT $code at $atMl ml: the dose waits holding its slot, the nurse decides $decision, and the records agree with the pump', async ({ code, atMl, decision }) => {
    const w = await world({ behaviour: { faultAt: { code, ml: atMl } } });
    const p = await w.addPatient('Vũ Văn Hải');
    const pending = await startPumpDose(w, p);
    const end = await pollToEnd(w, pending.id);

    // The card: the fault in words, what the pump delivered, and the three decisions.
    expect(end.html).toContain('class="step pump-resolve"');
    expect(end.html).toContain(esc(t.pump_fault_text({ code: faultText(t, code), ml: mlText(atMl), planned: mlText(PLANNED_ML) })));
    for (const d of ['top_up', 'partial', 'withhold']) expect(end.html).toContain(`name="decision" value="${d}"`);
    // Still pending, still holding the day: nobody else doses this patient meanwhile.
    expect(await doseRow(w.db, pending.id)).toMatchObject({ status: 'pending', ml: PLANNED_ML });
    expect(await slotOf(w.db, pending.id)).toMatchObject({ serviceDay: TODAY, part: 1 });
    const report = await w.sim.report();
    const [txn] = txnIn(report, pending.id);
    expect(txn).toMatchObject({ state: 'FAULT', faultCode: code, deliveredMl: atMl, requestedMl: PLANNED_ML });
    const fault = (await eventsOf(w.db, pending.id)).find((e) => e.kind === 'fault');
    expect(fault?.details).toEqual({ code, ml: txn!.deliveredMl });
    // A pump in FAULT is not offered for the next patient until someone clears it.
    await until('the pump to report its fault', () => w.readiness()?.state === 'blocked');
    expect(w.readiness()).toEqual({ state: 'blocked', reason: 'fault' });
    // Scanning the patient again shows the same decision waiting.
    const again = await w.nurse.get(`/counter/card/${p.id}?clinic=${w.clinic.id}`);
    expect(again.html).toContain('class="step pump-resolve"');

    const decided = await resolve(w, pending.id, decision);
    expect(decided.res.status).toBe(200);
    expect(decided.html).toContain(esc(t.pump_resolved({ name: 'Vũ Văn Hải' })));
    const final = await doseRow(w.db, pending.id);
    expectDecided(final, decision, atMl);
    const events = await eventsOf(w.db, pending.id);
    expect(events.map((e) => e.kind)).toEqual(['dispense', 'fault', 'resolve']);
    expect(events[2]!.by).toBe(w.nurseUser.id);
    expect(events[2]!.details).toEqual({ decision, pumpMl: atMl, handMl: decision === 'top_up' ? PLANNED_ML - atMl : 0, ml: final.ml, from: 'pending' });
    const audits = await auditsOf(w.db, pending.id);
    expect(audits.map((a) => a.action)).toEqual(['dose_record', 'dose_pump_outcome', 'dose_pump_resolve']);
    expect(audits[1]!.details).toMatchObject({ outcome: 'fault', code, ml: atMl, pumpId: w.pump.id });
    expect(audits[2]).toMatchObject({ actorId: w.nurseUser.id, details: { decision, pumpMl: atMl, ml: final.ml } });
    // A second decision (another counter, a double click) changes nothing.
    const twice = await resolve(w, pending.id, 'partial');
    expect(twice.res.status).toBe(409);
    expect(await doseRow(w.db, pending.id)).toEqual(final);

    if (decision === 'withhold') {
      // The day is free again: the card offers the dose, and the nurse gives it by hand.
      expect(await slotOf(w.db, pending.id)).toBeNull();
      const { check, row } = await handDose(w, p);
      // The pump still in FAULT is named, not offered.
      expect(check.html).toContain(esc(t.pump_blocked_fault({ name: 'Bơm A' })));
      expect(check.html).not.toContain('name="pump"');
      expect(await slotOf(w.db, row.id)).toMatchObject({ serviceDay: TODAY });
    } else {
      expect(await slotOf(w.db, pending.id)).toMatchObject({ serviceDay: TODAY });
      const card = await w.nurse.get(`/counter/card/${p.id}?clinic=${w.clinic.id}`);
      expect(card.html).not.toContain('pump-resolve');
      expect(card.html).not.toContain('name="requestId"');
    }
    const after = await w.sim.report();
    expect(after.dispenseCommands).toBe(1);
    expect(txnIn(after, pending.id)).toHaveLength(1);
    expect(after.deliveredMl).toBe(atMl);
    // One dose of today holds a slot for this patient, whatever was decided.
    expect((await w.db.select().from(doseSlots).where(and(eq(doseSlots.patientId, p.id), eq(doseSlots.serviceDay, TODAY)))).length).toBe(1);
    expect(await verifyAuditChain(w.db)).toMatchObject({ ok: true });
  });

  it.each(['partial', 'withhold'] as const)('the nurse presses stop mid-dose: FAULT STOPPED with what was delivered, then %s', async (decision) => {
    const w = await world({ flow: 4 });
    const p = await w.addPatient('Trần Văn Nam');
    const pending = await startPumpDose(w, p);
    await until('two ml delivered', () => (w.runtime.progress(pending.id)?.ml ?? 0) >= 2);
    const stopped = await w.nurse.post(`/counter/pump/${pending.id}/stop`, { clinic: w.clinic.id });
    expect(stopped.res.status).toBe(200);
    // The pump answers FAULT STOPPED in a moment: until it is recorded the card keeps polling, its button saying "stopping".
    if (stopped.html.includes('id="pump-step"')) expect(stopped.html).toContain(esc(t.pump_stopping));
    const end = stopped.html.includes('id="pump-step"') ? await pollToEnd(w, pending.id) : stopped;
    const report = await w.sim.report();
    const [txn] = txnIn(report, pending.id);
    expect(txn).toMatchObject({ state: 'FAULT', faultCode: 'STOPPED' });
    const delivered = txn!.deliveredMl;
    expect(delivered).toBeGreaterThanOrEqual(2);
    expect(delivered).toBeLessThan(PLANNED_ML);
    expect(end.html).toContain('class="step pump-resolve"');
    expect(end.html).toContain(esc(t.pump_fault_text({ code: faultText(t, 'STOPPED'), ml: mlText(delivered), planned: mlText(PLANNED_ML) })));
    expect(await doseRow(w.db, pending.id)).toMatchObject({ status: 'pending' });
    // Stopped by hand is not a pump fault: the pump is ready for the next patient.
    await until('the pump to be ready again', () => w.readiness()?.state === 'ready');

    expect((await resolve(w, pending.id, decision)).res.status).toBe(200);
    const final = await doseRow(w.db, pending.id);
    expectDecided(final, decision, delivered);
    const events = await eventsOf(w.db, pending.id);
    expect(events.map((e) => e.kind)).toEqual(['dispense', 'stop', 'fault', 'resolve']);
    expect(events[1]!.by).toBe(w.nurseUser.id);
    expect(events[2]!.details).toEqual({ code: 'STOPPED', ml: delivered });
    expect(events[3]!.details).toMatchObject({ decision, pumpMl: delivered, handMl: 0 });
    const audits = await auditsOf(w.db, pending.id);
    expect(audits.map((a) => a.action)).toEqual(['dose_record', 'dose_pump_stop', 'dose_pump_outcome', 'dose_pump_resolve']);
    expect(audits[1]).toMatchObject({ actorId: w.nurseUser.id, details: { pumpId: w.pump.id } });
    expect(await slotOf(w.db, pending.id)).toEqual(decision === 'withhold' ? null : expect.objectContaining({ serviceDay: TODAY }));
    const after = await w.sim.report();
    expect(after.dispenseCommands).toBe(1);
    expect(after.deliveredMl).toBe(delivered);
  });

  it('corrupted frames right after the DISPENSE are dropped: the dose completes once, with the measured volume', async () => {
    const w = await world({ flow: 10, behaviour: { deliveryError: 0.98 } });
    const p = await w.addPatient('Lê Thị Hoa');
    const before = { ...(w.runtime.station(w.pump.id)!.driver as MppDriver).rejected };
    const pending = await startPumpDose(w, p);
    await w.sim.set({ corruptNext: 2 });
    const end = await pollToEnd(w, pending.id);
    expect(end.html).toContain(esc(t.pump_result_done({ name: 'Lê Thị Hoa', mg: '78', ml: mlText(7.8) })));
    const report = await w.sim.report();
    const [txn] = txnIn(report, pending.id);
    expect(txn).toMatchObject({ state: 'DONE', deliveredMl: 7.8 });
    expect(await doseRow(w.db, pending.id)).toMatchObject({ status: 'completed', ml: 7.8, givenMg: 78 });
    // The host saw both garbled frames and dropped them as noise.
    expect((w.runtime.station(w.pump.id)!.driver as MppDriver).rejected.checksum - before.checksum).toBe(2);
    expect(report.dispenseCommands).toBe(1);
    expect(report.badFramesIn).toBe(0);
    expect((await eventsOf(w.db, pending.id)).map((e) => e.kind)).toEqual(['dispense', 'done']);
    expect((await auditsOf(w.db, pending.id)).map((a) => a.action)).toEqual(['dose_record', 'dose_pump_outcome']);
  });

  it('the final DONE frame garbled: the host asks with QUERY and records the volume the pump answers', async () => {
    // The heartbeat's STATUS answers go on meanwhile (every 250 ms, inside the 800 ms of silence): they say nothing of the dose.
    const w = await world({ flow: 4 });
    const p = await w.addPatient('Bùi Thị Lan');
    const pending = await startPumpDose(w, p);
    await until('seven ml delivered', () => (w.runtime.progress(pending.id)?.ml ?? 0) >= 7);
    // Everything the pump says across the end of the dose is garbled, then the line is clean again.
    await w.sim.set({ corruptNext: 1000 });
    await until('the pump to finish', async () => txnIn(await w.sim.report(), pending.id)[0]?.state === 'DONE');
    await w.sim.set({ corruptNext: 0 });
    await pollToEnd(w, pending.id);
    const report = await w.sim.report();
    expect(report.dispenseCommands).toBe(1);
    expect(await doseRow(w.db, pending.id)).toMatchObject({ status: 'completed', ml: PLANNED_ML, givenMg: 80 });
    expect((await eventsOf(w.db, pending.id)).map((e) => [e.kind, e.details])).toEqual([
      ['dispense', { ml: PLANNED_ML, mg: 80 }],
      ['done', { ml: PLANNED_ML, state: 'DONE' }],
    ]);
  });

  it('a corrupted ACK: the host asks with QUERY and never sends the DISPENSE again', async () => {
    // A slow heartbeat, so that the one corrupted frame is the DISPENSE's answer.
    const w = await world({ flow: 4, options: pumpOptions({ ...FAST, statusIntervalMs: 5000 }) });
    const p = await w.addPatient('Đỗ Văn Bình');
    const f = await cardFields(w, p);
    await w.nurse.post('/counter/check', { ...f, intoxication: 'none' });
    await w.sim.set({ corruptNext: 1 });
    const started = await w.nurse.post('/counter/dose', { ...f, intoxication: 'none', breathAlcohol: '', outcome: 'given', pump: w.pump.id });
    expect(started.res.status).toBe(200);
    const [pending] = await w.db.select().from(doses).where(eq(doses.requestId, f.requestId));
    await pollToEnd(w, pending!.id);
    const report = await w.sim.report();
    expect((w.runtime.station(w.pump.id)!.driver as MppDriver).rejected.checksum).toBe(1);
    expect(report.dispenseCommands).toBe(1);
    expect(txnIn(report, pending!.id)).toEqual([expect.objectContaining({ state: 'DONE', deliveredMl: PLANNED_ML })]);
    expect(await doseRow(w.db, pending!.id)).toMatchObject({ status: 'completed', ml: PLANNED_ML, givenMg: 80 });
  });

  it.each(['given', 'not_given'] as const)('a silent pump: the dose becomes unknown, blocks the patient today and tomorrow, until the nurse records %s', async (decision) => {
    const w = await world({ flow: 4, behaviour: { silenceFromMl: 3 } });
    const p = await w.addPatient('Phạm Văn Đức');
    const pending = await startPumpDose(w, p);
    const end = await pollToEnd(w, pending.id);
    const unknown = await doseRow(w.db, pending.id);
    // Unknown, with the last volume the pump spoke of (it went silent at 3 ml).
    expect(unknown.status).toBe('unknown');
    expect(unknown.ml).toBeGreaterThan(0);
    expect(unknown.ml).toBeLessThanOrEqual(3);
    expect(unknown.givenMg).toBe(Math.round(unknown.ml * 10 * 10) / 10);
    expect(end.html).toContain(esc(t.pump_unknown_title));
    expect(end.html).toContain(esc(t.pump_unknown_text({ ml: mlText(unknown.ml) })));
    expect((await eventsOf(w.db, pending.id)).map((e) => [e.kind, e.details])).toEqual([
      ['dispense', { ml: PLANNED_ML, mg: 80 }],
      ['unknown', { ml: unknown.ml }],
    ]);
    // The silent pump is not offered to anyone.
    await until('the pump to be offline', () => w.readiness()?.state === 'offline');
    // Meanwhile the pump delivered the whole dose: only the nurse at the cup can know.
    const whole = await until('the silent pump to finish', async () => {
      const [x] = txnIn(await w.sim.report(), pending.id);
      return x?.state === 'DONE' ? x : null;
    });
    expect(whole.deliveredMl).toBe(PLANNED_ML);

    // Scanning the patient again: the unknown step; a dose request is refused and writes nothing.
    const card = await w.nurse.get(`/counter/card/${p.id}?clinic=${w.clinic.id}`);
    expect(card.html).toContain(esc(t.pump_unknown_title));
    const count = async () => (await w.db.select().from(doses).where(eq(doses.patientId, p.id))).length;
    const refused = await w.nurse.post('/counter/dose', { clinic: w.clinic.id, patient: p.id, requestId: randomUUID(), part: '1', mg: '80', intoxication: 'none', breathAlcohol: '', outcome: 'given' });
    expect(refused.res.status).toBe(409);
    // Told why (the unresolved pump dose, asked before the rules), and the card shows the unknown step.
    expect(refused.html).toContain(esc(t.pump_err_unresolved));
    expect(refused.html).toContain(esc(t.pump_unknown_title));
    expect(await count()).toBe(2);

    // The next morning the order still covers the patient, and the unknown dose still blocks them.
    w.clock.set(NEXT_MORNING);
    await w.login();
    const tomorrow = await w.nurse.get(`/counter/card/${p.id}?clinic=${w.clinic.id}`);
    expect(tomorrow.html).toContain(esc(t.pump_unknown_title));
    const blocked = await w.nurse.post('/counter/dose', { clinic: w.clinic.id, patient: p.id, requestId: randomUUID(), part: '1', mg: '80', intoxication: 'none', breathAlcohol: '', outcome: 'given' });
    expect(blocked.res.status).toBe(409);
    expect(blocked.html).toContain(esc(t.pump_err_unresolved));
    expect(await count()).toBe(2);

    // A volume beyond the planned dose is refused; then the nurse records what she found.
    const tooMuch = await resolve(w, pending.id, 'given', '9,5');
    expect(tooMuch.res.status).toBe(422);
    expect(tooMuch.html).toContain(esc(t.pump_err_ml));
    expect(await doseRow(w.db, pending.id)).toEqual(unknown);
    const resolved = await resolve(w, pending.id, decision, decision === 'given' ? '8' : undefined);
    expect(resolved.res.status).toBe(200);
    const final = await doseRow(w.db, pending.id);
    if (decision === 'given') {
      expect(final).toMatchObject({ status: 'completed', ml: PLANNED_ML, givenMg: 80, serviceDay: TODAY });
      expect(await slotOf(w.db, pending.id)).toMatchObject({ serviceDay: TODAY });
    } else {
      expect(final).toMatchObject({ status: 'failed', ml: unknown.ml, givenMg: 0, serviceDay: TODAY });
      expect(await slotOf(w.db, pending.id)).toBeNull();
    }
    const events = await eventsOf(w.db, pending.id);
    expect(events.map((e) => e.kind)).toEqual(['dispense', 'unknown', 'resolve']);
    expect(events[2]!.details).toEqual({ decision, pumpMl: unknown.ml, handMl: 0, ml: final.ml, from: 'unknown' });
    const audits = await auditsOf(w.db, pending.id);
    expect(audits.map((a) => a.action)).toEqual(['dose_record', 'dose_pump_outcome', 'dose_pump_resolve']);
    expect(audits[1]!.details).toMatchObject({ outcome: 'unknown', ml: unknown.ml });
    expect(audits[2]).toMatchObject({ actorId: w.nurseUser.id, details: { decision, ml: final.ml } });

    // Resolved: today's dose may be given (by hand: the pump is still silent).
    const { check } = await handDose(w, p);
    expect(check.html).toContain(esc(t.pump_offline({ name: 'Bơm A' })));
    const report = await w.sim.report();
    expect(report.dispenseCommands).toBe(1);
    expect(report.deliveredMl).toBe(PLANNED_ML);
    expect(await verifyAuditChain(w.db)).toMatchObject({ ok: true });
  });

  it('the pump unplugged mid-dose: unknown; the counter says "pump offline" and doses by hand; plugged back, the pump is ready by itself', async () => {
    const w = await world({ flow: 4 });
    const p = await w.addPatient('Nguyễn Thị Mai');
    const other = await w.addPatient('Hoàng Văn Tú');
    const pending = await startPumpDose(w, p);
    await until('two ml delivered', () => (w.runtime.progress(pending.id)?.ml ?? 0) >= 2);
    await w.sim.command({ cmd: 'unplug' });
    const end = await pollToEnd(w, pending.id);
    const unknown = await doseRow(w.db, pending.id);
    expect(unknown.status).toBe('unknown');
    expect(unknown.ml).toBeGreaterThanOrEqual(2);
    expect(unknown.ml).toBeLessThan(PLANNED_ML);
    expect(end.html).toContain(esc(t.pump_unknown_text({ ml: mlText(unknown.ml) })));
    expect(w.readiness()).toEqual({ state: 'offline' });

    // The next patient: "pump offline" where the pump button was, and the hand-measured dose works.
    const { check, given } = await handDose(w, other);
    expect(check.html).toContain(esc(t.pump_offline({ name: 'Bơm A' })));
    expect(check.html).not.toContain('name="pump"');
    expect(given.html).toContain(esc(t.ctr_result_given({ name: 'Hoàng Văn Tú', mg: '80', ml: '8' })));

    // Plugged back: the line reopens, the pump answers HELLO, and it is ready without anyone restarting anything.
    await w.sim.command({ cmd: 'replug' });
    await until('the pump to be ready again', () => w.readiness()?.state === 'ready');
    // The unknown dose is not re-sent nor settled by itself: it waits for the nurse.
    expect(await doseRow(w.db, pending.id)).toEqual(unknown);
    const card = await w.nurse.get(`/counter/card/${p.id}?clinic=${w.clinic.id}`);
    expect(card.html).toContain(esc(t.pump_unknown_title));
    expect((await resolve(w, pending.id, 'given', '8')).res.status).toBe(200);
    expect(await doseRow(w.db, pending.id)).toMatchObject({ status: 'completed', ml: PLANNED_ML, givenMg: 80 });
    expect((await eventsOf(w.db, pending.id)).map((e) => e.kind)).toEqual(['dispense', 'unknown', 'resolve']);
    expect((await auditsOf(w.db, pending.id)).map((a) => a.action)).toEqual(['dose_record', 'dose_pump_outcome', 'dose_pump_resolve']);
    const report = await w.sim.report();
    expect(report.dispenseCommands).toBe(1);
    expect(txnIn(report, pending.id)).toEqual([expect.objectContaining({ state: 'DONE', deliveredMl: PLANNED_ML })]);
  });
});
