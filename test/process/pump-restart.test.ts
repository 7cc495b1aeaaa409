// A pump dose across a server killed in the middle of it (pump issue,
// acceptance: "A server restart in the middle of a dose recovers by querying
// the pump on start-up: no dose is lost, none is given twice";
// pump-protocol.md "Idempotency and recovery"). The real server process
// drives the pump simulator, itself a process on a socat PTY pair, through
// PUMP_PATH; the nurse starts the dose over HTTP; the server is SIGKILLed
// while the pump dispenses and started again on the same database. After
// each case the dose record, the audit log and what the simulator says it
// delivered agree, and the simulator heard exactly one DISPENSE.
import { randomUUID } from 'node:crypto';
import { cpSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseTarget } from '../../db/client.ts';
import { ensureAdminUnits } from '../../db/reference-data.ts';
import { auditLog, doses, pumpEvents } from '../../db/schema.ts';
import { seedDemo } from '../../db/seed.ts';
import { txnOfDose } from '../../devices/mpp/protocol.ts';
import { systemClock } from '../../server/clock.ts';
import { verifyAuditChain } from '../../server/services/audit.ts';
import { ensureEnvPump } from '../../server/services/pumps.ts';
import { ensureDefaultRuleSet } from '../../server/services/rule-sets.ts';
import { messages } from '../../views/i18n/index.ts';
import { DRIVERS, createPostgresDatabase } from '../helpers/db.ts';
import { hasSocat, startSimulator, type SimProcess, type SimReport } from '../helpers/pump-sim.ts';
import type { ServerProcess } from '../helpers/server-process.ts';
import { Cleanup, DEMO_PASSWORD, HttpClient, hxPost, kindOf, nurse, stepFields } from './helpers.ts';

const SERIAL = 'SIM-0001';

/** Short driver timeouts: a lost pump or a recovery takes seconds, not the specification's minutes of test time. */
const FAST_PUMP = {
  PUMP_ANSWER_TIMEOUT_MS: '500',
  PUMP_SILENCE_MS: '1500',
  PUMP_QUERY_RETRIES: '2',
  PUMP_QUERY_INTERVAL_MS: '300',
  PUMP_STATUS_INTERVAL_MS: '250',
  PUMP_RECONNECT_MS: '250',
};

/** Case 3: a recovery grace long enough to see the dose still pending first. */
const AWAY_PUMP = { ...FAST_PUMP, PUMP_SILENCE_MS: '4000', PUMP_QUERY_RETRIES: '3', PUMP_QUERY_INTERVAL_MS: '1000' };
/** runtime.ts start(): silenceMs + (queryRetries + 1) × queryIntervalMs + statusIntervalMs. */
const AWAY_GRACE_MS = 4000 + (3 + 1) * 1000 + 250;

/** Routine demo patients of the facility (the pump's clinic); the first one the rules say to dose is used. */
const CANDIDATES = Array.from({ length: 20 }, (_, i) => i).filter((i) => ![7, 8, 9].includes((2 * i) % 10)).map((i) => `HP01-${String(i + 1).padStart(5, '0')}`);

const sim1 = (x: number) => Math.round(x * 10) / 10;

// ---------------------------------------------------------------------------
// The counter as a browser drives it.

/** What a pump dose of the card waits for: the pump delivering, the pump's answer, a nurse after a fault or silence; null: nothing. */
function pumpStepOf(html: string): 'pumping' | 'pending' | 'fault' | 'unknown' | null {
  if (html.includes('id="pump-step"')) return 'pumping';
  if (!html.includes('pump-resolve')) return null;
  if (html.includes('name="decision" value="top_up"')) return 'fault';
  if (html.includes('name="decision" value="not_given"')) return 'unknown';
  return 'pending';
}

const cardOf = async (client: HttpClient, clinic: string, code: string) => (await client.get(`/counter/find?clinic=${clinic}&q=${code}`)).html;

/** Polls until `check` holds (a deadline, not a fixed sleep); fails naming `what`. */
async function until<T>(what: string, check: () => Promise<T | false | null | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface StartedDose {
  code: string;
  doseId: string;
  txn: string;
  plannedMl: number;
  /** The confirmation as the page posted it (a retry posts it again). */
  confirm: Record<string, string>;
}

/**
 * The nurse doses the first patient due, with the pump: card, observation
 * check, the pump's button. The simulator's flow is set so the dose takes
 * about `seconds`. Resolves once the pump acknowledged (the pumping step).
 */
async function startPumpDose(client: HttpClient, clinic: string, sim: SimProcess, seconds: number, behaviour: (plannedMl: number) => Record<string, unknown> = () => ({})): Promise<StartedDose> {
  for (const code of CANDIDATES) {
    const shown = await cardOf(client, clinic, code);
    if (kindOf(shown) !== 'give') continue;
    const check = stepFields(shown);
    // The pump's button appears once the server identified the pump (HELLO, STATUS) on its line.
    const confirm = await until('the pump ready at the counter', async () => {
      const step = await hxPost(client, '/counter/check', { ...check, intoxication: 'none' });
      const f = stepFields(step.html);
      return f.pump ? f : null;
    });
    const plannedMl = Number(confirm.mg) / 10; // the demo's 10 mg/ml
    expect(plannedMl).toBeGreaterThan(0);
    await sim.set({ flowMlPerS: Math.round((plannedMl / seconds) * 1000) / 1000, progressIntervalMs: 100, ...behaviour(plannedMl) });
    const started = await hxPost(client, '/counter/dose', { ...confirm, outcome: 'given' });
    expect(started.status).toBe(200);
    expect(pumpStepOf(started.html)).toBe('pumping');
    const doseId = /data-dose="([0-9a-f-]{36})"/.exec(started.html)?.[1];
    expect(doseId).toBeTruthy();
    return { code, doseId: doseId!, txn: txnOfDose(doseId!), plannedMl, confirm };
  }
  throw new Error('no demo patient is due a dose today');
}

async function simTxn(sim: SimProcess, txn: string): Promise<SimReport['transactions'][number] | undefined> {
  return (await sim.report()).transactions.find((t) => t.txn === txn);
}

/** Waits for the pump's own transaction of the dose to reach `state` (DONE, FAULT), whoever listens. */
function simTxnIn(sim: SimProcess, d: StartedDose, state: string, what: string): Promise<NonNullable<Awaited<ReturnType<typeof simTxn>>>> {
  return until(what, async () => {
    const t = await simTxn(sim, d.txn);
    return t?.state === state ? t : null;
  });
}

/** The nurse's decision on a pump dose waiting for her: recorded, and the card then shows the patient dosed, nothing more waiting. */
async function decide(client: HttpClient, clinic: string, d: StartedDose, form: Record<string, string>): Promise<void> {
  const decided = await hxPost(client, `/counter/pump/${d.doseId}/resolve`, { clinic, ...form });
  expect(decided.status).toBe(200);
  expect(decided.html).toContain('class="notice ok"');
  const after = await cardOf(client, clinic, d.code);
  expect(kindOf(after)).toBe('already_dosed');
  expect(pumpStepOf(after)).toBeNull();
}

/** SIGKILL once the pump has delivered `fraction` of the dose; checks the pump was still dispensing when the server died. */
async function killMidDose(server: ServerProcess, sim: SimProcess, d: StartedDose, fraction: number): Promise<void> {
  await until('the pump under way', async () => ((await simTxn(sim, d.txn))?.deliveredMl ?? 0) >= d.plannedMl * fraction, 30_000, 50);
  server.child.kill('SIGKILL');
  expect((await server.exited).signal).toBe('SIGKILL');
  const t = await simTxn(sim, d.txn);
  expect(t?.state, 'the server must die while the pump dispenses').toBe('RUNNING');
  expect(t!.deliveredMl).toBeLessThan(d.plannedMl);
}

/** Logged events of a server (LOG_LEVEL info: one JSON object a line). */
function logged(server: ServerProcess, event: string): Record<string, unknown>[] {
  return server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(`"event":"${event}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// ---------------------------------------------------------------------------
// The database: the demo, with the simulator as the facility's calibrated pump.

interface Fixture {
  target: DatabaseTarget;
  env: Record<string, string>;
}

/** What the database holds of a dose once the server is stopped. */
async function doseFacts(target: DatabaseTarget, doseId: string) {
  const database = await openDatabase(target, { migrate: false });
  try {
    const db = database.db;
    const [dose] = await db.select().from(doses).where(eq(doses.id, doseId));
    const events = await db.select().from(pumpEvents).where(eq(pumpEvents.doseId, doseId)).orderBy(asc(pumpEvents.id));
    const audits = await db.select().from(auditLog).where(and(eq(auditLog.entityType, 'dose'), eq(auditLog.entityId, doseId))).orderBy(asc(auditLog.id));
    const sameDay = await db.select().from(doses).where(and(eq(doses.patientId, dose!.patientId), eq(doses.serviceDay, dose!.serviceDay)));
    const chain = await verifyAuditChain(db);
    return {
      dose: dose!,
      events: events.map((e) => ({ kind: e.kind, details: e.details })),
      audits: audits.map((a) => ({ action: a.action, details: a.details })),
      /** Doses of that patient that day not failed: given once means exactly one. */
      dosesThatDay: sameDay.filter((d) => d.status !== 'failed').length,
      chainOk: chain.ok,
    };
  } finally {
    await database.close();
  }
}

for (const driver of DRIVERS) {
  describe.runIf(hasSocat)(`a pump dose across a server killed mid-dose [${driver}]`, () => {
    const cleanup = new Cleanup();
    afterAll(() => cleanup.run());

    let template: Promise<string> | null = null;
    /** PGlite: the demo is seeded once (migrations and seed take ~15 s) and each case gets a copy of the folder. */
    const pgliteTemplate = () =>
      (template ??= (async () => {
        const dir = cleanup.dir('mp-pump-template-');
        await seed({ kind: 'pglite', dataDir: dir });
        return dir;
      })());

    async function seed(target: DatabaseTarget): Promise<void> {
      const database = await openDatabase(target);
      try {
        await ensureAdminUnits(database.db);
        await ensureDefaultRuleSet(database.db);
        await seedDemo(database.db, DEMO_PASSWORD, new Date());
      } finally {
        await database.close();
      }
    }

    /** The demo with the simulator attached as the server's PUMP_PATH would, calibrated now (else the pump is blocked: calibration due). */
    async function fixture(sim: SimProcess, pump: Record<string, string>): Promise<Fixture> {
      let target: DatabaseTarget;
      let dbEnv: Record<string, string>;
      if (driver === 'pglite') {
        const dataDir = cleanup.dir('mp-pump-');
        cpSync(await pgliteTemplate(), dataDir, { recursive: true });
        target = { kind: 'pglite', dataDir };
        dbEnv = { DATA_DIR: dataDir };
      } else {
        const pg = await createPostgresDatabase('mp_pump');
        cleanup.defer(pg.drop);
        target = { kind: 'postgres', url: pg.url };
        dbEnv = { DATABASE_URL: pg.url };
        await seed(target);
      }
      const database = await openDatabase(target);
      try {
        const row = await ensureEnvPump({ db: database.db, clock: systemClock }, sim.path, 9600, SERIAL);
        if (!row) throw new Error('no facility to attach the pump to');
        await database.db.insert(pumpEvents).values({ pumpId: row.id, kind: 'calibration', details: { step: 'set', old: 1, factor: 1 }, at: new Date() });
      } finally {
        await database.close();
      }
      // LOG_LEVEL info: the recovery's own log line says what the pump answered.
      return { target, env: { ...dbEnv, SEED_DEMO: 'true', DEMO_PASSWORD, LOG_LEVEL: 'info', PUMP_PATH: sim.path, PUMP_SERIAL: SERIAL, ...pump } };
    }

    async function simulator(): Promise<SimProcess> {
      const sim = await startSimulator({ serial: SERIAL });
      cleanup.defer(() => sim.stop());
      return sim;
    }

    /**
     * A case's start: the simulator (bent by `sim` first), the demo with it as
     * the facility's pump, a server with the `pump` settings, the nurse's pump
     * dose taking about `seconds` (startPumpDose), and the server SIGKILLed
     * once the pump has delivered `fraction` of it (killMidDose).
     */
    async function killedMidDose(pump: Record<string, string>, seconds: number, fraction: number, opts: { sim?: Record<string, unknown>; behaviour?: (plannedMl: number) => Record<string, unknown> } = {}) {
      const began = Date.now();
      const sim = await simulator();
      if (opts.sim) await sim.set(opts.sim);
      const { target, env } = await fixture(sim, pump);
      const server = await cleanup.start(env);
      const { client, clinic } = await nurse(server.url);
      const d = await startPumpDose(client, clinic, sim, seconds, opts.behaviour);
      await killMidDose(server, sim, d, fraction);
      return { began, sim, target, env, d };
    }

    /**
     * A case's end: the server stopped as a service manager stops it (SIGTERM,
     * exit 0), the pump heard one DISPENSE in all, and the database holds the
     * patient dosed once that day with its audit chain whole. Returns what the
     * pump and the database say, for the case's own checks.
     */
    async function stoppedFacts(server: ServerProcess, sim: SimProcess, target: DatabaseTarget, d: StartedDose) {
      await server.stop('SIGTERM');
      expect((await server.exited).code).toBe(0);
      const report = await sim.report();
      expect(report.dispenseCommands).toBe(1);
      const facts = await doseFacts(target, d.doseId);
      expect(facts.dosesThatDay).toBe(1);
      expect(facts.chainOk).toBe(true);
      return { report, facts };
    }

    it('killed while the pump dispenses, restarted after it finished: QUERY finds DONE, the dose is completed with what the pump delivered, once', async () => {
      // The pump measures 98 % of what it was asked: the record must hold the pump's figure, not the plan.
      const { began, sim, target, env, d } = await killedMidDose(FAST_PUMP, 6, 0.25, { sim: { deliveryError: 0.98 } });
      // The pump finishes on its own, with no server listening.
      const finished = await simTxnIn(sim, d, 'DONE', 'the pump to finish alone');
      expect(finished.deliveredMl).toBeCloseTo(sim1(d.plannedMl * 0.98), 1);

      const server = await cleanup.start(env);
      const { client, clinic } = await nurse(server.url);
      // Asked after, not sent again: the card shows the patient dosed today.
      const html = await until('the dose completed after the restart', async () => {
        const h = await cardOf(client, clinic, d.code);
        return kindOf(h) === 'already_dosed' && pumpStepOf(h) === null ? h : null;
      });
      expect(html).not.toContain('name="pump"');
      expect(logged(server, 'pump_dose_recovery')).toEqual([expect.objectContaining({ doseId: d.doseId, state: 'DONE' })]);

      // The page's retry of the same confirmation: the same record, nothing sent. A fresh attempt: refused, dosed today.
      const retry = await hxPost(client, '/counter/dose', { ...d.confirm, outcome: 'given' });
      expect(retry.status).toBe(200);
      expect(retry.html).toContain('class="notice ok"');
      expect(pumpStepOf(retry.html)).toBeNull();
      const fresh = await hxPost(client, '/counter/dose', { ...d.confirm, requestId: randomUUID(), outcome: 'given' });
      expect(pumpStepOf(fresh.html)).toBeNull();
      expect(kindOf(await cardOf(client, clinic, d.code))).toBe('already_dosed');

      const { report, facts } = await stoppedFacts(server, sim, target, d);
      expect(report.transactions).toHaveLength(1);
      expect(facts.dose).toMatchObject({ status: 'completed', method: 'pump', outcome: 'given' });
      expect(facts.dose.ml).toBeCloseTo(finished.deliveredMl, 2);
      expect(facts.dose.givenMg).toBeCloseTo(Math.min(Number(d.confirm.mg), sim1(finished.deliveredMl * 10)), 1);
      expect(facts.events.map((e) => e.kind)).toEqual(['dispense', 'done']);
      expect(Number(facts.events[1]!.details.ml)).toBeCloseTo(finished.deliveredMl, 2);
      expect(facts.audits.map((a) => a.action)).toEqual(['dose_record', 'dose_pump_outcome']);
      expect(facts.audits[1]!.details).toMatchObject({ outcome: 'done' });
      expect(Number(facts.audits[1]!.details.ml)).toBeCloseTo(finished.deliveredMl, 2);
      console.info(`pump-restart [${driver}] DONE while down: ${d.plannedMl} ml planned, ${finished.deliveredMl} ml delivered and recorded, ${Date.now() - began} ms`);
    }, 180_000);

    it('killed and restarted while the pump still dispenses: QUERY finds RUNNING, the dose is watched to DONE and never sent twice', async () => {
      const { began, sim, target, env, d } = await killedMidDose(FAST_PUMP, 30, 0.1);
      const server = await cleanup.start(env);
      const { client, clinic } = await nurse(server.url);
      // The counter follows the dose again, with the pump's volume.
      const seenMl = await until('the pumping step after the restart', async () => {
        const h = await cardOf(client, clinic, d.code);
        const m = pumpStepOf(h) === 'pumping' ? /<progress[^>]*value="([0-9.]+)"/.exec(h) : null;
        return m && Number(m[1]) > 0 ? Number(m[1]) : null;
      });
      expect(seenMl).toBeLessThan(d.plannedMl);
      expect(logged(server, 'pump_dose_recovery')).toEqual([expect.objectContaining({ doseId: d.doseId, state: 'RUNNING' })]);
      // The page's retry while the pump runs: the pump is busy, nothing is sent.
      const retry = await hxPost(client, '/counter/dose', { ...d.confirm, outcome: 'given' });
      expect(retry.status).toBe(409);
      expect((await sim.report()).dispenseCommands).toBe(1);

      await until('the dose completed', async () => {
        const h = await cardOf(client, clinic, d.code);
        return kindOf(h) === 'already_dosed' && pumpStepOf(h) === null;
      }, 60_000);
      const t = (await simTxn(sim, d.txn))!;
      expect(t.state).toBe('DONE');

      const { facts } = await stoppedFacts(server, sim, target, d);
      expect(facts.dose).toMatchObject({ status: 'completed', method: 'pump' });
      expect(facts.dose.ml).toBeCloseTo(t.deliveredMl, 2);
      expect(facts.events.map((e) => e.kind)).toEqual(['dispense', 'done']);
      expect(facts.audits.map((a) => a.action)).toEqual(['dose_record', 'dose_pump_outcome']);
      expect(Number(facts.audits[1]!.details.ml)).toBeCloseTo(t.deliveredMl, 2);
      console.info(`pump-restart [${driver}] RUNNING at restart: ${t.deliveredMl} ml delivered and recorded, ${Date.now() - began} ms`);
    }, 180_000);

    it('killed, and the pump faults while the server is down: after the restart the fault waits for the nurse, whose decision is recorded', async () => {
      // faultAt is one-shot for the next transaction: set before the dose, at half of it.
      let faultMl = 0;
      const { began, sim, target, env, d } = await killedMidDose(FAST_PUMP, 10, 0.15, { behaviour: (planned) => ({ faultAt: { code: 'OCCLUSION', ml: (faultMl = sim1(planned / 2)) } }) });
      const faulted = await simTxnIn(sim, d, 'FAULT', 'the pump to fault alone');
      expect(faulted.faultCode).toBe('OCCLUSION');
      expect(faulted.deliveredMl).toBeCloseTo(faultMl, 1);

      const server = await cleanup.start(env);
      const { client, clinic } = await nurse(server.url);
      // TXN carries no fault code: the counter says the pump gave none, with the volume it reported.
      const html = await until('the fault step after the restart', async () => {
        const h = await cardOf(client, clinic, d.code);
        return pumpStepOf(h) === 'fault' ? h : null;
      });
      expect(html).toContain(messages('vi').pump_fault_UNREPORTED);
      expect(logged(server, 'pump_dose_recovery')).toEqual([expect.objectContaining({ doseId: d.doseId, state: 'FAULT' })]);
      // Still holding the day: no second dose while the nurse has not decided.
      expect(kindOf(html)).toBe('already_dosed');
      const fresh = await hxPost(client, '/counter/dose', { ...d.confirm, requestId: randomUUID(), outcome: 'given' });
      expect(pumpStepOf(fresh.html)).not.toBe('pumping');

      // The nurse tops up by hand to the planned volume.
      await decide(client, clinic, d, { decision: 'top_up' });

      const { facts } = await stoppedFacts(server, sim, target, d);
      const handMl = Math.round((d.plannedMl - faulted.deliveredMl) * 100) / 100;
      expect(facts.dose).toMatchObject({ status: 'completed', method: 'pump' });
      expect(facts.dose.ml).toBeCloseTo(d.plannedMl, 2);
      expect(facts.events.map((e) => e.kind)).toEqual(['dispense', 'fault', 'resolve']);
      expect(facts.events[1]!.details).toMatchObject({ code: 'UNREPORTED' });
      expect(Number(facts.events[1]!.details.ml)).toBeCloseTo(faulted.deliveredMl, 2);
      expect(facts.events[2]!.details).toMatchObject({ decision: 'top_up', from: 'pending' });
      expect(Number(facts.events[2]!.details.pumpMl)).toBeCloseTo(faulted.deliveredMl, 2);
      expect(Number(facts.events[2]!.details.handMl)).toBeCloseTo(handMl, 2);
      expect(facts.audits.map((a) => a.action)).toEqual(['dose_record', 'dose_pump_outcome', 'dose_pump_resolve']);
      expect(facts.audits[1]!.details).toMatchObject({ outcome: 'fault', code: 'UNREPORTED' });
      expect(Number(facts.audits[1]!.details.ml)).toBeCloseTo(faulted.deliveredMl, 2);
      console.info(`pump-restart [${driver}] FAULT while down: ${faulted.deliveredMl} ml by the pump + ${handMl} ml by hand, ${Date.now() - began} ms`);
    }, 180_000);

    it('restarted while the pump is unplugged: pending while it is away, unknown after the recovery grace, and nothing re-sent when it is back', async () => {
      const { began, sim, target, env, d } = await killedMidDose(AWAY_PUMP, 6, 0.2);
      await sim.command({ cmd: 'unplug' });
      const server = await cleanup.start(env);
      const up = Date.now();
      const { client, clinic } = await nurse(server.url);

      // Pending while the pump is away (the counter says it waits for the pump), then unknown at the grace.
      const seen: { state: ReturnType<typeof pumpStepOf>; at: number }[] = [];
      const unknownHtml = await until(
        'the dose unknown after the recovery grace',
        async () => {
          const h = await cardOf(client, clinic, d.code);
          seen.push({ state: pumpStepOf(h), at: Date.now() - up });
          return pumpStepOf(h) === 'unknown' ? h : null;
        },
        AWAY_GRACE_MS + 20_000,
        250,
      );
      const firstUnknown = seen.find((s) => s.state === 'unknown')!.at;
      const before = seen.filter((s) => s.at < firstUnknown);
      expect(before.length, 'the card was never seen before the grace ended').toBeGreaterThan(4);
      expect(before[0]!.at).toBeLessThan(AWAY_GRACE_MS - 3000);
      expect(new Set(before.map((s) => s.state))).toEqual(new Set(['pending']));
      // The grace timer starts just before the listener, so a little before `up`.
      expect(firstUnknown).toBeGreaterThan(AWAY_GRACE_MS - 1500);
      expect(logged(server, 'pump_connected')).toEqual([]);

      // Unknown blocks the patient until a nurse resolves it.
      expect(kindOf(unknownHtml)).toBe('already_dosed');
      const fresh = await hxPost(client, '/counter/dose', { ...d.confirm, requestId: randomUUID(), outcome: 'given' });
      expect(pumpStepOf(fresh.html)).not.toBe('pumping');

      // The pump went on alone and finished; plugged back, it is asked nothing and sent nothing.
      const t = await simTxnIn(sim, d, 'DONE', 'the pump to finish alone');
      await sim.command({ cmd: 'replug' });
      await until('the pump connected again', async () => logged(server, 'pump_connected').length > 0, 20_000);
      await sleep(1500); // several heartbeats
      expect((await sim.report()).dispenseCommands).toBe(1);
      expect(pumpStepOf(await cardOf(client, clinic, d.code))).toBe('unknown');
      expect(logged(server, 'pump_dose_recovery')).toEqual([]);
      // The page's retry of the lost confirmation: the unknown dose waiting for the nurse, not a "given" notice, and nothing sent.
      const retry = await hxPost(client, '/counter/dose', { ...d.confirm, outcome: 'given' });
      expect(retry.status).toBe(200);
      expect(pumpStepOf(retry.html)).toBe('unknown');
      expect(retry.html).not.toContain('class="notice ok"');
      expect((await sim.report()).dispenseCommands).toBe(1);

      // The nurse looks at the cup: given, with the volume in it.
      await decide(client, clinic, d, { decision: 'given', ml: String(t.deliveredMl) });

      const { facts } = await stoppedFacts(server, sim, target, d);
      expect(facts.dose).toMatchObject({ status: 'completed', method: 'pump' });
      expect(facts.dose.ml).toBeCloseTo(t.deliveredMl, 2);
      expect(facts.events.map((e) => e.kind)).toEqual(['dispense', 'unknown', 'resolve']);
      expect(facts.events[2]!.details).toMatchObject({ decision: 'given', from: 'unknown' });
      expect(facts.audits.map((a) => a.action)).toEqual(['dose_record', 'dose_pump_outcome', 'dose_pump_resolve']);
      expect(facts.audits[1]!.details).toMatchObject({ outcome: 'unknown' });
      expect(Number(facts.audits[2]!.details.ml)).toBeCloseTo(t.deliveredMl, 2);
      console.info(`pump-restart [${driver}] unplugged at restart: unknown after ${firstUnknown} ms (grace ${AWAY_GRACE_MS}), ${t.deliveredMl} ml found in the cup, ${Date.now() - began} ms`);
    }, 180_000);
  });
}
