// Whether the counter may dose with the pump, and the day's check of what it
// delivered, through the real app and a real serial line (the simulator as
// its own process on a socat PTY pair): a pump unplugged or switched off while
// idle is noticed within 5 s; a pump that answers with another SERIAL, or whose
// calibration is older than the clinic's limit, is blocked until an
// authorised user confirms the device or records a calibration; at day close
// the volume the pump reported is compared with the dose records.
import { and, eq } from 'drizzle-orm';
import { afterEach, expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { auditLog, doses, pumpEvents, pumps, sessions } from '../../db/schema.ts';
import { txnOfDose } from '../../devices/mpp/protocol.ts';
import { pumpOptions } from '../../devices/options.ts';
import { closeDay } from '../../server/services/day-close.ts';
import { messages } from '../../views/i18n/index.ts';
import { formatNumber } from '../../views/format.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import type { SimReport } from '../helpers/pump-sim.ts';
import { cardFields, field, MORNING, PLANNED_ML, pumpWorld, stopPumpWorlds, TODAY, until, type Patient, type PumpWorld as World, type PumpWorldOptions } from '../helpers/pump-world.ts';

const t = messages('vi');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
/** Volumes as the pump page writes them. */
const pageMl = (n: number) => formatNumber(n, 'vi', 1);
const HOUR = 3_600_000;

afterEach(stopPumpWorlds);

describeEachDatabase('whether the counter may dose with the pump, and the day close of its volume', (get) => {
  /** The pump connected and identified: ready, or blocked for a reason of its own. */
  const world = (opts: PumpWorldOptions = {}) => pumpWorld(get().db, { answered: ['ready', 'blocked'], ...opts });

  /** The confirmation step of a patient's card: where the pump button is, or why it is not. */
  async function confirmStep(w: World, p: Patient) {
    const f = await cardFields(w, p);
    const check = await w.nurse.post('/counter/check', { ...f, intoxication: 'none' });
    expect(check.res.status).toBe(200);
    return { f, html: check.html };
  }

  /** A whole pump dose as the nurse does it, polled to its end; returns the dose as recorded. */
  async function pumpDose(w: World, p: Patient) {
    // As the nurse would: the pump just done with the previous patient may say "busy" until its next STATUS.
    await until('the pump to be ready', () => w.readiness()?.state === 'ready');
    const { f, html } = await confirmStep(w, p);
    expect(html).toContain(`name="pump" value="${w.pump.id}"`);
    const started = await w.nurse.post('/counter/dose', { ...f, intoxication: 'none', breathAlcohol: '', outcome: 'given', pump: w.pump.id });
    // The pump's progress, or — when its ACK came late on a loaded machine and the QUERY found it done — the result.
    expect(started.res.status).toBe(200);
    const [pending] = await w.db.select().from(doses).where(eq(doses.requestId, f.requestId));
    await until('the pump step to finish', async () => (await w.nurse.get(`/counter/pump/${pending!.id}?clinic=${w.clinic.id}`)).res.headers.get('HX-Retarget'), 20_000);
    await w.runtime.settled(pending!.id);
    const [d] = await w.db.select().from(doses).where(eq(doses.id, pending!.id));
    return d!;
  }

  const pumpEventsOf = (db: Db, pumpId: string, kind: string) =>
    db
      .select()
      .from(pumpEvents)
      .where(and(eq(pumpEvents.pumpId, pumpId), eq(pumpEvents.kind, kind as 'confirm')))
      .orderBy(pumpEvents.id);
  const auditsOfPump = (db: Db, pumpId: string) => db.select().from(auditLog).where(and(eq(auditLog.entityType, 'pump'), eq(auditLog.entityId, pumpId))).orderBy(auditLog.id);
  const doseCount = async (db: Db, clinicId: string) => (await db.select().from(doses).where(eq(doses.clinicId, clinicId))).length;
  const deliveredFor = (r: SimReport, doseIds: string[]) => Math.round(r.transactions.filter((x) => doseIds.map(txnOfDose).includes(x.txn)).reduce((s, x) => s + x.deliveredMl, 0) * 10) / 10;

  it('a pump unplugged, then switched off, while idle is noticed within 5 s with the default heartbeat, and comes back by itself', async () => {
    const defaults = pumpOptions();
    const w = await world({ options: defaults });
    const p = await w.addPatient('Vũ Văn Hải');
    expect((await confirmStep(w, p)).html).toContain(`name="pump" value="${w.pump.id}"`);

    // Unplugged: the line closes.
    let from = Date.now();
    await w.sim.command({ cmd: 'unplug' });
    await until('the unplugged pump to be offline', () => w.readiness()?.state === 'offline', 5000);
    expect(Date.now() - from).toBeLessThan(5000);
    const offline = await confirmStep(w, p);
    expect(offline.html).toContain(esc(t.pump_offline({ name: 'Bơm A' })));
    expect(offline.html).not.toContain('name="pump"');
    // The pump page, left open, sees it on its next refresh of the state.
    const state = await w.nurse.get(`/pumps/${w.pump.id}/state`, { 'hx-request': 'true' });
    expect(state.res.status).toBe(200);
    expect(state.html).toMatch(/^<dl class="facts" id="pump-facts" hx-get="\/pumps\/[^"]+\/state\?tools=off" hx-trigger="every 5s"/);
    expect(state.html).toContain(`class="pump-state-offline">${esc(t.pump_state_offline)}`);
    // The calibration and priming forms drawn while it answered are replaced, out of band, by a line saying why they went;
    // a page that already shows that line is left alone (a volume being typed is not wiped by every refresh).
    const toolsGone = await w.nurse.get(`/pumps/${w.pump.id}/state?tools=on`, { 'hx-request': 'true' });
    expect(toolsGone.html).toContain(`hx-get="/pumps/${w.pump.id}/state?tools=off"`);
    expect(toolsGone.html).toContain('<div id="pump-tools" class="pump-tools" hx-swap-oob="true"><p class="muted" data-tools="off">');
    expect(toolsGone.html).toContain(esc(t.pump_tools_offline));
    expect(toolsGone.html).not.toContain(`action="/pumps/${w.pump.id}/prime"`);
    expect((await w.nurse.get(`/pumps/${w.pump.id}/state?tools=off`, { 'hx-request': 'true' })).html).not.toContain('id="pump-tools"');
    const offlinePage = await w.nurse.get(`/pumps/${w.pump.id}`);
    expect(offlinePage.html).toContain(esc(t.pump_tools_offline));
    expect(offlinePage.html).not.toContain(`action="/pumps/${w.pump.id}/prime"`);
    await w.sim.command({ cmd: 'replug' });
    await until('the pump to be back', () => w.readiness()?.state === 'ready', defaults.reconnectMs + defaults.statusIntervalMs + 5000);
    // Back: the page left showing the line gets the forms again on its next refresh.
    const toolsBack = await w.nurse.get(`/pumps/${w.pump.id}/state?tools=off`, { 'hx-request': 'true' });
    expect(toolsBack.html).toContain(`hx-get="/pumps/${w.pump.id}/state?tools=on"`);
    expect(toolsBack.html).toContain(`action="/pumps/${w.pump.id}/prime"`);
    expect(toolsBack.html).toContain(`action="/pumps/${w.pump.id}/calibration/test"`);
    expect(toolsBack.html).not.toContain(esc(t.pump_tools_offline));
    expect((await w.nurse.get(`/pumps/${w.pump.id}/state?tools=on`, { 'hx-request': 'true' })).html).not.toContain('id="pump-tools"');

    // Switched off: the line stays open, the pump stops answering the heartbeat.
    from = Date.now();
    await w.sim.command({ cmd: 'powerCycle', offMs: 6000 });
    await until('the switched-off pump to be offline', () => w.readiness()?.state === 'offline', 5000);
    expect(Date.now() - from).toBeLessThan(5000);
    expect(w.runtime.station(w.pump.id)!.line.open).toBe(true);
    expect((await confirmStep(w, p)).html).toContain(esc(t.pump_offline({ name: 'Bơm A' })));
    // Power back: identified again (HELLO) on the next beats, and ready.
    await until('the pump to be back on', () => w.readiness()?.state === 'ready', 6000 + defaults.statusIntervalMs * 2 + 3000);
    expect((await confirmStep(w, p)).html).toContain(`name="pump" value="${w.pump.id}"`);
    expect((await w.sim.report()).dispenseCommands).toBe(0);
  }, 40_000);

  it.each([
    { expectedSerial: null, reason: 'unconfirmed' },
    { expectedSerial: 'SIM-OTHER', reason: 'serial_mismatch' },
  ] as const)('the pump answers SERIAL SIM-0001 where $expectedSerial is registered: blocked ($reason) until a manager confirms it', async ({ expectedSerial, reason }) => {
    const w = await world({ expectedSerial });
    expect(w.readiness()).toEqual({ state: 'blocked', reason });
    const p = await w.addPatient('Trần Văn Nam');

    // The counter names the block and offers no pump button; a forged pump dose writes nothing.
    const { f, html } = await confirmStep(w, p);
    const blockedText = esc(t[`pump_blocked_${reason}`]({ name: 'Bơm A' }));
    expect(html).toContain(blockedText);
    expect(html).not.toContain('name="pump"');
    const before = await doseCount(w.db, w.clinic.id);
    const forged = await w.nurse.post('/counter/dose', { ...f, intoxication: 'none', breathAlcohol: '', outcome: 'given', pump: w.pump.id });
    expect(forged.res.status).toBe(409);
    expect(forged.html).toContain(blockedText);
    expect(await doseCount(w.db, w.clinic.id)).toBe(before);

    // The nurse sees the pump page but may not confirm.
    const nursePage = await w.nurse.get(`/pumps/${w.pump.id}`);
    expect(nursePage.res.status).toBe(200);
    expect(nursePage.html).not.toContain(`action="/pumps/${w.pump.id}/confirm"`);
    expect((await w.nurse.post(`/pumps/${w.pump.id}/confirm`, { serial: 'SIM-0001' })).res.status).toBe(403);

    // The manager's page shows what the pump answers and the confirmation step.
    const page = await w.manager.get(`/pumps/${w.pump.id}`);
    expect(page.html).toContain(esc(t.pump_serial_seen({ seen: 'SIM-0001', expected: expectedSerial ?? '—' })));
    expect(page.html).toContain(`action="/pumps/${w.pump.id}/confirm"`);
    expect(field(page.html, 'serial')).toBe('SIM-0001');
    // Only the serial the pump answers with now: never a typed one.
    expect((await w.manager.post(`/pumps/${w.pump.id}/confirm`, { serial: 'SIM-TYPED' })).res.status).toBe(409);
    expect((await w.db.select().from(pumps).where(eq(pumps.id, w.pump.id)))[0]!.expectedSerial).toBe(expectedSerial);
    expect(w.readiness()).toEqual({ state: 'blocked', reason });

    const confirmed = await w.manager.post(`/pumps/${w.pump.id}/confirm`, { serial: 'SIM-0001' });
    expect(confirmed.res.status).toBe(200);
    expect(confirmed.html).toContain(esc(t.pump_confirmed({ serial: 'SIM-0001' })));
    expect(w.readiness()).toEqual({ state: 'ready' });
    expect((await w.db.select().from(pumps).where(eq(pumps.id, w.pump.id)))[0]!.expectedSerial).toBe('SIM-0001');
    const events = await pumpEventsOf(w.db, w.pump.id, 'confirm');
    expect(events.map((e) => [e.details, e.by])).toEqual([[{ serial: 'SIM-0001', previous: expectedSerial }, w.managerUser.id]]);
    const audits = await auditsOfPump(w.db, w.pump.id);
    expect(audits.map((a) => [a.action, a.actorId, a.details])).toEqual([['pump_confirm', w.managerUser.id, { serial: 'SIM-0001', previous: expectedSerial }]]);

    // Now the counter offers the pump, and it doses.
    const d = await pumpDose(w, p);
    expect(d).toMatchObject({ status: 'completed', ml: PLANNED_ML, method: 'pump' });
  });

  it.each([
    { name: 'never calibrated', calibratedAt: null },
    { name: "calibrated 25 h ago, over the clinic's 24 h", calibratedAt: new Date(MORNING.getTime() - 25 * HOUR) },
  ])('calibration due ($name): blocked until the calibration check is recorded through the pump page', async ({ calibratedAt }) => {
    const w = await world({ calibratedAt, behaviour: { deliveryError: 1.02 } });
    expect(w.readiness()).toEqual({ state: 'blocked', reason: 'calibration_due' });
    const p = await w.addPatient('Lê Thị Hoa');
    const { html } = await confirmStep(w, p);
    expect(html).toContain(esc(t.pump_blocked_calibration_due({ name: 'Bơm A' })));
    expect(html).not.toContain('name="pump"');

    // The nurse runs the check from the pump page: a cylinder reading with no test volume is refused.
    const page = await w.nurse.get(`/pumps/${w.pump.id}`);
    expect(page.html).toContain(`action="/pumps/${w.pump.id}/calibration/test"`);
    const early = await w.nurse.post(`/pumps/${w.pump.id}/calibration`, { measured: '10' });
    expect(early.res.status).toBe(409);
    expect(early.html).toContain(esc(t.pump_err_cal_no_test));

    const tested = await w.nurse.post(`/pumps/${w.pump.id}/calibration/test`, { ml: '10' });
    expect(tested.res.status).toBe(200);
    expect(tested.html).toContain(esc(t.pump_cal_reported({ ml: pageMl(10.2) })));
    expect(tested.html).toContain(`action="/pumps/${w.pump.id}/calibration"`);
    const [test] = (await pumpEventsOf(w.db, w.pump.id, 'calibration')).filter((e) => (e.details as { step: string }).step === 'test');
    const testDetails = test!.details as { txn: string; askedMl: number; reportedMl: number; factor: number };
    expect(testDetails).toMatchObject({ askedMl: 10, reportedMl: 10.2, factor: 1 });
    // The test volume recorded is the pump's own transaction: the records and the pump agree on it.
    const afterTest = await w.sim.report();
    expect(afterTest.transactions).toEqual([expect.objectContaining({ txn: testDetails.txn, requestedMl: 10, deliveredMl: 10.2, state: 'DONE' })]);
    // Still blocked until the reading is recorded.
    expect(w.readiness()).toEqual({ state: 'blocked', reason: 'calibration_due' });

    const set = await w.nurse.post(`/pumps/${w.pump.id}/calibration`, { measured: '10' });
    expect(set.res.status).toBe(200);
    expect(set.html).toContain(esc(t.pump_cal_done({ old: '1', factor: formatNumber(1.02, 'vi', 3) })));
    const report = await w.sim.report();
    expect(report.calFactor).toBe(1.02);
    const setEvents = (await pumpEventsOf(w.db, w.pump.id, 'calibration')).filter((e) => (e.details as { step: string }).step === 'set' && e.at.getTime() === MORNING.getTime());
    expect(setEvents.map((e) => [e.details, e.by])).toEqual([[{ step: 'set', old: 1, factor: 1.02, measuredMl: 10, reportedMl: 10.2, txn: testDetails.txn }, w.nurseUser.id]]);
    const audits = await auditsOfPump(w.db, w.pump.id);
    expect(audits.map((a) => [a.action, a.actorId, a.details])).toEqual([['pump_calibrate', w.nurseUser.id, { old: 1, factor: 1.02, measuredMl: 10, reportedMl: 10.2, txn: testDetails.txn }]]);
    // Calibrated now; 'busy' at most until the next STATUS after the test volume.
    expect(w.readiness()?.state).not.toBe('blocked');
    await until('the pump to be ready', () => w.readiness()?.state === 'ready');
    // The test volume is no dose: nothing was written for a patient.
    expect(await doseCount(w.db, w.clinic.id)).toBe(1);
    expect((await confirmStep(w, p)).html).toContain(`name="pump" value="${w.pump.id}"`);
  });

  it("a calibration 25 h old is good at a clinic whose limit is 48 h", async () => {
    const w = await world({ calibratedAt: new Date(MORNING.getTime() - 25 * HOUR), calibrationMaxHours: 48 });
    expect(w.readiness()).toEqual({ state: 'ready' });
    // And past the limit, the same pump is blocked (the limit is the clinic's, read at the moment of asking).
    w.clock.set(new Date(MORNING.getTime() + 24 * HOUR));
    expect(w.readiness()).toEqual({ state: 'blocked', reason: 'calibration_due' });
  });

  it("an alarm the idle pump raises (RESERVOIR_LOW) goes into the pump's log and shows on its page", async () => {
    const w = await world();
    await w.sim.command({ cmd: 'alarm', code: 'RESERVOIR_LOW' });
    const [alarm] = await until('the alarm to be recorded', async () => {
      const rows = await pumpEventsOf(w.db, w.pump.id, 'alarm');
      return rows.length ? rows : null;
    });
    expect(alarm!.details).toEqual({ code: 'RESERVOIR_LOW' });
    expect(alarm!.doseId).toBeNull();
    const page = await w.nurse.get(`/pumps/${w.pump.id}`);
    expect(page.html).toContain(esc(t.pump_event_alarm({ code: 'RESERVOIR_LOW' })));
    expect(page.html).toContain('hx-get="/pumps/' + w.pump.id + '/state?tools=on"');
    // The page's refresh carries the log out of band, the alarm in it.
    const state = await w.nurse.get(`/pumps/${w.pump.id}/state`, { 'hx-request': 'true' });
    expect(state.html).toContain('<section id="pump-log" hx-swap-oob="true">');
    expect(state.html.slice(state.html.indexOf('id="pump-log"'))).toContain(esc(t.pump_event_alarm({ code: 'RESERVOIR_LOW' })));
    expect((await w.nurse.get(`/pumps/00000000-0000-4000-8000-000000000000/state`)).res.status).toBe(404);
  });

  it("the pump page's refresh every 5 s does not keep an unattended session alive; opening the page does", async () => {
    const w = await world();
    const seen = async () => (await w.db.select({ at: sessions.lastSeenAt }).from(sessions).where(eq(sessions.userId, w.nurseUser.id)))[0]!.at.getTime();
    const start = await seen();
    for (let i = 0; i < 3; i++) {
      w.clock.advance(5 * 60_000);
      expect((await w.nurse.get(`/pumps/${w.pump.id}/state`, { 'hx-request': 'true' })).res.status).toBe(200);
    }
    expect(await seen()).toBe(start);
    await w.nurse.get(`/pumps/${w.pump.id}`);
    expect(await seen()).toBe(w.clock.now().getTime());
  });

  it('day close: the volume the pump reported for the day matches the records (a fault topped up by hand included)', async () => {
    const w = await world({ behaviour: { deliveryError: 0.99 } });
    const a = await w.addPatient('Vũ Văn Hải');
    const b = await w.addPatient('Trần Văn Nam');
    const c = await w.addPatient('Lê Thị Hoa');
    const da = await pumpDose(w, a);
    const dc = await pumpDose(w, c);
    expect([da.ml, dc.ml]).toEqual([7.9, 7.9]);
    await w.sim.set({ faultAt: { code: 'OCCLUSION', ml: 3 } });
    const db_ = await pumpDose(w, b);
    expect(db_).toMatchObject({ status: 'pending' });
    expect((await w.nurse.post(`/counter/pump/${db_.id}/resolve`, { clinic: w.clinic.id, decision: 'top_up' })).res.status).toBe(200);
    const [topped] = await w.db.select().from(doses).where(eq(doses.id, db_.id));
    expect(topped).toMatchObject({ status: 'completed', ml: PLANNED_ML, givenMg: 80 });

    const report = await w.sim.report();
    const pumpMl = deliveredFor(report, [da.id, db_.id, dc.id]);
    expect(pumpMl).toBe(18.8);
    expect(report.deliveredMl).toBe(pumpMl);
    expect(report.dispenseCommands).toBe(3);
    const closed = await closeDay({ db: w.db, clock: w.clock }, w.clinic.id, TODAY, null, { email: false, webhook: false });
    // The 5 ml topped up by hand are the nurse's, not the pump's.
    expect(closed?.pumpVolumes).toEqual([{ pumpId: w.pump.id, pumpMl, recordMl: pumpMl, differs: false }]);
    const volumes = await pumpEventsOf(w.db, w.pump.id, 'day_volume');
    expect(volumes.map((e) => e.details)).toEqual([{ day: TODAY, pumpMl, recordMl: pumpMl, differs: false }]);
    // Closed once: a second run finds the day closed and writes nothing more.
    expect(await closeDay({ db: w.db, clock: w.clock }, w.clinic.id, TODAY, null, { email: false, webhook: false })).toBeNull();
    expect(await pumpEventsOf(w.db, w.pump.id, 'day_volume')).toHaveLength(1);
    const page = await w.nurse.get(`/pumps/${w.pump.id}`);
    expect(page.html).toContain(esc(t.pump_day_volume({ day: TODAY, pump: pageMl(pumpMl), records: pageMl(pumpMl) })));
    expect(page.html).not.toContain(esc(t.pump_day_volume_differs));
  });

  it('day close: an unknown dose recorded as given with more than the pump reported is flagged on the pump page', async () => {
    const w = await world({ flow: 4, behaviour: { deliveryError: 0.99 } });
    const a = await w.addPatient('Vũ Văn Hải');
    const b = await w.addPatient('Trần Văn Nam');
    const da = await pumpDose(w, a);
    expect(da).toMatchObject({ status: 'completed', ml: 7.9 });
    await w.sim.set({ silenceFromMl: 3 });
    const db_ = await pumpDose(w, b);
    expect(db_.status).toBe('unknown');
    const heard = db_.ml;
    expect(heard).toBeGreaterThan(0);
    expect(heard).toBeLessThanOrEqual(3);
    // The nurse finds a full cup and records it.
    expect((await w.nurse.post(`/counter/pump/${db_.id}/resolve`, { clinic: w.clinic.id, decision: 'given', ml: '7,9' })).res.status).toBe(200);
    // The pump itself did deliver it all (it went silent, not dry): its memory agrees with the nurse, not with what the host heard.
    const whole = await until('the silent pump to finish', async () => {
      const r = await w.sim.report();
      return r.transactions.find((x) => x.txn === txnOfDose(db_.id) && x.state === 'DONE') ? r : null;
    });
    expect(deliveredFor(whole, [da.id, db_.id])).toBe(15.8);

    const closed = await closeDay({ db: w.db, clock: w.clock }, w.clinic.id, TODAY, null, { email: false, webhook: false });
    const pumpMl = Math.round((7.9 + heard) * 10) / 10;
    expect(closed?.pumpVolumes).toEqual([{ pumpId: w.pump.id, pumpMl, recordMl: 15.8, differs: true }]);
    const [volume] = await pumpEventsOf(w.db, w.pump.id, 'day_volume');
    expect(volume!.details).toEqual({ day: TODAY, pumpMl, recordMl: 15.8, differs: true });
    const page = await w.nurse.get(`/pumps/${w.pump.id}`);
    expect(page.html).toContain(`<li data-kind="day_volume" class="warn">`);
    expect(page.html).toContain(esc(`${t.pump_day_volume({ day: TODAY, pump: pageMl(pumpMl), records: pageMl(15.8) })} ${t.pump_day_volume_differs}`));
  });
});
