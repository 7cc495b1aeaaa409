// A clinic with a pump, for the tests that drive the counter through the real
// app and a real serial line (test/integration/pump-counter, pump-faults and
// pump-readiness): the simulator as its own process on a socat PTY pair, the
// clinic's pump row on its path, calibrated, the PumpRuntime with short
// timeouts, a nurse and a manager logged in, and patients on 80 mg who came
// yesterday. Made through the real schema on a fixed clock; what a test
// started is stopped by `stopPumpWorlds` in the file's afterEach.
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import type { Db } from '../../db/client.ts';
import { clinics, doseOrders, doses, doseSlots, episodes, patients, pumpEvents, pumps } from '../../db/schema.ts';
import { fold } from '../../db/fold.ts';
import { pumpOptions, type PumpOptions } from '../../devices/options.ts';
import { FixedClock } from '../../server/clock.ts';
import { createLogger } from '../../server/log.ts';
import { PumpRuntime } from '../../server/pumps/runtime.ts';
import { makeTestApp } from './app.ts';
import { TestClient } from './client.ts';
import { makeClinic, makeUser, sessionFor } from './fixtures.ts';
import { hasSocat, startSimulator } from './pump-sim.ts';

/** 09:00 in Hải Phòng on Monday 23 November 2026. */
export const MORNING = new Date('2026-11-23T02:00:00Z');
export const TODAY = '2026-11-23';
/** Short driver timeouts: a lost pump or a garbled frame takes about a second, not the specification's seconds; the answer timeout keeps room for a loaded CI machine. */
export const FAST = pumpOptions({ answerTimeoutMs: 1000, silenceMs: 800, queryIntervalMs: 300, queryRetries: 2, statusIntervalMs: 250, reconnectMs: 250 });
/** Every patient here takes 80 mg of a 10 mg/ml solution: 8 ml. */
export const PLANNED_ML = 8;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of the last form field `name` in a page. */
export function field(html: string, name: string): string {
  const all = [...html.matchAll(new RegExp(`name="${name}" value="([^"]*)"`, 'g'))];
  if (!all.length) throw new Error(`no field ${name}`);
  return all[all.length - 1]![1]!;
}

/** Polls until `probe` gives something truthy, or fails after `ms`. */
export async function until<T>(what: string, probe: () => T | Promise<T>, ms = 15_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const started: (() => Promise<void>)[] = [];

/** Stops what the worlds of the test started (the runtime, then the simulator): the file's afterEach. */
export async function stopPumpWorlds(): Promise<void> {
  for (const f of started.splice(0).reverse()) await f();
}

export type Patient = typeof patients.$inferSelect;

export interface PumpWorldOptions {
  /** The simulator's flow in ml/s (20 unless said). */
  flow?: number;
  /** The simulator's behaviour from the start, over a progress report every 50 ms. */
  behaviour?: Record<string, unknown>;
  /** The runtime's driver options (FAST unless said). */
  options?: PumpOptions;
  /** The SERIAL the pump row expects (the simulator's SIM-0001 unless said); null: none confirmed yet. */
  expectedSerial?: string | null;
  /** When the last calibration was recorded (MORNING unless said); null: never. */
  calibratedAt?: Date | null;
  /** The clinic's calibration limit in hours (the clinic's default unless said). */
  calibrationMaxHours?: number;
  /** The pump's states that end the wait for it to answer (ready unless said), and how long that wait may take. */
  answered?: string[];
  answerMs?: number;
}

/** A clinic with a calibrated pump on its own simulator, a nurse and a manager logged in, and patients on 80 mg who came yesterday (addPatient). */
export async function pumpWorld(db: Db, opts: PumpWorldOptions = {}) {
  if (!hasSocat) throw new Error('socat is not installed (test/setup/ensure-tools.sh)');
  const sim = await startSimulator({ flow: opts.flow ?? 20 });
  started.push(() => sim.stop());
  await sim.set({ progressIntervalMs: 50, ...opts.behaviour });
  const clock = new FixedClock(MORNING);
  const clinic = await makeClinic(db, { name: 'Cơ sở Lê Chân' });
  if (opts.calibrationMaxHours) await db.update(clinics).set({ pumpCalibrationMaxHours: opts.calibrationMaxHours }).where(eq(clinics.id, clinic.id));
  const doctor = await makeUser(db, 'doctor', [clinic.id]);
  const nurseUser = await makeUser(db, 'nurse', [clinic.id]);
  const managerUser = await makeUser(db, 'manager', [clinic.id]);
  const [pump] = await db
    .insert(pumps)
    .values({ clinicId: clinic.id, name: 'Bơm A', path: sim.path, expectedSerial: opts.expectedSerial === undefined ? 'SIM-0001' : opts.expectedSerial })
    .returning();
  const calibratedAt = opts.calibratedAt === undefined ? MORNING : opts.calibratedAt;
  if (calibratedAt) await db.insert(pumpEvents).values({ pumpId: pump!.id, kind: 'calibration', details: { step: 'set', old: 1, factor: 1 }, by: doctor.id, at: calibratedAt });
  const runtime = new PumpRuntime({ db, clock, logger: createLogger('silent') }, opts.options ?? FAST);
  await runtime.start();
  started.push(() => runtime.close());
  const app = makeTestApp(db, {}, clock, runtime);
  /** A fresh session at the clock's time (moving the clock a day ends the old one). */
  const signIn = async (c: TestClient, userId: string) => {
    const { token, csrfToken } = await sessionFor(db, userId, clock.now());
    c.setCookie('mp_session', token);
    c.csrf = csrfToken;
  };
  const nurse = new TestClient(app.app);
  const login = () => signIn(nurse, nurseUser.id);
  await login();
  const manager = new TestClient(app.app);
  await signIn(manager, managerUser.id);
  let n = 0;
  const addPatient = async (name: string): Promise<Patient> => {
    const [p] = await db.insert(patients).values({ code: `${clinic.code}-${String(++n).padStart(5, '0')}`, homeClinicId: clinic.id, fullName: name, searchName: fold(name), birthDate: '1979-03-03', sex: 'male' }).returning();
    const [ep] = await db.insert(episodes).values({ patientId: p!.id, clinicId: clinic.id, kind: 'first', startDate: '2026-10-01' }).returning();
    const [order] = await db
      .insert(doseOrders)
      .values({ patientId: p!.id, episodeId: ep!.id, phase: 'maintenance', startDate: '2026-11-10', endDate: '2026-12-09', dailyMg: 80, prescribedBy: doctor.id, createdAt: new Date('2026-11-09T03:00:00Z') })
      .returning();
    const [d] = await db
      .insert(doses)
      .values({ patientId: p!.id, episodeId: ep!.id, orderId: order!.id, clinicId: clinic.id, serviceDay: '2026-11-22', outcome: 'given', prescribedMg: 80, givenMg: 80, ml: 8, concentration: 10, givenBy: doctor.id, at: new Date(MORNING.getTime() - 86_400_000) })
      .returning();
    await db.insert(doseSlots).values({ patientId: p!.id, serviceDay: '2026-11-22', part: 1, doseId: d!.id });
    return p!;
  };
  const readiness = () => runtime.pumpsOf(clinic.id)[0]?.readiness;
  const answered = opts.answered ?? ['ready'];
  await until('the pump to answer', () => answered.includes(readiness()?.state ?? 'offline'), opts.answerMs);
  return { db, sim, clock, clinic, pump: pump!, runtime, nurse, manager, nurseUser, managerUser, login, addPatient, readiness };
}

export type PumpWorld = Awaited<ReturnType<typeof pumpWorld>>;

/** The card's form fields for the dose the rules decide now. */
export async function cardFields(w: PumpWorld, p: Patient) {
  const card = await w.nurse.get(`/counter/card/${p.id}?clinic=${w.clinic.id}`);
  expect(card.res.status).toBe(200);
  return { clinic: w.clinic.id, patient: p.id, requestId: field(card.html, 'requestId'), part: field(card.html, 'part'), mg: field(card.html, 'mg') };
}
