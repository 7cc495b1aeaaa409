// The physical side of the simulated pump: motor, reservoir, power supply and
// the transmit line with its injected faults. It knows nothing of commands;
// core.ts reads the host's frames and calls in here, and everything the pump
// says unprompted (PROGRESS, DONE, FAULT, PRIMED, ALARM) starts here.
import { encodeFrame, messageBody, type PumpMessage, type PumpState } from '../mpp/protocol.ts';
import { DEFAULT_BEHAVIOUR, behaviourPatchSchema, type Behaviour, type SimClock } from './behaviour.ts';
import type { SimMemoryStore, SimTxn, TxnBook } from './memory.ts';
import { deliveredAt, msUntil, planDose, rebase, round1, type Ending, type Motor } from './motor.ts';

export interface HardwareSetup {
  clock: SimClock;
  book: TxnBook;
  memory: SimMemoryStore | undefined;
  reservoirMl: number;
  calFactor: number;
  lowReservoirMl: number;
  behaviour: Partial<Behaviour>;
  /** Bytes onto the wire. */
  write: (bytes: Buffer) => void;
  /** The pump stopped hearing (silence, power cut): whatever it was about to act on is lost. */
  onDeaf: () => void;
}

export class PumpHardware {
  private readonly clock: SimClock;
  readonly book: TxnBook;
  private behaviour: Behaviour;
  /** Level when no motor runs; while one runs, the live level is this less what it has delivered. */
  private reservoirMl: number;
  calFactor: number;
  private motor: Motor | null = null;
  /** A transaction ended in a fault (other than STOPPED) and nothing has cleared it yet: STATUS says FAULT. */
  private faulted = false;
  private lowAlarmed = false;
  powered = true;
  silent = false;
  /** The transaction a power cut interrupted, reported once the power is back. */
  private powerLost: SimTxn | null = null;
  private powerOnTimer: unknown;
  readonly counts = { primedMl: 0, powerCycles: 0 };

  constructor(private readonly setup: HardwareSetup) {
    this.clock = setup.clock;
    this.book = setup.book;
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...behaviourPatchSchema.parse(setup.behaviour) };
    this.reservoirMl = setup.reservoirMl;
    this.calFactor = setup.calFactor;
  }

  get busy(): boolean {
    return this.motor !== null;
  }

  get behaviourNow(): Behaviour {
    return structuredClone(this.behaviour);
  }

  set(patch: Partial<Behaviour>): void {
    const p = behaviourPatchSchema.parse(patch);
    this.behaviour = { ...this.behaviour, ...p };
    const m = this.motor;
    if (!m) return;
    if (p.flowMlPerS !== undefined) {
      rebase(m, p.flowMlPerS, this.clock.now());
      this.scheduleStops(m);
    }
    if (p.progressIntervalMs !== undefined && m.kind === 'dose') this.startProgress(m);
  }

  /** A nurse pressing STOP, or the next job starting, acknowledges a fault. */
  clearFault(): void {
    this.faulted = false;
  }

  state(): PumpState {
    if (this.motor) return this.motor.kind === 'dose' ? 'DISPENSING' : 'PRIMING';
    return this.faulted || this.reservoirMl <= 0 ? 'FAULT' : 'IDLE';
  }

  /** A transaction's delivered volume now (live while it runs). */
  deliveredOf(t: SimTxn): number {
    return this.motor?.rec === t ? round1(deliveredAt(this.motor, this.clock.now())) : t.deliveredMl;
  }

  liveReservoir(): number {
    return Math.max(0, this.reservoirMl - (this.motor ? deliveredAt(this.motor, this.clock.now()) : 0));
  }

  refill(ml: number): void {
    if (this.motor) throw new RangeError('the pump is busy');
    if (!Number.isFinite(ml) || ml < 0) throw new RangeError('ml');
    this.reservoirMl = ml;
    if (ml >= this.setup.lowReservoirMl) this.lowAlarmed = false;
    this.save();
  }

  // -------------------------------------------------------------------------
  // The motor

  startDose(txn: string, requestedMl: number): void {
    const b = this.behaviour;
    const plan = planDose({ targetMl: round1(requestedMl * b.deliveryError), reservoirMl: this.reservoirMl, faultAt: b.faultAt, powerCycleAtMl: b.powerCycleAtMl });
    const silenceAtMl = b.silenceFromMl === null ? null : Math.min(b.silenceFromMl, plan.endMl);
    // The one-shot knobs belong to this transaction now.
    this.behaviour = { ...b, faultAt: null, powerCycleAtMl: null, silenceFromMl: null };
    this.faulted = false;
    const rec = this.book.add({ txn, requestedMl, deliveredMl: 0, state: b.startDelayMs > 0 ? 'PENDING' : 'RUNNING', faultCode: null });
    this.startMotor('dose', rec, plan.endMl, plan.ending, silenceAtMl);
  }

  /** Priming runs what is left when the reservoir holds less than asked, and reports that. */
  startPrime(ml: number): void {
    this.faulted = false;
    this.startMotor('prime', null, Math.min(ml, round1(this.reservoirMl)), { kind: 'done' }, null);
  }

  /** STOP: a dose ends FAULT STOPPED, a prime reports what it primed. */
  stop(): void {
    const m = this.motor;
    if (m) this.finish(m, m.kind === 'dose' ? { kind: 'fault', code: 'STOPPED' } : { kind: 'done' }, deliveredAt(m, this.clock.now()));
  }

  private startMotor(kind: Motor['kind'], rec: SimTxn | null, endMl: number, ending: Ending, silenceAtMl: number | null): void {
    const now = this.clock.now();
    const delay = kind === 'dose' ? this.behaviour.startDelayMs : 0;
    const m: Motor = { kind, rec, endMl, ending, silenceAtMl, baseMl: 0, baseAt: now + delay, flowMlPerS: this.behaviour.flowMlPerS, timers: {} };
    this.motor = m;
    if (rec && delay > 0)
      m.timers.start = this.clock.setTimeout(() => {
        rec.state = 'RUNNING';
        this.save();
      }, delay);
    // Stops first: a PROGRESS due at the very moment the run ends would only repeat the final volume.
    this.scheduleStops(m);
    if (kind === 'dose') this.startProgress(m);
    this.save();
  }

  private startProgress(m: Motor): void {
    this.clock.clearInterval(m.timers.progress);
    m.timers.progress = this.clock.setInterval(() => {
      if (!m.rec) return;
      m.rec.deliveredMl = this.deliveredOf(m.rec);
      // A late silence timer (a loaded machine) must not let a PROGRESS past the silence volume out first.
      if (m.silenceAtMl !== null && m.rec.deliveredMl >= m.silenceAtMl) this.goSilent(m);
      this.send({ type: 'PROGRESS', txn: m.rec.txn, ml: m.rec.deliveredMl });
      this.save(); // so a simulator killed mid-dose still knows roughly how much went out
    }, this.behaviour.progressIntervalMs);
  }

  private scheduleStops(m: Motor): void {
    const now = this.clock.now();
    this.clock.clearTimeout(m.timers.end);
    this.clock.clearTimeout(m.timers.silence);
    if (m.silenceAtMl !== null) m.timers.silence = this.clock.setTimeout(() => this.goSilent(m), msUntil(m, m.silenceAtMl, now));
    m.timers.end = this.clock.setTimeout(() => {
      if (m.silenceAtMl !== null) this.goSilent(m); // due at the same moment: silence first, so the final frame is lost too
      this.finish(m, m.ending, m.endMl);
    }, msUntil(m, m.endMl, now));
  }

  private goSilent(m: Motor): void {
    m.silenceAtMl = null;
    this.silent = true;
    this.setup.onDeaf();
  }

  private finish(m: Motor, ending: Ending, rawMl: number): void {
    this.clearMotor(m);
    const ml = round1(rawMl);
    this.reservoirMl = Math.max(0, round1(this.reservoirMl - ml));
    if (m.kind === 'prime') this.counts.primedMl += ml;
    const rec = m.rec;
    if (rec) {
      rec.deliveredMl = ml;
      rec.state = ending.kind === 'done' ? 'DONE' : 'FAULT';
      rec.faultCode = ending.kind === 'fault' ? ending.code : ending.kind === 'power' ? 'POWER' : null;
    }
    this.save();
    switch (ending.kind) {
      case 'done':
        this.send(rec ? { type: 'DONE', txn: rec.txn, ml } : { type: 'PRIMED', ml });
        return this.checkLowReservoir();
      case 'fault':
        if (ending.code !== 'STOPPED') this.faulted = true;
        if (rec) this.send({ type: 'FAULT', txn: rec.txn, code: ending.code, ml });
        return this.checkLowReservoir();
      case 'power':
        this.powerLost = rec;
        return this.powerOff(ending.offMs);
      default:
        return ending satisfies never;
    }
  }

  private clearMotor(m: Motor): void {
    this.clock.clearTimeout(m.timers.start);
    this.clock.clearTimeout(m.timers.end);
    this.clock.clearTimeout(m.timers.silence);
    this.clock.clearInterval(m.timers.progress);
    if (this.motor === m) this.motor = null;
  }

  // -------------------------------------------------------------------------
  // Power and alarms

  /** Cuts the power now for offMs (a cut while off restarts the wait); a running transaction ends FAULT POWER. */
  powerCycle(offMs: number): void {
    if (!Number.isFinite(offMs) || offMs < 0) throw new RangeError('offMs');
    if (!this.powered) {
      this.clock.clearTimeout(this.powerOnTimer);
      this.powerOnTimer = this.clock.setTimeout(() => this.powerOn(), offMs);
      return;
    }
    const m = this.motor;
    if (m) this.finish(m, { kind: 'power', offMs }, deliveredAt(m, this.clock.now()));
    else this.powerOff(offMs);
  }

  /** A transaction the memory holds as running died with the previous process: that was a power cut. */
  recoverInterrupted(): boolean {
    for (const t of this.book.list()) {
      if (t.state !== 'PENDING' && t.state !== 'RUNNING') continue;
      this.powerLost = Object.assign(this.book.get(t.txn)!, { state: 'FAULT', faultCode: 'POWER' } satisfies Partial<SimTxn>);
    }
    return this.powerLost !== null || this.reservoirMl < this.setup.lowReservoirMl;
  }

  private powerOff(offMs: number): void {
    this.powered = false;
    this.silent = false;
    this.setup.onDeaf();
    this.counts.powerCycles++;
    this.powerOnTimer = this.clock.setTimeout(() => this.powerOn(), offMs);
  }

  private powerOn(): void {
    this.powered = true;
    this.awake();
  }

  /** What a pump says when it comes on: the transaction the cut interrupted, a low reservoir. */
  awake(): void {
    const lost = this.powerLost;
    this.powerLost = null;
    if (lost) {
      this.faulted = true;
      this.send({ type: 'FAULT', txn: lost.txn, code: 'POWER', ml: lost.deliveredMl });
      this.save();
    }
    this.checkLowReservoir();
  }

  /** Once per crossing, and only when idle: a running dose reports its own trouble. */
  private checkLowReservoir(): void {
    if (this.motor || !this.powered) return;
    if (this.reservoirMl >= this.setup.lowReservoirMl) {
      this.lowAlarmed = false;
    } else if (!this.lowAlarmed) {
      this.lowAlarmed = true;
      this.send({ type: 'ALARM', code: 'RESERVOIR_LOW' });
    }
  }

  // -------------------------------------------------------------------------
  // Output

  /** One frame onto the line, unless the pump is off or silent, or the test asked for it to be lost or corrupted. */
  send(m: PumpMessage): void {
    if (!this.powered || this.silent) return;
    const b = this.behaviour;
    if (b.dropNext > 0) {
      this.behaviour = { ...b, dropNext: b.dropNext - 1 };
      return;
    }
    const frame = encodeFrame(messageBody(m));
    if (b.corruptNext > 0) {
      this.behaviour = { ...b, corruptNext: b.corruptNext - 1 };
      // The body's last character (before `*CC\r\n`), off by one bit: still printable, so only the checksum gives it away.
      frame[frame.length - 6]! ^= 0x01;
    }
    this.setup.write(frame);
  }

  save(): void {
    this.setup.memory?.save({ transactions: this.book.list(), reservoirMl: round1(this.liveReservoir()), calFactor: this.calFactor });
  }

  dispose(): void {
    if (this.motor) this.clearMotor(this.motor);
    this.clock.clearTimeout(this.powerOnTimer);
  }
}
