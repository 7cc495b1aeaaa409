// The simulated pump against the MPP/1 specification: real host frames in
// (encodeFrame + commandBody), its output read back with the host's own
// FrameReader and parsePumpMessage, time driven by vitest's fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FAULT_CODES, FrameReader, commandBody, encodeFrame, nextSeq, parsePumpMessage, type Command, type PumpMessage, type Rejection } from '../../devices/mpp/protocol.ts';
import { PumpSimulator, TXN_MEMORY, type PumpSimulatorOptions, type SimMemory } from '../../devices/simulator/core.ts';

/** A simulator with a host end: `send` a command, `take` what the pump said since the last take. */
function rig(options: PumpSimulatorOptions = {}) {
  const heard: { at: number; m: PumpMessage }[] = [];
  const rejected: Rejection[] = [];
  const t0 = Date.now();
  const reader = new FrameReader(
    (body) => heard.push({ at: Date.now() - t0, m: parsePumpMessage(body) ?? { type: 'ALARM', code: `UNPARSED_${body}` } }),
    (why) => rejected.push(why),
  );
  const sim = new PumpSimulator((bytes) => reader.consume(bytes), options);
  let seq = 0;
  return {
    sim,
    rejected,
    send(c: Command): number {
      seq = nextSeq(seq);
      sim.consume(encodeFrame(commandBody(seq, c)));
      return seq;
    },
    /** A frame with any body, for what commandBody refuses to build. */
    raw: (text: string) => sim.consume(Buffer.from(text, 'ascii')),
    take: () => heard.splice(0).map((h) => h.m),
    takeTimed: () => heard.splice(0),
    after(ms: number) {
      vi.advanceTimersByTime(ms);
      return heard.splice(0).map((h) => h.m);
    },
  };
}

const frame = (body: string) => encodeFrame(body).toString('ascii');
const ok = (seq: number, fields: Record<string, string> = {}): PumpMessage => ({ type: 'OK', seq, fields });
const done = (txn: string, ml: number): PumpMessage => ({ type: 'DONE', txn, ml });
const fault = (txn: string, code: string, ml: number): PumpMessage => ({ type: 'FAULT', txn, code, ml });
const types = (ms: PumpMessage[]) => ms.map((m) => m.type);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('direct answers', () => {
  it('HELLO names the pump', () => {
    const p = rig({ model: 'MethaDose 200', serial: 'SN-42', firmware: '2.1' });
    const seq = p.send({ cmd: 'HELLO' });
    expect(p.take()).toEqual([ok(seq, { MODEL: 'MethaDose 200', SERIAL: 'SN-42', FW: '2.1' })]);
  });

  it('STATUS tells state, reservoir to 0.1 ml and calibration to 3 decimals, through a dose, a prime and a CAL', () => {
    const p = rig({ reservoirMl: 500 });
    expect(p.take()).toEqual([]);
    let seq = p.send({ cmd: 'STATUS' });
    expect(p.take()).toEqual([ok(seq, { STATE: 'IDLE', RESERVOIR: '500.0', CAL: '1.000' })]);
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    p.after(1000);
    seq = p.send({ cmd: 'STATUS' });
    expect(p.take()).toEqual([ok(seq, { STATE: 'DISPENSING', RESERVOIR: '498.0', CAL: '1.000' })]);
    p.after(5000);
    p.send({ cmd: 'PRIME', ml: 4 });
    seq = p.send({ cmd: 'STATUS' });
    expect(p.take().at(-1)).toEqual(ok(seq, { STATE: 'PRIMING', RESERVOIR: '490.0', CAL: '1.000' }));
    expect(p.after(2000)).toEqual([{ type: 'PRIMED', ml: 4 }]);
    const cal = p.send({ cmd: 'CAL', factor: 1.05 });
    expect(p.take()).toEqual([ok(cal)]);
    seq = p.send({ cmd: 'STATUS' });
    expect(p.take()).toEqual([ok(seq, { STATE: 'IDLE', RESERVOIR: '486.0', CAL: '1.050' })]);
    expect(p.sim.report()).toMatchObject({ deliveredMl: 10, primedMl: 4, reservoirMl: 486, calFactor: 1.05 });
  });

  it.each<[string, string, PumpMessage]>([
    ['DISPENSE of 0.0 ml', '7 DISPENSE T1 0.0', { type: 'ERR', seq: 7, code: 'RANGE' }],
    ['DISPENSE of 200.1 ml', '7 DISPENSE T1 200.1', { type: 'ERR', seq: 7, code: 'RANGE' }],
    ['PRIME of 0.0 ml', '7 PRIME 0.0', { type: 'ERR', seq: 7, code: 'RANGE' }],
    ['CAL of 1.600', '7 CAL 1.600', { type: 'ERR', seq: 7, code: 'RANGE' }],
    ['an unknown command', '7 FLUSH', { type: 'ERR', seq: 7, code: 'SYNTAX' }],
    ['a txn with a forbidden character', '7 DISPENSE T_1 5.0', { type: 'ERR', seq: 7, code: 'SYNTAX' }],
    ['two decimals', '7 DISPENSE T1 5.25', { type: 'ERR', seq: 7, code: 'SYNTAX' }],
    ['a missing argument', '7 QUERY', { type: 'ERR', seq: 7, code: 'SYNTAX' }],
    ['an unreadable seq', 'x HELLO', { type: 'ERR', seq: null, code: 'SYNTAX' }],
    ['seq 0', '0 HELLO', { type: 'ERR', seq: null, code: 'SYNTAX' }],
  ])('%s → %j', (_name, body, answer) => {
    const p = rig();
    p.raw(frame(body));
    expect(p.after(10_000)).toEqual([answer]);
    expect(p.sim.report()).toMatchObject({ transactions: [], deliveredMl: 0, primedMl: 0 });
  });

  it.each([
    ['a wrong checksum', '1 HELLO*00\r\n'],
    ['no checksum', '1 HELLO\r\n'],
    ['a lower-case checksum', '1 QUERY T1*1e\r\n'],
    ['no CR', '1 HELLO*53\n'],
  ])('%s → ERR - CHECKSUM, and nothing done', (_name, text) => {
    const p = rig();
    p.raw(text);
    expect(p.after(5000)).toEqual([{ type: 'ERR', seq: null, code: 'CHECKSUM' }]);
    expect(p.sim.report()).toMatchObject({ framesIn: 0, badFramesIn: 1, transactions: [] });
  });

  it('BUSY for DISPENSE and PRIME while a dose runs, and for DISPENSE while priming', () => {
    const p = rig();
    p.send({ cmd: 'DISPENSE', txn: 'A', ml: 10 });
    const s1 = p.send({ cmd: 'DISPENSE', txn: 'B', ml: 5 });
    const s2 = p.send({ cmd: 'PRIME', ml: 5 });
    expect(p.take().slice(1)).toEqual([{ type: 'ERR', seq: s1, code: 'BUSY' }, { type: 'ERR', seq: s2, code: 'BUSY' }]);
    p.after(5000);
    p.send({ cmd: 'PRIME', ml: 5 });
    const s3 = p.send({ cmd: 'DISPENSE', txn: 'B', ml: 5 });
    expect(p.take()).toEqual([ok(s3 - 1), { type: 'ERR', seq: s3, code: 'BUSY' }]);
    expect(p.sim.report().transactions.map((t) => t.txn)).toEqual(['A']);
  });

  it('answers after answerDelayMs, in order', () => {
    const p = rig({ behaviour: { answerDelayMs: 150 } });
    const a = p.send({ cmd: 'HELLO' });
    p.sim.set({ answerDelayMs: 10 });
    const b = p.send({ cmd: 'STOP' });
    expect(p.after(149)).toEqual([]);
    expect(p.after(1).map((m) => (m as { seq: number }).seq)).toEqual([a, b]);
  });

  it('reads a stream fed one byte at a time as it reads one chunk', () => {
    const bytes = Buffer.concat([encodeFrame(commandBody(1, { cmd: 'HELLO' })), Buffer.from('junk\r\n'), encodeFrame(commandBody(2, { cmd: 'QUERY', txn: 'Q' }))]);
    const whole = rig();
    whole.sim.consume(bytes);
    const bytewise = rig();
    for (const b of bytes) bytewise.sim.consume(Uint8Array.of(b));
    const heard = whole.take();
    expect(types(heard)).toEqual(['OK', 'ERR', 'TXN']);
    expect(bytewise.take()).toEqual(heard);
  });
});

describe('a dose', () => {
  it('ACKs, reports PROGRESS as it goes, then DONE with the measured volume', () => {
    const p = rig();
    const seq = p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    expect(p.take()).toEqual([{ type: 'ACK', seq, txn: 'T1' }]);
    const out = p.after(5000);
    expect(out.at(-1)).toEqual(done('T1', 10));
    const progress = out.filter((m) => m.type === 'PROGRESS').map((m) => (m as { ml: number }).ml);
    expect(progress).toEqual(Array.from({ length: 19 }, (_, i) => (i + 1) / 2));
    expect(p.after(10_000)).toEqual([]);
    expect(p.sim.report()).toMatchObject({ deliveredMl: 10, reservoirMl: 990, transactions: [{ txn: 'T1', requestedMl: 10, deliveredMl: 10, state: 'DONE', faultCode: null }] });
  });

  it.each([100, 250, 500])('PROGRESS every %i ms (never more than 500 ms apart)', (interval) => {
    const p = rig({ behaviour: { progressIntervalMs: interval, flowMlPerS: 1.5 } });
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 6 });
    p.take();
    vi.advanceTimersByTime(4000);
    const times = p.takeTimed().filter((h) => h.m.type === 'PROGRESS').map((h) => h.at);
    expect(times.length).toBeGreaterThan(4000 / interval - 2);
    times.forEach((t, i) => expect(t - (times[i - 1] ?? 0)).toBe(interval));
  });

  it('DONE reports requested × deliveryError, and the reservoir loses that', () => {
    const p = rig({ behaviour: { deliveryError: 0.95 } });
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 20 });
    expect(p.after(20_000).at(-1)).toEqual(done('T1', 19));
    expect(p.sim.report()).toMatchObject({ deliveredMl: 19, reservoirMl: 981 });
  });

  it('a new flow rate applies to the dose under way', () => {
    const p = rig();
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    p.after(2000); // 4 ml
    p.sim.set({ flowMlPerS: 1 });
    expect(p.after(5999).at(-1)).toEqual({ type: 'PROGRESS', txn: 'T1', ml: 9.8 });
    expect(p.after(1).at(-1)).toEqual(done('T1', 10));
  });

  it.each(FAULT_CODES)('faultAt %s stops the next transaction at that volume, once', (code) => {
    const p = rig({ behaviour: { faultAt: { code, ml: 3 } } });
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    expect(p.after(1499).at(-1)).toMatchObject({ type: 'PROGRESS' });
    expect(p.after(1)).toEqual([fault('T1', code, 3)]);
    const q = p.send({ cmd: 'QUERY', txn: 'T1' });
    const s = p.send({ cmd: 'STATUS' });
    expect(p.take()).toEqual([{ type: 'TXN', seq: q, txn: 'T1', state: 'FAULT', ml: 3 }, ok(s, { STATE: code === 'STOPPED' ? 'IDLE' : 'FAULT', RESERVOIR: '997.0', CAL: '1.000' })]);
    p.send({ cmd: 'DISPENSE', txn: 'T2', ml: 1 });
    expect(p.after(500).at(-1)).toEqual(done('T2', 1));
  });

  it('a reservoir that runs dry mid-dose ends it FAULT RESERVOIR_EMPTY, then the idle pump alarms', () => {
    const p = rig({ reservoirMl: 5.5 });
    expect(p.after(1)).toEqual([{ type: 'ALARM', code: 'RESERVOIR_LOW' }]);
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    expect(p.after(10_000).slice(-1)).toEqual([fault('T1', 'RESERVOIR_EMPTY', 5.5)]);
    const s = p.send({ cmd: 'STATUS' });
    expect(p.take()).toEqual([ok(s, { STATE: 'FAULT', RESERVOIR: '0.0', CAL: '1.000' })]);
  });

  it('ALARM RESERVOIR_LOW once per crossing, only when idle; alarm() sends any code', () => {
    const p = rig({ reservoirMl: 60 });
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 20 });
    expect(p.after(10_000).slice(-2)).toEqual([done('T1', 20), { type: 'ALARM', code: 'RESERVOIR_LOW' }]);
    p.send({ cmd: 'DISPENSE', txn: 'T2', ml: 2 });
    expect(p.after(10_000).at(-1)).toEqual(done('T2', 2));
    p.sim.refill(52);
    p.send({ cmd: 'PRIME', ml: 3 });
    expect(p.after(10_000)).toEqual([ok(3), { type: 'PRIMED', ml: 3 }, { type: 'ALARM', code: 'RESERVOIR_LOW' }]);
    p.sim.alarm('DOOR_OPEN');
    expect(p.take()).toEqual([{ type: 'ALARM', code: 'DOOR_OPEN' }]);
  });

  it('QUERY: PENDING before the motor starts, RUNNING with the volume so far, then the end; UNKNOWN 0.0 for a stranger', () => {
    const p = rig({ behaviour: { startDelayMs: 400 } });
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 4 });
    const ask = () => (p.send({ cmd: 'QUERY', txn: 'T1' }), p.take().at(-1));
    expect(ask()).toMatchObject({ type: 'TXN', state: 'PENDING', ml: 0 });
    p.after(1400);
    expect(ask()).toMatchObject({ type: 'TXN', state: 'RUNNING', ml: 2 });
    p.after(1000);
    expect(ask()).toMatchObject({ type: 'TXN', state: 'DONE', ml: 4 });
    const seq = p.send({ cmd: 'QUERY', txn: 'NOPE' });
    expect(p.take()).toEqual([{ type: 'TXN', seq, txn: 'NOPE', state: 'UNKNOWN', ml: 0 }]);
  });

  it('STOP answers OK and ends a dose FAULT STOPPED, a prime with PRIMED so far', () => {
    const p = rig();
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    p.after(1100);
    const s = p.send({ cmd: 'STOP' });
    expect(p.take()).toEqual([ok(s), fault('T1', 'STOPPED', 2.2)]);
    const prime = p.send({ cmd: 'PRIME', ml: 10 });
    expect(p.after(1000)).toEqual([ok(prime)]); // priming is no dose: no PROGRESS
    const s2 = p.send({ cmd: 'STOP' });
    expect(p.take()).toEqual([ok(s2), { type: 'PRIMED', ml: 2 }]);
    expect(p.sim.report()).toMatchObject({ deliveredMl: 2.2, primedMl: 2, reservoirMl: 995.8, state: 'IDLE' });
  });
});

describe('a repeated DISPENSE is never delivered twice', () => {
  it.each<[string, number, PumpMessage[], number]>([
    ['while it runs: ACK, and PROGRESS goes on', 1000, [], 10],
    ['after DONE: ACK, then the same DONE', 5000, [done('T1', 10)], 10],
    ['after a fault: ACK, then the same FAULT', 5000, [fault('T1', 'OCCLUSION', 1)], 1],
  ])('%s', (name, wait, repeated, deliveredMl) => {
    const p = rig({ behaviour: name.includes('fault') ? { faultAt: { code: 'OCCLUSION', ml: 1 } } : {} });
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    p.after(wait);
    const seq = p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    expect(p.take()).toEqual([{ type: 'ACK', seq, txn: 'T1' }, ...repeated]);
    p.after(20_000);
    expect(p.sim.report()).toMatchObject({ deliveredMl, reservoirMl: 1000 - deliveredMl, dispenseCommands: 2, transactions: [{ txn: 'T1', deliveredMl }] });
  });

  it('also while another transaction runs (no BUSY: a restarted host learns the outcome)', () => {
    const p = rig();
    p.send({ cmd: 'DISPENSE', txn: 'A', ml: 1 });
    p.after(1000);
    p.send({ cmd: 'DISPENSE', txn: 'B', ml: 10 });
    p.take();
    const seq = p.send({ cmd: 'DISPENSE', txn: 'A', ml: 1 });
    expect(p.take()).toEqual([{ type: 'ACK', seq, txn: 'A' }, done('A', 1)]);
  });

  it(`remembers its last ${TXN_MEMORY} transactions across a power cycle and a restart with memory`, () => {
    let stored: SimMemory | null = null;
    const memory = { load: () => structuredClone(stored), save: (m: SimMemory) => void (stored = structuredClone(m)) };
    const p = rig({ memory, behaviour: { flowMlPerS: 100 } });
    for (let i = 0; i <= TXN_MEMORY; i++) (p.send({ cmd: 'DISPENSE', txn: `T${i}`, ml: 0.1 }), p.after(10));
    p.sim.powerCycle(500);
    p.after(500);
    const restarted = rig({ memory });
    for (const q of [p, restarted]) {
      q.send({ cmd: 'QUERY', txn: 'T0' });
      q.send({ cmd: 'QUERY', txn: 'T1' });
      q.send({ cmd: 'DISPENSE', txn: `T${TXN_MEMORY}`, ml: 0.1 });
      expect(q.after(1000)).toMatchObject([{ state: 'UNKNOWN' }, { state: 'DONE', ml: 0.1 }, { type: 'ACK' }, done(`T${TXN_MEMORY}`, 0.1)]);
      expect(q.sim.report()).toMatchObject({ deliveredMl: 6.4, reservoirMl: 993.5 });
    }
  });

  it('a transaction running when the process died is FAULT POWER after the restart', () => {
    let stored: SimMemory | null = null;
    const memory = { load: () => structuredClone(stored), save: (m: SimMemory) => void (stored = structuredClone(m)) };
    const p = rig({ memory });
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    p.after(1000);
    p.sim.dispose(); // the process is killed: no goodbye
    const q = rig({ memory });
    expect(q.after(1)).toEqual([fault('T1', 'POWER', 2)]);
    q.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    expect(types(q.after(10_000))).toEqual(['ACK', 'FAULT']);
    expect(q.sim.report()).toMatchObject({ deliveredMl: 2, reservoirMl: 998 });
  });
});

describe('a bad line', () => {
  it('corruptNext: the next n frames fail their checksum at the host', () => {
    const p = rig({ behaviour: { corruptNext: 2 } });
    p.send({ cmd: 'HELLO' });
    p.send({ cmd: 'STATUS' });
    const s = p.send({ cmd: 'STOP' });
    expect(p.take()).toEqual([ok(s)]);
    expect(p.rejected).toEqual(['checksum', 'checksum']);
  });

  it('dropNext: the next n frames never reach the host', () => {
    const p = rig({ behaviour: { dropNext: 4 } });
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 2 }); // ACK and PROGRESS 0.5, 1.0, 1.5 lost
    expect(p.after(1000)).toEqual([done('T1', 2)]);
    expect(p.sim.behaviour.dropNext).toBe(0);
  });

  it('silenceFromMl: says and hears nothing from that volume, delivers to the end, and speaks again when told', () => {
    const p = rig({ behaviour: { silenceFromMl: 4 } });
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    expect(p.after(10_000).at(-1)).toEqual({ type: 'PROGRESS', txn: 'T1', ml: 3.5 });
    p.send({ cmd: 'HELLO' });
    expect(p.after(5000)).toEqual([]);
    expect(p.sim.report()).toMatchObject({ deliveredMl: 10, framesIn: 1, transactions: [{ state: 'DONE' }] });
    p.sim.speak();
    const q = p.send({ cmd: 'QUERY', txn: 'T1' });
    expect(p.take()).toEqual([{ type: 'TXN', seq: q, txn: 'T1', state: 'DONE', ml: 10 }]);
  });

  it('powerCycleAtMl: delivery stops, nothing heard while off, then FAULT POWER once', () => {
    const p = rig({ behaviour: { powerCycleAtMl: { ml: 3, offMs: 2000 } } });
    p.send({ cmd: 'DISPENSE', txn: 'T1', ml: 10 });
    expect(p.after(1500).at(-1)).toEqual({ type: 'PROGRESS', txn: 'T1', ml: 2.5 });
    p.send({ cmd: 'HELLO' });
    expect(p.after(1999)).toEqual([]);
    expect(p.after(1)).toEqual([fault('T1', 'POWER', 3)]);
    const s = p.send({ cmd: 'STATUS' });
    expect(p.after(5000)).toEqual([ok(s, { STATE: 'FAULT', RESERVOIR: '997.0', CAL: '1.000' })]);
    expect(p.sim.report()).toMatchObject({ powerCycles: 1, deliveredMl: 3, framesIn: 2 });
  });

  it('powerCycle(offMs) when idle: deaf for offMs, then answers', () => {
    const p = rig();
    p.raw(frame('1 HELLO').slice(0, 4)); // half a frame before the cut is not the start of the next one
    p.sim.powerCycle(1000);
    p.raw(frame('2 HELLO'));
    expect(p.after(999)).toEqual([]);
    p.after(1);
    p.raw(frame('3 HELLO'));
    expect(p.take()).toEqual([ok(3, { MODEL: 'MPP-SIM', SERIAL: 'SIM-0001', FW: '1.0-sim' })]);
    expect(p.sim.report()).toMatchObject({ powerCycles: 1, framesIn: 1, badFramesIn: 0 });
  });
});
