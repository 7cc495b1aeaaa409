// The counter with a dispensing pump: DOSES doses, one after the other, each
// for a different patient, through the real app (app.request, a logged-in
// nurse's session and CSRF header, as htmx sends the confirmation step's pump
// button) and a PumpRuntime whose driver is on a real serial line: the MPP/1
// simulator as a process of its own on a socat PTY pair, at FLOW_ML_PER_S
// (fast, so the run is about the software and not the motor), with the
// driver's default timeouts and its 3 s STATUS heartbeat. The runtime opens
// the line through a wrapper that timestamps the frames as they cross it.
//
//   pump-start   from the nurse's confirmation (POST /counter/dose with the
//                pump sent) to the pump's ACK of the DISPENSE arriving on the
//                line: the readiness check, the pending record's transaction,
//                the DISPENSE frame (after a heartbeat STATUS in flight, if
//                one is), the pump's answer. The route awaits that ACK before
//                it renders the pumping step; the POST's own round trip is in
//                the notes. Goal: p99 under 150 ms.
//   pump-record  from the pump's DONE frame arriving on the line to the
//                outcome committed (the runtime's pump_dose_outcome log line,
//                written after recordPumpOutcome's transaction) and the poll
//                GET /counter/pump/:id, sent at once, answering the finished
//                area (HX-Retarget #counter, the "given, measured by the
//                pump" notice). The page itself polls every 300 ms, which
//                adds 0–300 ms in a browser; that wait is not measured here.
//
// The patients are seeded for the run (counter-patients.ts: an order in
// force, dosed yesterday) at the nurse's clinics; those of the clinic the
// bench pump is attached to, dosable today, are dosed in turn. Between doses
// the bench waits, untimed, for the pump to be ready again (the outcome
// written and the pump's STATUS IDLE; the notes say how often it had to). Both measures
// come from the same run: asked for together, the doses are given once.
//
//   BENCH_PUMP_DOSES  doses (default 200)
//   BENCH_PUMP_FLOW   the simulator's flow in ml/s (default 200)
import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { doses, pumpEvents, pumps, users } from '../../db/schema.ts';
import { FrameReader, parseCommand, parsePumpMessage, txnOfDose } from '../../devices/mpp/protocol.ts';
import { SerialLine, type Line } from '../../devices/mpp/line.ts';
import { pumpOptions } from '../../devices/options.ts';
import { createApp } from '../../server/app.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { systemClock } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { PumpRuntime } from '../../server/pumps/runtime.ts';
import { messages } from '../../views/i18n/index.ts';
import { hasSocat, startSimulator, type SimProcess } from '../helpers/pump-sim.ts';
import { addCounterPatients, HISTORY_DAYS } from './counter-patients.ts';
import type { BenchDatabase } from './database.ts';
import type { BenchContext, Measure } from './measure.ts';
import { percentile, round, type BenchResult } from './report.ts';

const DEFAULT_DOSES = 200;
const DEFAULT_FLOW = 200;
const SEED = 90_000_000;
/** Seven in ten synthetic patients are dosable today, about half of them at the pump's clinic (of the nurse's two). */
const SHARE_AT_PUMP = 0.7 * 0.45;
const SERIAL = 'SIM-0001';
/** The longest wait for the pump to be ready again between doses (a heartbeat is 3 s). */
const READY_TIMEOUT_MS = 10_000;
/** The longest wait for a dose's DONE and its outcome written. */
const OUTCOME_TIMEOUT_MS = 10_000;

const VI = messages('vi');
/** The start of the "given, measured by the pump" notice, as the finished area shows it (views/i18n/pumps.ts). */
const DONE_NOTICE = VI.pump_result_done({ name: '\u0000', mg: '', ml: '' }).split('\u0000')[0]!;

function readInt(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * A serial line whose frames are timestamped as they cross it: DISPENSE as the
 * driver writes it, ACK and DONE as they arrive (before the driver reads them:
 * this listener is registered first).
 */
class TimedLine implements Line {
  readonly dispenseAt = new Map<string, number>();
  readonly ackAt = new Map<string, number>();
  readonly doneAt = new Map<string, number>();
  private readonly fromPump: FrameReader;
  private readonly toPump: FrameReader;
  private chunkAt = 0;
  private writeAt = 0;

  constructor(private readonly inner: SerialLine) {
    this.fromPump = new FrameReader((body) => {
      const m = parsePumpMessage(body);
      if (m?.type === 'ACK') this.ackAt.set(m.txn, this.chunkAt);
      else if (m?.type === 'DONE' && !this.doneAt.has(m.txn)) this.doneAt.set(m.txn, this.chunkAt);
    });
    this.toPump = new FrameReader((body) => {
      const c = parseCommand(body);
      if (c.ok && c.command.cmd === 'DISPENSE') this.dispenseAt.set(c.command.txn, this.writeAt);
    });
    inner.onData((b) => {
      this.chunkAt = performance.now();
      this.fromPump.consume(b);
    });
    inner.onState(() => this.fromPump.reset());
  }

  get open(): boolean {
    return this.inner.open;
  }

  write(bytes: Buffer): void {
    this.writeAt = performance.now();
    this.toPump.consume(bytes);
    this.inner.write(bytes);
  }

  onData(listener: (bytes: Buffer) => void): void {
    this.inner.onData(listener);
  }

  onState(listener: (open: boolean) => void): void {
    this.inner.onState(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Samples {
  /** Confirmation → ACK on the line (pump-start). */
  start: number[];
  /** Confirmation → the POST's answer (the pumping step rendered). */
  post: number[];
  /** Confirmation → DISPENSE written; DISPENSE written → ACK. */
  toDispense: number[];
  dispenseToAck: number[];
  /** DONE on the line → the finished area answered (pump-record). */
  record: number[];
  /** DONE on the line → outcome committed; the poll's own time after that. */
  doneToCommit: number[];
  poll: number[];
  errors: Record<string, number>;
  /** Doses before which the pump was not ready at once, and the longest wait. */
  readyWaits: number;
  longestReadyWaitMs: number;
  seeded: string;
  patients: number;
}

const runs = new WeakMap<BenchDatabase, Promise<Samples>>();

/** The doses, once per bench database, shared by both measures. */
function dosesOnce(ctx: BenchContext, database: BenchDatabase): Promise<Samples> {
  let p = runs.get(database);
  if (!p) {
    p = giveDoses(ctx, database.db);
    runs.set(database, p);
  }
  return p;
}

async function giveDoses(ctx: BenchContext, db: Db): Promise<Samples> {
  if (!hasSocat) throw new Error('socat is not installed (test/setup/ensure-tools.sh): the pump simulator needs a PTY pair');
  const count = readInt('BENCH_PUMP_DOSES', DEFAULT_DOSES, 1, 10_000);
  const flow = readInt('BENCH_PUMP_FLOW', DEFAULT_FLOW, 1, 1000);

  const seedCount = Math.ceil(count / SHARE_AT_PUMP / 10) * 10 + 20;
  ctx.log(`pump: seeding ${seedCount} patients with ${HISTORY_DAYS} days of dose history (for ${count} doses at the pump's clinic)`);
  const { patients, nurse, today, seconds } = await addCounterPatients(ctx, db, { bench: 'pump', count: seedCount, seed: SEED });
  const clinic = nurse.clinics.find((c) => c.code === 'HP01') ?? nurse.clinics[0]!;
  const queue = patients.filter((p) => p.dosable && p.clinicId === clinic.id);
  if (queue.length < count) throw new Error(`pump: ${queue.length} dosable patients at ${clinic.code} of ${seedCount} seeded, ${count} needed`);

  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    ctx.log(`pump: the simulator on a socat PTY pair at ${flow} ml/s`);
    const sim: SimProcess = await startSimulator({ serial: SERIAL, flow, args: ['--reservoir', '1000000'] });
    cleanups.push(() => sim.stop());
    await sim.set({ progressIntervalMs: 20 });

    const [manager] = await db.select({ id: users.id }).from(users).where(eq(users.username, 'manager'));
    const [pump] = await db.insert(pumps).values({ clinicId: clinic.id, name: 'Bench pump', path: sim.path, expectedSerial: SERIAL }).returning();
    await db.insert(pumpEvents).values({ pumpId: pump!.id, kind: 'calibration', details: { step: 'set', old: 1, factor: 1 }, by: manager?.id ?? null, at: new Date() });
    // Retired at the end, so that a later measure's counter is measured by hand as before.
    cleanups.push(() => db.update(pumps).set({ active: false }).where(eq(pumps.id, pump!.id)));

    // The outcome committed: recordPumpOutcome returned and the runtime logged it.
    const committed = new Map<string, (at: number) => void>();
    const logger = createLogger('info', (line) => {
      const at = performance.now();
      if (!line.includes('"pump_dose_outcome"')) return;
      const { doseId } = JSON.parse(line) as { doseId: string };
      committed.get(doseId)?.(at);
    });
    let line: TimedLine | null = null;
    const runtime = new PumpRuntime({ db, clock: systemClock, logger }, pumpOptions(), (p, opts) => {
      const serial = new SerialLine(p.path, p.baudRate, opts.reconnectMs);
      if (p.id !== pump!.id) return serial;
      line = new TimedLine(serial);
      return line;
    });
    await runtime.start();
    cleanups.push(() => runtime.close());
    const timed = line as TimedLine | null;
    if (!timed) throw new Error('pump: the runtime opened no line for the bench pump');

    const { token, csrfToken } = await createSession(db, nurse.id, new Date(), { idleMinutes: 60, absoluteMinutes: 720 });
    const app = createApp({ db, clock: systemClock, config: loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', SEED_DEMO: 'false' }), logger: createLogger('silent'), pumps: runtime });
    const headers = { cookie: `mp_session=${token}`, 'x-csrf-token': csrfToken, 'hx-request': 'true', 'hx-target': 'counter' };

    const readiness = () => runtime.pumpsOf(clinic.id).find((p) => p.id === pump!.id)?.readiness.state ?? 'none';
    const waitReady = async (): Promise<number> => {
      const t = performance.now();
      while (readiness() !== 'ready') {
        if (performance.now() - t > READY_TIMEOUT_MS) throw new Error(`pump: not ready within ${READY_TIMEOUT_MS} ms (${readiness()})`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return performance.now() - t;
    };
    await waitReady();

    const s: Samples = { start: [], post: [], toDispense: [], dispenseToAck: [], record: [], doneToCommit: [], poll: [], errors: {}, readyWaits: 0, longestReadyWaitMs: 0, seeded: `${seedCount} patients seeded (${queue.length} dosable today at ${clinic.code}, ${today}) in ${seconds.toFixed(1)} s`, patients: seedCount };
    const error = (kind: string, detail = '') => {
      s.errors[kind] = (s.errors[kind] ?? 0) + 1;
      ctx.log(`pump: ${kind}${detail ? ` (${detail})` : ''}; the pump is ${readiness()}`);
    };
    const dosed: string[] = [];
    ctx.log(`pump: ${count} doses, one after the other`);
    for (const [i, p] of queue.slice(0, count).entries()) {
      const waited = await waitReady();
      if (waited > 1) {
        s.readyWaits++;
        s.longestReadyWaitMs = Math.max(s.longestReadyWaitMs, waited);
      }
      const body = new URLSearchParams({ clinic: clinic.id, patient: p.id, requestId: randomUUID(), part: '1', mg: String(p.dailyMg), intoxication: 'none', breathAlcohol: '', outcome: 'given', pump: pump!.id }).toString();
      const t0 = performance.now();
      const res = await app.request('/counter/dose', { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body });
      const html = await res.text();
      const t1 = performance.now();
      const doseId = /id="pump-step"[^>]*data-dose="([0-9a-f-]{36})"/.exec(html)?.[1];
      if (res.status !== 200 || !doseId) {
        error(res.status !== 200 ? `dose status ${res.status}` : 'dose: no pumping step', `dose ${i + 1}, answered in ${(t1 - t0).toFixed(0)} ms: ${html.match(/class="notice[^"]*"[^>]*>([^<]*)/)?.[1] ?? ''}`);
        continue;
      }
      dosed.push(doseId);
      const txn = txnOfDose(doseId);
      const written = new Promise<number>((resolve) => committed.set(doseId, resolve));
      const ackAt = timed.ackAt.get(txn);
      const dispenseAt = timed.dispenseAt.get(txn);
      if (ackAt === undefined || dispenseAt === undefined) error(dispenseAt === undefined ? 'no DISPENSE seen on the line' : 'no ACK on the line before the POST answered', `dose ${i + 1}, POST answered in ${(t1 - t0).toFixed(0)} ms`);
      else {
        s.start.push(ackAt - t0);
        s.toDispense.push(dispenseAt - t0);
        s.dispenseToAck.push(ackAt - dispenseAt);
      }
      s.post.push(t1 - t0);

      const commitAt = await Promise.race([written, new Promise<null>((r) => setTimeout(() => r(null), OUTCOME_TIMEOUT_MS))]);
      committed.delete(doseId);
      if (commitAt === null) {
        error('outcome not written in time', `dose ${i + 1}`);
        await runtime.settled(doseId);
        continue;
      }
      const t2 = performance.now();
      const polled = await app.request(`/counter/pump/${doseId}?clinic=${clinic.id}`, { headers });
      const area = await polled.text();
      const t3 = performance.now();
      const doneAt = timed.doneAt.get(txn);
      if (polled.status !== 200 || polled.headers.get('HX-Retarget') !== '#counter' || !area.includes('class="notice ok"') || !area.includes(DONE_NOTICE)) {
        error(polled.status !== 200 ? `poll status ${polled.status}` : 'poll: not the finished area', `dose ${i + 1}`);
      } else if (doneAt === undefined) error('no DONE seen on the line', `dose ${i + 1}`);
      else {
        s.record.push(t3 - doneAt);
        s.doneToCommit.push(commitAt - doneAt);
        s.poll.push(t3 - t2);
      }
      timed.dispenseAt.delete(txn);
      timed.ackAt.delete(txn);
      timed.doneAt.delete(txn);
      if ((i + 1) % 50 === 0) ctx.log(`pump: ${i + 1} / ${count} doses`);
    }

    // Every dose completed by the pump, as the simulator says it delivered it.
    const rows = dosed.length ? await db.select({ id: doses.id, status: doses.status, method: doses.method, ml: doses.ml }).from(doses).where(inArray(doses.id, dosed)) : [];
    const report = await sim.report();
    const delivered = new Map(report.transactions.map((t) => [t.txn, t.deliveredMl]));
    for (const r of rows) {
      if (r.status !== 'completed' || r.method !== 'pump') error(`record ${r.status}/${r.method}`);
      else if (delivered.has(txnOfDose(r.id)) && Math.abs(delivered.get(txnOfDose(r.id))! - r.ml) > 0.05) error('record ml ≠ simulator');
    }
    if (report.dispenseCommands !== dosed.length) error(`simulator saw ${report.dispenseCommands} DISPENSE for ${dosed.length} doses`);
    const [left] = await db.select({ n: sql<number>`count(*)::int` }).from(doses).where(and(eq(doses.method, 'pump'), eq(doses.status, 'pending')));
    if (Number(left?.n ?? 0) > 0) error('pump doses left pending');
    return s;
  } finally {
    for (const f of cleanups.reverse()) await f().catch(() => {});
  }
}

const ms = (values: number[]) => {
  const sorted = Float64Array.from(values).sort();
  return { p50: round(percentile(sorted, 0.5), 2), p99: round(percentile(sorted, 0.99), 2), max: round(sorted[sorted.length - 1] ?? Number.NaN, 2) };
};
const figures = (label: string, values: number[]) => {
  const f = ms(values);
  return `${label} p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms, max ${f.max.toFixed(2)} ms`;
};

function result(name: string, values: number[], s: Samples, notes: string[]): BenchResult {
  const errors = Object.values(s.errors).reduce((a, b) => a + b, 0);
  const f = ms(values);
  return {
    bench: name,
    requests: values.length,
    ...(values.length > 0 ? { p50_ms: f.p50, p99_ms: f.p99 } : {}),
    ...(errors > 0 ? { errors, errorKinds: s.errors } : {}),
    notes,
  };
}

export const pumpStart: Measure = {
  name: 'pump-start',
  oneShot: true,
  async run(ctx) {
    const s = await dosesOnce(ctx, await ctx.database());
    const goal = ms(s.start).p99 < 150 ? 'met' : 'NOT met';
    return [
      result('pump-start', s.start, s, [
        `confirmation (POST /counter/dose with the pump) → the pump's ACK on the line; goal p99 < 150 ms: ${goal}`,
        `${figures('confirmation → DISPENSE written:', s.toDispense)}; ${figures('DISPENSE → ACK:', s.dispenseToAck)}`,
        figures('the POST answered (pumping step rendered):', s.post),
        `${s.start.length} doses, each a different patient, simulator at ${readInt('BENCH_PUMP_FLOW', DEFAULT_FLOW, 1, 1000)} ml/s on a socat PTY; ${s.seeded}`,
        `the pump not ready at once before ${s.readyWaits} doses, longest wait ${s.longestReadyWaitMs.toFixed(0)} ms (untimed)`,
      ]),
    ];
  },
};

export const pumpRecord: Measure = {
  name: 'pump-record',
  oneShot: true,
  async run(ctx) {
    const s = await dosesOnce(ctx, await ctx.database());
    return [
      result('pump-record', s.record, s, [
        `the pump's DONE on the line → the outcome committed and GET /counter/pump/:id answering the finished area (the page's 300 ms poll interval not included)`,
        `${figures('DONE → committed:', s.doneToCommit)}; ${figures('the poll after it:', s.poll)}`,
      ]),
    ];
  },
};
