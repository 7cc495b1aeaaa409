// A simulated MPP/1 pump without any transport: host bytes go in through
// consume(), the pump's frames come out through the write callback. It speaks
// the protocol exactly as ../../shared/design/pump-protocol.md writes it, so
// the driver is tested against the specification, and each test bends it
// through set() and the actions (power cut, silence, lost or corrupted frames).
// This file is the pump's protocol side; hardware.ts is motor, power and line.
import { FrameReader, formatFactor, formatMl, parseCommand, type Command, type PumpState } from '../mpp/protocol.ts';
import { SYSTEM_CLOCK, type Behaviour, type SimClock } from './behaviour.ts';
import { PumpHardware } from './hardware.ts';
import { TxnBook, type SimMemoryStore, type SimTxn } from './memory.ts';
import { round1 } from './motor.ts';

export { DEFAULT_BEHAVIOUR, type Behaviour, type SimClock } from './behaviour.ts';
export { TXN_MEMORY, type SimMemory, type SimMemoryStore, type SimTxn } from './memory.ts';

export interface PumpSimulatorOptions {
  clock?: SimClock;
  /** HELLO's texts: printable ASCII without `*` or `=`, which would break the frame or its fields. */
  model?: string;
  serial?: string;
  firmware?: string;
  /** Starting level (default 1000 ml), when the memory holds none. */
  reservoirMl?: number;
  /** Default 1.000, when the memory holds none. */
  calFactor?: number;
  /** Below this (default 50 ml), an idle pump raises ALARM RESERVOIR_LOW, once per crossing. */
  lowReservoirMl?: number;
  behaviour?: Partial<Behaviour>;
  memory?: SimMemoryStore;
}

export interface SimReport {
  /** The remembered transactions, oldest first. */
  transactions: SimTxn[];
  /** Sum over the remembered dose transactions (priming is not a dose). */
  deliveredMl: number;
  primedMl: number;
  reservoirMl: number;
  calFactor: number;
  state: PumpState;
  powerCycles: number;
  /** Frames with a good checksum that the pump heard (not while off or silent). */
  framesIn: number;
  badFramesIn: number;
  /** Every DISPENSE frame heard, repeats and refusals included. */
  dispenseCommands: number;
}

const FIELD_TEXT = /^[!-)+-<>-~]([ -)+-<>-~]*[!-)+-<>-~])?$/;
const ALARM_CODE = /^[A-Z][A-Z0-9_]{0,31}$/;

export class PumpSimulator {
  private readonly clock: SimClock;
  private readonly identity: { MODEL: string; SERIAL: string; FW: string };
  private readonly hw: PumpHardware;
  private readonly reader: FrameReader;
  /** Commands waiting out answerDelayMs, in arrival order; null is a frame that failed its checksum. */
  private inbox: { at: number; body: string | null }[] = [];
  private timers: { inbox?: unknown; boot?: unknown } = {};
  private counts = { framesIn: 0, badFramesIn: 0, dispenseCommands: 0 };

  constructor(write: (bytes: Buffer) => void, options: PumpSimulatorOptions = {}) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.identity = { MODEL: options.model ?? 'MPP-SIM', SERIAL: options.serial ?? 'SIM-0001', FW: options.firmware ?? '1.0-sim' };
    for (const [k, v] of Object.entries(this.identity)) if (!FIELD_TEXT.test(v)) throw new RangeError(`${k} must be printable ASCII without * or =`);
    const saved = options.memory?.load() ?? null;
    this.hw = new PumpHardware({
      clock: this.clock,
      book: new TxnBook(saved?.transactions),
      memory: options.memory,
      reservoirMl: saved?.reservoirMl ?? options.reservoirMl ?? 1000,
      calFactor: saved?.calFactor ?? options.calFactor ?? 1,
      lowReservoirMl: options.lowReservoirMl ?? 50,
      behaviour: options.behaviour ?? {},
      write,
      onDeaf: () => this.deafen(),
    });
    this.reader = new FrameReader(
      (body) => this.onFrame(body),
      () => this.onBadFrame(),
    );
    // Starting up is coming back from a power cut. Deferred, so the owner can finish wiring the transport before the pump's first words.
    if (this.hw.recoverInterrupted()) this.timers.boot = this.clock.setTimeout(() => this.hw.awake(), 0);
  }

  /** Bytes from the host, in any pieces. A pump without power, or gone silent, hears nothing. */
  consume(bytes: Uint8Array): void {
    if (this.hw.powered && !this.hw.silent) this.reader.consume(bytes);
  }

  /** Merges into the current behaviour (checked: a typo throws). A new flow rate applies from now on, to a dose under way too. */
  set(patch: Partial<Behaviour>): void {
    this.hw.set(patch);
  }

  get behaviour(): Behaviour {
    return this.hw.behaviourNow;
  }

  /** Cuts the power now for offMs: the pump hears and says nothing; a running transaction ends FAULT POWER, reported when the power is back. */
  powerCycle(offMs: number): void {
    this.hw.powerCycle(offMs);
  }

  /** Ends a silence (silenceFromMl): the pump hears and answers again. */
  speak(): void {
    this.hw.silent = false;
  }

  /** Sends any ALARM, as a pump would for a condition the simulator does not model. */
  alarm(code: string): void {
    if (!ALARM_CODE.test(code)) throw new RangeError('alarm code must be A-Z, 0-9, _ (up to 32)');
    this.hw.send({ type: 'ALARM', code });
  }

  /** Sets the reservoir level (a new bottle), which re-arms the low-reservoir alarm. Throws while the motor runs. */
  refill(ml: number): void {
    this.hw.refill(ml);
  }

  report(): SimReport {
    const transactions = this.hw.book.list().map((t) => ({ ...t, deliveredMl: this.hw.deliveredOf(this.hw.book.get(t.txn)!) }));
    return {
      transactions,
      deliveredMl: round1(transactions.reduce((s, t) => s + t.deliveredMl, 0)),
      primedMl: round1(this.hw.counts.primedMl),
      reservoirMl: round1(this.hw.liveReservoir()),
      calFactor: this.hw.calFactor,
      state: this.hw.state(),
      powerCycles: this.hw.counts.powerCycles,
      ...this.counts,
    };
  }

  /** Stops every timer (the process is ending); the pump is useless afterwards. */
  dispose(): void {
    this.hw.dispose();
    for (const t of Object.values(this.timers)) this.clock.clearTimeout(t);
    this.timers = {};
    this.inbox = [];
  }

  // -------------------------------------------------------------------------
  // Input

  private onFrame(body: string): void {
    this.counts.framesIn++;
    if (body.split(' ')[1] === 'DISPENSE') this.counts.dispenseCommands++;
    this.enqueue(body);
  }

  /** Any line the reader rejects counts as a bad checksum: noise that flips a bit may as well make it non-ASCII or eat its CR. */
  private onBadFrame(): void {
    this.counts.badFramesIn++;
    this.enqueue(null);
  }

  /** Commands are acted on answerDelayMs after they arrive, in order even if the delay changes meanwhile. */
  private enqueue(body: string | null): void {
    const at = Math.max(this.clock.now() + this.hw.behaviourNow.answerDelayMs, this.inbox.at(-1)?.at ?? 0);
    this.inbox.push({ at, body });
    if (this.inbox.length === 1) this.drainInbox();
  }

  private drainInbox(): void {
    this.timers.inbox = undefined;
    for (let head = this.inbox[0]; head; head = this.inbox[0]) {
      const wait = head.at - this.clock.now();
      if (wait > 0) {
        this.timers.inbox = this.clock.setTimeout(() => this.drainInbox(), wait);
        return;
      }
      this.inbox.shift();
      this.handle(head.body);
    }
  }

  /** Silence or a power cut: half a line and commands not yet acted on are gone. */
  private deafen(): void {
    this.inbox = [];
    this.clock.clearTimeout(this.timers.inbox);
    this.reader.reset();
  }

  private handle(body: string | null): void {
    if (body === null) return this.hw.send({ type: 'ERR', seq: null, code: 'CHECKSUM' });
    const parsed = parseCommand(body);
    if (!parsed.ok) return this.hw.send({ type: 'ERR', seq: parsed.seq, code: parsed.error });
    this.command(parsed.seq, parsed.command);
  }

  private command(seq: number, c: Command): void {
    const hw = this.hw;
    switch (c.cmd) {
      case 'HELLO':
        return hw.send({ type: 'OK', seq, fields: { ...this.identity } });
      case 'STATUS': {
        const fields = { STATE: hw.state(), RESERVOIR: formatMl(hw.liveReservoir()), CAL: formatFactor(hw.calFactor) };
        return hw.send({ type: 'OK', seq, fields });
      }
      case 'DISPENSE': {
        const seen = hw.book.get(c.txn);
        // Never delivered twice (specification). Checked before BUSY, so a host that restarted learns the outcome whatever runs now.
        if (seen) {
          hw.send({ type: 'ACK', seq, txn: c.txn });
          return this.repeatFinal(seen);
        }
        if (hw.busy) return hw.send({ type: 'ERR', seq, code: 'BUSY' });
        hw.send({ type: 'ACK', seq, txn: c.txn });
        return hw.startDose(c.txn, c.ml);
      }
      case 'QUERY': {
        const t = hw.book.get(c.txn);
        if (!t) return hw.send({ type: 'TXN', seq, txn: c.txn, state: 'UNKNOWN', ml: 0 });
        return hw.send({ type: 'TXN', seq, txn: c.txn, state: t.state, ml: hw.deliveredOf(t) });
      }
      case 'STOP':
        hw.clearFault(); // STOP is also how a nurse acknowledges a fault
        hw.send({ type: 'OK', seq, fields: {} });
        return hw.stop();
      case 'PRIME':
        if (hw.busy) return hw.send({ type: 'ERR', seq, code: 'BUSY' });
        hw.send({ type: 'OK', seq, fields: {} });
        return hw.startPrime(c.ml);
      case 'CAL':
        hw.calFactor = c.factor;
        hw.save();
        return hw.send({ type: 'OK', seq, fields: {} });
      default:
        return c satisfies never;
    }
  }

  private repeatFinal(t: SimTxn): void {
    switch (t.state) {
      case 'DONE':
        return this.hw.send({ type: 'DONE', txn: t.txn, ml: t.deliveredMl });
      case 'FAULT':
        return this.hw.send({ type: 'FAULT', txn: t.txn, code: t.faultCode ?? 'STOPPED', ml: t.deliveredMl });
      case 'PENDING':
      case 'RUNNING':
        return; // its PROGRESS frames go on by themselves
      default:
        return t.state satisfies never;
    }
  }
}
