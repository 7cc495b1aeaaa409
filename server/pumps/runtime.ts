// The pumps this server instance drives: one Station per configured pump,
// and the life of a pump dose after its pending record was committed —
// DISPENSE, progress for the counter, the outcome written back (retried
// until the database takes it), and on every connection the recovery of
// doses left pending by a restart (QUERY, never a second DISPENSE).
import { randomUUID } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { clinics, pumpEvents, pumps } from '../../db/schema.ts';
import { SerialLine, type Line } from '../../devices/mpp/line.ts';
import { txnOfDose } from '../../devices/mpp/protocol.ts';
import type { PumpOptions } from '../../devices/options.ts';
import type { DispenseOutcome } from '../../devices/pump.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { pendingOnPump, recordLateReport, recordPumpOutcome } from '../services/pump-doses.ts';
import { recordAlarm } from '../services/pumps.ts';
import { Station, type PumpConfig, type Readiness } from './station.ts';

export type LineFactory = (p: PumpConfig, opts: PumpOptions) => Line;

const serialLine: LineFactory = (p, opts) => new SerialLine(p.path, p.baudRate, opts.reconnectMs);

export interface ClinicPump {
  id: string;
  name: string;
  readiness: Readiness;
}

export class PumpRuntime {
  private readonly stations = new Map<string, Station>();
  private closed = false;

  constructor(
    private readonly deps: { db: Db; clock: Clock; logger: Logger },
    readonly opts: PumpOptions,
    private readonly openLine: LineFactory = serialLine,
  ) {}

  /**
   * At start-up: opens the pumps, and once the protocol's recovery time has
   * passed, a dose still pending on a pump that never came back is unknown
   * (a person must look at the cup): a pending dose must not block a patient
   * in silence for ever.
   */
  async start(): Promise<void> {
    await this.load();
    const grace = this.opts.silenceMs + (this.opts.queryRetries + 1) * this.opts.queryIntervalMs + this.opts.statusIntervalMs;
    this.expiry = setTimeout(() => void this.expireOffline(), grace);
  }

  private expiry: NodeJS.Timeout | null = null;

  private async expireOffline(): Promise<void> {
    for (const s of this.stations.values()) {
      if (s.online || this.closed) continue;
      const pending = await pendingOnPump(this.deps.db, s.config.id).catch(() => []);
      for (const p of pending) if (!s.active.has(p.id)) await this.write(p.id, s.config.id, { kind: 'unknown', ml: 0 });
    }
  }

  /** Opens every active pump's line (and closes those retired or changed since). */
  async load(): Promise<void> {
    const configs = await loadConfigs(this.deps.db);
    for (const [id, s] of this.stations) {
      const c = configs.find((x) => x.id === id);
      if (!c || c.path !== s.config.path || c.baudRate !== s.config.baudRate) {
        this.stations.delete(id);
        await s.close();
      }
    }
    for (const c of configs) {
      const s = this.stations.get(c.id);
      if (s) s.config = c;
      else {
        const station = new Station(c, this.openLine(c, this.opts), this.opts, this.deps.logger, (x) => void this.recover(x));
        // An alarm with no dose running (RESERVOIR_LOW, DOOR_OPEN when idle) goes into the pump's log for the pump page.
        station.driver.onEvent((e) => {
          if (e.type === 'alarm') void recordAlarm(this.deps, c.id, e.code).catch(() => this.deps.logger.warn('pump_alarm_not_recorded', { pumpId: c.id }));
        });
        this.stations.set(c.id, station);
      }
    }
  }

  station(pumpId: string): Station | undefined {
    return this.stations.get(pumpId);
  }

  /** The pumps of a clinic with what each may do now; the counter uses the first ready one. */
  pumpsOf(clinicId: string): ClinicPump[] {
    const now = this.deps.clock.now();
    return [...this.stations.values()].filter((s) => s.config.clinicId === clinicId).map((s) => ({ id: s.config.id, name: s.config.name, readiness: s.readiness(now) }));
  }

  /** The dose in progress on any pump, with the volume so far. */
  progress(doseId: string): { pumpId: string; ml: number; plannedMl: number; stopping: boolean } | null {
    for (const s of this.stations.values()) {
      const a = s.active.get(doseId);
      if (a) return { pumpId: s.config.id, ml: a.ml, plannedMl: a.plannedMl, stopping: a.stopping };
    }
    return null;
  }

  /**
   * Tells the pump to deliver a dose whose pending record is committed. Resolves
   * when the pump acknowledged it (or with the outcome when it did not start:
   * that outcome is already written). The final outcome is written when it comes.
   */
  async dispense(pumpId: string, dose: { id: string; ml: number }): Promise<{ acked: true } | { acked: false; outcome: DispenseOutcome }> {
    const s = this.stations.get(pumpId);
    if (!s || !s.online) {
      const outcome: DispenseOutcome = { kind: 'not_started', reason: 'refused' };
      await this.write(dose.id, pumpId, outcome);
      return { acked: false, outcome };
    }
    const active = { doseId: dose.id, txn: txnOfDose(dose.id), plannedMl: dose.ml, ml: 0, stopping: false };
    s.active.set(dose.id, active);
    const handle = s.driver.dispense(active.txn, dose.ml, (ml) => (active.ml = ml));
    void handle.outcome.then((o) => this.settle(s, dose.id, o));
    const started = await handle.started;
    if (!started.acked) await handle.outcome.then(() => this.settled(dose.id));
    return started;
  }

  /** Stops the pump delivering this dose; the pump ends it in FAULT STOPPED and the nurse decides. */
  async stop(doseId: string): Promise<boolean> {
    for (const s of this.stations.values()) {
      const a = s.active.get(doseId);
      if (!a) continue;
      a.stopping = true;
      try {
        await s.driver.stop();
        return true;
      } catch {
        return false;
      }
    }
    return false;
  }

  /** A calibration check's test volume: a transaction of its own (not a dose); resolves with what the pump measured. */
  async testDispense(pumpId: string, ml: number, txn = `CAL-${randomUUID().slice(0, 8)}`): Promise<DispenseOutcome> {
    const s = this.stations.get(pumpId);
    if (!s || !s.online) return { kind: 'not_started', reason: 'refused' };
    const h = s.driver.dispense(txn, ml);
    return h.outcome;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.expiry) clearTimeout(this.expiry);
    await Promise.all([...this.stations.values()].map((s) => s.close()));
    this.stations.clear();
  }

  // -------------------------------------------------------------------------

  private pendingWrites = new Set<string>();

  /** Waits for a dose's outcome to be written (tests, and the route answering a DISPENSE the pump refused). */
  async settled(doseId: string): Promise<void> {
    while (this.pendingWrites.has(doseId) || this.progress(doseId)) await new Promise((r) => setTimeout(r, 10));
  }

  /** The outcome written, then the dose leaves the pump's active list: until then the counter keeps showing progress, never a half-written state. */
  private async settle(s: Station, doseId: string, o: DispenseOutcome): Promise<void> {
    this.pendingWrites.add(doseId);
    const a = s.active.get(doseId);
    if (a && o.kind !== 'not_started') a.ml = o.ml;
    // The pump's state now (IDLE), not the heartbeat's last STATUS: one taken during the dose said DISPENSING and would keep the pump "busy" for up to a heartbeat.
    void s.tick();
    try {
      await this.write(doseId, s.config.id, o);
    } finally {
      s.active.delete(doseId);
      this.pendingWrites.delete(doseId);
    }
  }

  /**
   * Writes an outcome, again and again while the database is away: the pump
   * delivered (or not) whatever the database's state, and the record must say
   * so. Should this process die first, the restart asks the pump (which
   * remembers its last 64 transactions) and writes it then.
   */
  private async write(doseId: string, pumpId: string, o: DispenseOutcome): Promise<void> {
    for (let wait = 200; !this.closed; wait = Math.min(wait * 2, 5000)) {
      try {
        const d = await recordPumpOutcome(this.deps, doseId, pumpId, o);
        // The pump's word arrived after the dose went unknown: kept for the nurse, not applied.
        if (d?.status === 'unknown' && o.kind === 'done') await recordLateReport(this.deps, doseId, pumpId, 'DONE', o.ml);
        this.deps.logger.info('pump_dose_outcome', { doseId, pumpId, outcome: o.kind });
        return;
      } catch (e) {
        this.deps.logger.error('pump_outcome_write_failed', { doseId, code: (e as { code?: string })?.code ?? null });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** After a (re)connection: every dose still pending on this pump is asked after, never sent again. */
  private async recover(s: Station): Promise<void> {
    let pending: { id: string; plannedMl: number }[];
    try {
      pending = await pendingOnPump(this.deps.db, s.config.id);
    } catch {
      return;
    }
    for (const p of pending) {
      if (s.active.has(p.id) || this.pendingWrites.has(p.id)) continue;
      const txn = txnOfDose(p.id);
      // The protocol's recovery: QUERY, retried queryRetries times, queryIntervalMs apart.
      let answer: { state: string; ml: number } | null = null;
      for (let attempt = 0; attempt <= this.opts.queryRetries && !answer && !this.closed; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, this.opts.queryIntervalMs));
        answer = await s.driver.query(txn).catch(() => null);
      }
      if (!answer) {
        // Silent through the recovery: unknown, for a nurse to resolve with the cup in front of her.
        await this.write(p.id, s.config.id, { kind: 'unknown', ml: 0 });
        continue;
      }
      this.deps.logger.info('pump_dose_recovery', { doseId: p.id, pumpId: s.config.id, state: answer.state });
      switch (answer.state) {
        case 'DONE':
          await this.write(p.id, s.config.id, { kind: 'done', ml: answer.ml });
          break;
        case 'FAULT':
          await this.write(p.id, s.config.id, { kind: 'fault', code: 'UNREPORTED', ml: answer.ml });
          break;
        case 'UNKNOWN':
          // The DISPENSE never reached the pump (the process died before the frame left): nothing was delivered.
          await this.write(p.id, s.config.id, { kind: 'not_started', reason: 'not_received' });
          break;
        default: {
          const active = { doseId: p.id, txn, plannedMl: p.plannedMl, ml: answer.ml, stopping: false };
          s.active.set(p.id, active);
          void s.driver.watch(txn, (ml) => (active.ml = ml)).then((o) => this.settle(s, p.id, o));
        }
      }
    }
  }
}

async function loadConfigs(db: Db): Promise<PumpConfig[]> {
  const rows = await db
    .select({
      id: pumps.id,
      clinicId: pumps.clinicId,
      name: pumps.name,
      path: pumps.path,
      baudRate: pumps.baudRate,
      expectedSerial: pumps.expectedSerial,
      calibrationMaxHours: clinics.pumpCalibrationMaxHours,
      lastCalibrationAt: sql<string | null>`(select max(e.at) from ${pumpEvents} e where e.pump_id = ${pumps.id} and e.kind = 'calibration' and e.details->>'step' = 'set')`,
    })
    .from(pumps)
    .innerJoin(clinics, eq(clinics.id, pumps.clinicId))
    .where(and(eq(pumps.active, true), eq(clinics.active, true)))
    .orderBy(pumps.name, desc(pumps.createdAt));
  return rows.map((r) => ({ ...r, lastCalibrationAt: r.lastCalibrationAt ? new Date(r.lastCalibrationAt) : null }));
}
