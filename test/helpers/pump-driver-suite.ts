// One test suite of the MPP/1 driver (devices/mpp/driver.ts), written once and
// run over every transport a "rig" can build: serialport's mock binding with
// the simulator in-process, and a real PTY pair with the simulator CLI as a
// separate process (the node-serialport pattern; drizzle's shared pg suite).
// Each test runs the real driver on a real SerialLine against a fresh
// simulated pump whose behaviour the test bends (the Z-Wave JS pattern), then
// checks both what the driver concluded and what the pump says it delivered.
// The driver must never be the cause of a second delivery: every test counts
// the DISPENSE frames the pump heard.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MppDriver } from '../../devices/mpp/driver.ts';
import type { SerialLine } from '../../devices/mpp/line.ts';
import { pumpOptions, type PumpOptions } from '../../devices/options.ts';
import { PumpError, type DispenseOutcome, type PumpEvent } from '../../devices/pump.ts';
import type { Behaviour, SimReport } from '../../devices/simulator/core.ts';

/** A simulated pump on some transport, with the real driver on a real SerialLine attached to it. */
export interface PumpRig {
  driver: MppDriver;
  line: SerialLine;
  set(patch: Partial<Behaviour>): Promise<void>;
  report(): Promise<SimReport>;
  powerCycle(offMs: number): Promise<void>;
  speak(): Promise<void>;
  /** A restarted host: closes the driver and its line, then opens a new driver on a new line to the same pump. */
  restartHost(): Promise<MppDriver>;
  /** Pulls the cable (only where the transport has one to pull: the PTY rig). */
  unplug?(): Promise<void>;
  replug?(): Promise<void>;
  close(): Promise<void>;
}

export interface RigSetup {
  options: PumpOptions;
  behaviour: Partial<Behaviour>;
  /** HELLO's SERIAL, so identify can be checked against something the test chose. */
  serial: string;
}

export type RigFactory = (setup: RigSetup) => Promise<PumpRig>;

/** One host on a rig's pump: a line open to it and the driver on that line. */
export type RigHost = Pick<PumpRig, 'driver' | 'line'>;

/**
 * A rig from its pump's controls and a way to open a host to that pump: the
 * first host now; restartHost closes the driver and opens the next; close is
 * the transport's own teardown.
 */
export async function hostedRig(pump: Omit<PumpRig, keyof RigHost | 'restartHost' | 'close'>, host: () => Promise<RigHost>, close: () => Promise<void>): Promise<PumpRig> {
  const first = await host();
  const rig: PumpRig = {
    ...first,
    ...pump,
    async restartHost() {
      await rig.driver.close();
      const next = await host();
      rig.driver = next.driver;
      rig.line = next.line;
      return next.driver;
    },
    close,
  };
  return rig;
}

export interface SuiteCaps {
  /** Whether the rig can unplug and replug the line. */
  unplug: boolean;
  /** Why the whole suite cannot run here (a tool missing): it is reported as skipped, never as passed. */
  skip?: string | false;
}

/** Short timeouts so the whole suite runs in seconds; the real timers, not fake ones. */
export const SUITE_OPTIONS = pumpOptions({
  answerTimeoutMs: 200,
  commandRetries: 2,
  silenceMs: 600,
  queryRetries: 3,
  queryIntervalMs: 250,
  reconnectMs: 250,
  primeTimeoutMs: 5000,
});

/** A fast pump that reports often: a 10 ml dose takes 500 ms and reports about every 1 ml. */
export const SUITE_BEHAVIOUR: Partial<Behaviour> = { flowMlPerS: 20, progressIntervalMs: 50 };

export const SERIAL = 'SIM-RIG-7';

/** Polls until `check` holds (or fails the test after `ms`). */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let txnCounter = 0;
/** A fresh transaction id per dose (A-Za-z0-9-, as MPP/1 allows). */
const newTxn = () => `T-${process.pid}-${++txnCounter}`;

function txnOf(r: SimReport, txn: string) {
  const t = r.transactions.find((x) => x.txn === txn);
  if (!t) throw new Error(`the pump has no transaction ${txn}`);
  return t;
}

/** Progress callbacks as they came, for the dose under test. */
function recorder() {
  const seen: number[] = [];
  return { seen, on: (ml: number) => seen.push(ml), last: () => seen.at(-1) ?? 0 };
}

function expectIncreasing(seen: number[]): void {
  for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
  if (seen.length > 1) expect(seen.at(-1)!).toBeGreaterThan(seen[0]!);
}

export function pumpDriverSuite(transport: string, makeRig: RigFactory, caps: SuiteCaps): void {
  describe.skipIf(Boolean(caps.skip))(`MPP/1 driver over ${transport}${caps.skip ? ` (skipped: ${caps.skip})` : ''}`, () => {
    let rig: PumpRig;
    let events: PumpEvent[];

    async function start(behaviour: Partial<Behaviour> = {}, options: Partial<PumpOptions> = {}): Promise<void> {
      rig = await makeRig({ options: { ...SUITE_OPTIONS, ...options }, behaviour: { ...SUITE_BEHAVIOUR, ...behaviour }, serial: SERIAL });
      events = [];
      rig.driver.onEvent((e) => events.push(e));
    }

    /** A fresh dose of `ml` sent to the pump (bent by `behaviour` first), its progress recorded. */
    async function dose(behaviour: Partial<Behaviour> | null = null, ml = 10) {
      if (behaviour) await rig.set(behaviour);
      const txn = newTxn();
      const p = recorder();
      return { txn, p, h: rig.driver.dispense(txn, ml, p.on) };
    }

    /** What the pump says once a dose ended DONE with `ml`: that volume in its transaction, from the one DISPENSE it heard. */
    async function expectDoneOnce(txn: string, ml = 10): Promise<SimReport> {
      const r = await rig.report();
      expect(txnOf(r, txn)).toMatchObject({ state: 'DONE', deliveredMl: ml });
      expect(r.dispenseCommands).toBe(1);
      return r;
    }

    beforeEach(async () => {
      await start();
    });

    afterEach(async () => {
      await rig?.close();
    });

    describe('commands', () => {
      it('identify: HELLO answers with the model, serial and firmware', async () => {
        expect(rig.driver.online).toBe(true);
        await expect(rig.driver.identify()).resolves.toEqual({ model: 'MPP-SIM', serial: SERIAL, firmware: '1.0-sim' });
        const r = await rig.report();
        expect(r.framesIn).toBe(1);
        expect(r.badFramesIn).toBe(0);
      });

      it('status: state, reservoir and calibration as the pump reports them', async () => {
        const s = await rig.driver.status();
        const r = await rig.report();
        expect(s).toEqual({ state: 'IDLE', reservoirMl: r.reservoirMl, calFactor: r.calFactor });
        expect(s.reservoirMl).toBe(1000);
        expect(s.calFactor).toBe(1);
      });

      it('prime: resolves with the PRIMED volume, which is not a dose', async () => {
        await expect(rig.driver.prime(5)).resolves.toBe(5);
        const r = await rig.report();
        expect(r.primedMl).toBe(5);
        expect(r.reservoirMl).toBe(995);
        expect(r.deliveredMl).toBe(0);
        expect(r.transactions).toEqual([]);
        expect(r.dispenseCommands).toBe(0);
      });

      it('calibrate: sets the factor that STATUS then reports', async () => {
        await rig.driver.calibrate(1.05);
        expect((await rig.report()).calFactor).toBe(1.05);
        expect((await rig.driver.status()).calFactor).toBe(1.05);
      });

      it('refuses values out of range before anything is sent', async () => {
        for (const [txn, ml] of [
          ['R1', 0],
          ['R1', 0.04],
          ['R1', 200.1],
          ['R1', Number.NaN],
          ['bad txn', 5],
          ['x'.repeat(33), 5],
          ['', 5],
        ] as const) {
          const h = rig.driver.dispense(txn, ml);
          await expect(h.outcome).resolves.toEqual({ kind: 'not_started', reason: 'range' });
          await expect(h.started).resolves.toEqual({ acked: false, outcome: { kind: 'not_started', reason: 'range' } });
        }
        for (const ml of [0, 250, -1]) await expect(rig.driver.prime(ml)).rejects.toMatchObject({ name: 'PumpError', code: 'range' });
        for (const f of [0.4, 1.6, Number.NaN]) await expect(rig.driver.calibrate(f)).rejects.toMatchObject({ name: 'PumpError', code: 'range' });
        const r = await rig.report();
        expect(r.framesIn).toBe(0);
        expect(r.dispenseCommands).toBe(0);
      });
    });

    describe('a dose', () => {
      it('progress rises and DONE gives the measured volume, not the requested one', async () => {
        const { txn, p, h } = await dose({ deliveryError: 0.97 });
        expect(h.txn).toBe(txn);
        await expect(h.started).resolves.toEqual({ acked: true });
        const outcome = await h.outcome;
        expect(outcome).toEqual({ kind: 'done', ml: 9.7 });
        expect(p.seen.length).toBeGreaterThanOrEqual(3);
        expectIncreasing(p.seen);
        expect(p.last()).toBeLessThanOrEqual(9.7);
        expect(events.filter((e) => e.type === 'progress').map((e) => (e as { ml: number }).ml)).toEqual(p.seen);
        const r = await rig.report();
        expect(txnOf(r, txn)).toMatchObject({ state: 'DONE', requestedMl: 10, deliveredMl: 9.7, faultCode: null });
        expect(r.deliveredMl).toBe(9.7);
        expect(r.dispenseCommands).toBe(1);
        // A finished transaction is still known to the driver: watching it again gives the same outcome at once.
        await expect(rig.driver.watch(txn)).resolves.toEqual(outcome);
        await expect(rig.driver.query(txn)).resolves.toEqual({ state: 'DONE', ml: 9.7 });
      });

      it.each(['RESERVOIR_EMPTY', 'AIR_IN_LINE', 'OCCLUSION', 'DOOR_OPEN'] as const)('a %s fault ends it with the code and the volume delivered', async (code) => {
        const { txn, p, h } = await dose({ faultAt: { code, ml: 4 } });
        const outcome = await h.outcome;
        const r = await rig.report();
        const t = txnOf(r, txn);
        expect(t).toMatchObject({ state: 'FAULT', faultCode: code });
        expect(outcome).toEqual({ kind: 'fault', code, ml: t.deliveredMl });
        expect(t.deliveredMl).toBe(4);
        expect(p.last()).toBeLessThanOrEqual(4);
        expect(r.dispenseCommands).toBe(1);
        expect(r.state).toBe('FAULT');
      });

      it('STOP mid-dose ends it in FAULT STOPPED with what went out', async () => {
        const { txn, p, h } = await dose();
        await until(() => p.last() >= 2, 3000, 'progress to 2 ml');
        await rig.driver.stop();
        const outcome = await h.outcome;
        const t = txnOf(await rig.report(), txn);
        expect(t).toMatchObject({ state: 'FAULT', faultCode: 'STOPPED' });
        expect(outcome).toEqual({ kind: 'fault', code: 'STOPPED', ml: t.deliveredMl });
        expect(t.deliveredMl).toBeGreaterThanOrEqual(2);
        expect(t.deliveredMl).toBeLessThan(10);
        const r = await rig.report();
        expect(r.dispenseCommands).toBe(1);
        expect(r.state).toBe('IDLE');
      });

      it('a second dose while one runs is refused BUSY, and the first still completes', async () => {
        const first = newTxn();
        const second = newTxn();
        const a = rig.driver.dispense(first, 10);
        await expect(a.started).resolves.toEqual({ acked: true });
        const b = rig.driver.dispense(second, 5);
        await expect(b.outcome).resolves.toEqual({ kind: 'not_started', reason: 'busy' });
        await expect(b.started).resolves.toEqual({ acked: false, outcome: { kind: 'not_started', reason: 'busy' } });
        await expect(a.outcome).resolves.toEqual({ kind: 'done', ml: 10 });
        const r = await rig.report();
        expect(r.transactions.map((t) => t.txn)).toEqual([first]);
        expect(r.deliveredMl).toBe(10);
        // One DISPENSE each: the refused one was not retried, the first not resent.
        expect(r.dispenseCommands).toBe(2);
      });
    });

    describe('a damaged line', () => {
      it('a corrupted ACK is ignored; QUERY finds the dose RUNNING and it is followed to DONE, never resent', async () => {
        const { txn, p, h } = await dose({ corruptNext: 1 });
        await expect(h.started).resolves.toEqual({ acked: true });
        await expect(h.outcome).resolves.toEqual({ kind: 'done', ml: 10 });
        expect(rig.driver.rejected.checksum).toBe(1);
        expectIncreasing(p.seen);
        const r = await expectDoneOnce(txn);
        expect(r.framesIn).toBeGreaterThanOrEqual(2); // the DISPENSE and at least one QUERY
      });

      it('a corrupted ACK and PROGRESS frames: the garbled ones are dropped, the outcome is right', async () => {
        const { txn, p, h } = await dose({ corruptNext: 4 });
        await expect(h.outcome).resolves.toEqual({ kind: 'done', ml: 10 });
        expect(rig.driver.rejected.checksum).toBe(4);
        expectIncreasing(p.seen);
        await expectDoneOnce(txn);
      });

      it('a corrupted DONE: the silence that follows is met by QUERY, which finds it DONE', async () => {
        // No PROGRESS frames at all, so the DONE is the only frame after the ACK.
        await rig.set({ progressIntervalMs: 10_000 });
        const txn = newTxn();
        const h = rig.driver.dispense(txn, 10);
        await expect(h.started).resolves.toEqual({ acked: true });
        await rig.set({ corruptNext: 1 });
        await expect(h.outcome).resolves.toEqual({ kind: 'done', ml: 10 });
        expect(rig.driver.rejected.checksum).toBe(1);
        await expectDoneOnce(txn);
      });

      it('a dropped ACK: recovered by QUERY, not resent', async () => {
        await rig.set({ dropNext: 1 });
        const txn = newTxn();
        const h = rig.driver.dispense(txn, 10);
        await expect(h.started).resolves.toEqual({ acked: true });
        await expect(h.outcome).resolves.toEqual({ kind: 'done', ml: 10 });
        expect(rig.driver.rejected.checksum).toBe(0);
        await expectDoneOnce(txn);
      });

      it('a pump gone silent mid-dose: after the silence and the QUERY retries the outcome is unknown at the last progress', async () => {
        await rig.set({ silenceFromMl: 3 });
        const txn = newTxn();
        const p = recorder();
        const t0 = Date.now();
        const h = rig.driver.dispense(txn, 10, p.on);
        const outcome = await h.outcome;
        const took = Date.now() - t0;
        expect(outcome).toEqual({ kind: 'unknown', ml: p.last() });
        expect(p.last()).toBeGreaterThan(0);
        expect(p.last()).toBeLessThanOrEqual(3);
        // silenceMs, then 1 + queryRetries QUERYs of queryIntervalMs each.
        expect(took).toBeGreaterThanOrEqual(SUITE_OPTIONS.silenceMs + (SUITE_OPTIONS.queryRetries + 1) * SUITE_OPTIONS.queryIntervalMs - 50);
        // Meanwhile the pump, deaf and mute, delivered the whole dose.
        await expectDoneOnce(txn);
        // Once it speaks again, a QUERY tells what became of it.
        await rig.speak();
        await expect(rig.driver.query(txn)).resolves.toEqual({ state: 'DONE', ml: 10 });
        expect((await rig.report()).dispenseCommands).toBe(1);
      });

      it.each([
        ['shorter than the silence', 300],
        ['longer than the silence, inside the QUERY retries', 1000],
      ])('a power cut mid-dose (%s) ends it in FAULT POWER with the volume delivered', async (_, offMs) => {
        const { txn, h } = await dose({ powerCycleAtMl: { ml: 4, offMs } });
        const outcome = await h.outcome;
        const r = await rig.report();
        const t = txnOf(r, txn);
        expect(t).toMatchObject({ state: 'FAULT', faultCode: 'POWER', deliveredMl: 4 });
        expect(r.powerCycles).toBe(1);
        // The unprompted FAULT POWER carries the code; a QUERY that wins the race only knows it is FAULT.
        expect(outcome.kind).toBe('fault');
        expect(['POWER', 'UNREPORTED']).toContain((outcome as Extract<DispenseOutcome, { kind: 'fault' }>).code);
        expect(outcome).toMatchObject({ ml: t.deliveredMl });
        expect(r.dispenseCommands).toBe(1);
      });

      it.skipIf(!caps.unplug)('unplugged mid-dose: offline, outcome unknown; replugged, the line reopens by itself and QUERY tells the truth', async () => {
        const { txn, p, h } = await dose();
        await until(() => p.last() >= 2, 3000, 'progress to 2 ml');
        await rig.unplug!();
        await until(() => !rig.driver.online, 3000, 'the line to close');
        expect(events).toContainEqual({ type: 'line', open: false });
        const outcome = await h.outcome;
        expect(outcome).toEqual({ kind: 'unknown', ml: p.last() });
        expect(rig.driver.online).toBe(false);
        // A closed line fails a command at once, before anything is written.
        await expect(rig.driver.status()).rejects.toMatchObject({ name: 'PumpError', code: 'offline' });

        await rig.replug!();
        await until(() => rig.driver.online, 5000, 'the line to reopen');
        expect(events.filter((e) => e.type === 'line')).toEqual([
          { type: 'line', open: false },
          { type: 'line', open: true },
        ]);
        const r = await rig.report();
        const t = txnOf(r, txn);
        expect(t).toMatchObject({ state: 'DONE', deliveredMl: 10 });
        await expect(rig.driver.query(txn)).resolves.toEqual({ state: t.state, ml: t.deliveredMl });
        expect((await rig.report()).dispenseCommands).toBe(1);
      });
    });

    describe("the pump's safety net for a restarted host", () => {
      it('a DISPENSE repeated by a new host after the dose: ACK and the same DONE, nothing delivered twice', async () => {
        const txn = newTxn();
        await expect(rig.driver.dispense(txn, 5).outcome).resolves.toEqual({ kind: 'done', ml: 5 });
        const before = await rig.report();
        const old = rig.driver;
        const again = await rig.restartHost();
        expect(again).not.toBe(old);
        const h = again.dispense(txn, 5);
        await expect(h.started).resolves.toEqual({ acked: true });
        await expect(h.outcome).resolves.toEqual({ kind: 'done', ml: 5 });
        const r = await rig.report();
        expect(r.deliveredMl).toBe(before.deliveredMl);
        expect(r.deliveredMl).toBe(5);
        expect(r.transactions).toHaveLength(1);
        expect(txnOf(r, txn)).toMatchObject({ state: 'DONE', deliveredMl: 5 });
        expect(r.dispenseCommands).toBe(2);
      });

      it('a DISPENSE repeated by a new host mid-dose: ACK, the dose goes on once, the new host follows it to DONE', async () => {
        const { txn, p } = await dose();
        await until(() => p.last() >= 2, 3000, 'progress to 2 ml');
        const again = await rig.restartHost();
        const q = recorder();
        const h = again.dispense(txn, 10, q.on);
        await expect(h.started).resolves.toEqual({ acked: true });
        await expect(h.outcome).resolves.toEqual({ kind: 'done', ml: 10 });
        expectIncreasing(q.seen);
        const r = await rig.report();
        expect(r.transactions).toHaveLength(1);
        expect(txnOf(r, txn)).toMatchObject({ state: 'DONE', deliveredMl: 10 });
        expect(r.deliveredMl).toBe(10);
        expect(r.dispenseCommands).toBe(2);
      });
    });

    describe('sequence numbers', () => {
      it('fifty commands in a row each get their own answer', async () => {
        // HELLO and STATUS alternate, so an answer matched to the wrong command would not parse as its own.
        const all = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? rig.driver.status() : rig.driver.identify())));
        all.forEach((a, i) => {
          if (i % 2 === 0) expect(a).toEqual({ state: 'IDLE', reservoirMl: 1000, calFactor: 1 });
          else expect(a).toEqual({ model: 'MPP-SIM', serial: SERIAL, firmware: '1.0-sim' });
        });
        const r = await rig.report();
        // No timeouts, hence no re-sends: one frame per command.
        expect(r.framesIn).toBe(50);
        expect(r.badFramesIn).toBe(0);
      });

      it('late answers carry an old seq and are ignored: they never answer the next command', async () => {
        // 300 ms against a 200 ms timeout: each HELLO's answer lands in the middle of the next try's wait.
        await rig.set({ answerDelayMs: 300 });
        const err = await rig.driver.identify().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PumpError);
        expect(err).toMatchObject({ code: 'timeout' });
        await rig.set({ answerDelayMs: 0 });
        // The pump acts in order, so the last HELLO's answer comes just before this STATUS's: taken for it, it would not parse as a status.
        await expect(rig.driver.status()).resolves.toEqual({ state: 'IDLE', reservoirMl: 1000, calFactor: 1 });
        await expect(rig.driver.identify()).resolves.toMatchObject({ serial: SERIAL });
        const r = await rig.report();
        // HELLO's tries, then STATUS and HELLO; on a loaded machine STATUS may wait behind the last late answer and be asked
        // again (STATUS is safe to repeat) — what matters is that no late answer was taken for it.
        expect(r.framesIn).toBeGreaterThanOrEqual(SUITE_OPTIONS.commandRetries + 1 + 2);
        expect(r.framesIn).toBeLessThanOrEqual(2 * (SUITE_OPTIONS.commandRetries + 1) + 1);
        expect(r.badFramesIn).toBe(0);
      });
    });
  });
}
