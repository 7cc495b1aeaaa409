// The MPP/1 driver: commands one at a time over a Line, each matched to its
// answer by sequence number, and transactions followed to exactly one outcome.
// The protocol's safety rules live here:
// - DISPENSE and PRIME are never re-sent (a lost answer is met with QUERY), so
//   the driver itself can never cause a second delivery;
// - a transaction the pump goes silent on is asked after with QUERY
//   (silenceMs, then queryRetries more, queryIntervalMs apart), and if the
//   pump stays silent its outcome is *unknown*: a person decides.
import type { PumpOptions } from '../options.ts';
import { PumpError, type DispenseHandle, type DispenseOutcome, type Pump, type PumpEvent, type PumpIdentity, type PumpStatus } from '../pump.ts';
import type { Line } from './line.ts';
import {
  FrameReader,
  PUMP_STATES,
  commandBody,
  encodeFrame,
  isCalFactor,
  isDispensableMl,
  isTxnId,
  nextSeq,
  parsePumpMessage,
  type Command,
  type PumpMessage,
  type PumpState,
  type Rejection,
  type TxnState,
} from './protocol.ts';

type Answer = Extract<PumpMessage, { seq: number | null }>;

interface InFlight {
  seq: number;
  resolve(a: Answer): void;
}

/** How many finished transactions are kept, so a watch started after the outcome arrived still finds it (the pump keeps 64). */
const RECENT_OUTCOMES = 64;

/** A transaction being followed: exactly one outcome, whatever arrives. */
class TxnWatch {
  lastMl = 0;
  private silence: NodeJS.Timeout | null = null;
  private settled = false;
  readonly outcome: Promise<DispenseOutcome>;
  private resolveOutcome!: (o: DispenseOutcome) => void;
  /** While QUERY runs, a silence timer must not start a second recovery. */
  recovering = false;
  /** Resolves when a recovery learns the pump has the transaction (PENDING or RUNNING): a lost ACK that was not lost after all. */
  readonly resumed: Promise<void>;
  private resolveResumed!: () => void;

  constructor(
    readonly txn: string,
    private readonly onProgress: ((ml: number) => void) | undefined,
    private readonly silenceMs: number,
    private readonly onSilence: (w: TxnWatch) => void,
    private readonly onSettle: (w: TxnWatch, o: DispenseOutcome) => void,
  ) {
    this.outcome = new Promise((r) => (this.resolveOutcome = r));
    this.resumed = new Promise((r) => (this.resolveResumed = r));
  }

  running(): void {
    this.resolveResumed();
  }

  get done(): boolean {
    return this.settled;
  }

  /** Anything heard from the pump: it is alive, the silence clock starts again. */
  heard(): void {
    if (this.silence && !this.recovering) this.arm();
  }

  arm(): void {
    if (this.settled) return;
    if (this.silence) clearTimeout(this.silence);
    this.silence = setTimeout(() => {
      this.silence = null;
      if (!this.settled && !this.recovering) this.onSilence(this);
    }, this.silenceMs);
  }

  progress(ml: number): void {
    if (this.settled) return;
    this.lastMl = ml;
    this.onProgress?.(ml);
  }

  settle(o: DispenseOutcome): void {
    if (this.settled) return;
    this.settled = true;
    if (this.silence) clearTimeout(this.silence);
    this.silence = null;
    this.onSettle(this, o);
    this.resolveOutcome(o);
  }
}

export class MppDriver implements Pump {
  readonly kind = 'mpp';
  private seq = 0;
  /** Commands wait their turn here: MPP/1 answers are matched to one command in flight. */
  private turn: Promise<unknown> = Promise.resolve();
  private inFlight: InFlight | null = null;
  private readonly watches = new Map<string, TxnWatch>();
  private readonly recent = new Map<string, DispenseOutcome>();
  private readonly listeners = new Set<(e: PumpEvent) => void>();
  private primed: ((ml: number) => void) | null = null;
  private readonly reader: FrameReader;
  /** Lines dropped as noise, by reason: kept for the pump page, never thrown. */
  readonly rejected: Record<Rejection, number> = { checksum: 0, no_checksum: 0, too_long: 0, not_ascii: 0, no_cr: 0 };

  constructor(
    private readonly line: Line,
    private readonly opts: PumpOptions,
  ) {
    this.reader = new FrameReader(
      (body) => this.onFrame(body),
      (why) => this.rejected[why]++,
    );
    line.onData((b) => this.reader.consume(b));
    line.onState((open) => {
      this.reader.reset();
      // A closed line answers nothing: the command in flight fails now rather than after its timeout.
      if (!open) this.inFlight?.resolve({ type: 'ERR', seq: this.inFlight.seq, code: 'CLOSED' });
      this.emit({ type: 'line', open });
    });
  }

  get online(): boolean {
    return this.line.open;
  }

  onEvent(listener: (e: PumpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async identify(): Promise<PumpIdentity> {
    const a = await this.command({ cmd: 'HELLO' }, true);
    const f = okFields(a);
    if (!f.MODEL || !f.SERIAL || !f.FW) throw new PumpError('syntax', 'HELLO answer without MODEL, SERIAL and FW');
    return { model: f.MODEL, serial: f.SERIAL, firmware: f.FW };
  }

  async status(): Promise<PumpStatus> {
    const f = okFields(await this.command({ cmd: 'STATUS' }, true));
    const state = f.STATE as PumpState;
    const reservoirMl = Number(f.RESERVOIR);
    const calFactor = Number(f.CAL);
    if (!PUMP_STATES.includes(state) || !/^\d+(\.\d+)?$/.test(f.RESERVOIR ?? '') || !/^\d+(\.\d+)?$/.test(f.CAL ?? '')) {
      throw new PumpError('syntax', 'STATUS answer not understood');
    }
    return { state, reservoirMl, calFactor };
  }

  dispense(txn: string, ml: number, onProgress?: (ml: number) => void): DispenseHandle {
    if (!isTxnId(txn) || !isDispensableMl(ml)) {
      const outcome: DispenseOutcome = { kind: 'not_started', reason: 'range' };
      return { txn, started: Promise.resolve({ acked: false, outcome }), outcome: Promise.resolve(outcome) };
    }
    const watch = this.follow(txn, onProgress);
    const started = (async (): Promise<{ acked: true } | { acked: false; outcome: DispenseOutcome }> => {
      let answer: Answer | null;
      try {
        // Never retried: had the frame reached the pump, a second one would be a second chance to deliver.
        answer = await this.command({ cmd: 'DISPENSE', txn, ml }, false);
      } catch (e) {
        // The line was down before the frame was written: certainly not delivered, no one needs to look at a cup.
        if (e instanceof PumpError && e.code === 'offline') {
          watch.settle({ kind: 'not_started', reason: 'refused' });
          return { acked: false, outcome: await watch.outcome };
        }
        answer = null;
      }
      if (answer?.type === 'ACK' && answer.txn === txn) {
        watch.arm();
        return { acked: true };
      }
      if (answer?.type === 'ERR' && answer.code !== 'CHECKSUM' && answer.code !== 'CLOSED') {
        const reason = answer.code === 'BUSY' ? 'busy' : answer.code === 'RANGE' ? 'range' : answer.code === 'SYNTAX' ? 'syntax' : 'refused';
        watch.settle({ kind: 'not_started', reason });
        return { acked: false, outcome: await watch.outcome };
      }
      // No answer, a garbled frame, or the line dropped: whether the pump took it is unknown. Ask, never resend.
      void this.recover(watch);
      const first = await Promise.race([watch.outcome, watch.resumed.then(() => 'running' as const)]);
      return first === 'running' ? { acked: true } : { acked: false, outcome: first };
    })();
    return { txn, started, outcome: watch.outcome };
  }

  async query(txn: string): Promise<{ state: TxnState; ml: number }> {
    const a = await this.command({ cmd: 'QUERY', txn }, true);
    if (a.type !== 'TXN' || a.txn !== txn) throw new PumpError('syntax', 'QUERY answer not understood');
    return { state: a.state, ml: a.ml };
  }

  watch(txn: string, onProgress?: (ml: number) => void): Promise<DispenseOutcome> {
    const w = this.follow(txn, onProgress);
    if (!w.done) w.arm();
    return w.outcome;
  }

  async stop(): Promise<void> {
    okFields(await this.command({ cmd: 'STOP' }, true));
  }

  async prime(ml: number): Promise<number> {
    if (!isDispensableMl(ml)) throw new PumpError('range');
    if (this.primed) throw new PumpError('busy', 'already priming');
    const done = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.primed = null;
        reject(new PumpError('timeout', 'no PRIMED'));
      }, this.opts.primeTimeoutMs);
      this.primed = (v) => {
        clearTimeout(timer);
        this.primed = null;
        resolve(v);
      };
    });
    try {
      okFields(await this.command({ cmd: 'PRIME', ml }, false));
    } catch (e) {
      this.primed = null;
      done.catch(() => {});
      throw e;
    }
    return done;
  }

  async calibrate(factor: number): Promise<void> {
    if (!isCalFactor(factor)) throw new PumpError('range');
    okFields(await this.command({ cmd: 'CAL', factor }, true));
  }

  async close(): Promise<void> {
    await this.line.close();
  }

  // -------------------------------------------------------------------------

  private emit(e: PumpEvent): void {
    for (const l of this.listeners) l(e);
  }

  private follow(txn: string, onProgress?: (ml: number) => void): TxnWatch {
    const existing = this.watches.get(txn);
    if (existing) return existing;
    const w = new TxnWatch(
      txn,
      onProgress,
      this.opts.silenceMs,
      (x) => void this.recover(x),
      (x, o) => {
        this.watches.delete(x.txn);
        this.remember(x.txn, o);
      },
    );
    const known = this.recent.get(txn);
    if (known && known.kind !== 'not_started') w.settle(known);
    else this.watches.set(txn, w);
    return w;
  }

  private remember(txn: string, o: DispenseOutcome): void {
    this.recent.set(txn, o);
    if (this.recent.size > RECENT_OUTCOMES) this.recent.delete(this.recent.keys().next().value!);
  }

  /**
   * The protocol's recovery: QUERY, then up to queryRetries more, queryIntervalMs
   * apart. A transaction still running goes back to being watched; one the pump
   * never saw was not delivered; no answer at all leaves it unknown.
   */
  private async recover(w: TxnWatch): Promise<void> {
    if (w.recovering || w.done) return;
    w.recovering = true;
    try {
      for (let attempt = 0; attempt <= this.opts.queryRetries && !w.done; attempt++) {
        const sent = Date.now();
        let a: Answer | null = null;
        try {
          a = await this.command({ cmd: 'QUERY', txn: w.txn }, false, this.opts.queryIntervalMs);
        } catch {
          a = null;
        }
        if (w.done) return;
        if (a?.type === 'TXN' && a.txn === w.txn) {
          switch (a.state) {
            case 'DONE':
              return w.settle({ kind: 'done', ml: a.ml });
            case 'FAULT':
              // TXN carries no fault code; the unprompted FAULT frame (if it came) already settled this with one.
              return w.settle({ kind: 'fault', code: 'UNREPORTED', ml: a.ml });
            case 'UNKNOWN':
              // The pump never saw it: nothing was delivered, unless it told of progress before (then its memory is not to be trusted).
              return w.settle(w.lastMl > 0 ? { kind: 'unknown', ml: w.lastMl } : { kind: 'not_started', reason: 'not_received' });
            case 'PENDING':
            case 'RUNNING':
              w.recovering = false;
              w.running();
              w.progress(Math.max(w.lastMl, a.ml));
              w.arm();
              return;
            default:
              a.state satisfies never;
          }
        }
        const wait = this.opts.queryIntervalMs - (Date.now() - sent);
        if (wait > 0 && attempt < this.opts.queryRetries) await new Promise((r) => setTimeout(r, wait));
      }
      w.settle({ kind: 'unknown', ml: w.lastMl });
    } finally {
      w.recovering = false;
    }
  }

  /**
   * Sends one command when its turn comes and waits for the answer with its
   * seq. `retry`: the command is safe to repeat, so a lost or garbled frame is
   * sent again (commandRetries times); otherwise the first failure is final.
   */
  private command(c: Command, retry: boolean, timeoutMs = this.opts.answerTimeoutMs): Promise<Answer> {
    const run = async (): Promise<Answer> => {
      const tries = retry ? this.opts.commandRetries + 1 : 1;
      let last: PumpError = new PumpError('timeout');
      for (let i = 0; i < tries; i++) {
        if (!this.line.open) throw new PumpError('offline');
        this.seq = nextSeq(this.seq);
        const seq = this.seq;
        const answer = await new Promise<Answer | null>((resolve) => {
          const timer = setTimeout(() => {
            this.inFlight = null;
            resolve(null);
          }, timeoutMs);
          this.inFlight = {
            seq,
            resolve: (a) => {
              clearTimeout(timer);
              this.inFlight = null;
              resolve(a);
            },
          };
          this.line.write(encodeFrame(commandBody(seq, c)));
        });
        if (answer === null) last = new PumpError('timeout');
        else if (answer.type === 'ERR' && answer.code === 'CLOSED') throw new PumpError('closed');
        else if (answer.type === 'ERR' && answer.code === 'CHECKSUM') last = new PumpError('checksum');
        else return answer;
      }
      throw last;
    };
    const p = this.turn.then(run, run);
    this.turn = p.catch(() => {});
    return p;
  }

  private onFrame(body: string): void {
    const m = parsePumpMessage(body);
    // Only the transaction's own PROGRESS shows it still runs: an answer to another command (the heartbeat's STATUS) says nothing of it, and must not keep a lost DONE from being asked after.
    if (m?.type === 'PROGRESS') this.watches.get(m.txn)?.heard();
    if (!m) return;
    switch (m.type) {
      case 'OK':
      case 'ACK':
      case 'TXN':
      case 'ERR':
        // CHECKSUM comes with no seq: it can only be about the command in flight.
        if (this.inFlight && (m.seq === this.inFlight.seq || (m.type === 'ERR' && m.seq === null))) this.inFlight.resolve(m);
        return;
      case 'PRIMED':
        this.primed?.(m.ml);
        return;
      case 'PROGRESS':
        this.watches.get(m.txn)?.progress(m.ml);
        this.emit({ type: 'progress', txn: m.txn, ml: m.ml });
        return;
      case 'DONE':
        return this.finish(m.txn, { kind: 'done', ml: m.ml });
      case 'FAULT':
        return this.finish(m.txn, { kind: 'fault', code: m.code, ml: m.ml });
      case 'ALARM':
        return this.emit({ type: 'alarm', code: m.code });
      default:
        return m satisfies never;
    }
  }

  private finish(txn: string, o: DispenseOutcome): void {
    const w = this.watches.get(txn);
    if (w) w.settle(o);
    // The pump repeats the final frame of a transaction it has seen: the first one counts.
    else if (!this.recent.has(txn)) this.remember(txn, o);
  }
}

function okFields(a: Answer): Record<string, string> {
  if (a.type === 'OK') return a.fields;
  if (a.type === 'ERR') {
    const code = a.code === 'BUSY' ? 'busy' : a.code === 'RANGE' ? 'range' : a.code === 'SYNTAX' ? 'syntax' : 'refused';
    throw new PumpError(code, `pump answered ERR ${a.code}`);
  }
  throw new PumpError('syntax', `unexpected answer ${a.type}`);
}
