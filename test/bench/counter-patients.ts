// Patients for the counter's measures (dose-confirm, counter-card), and the
// demo nurse who serves them. Synthetic patients (db/synthetic.ts) with an
// episode, an order in force and HISTORY_DAYS days of dose history are added
// to the nurse's clinics: those dosed yesterday (seven in ten; every tenth
// patient numbered 7, 8 or 9 has a gap and needs the doctor) get a 'give'
// decision at their home clinic today, for their order's daily mg.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { clinics, userClinics, users } from '../../db/schema.ts';
import { rows } from '../../db/sql.ts';
import { seedPatients } from '../../db/synthetic.ts';
import { createApp } from '../../server/app.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { serviceDay, systemClock } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { counterCard } from '../../server/services/counter.ts';
import type { BenchContext } from './measure.ts';

/** Days of dose history per patient, as the demo seeds (the counter reads up to 60). */
export const HISTORY_DAYS = 30;
/** The first dosable patients (in code order) whose card the seeding's check shows: on this server, their card's facts are then kept. */
export const CHECKED_DOSABLE = 15;
/** Written in steps of this many (a multiple of 10, so that the synthetic gaps fall on the same patients). */
const STEP = 2_000;

export interface CounterPatient {
  id: string;
  code: string;
  /** The home clinic (its counter is where the patient is dosed). */
  clinicId: string;
  /** The daily mg of the order in force today. */
  dailyMg: number;
  /** Dosed yesterday, not today: the counter's decision is 'give' for dailyMg. */
  dosable: boolean;
}

export interface Nurse {
  id: string;
  clinics: { id: string; code: string; timeZone: string }[];
}

export async function demoNurse(db: Db): Promise<Nurse> {
  const [nurse] = await db.select({ id: users.id }).from(users).where(eq(users.username, 'nurse'));
  if (!nurse) throw new Error('the demo nurse is missing from the bench database');
  const rows = await db
    .select({ id: clinics.id, code: clinics.code, timeZone: clinics.timeZone })
    .from(userClinics)
    .innerJoin(clinics, eq(clinics.id, userClinics.clinicId))
    .where(and(eq(userClinics.userId, nurse.id), eq(clinics.active, true)))
    .orderBy(clinics.code);
  if (rows.length === 0) throw new Error('the demo nurse works at no clinic');
  return { id: nurse.id, clinics: rows };
}

/**
 * Adds `count` synthetic patients to the nurse's clinics (written by the demo
 * doctor, the history given by the nurse) and returns them in code order.
 */
export async function addCounterPatients(ctx: BenchContext, db: Db, opts: { bench: string; count: number; seed: number }): Promise<{ patients: CounterPatient[]; nurse: Nurse; today: string; seconds: number }> {
  const nurse = await demoNurse(db);
  const [doctor] = await db.select({ id: users.id }).from(users).where(eq(users.username, 'doctor'));
  if (!doctor) throw new Error('the demo doctor is missing from the bench database');
  const zones = new Set(nurse.clinics.map((c) => c.timeZone));
  if (zones.size !== 1) throw new Error(`the nurse's clinics are in several time zones (${[...zones].join(', ')}): the synthetic "today" would differ`);
  const today = serviceDay(new Date(), [...zones][0]!);
  const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

  const started = performance.now();
  // The rows written from here on are this call's (created_at is the transaction's start).
  const [mark] = await rows<{ since: string }>(db, sql`select now()::text as since`);
  if (!mark) throw new Error('select now() returned nothing');
  for (let done = 0; done < opts.count; ) {
    const step = Math.min(STEP, opts.count - done);
    await seedPatients(db, {
      clinics: nurse.clinics,
      count: step,
      today,
      prescriberId: doctor.id,
      giverId: nurse.id,
      historyDays: HISTORY_DAYS,
      seed: opts.seed + done,
      communes: [{ code: 11329, provinceCode: 31 }, { code: 11383, provinceCode: 31 }],
    });
    done += step;
    if (done < opts.count) ctx.log(`${opts.bench}: seeded ${done} / ${opts.count} patients (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  // As after a bulk load in production (autovacuum would get there): planner statistics.
  await db.execute(sql`analyze`);

  const found = await rows<{ id: string; code: string; clinic_id: string; daily_mg: string | number | null; dosed_yesterday: boolean; dosed_today: boolean }>(
    db,
    sql`
      select p.id, p.code, e.clinic_id,
        (select o.daily_mg from dose_orders o
          where o.episode_id = e.id and o.start_date <= ${today} and o.end_date >= ${today}
          order by o.start_date desc, o.created_at desc limit 1) as daily_mg,
        exists (select 1 from doses d where d.patient_id = p.id and d.service_day = ${yesterday} and d.outcome = 'given') as dosed_yesterday,
        exists (select 1 from doses d where d.patient_id = p.id and d.service_day = ${today}) as dosed_today
      from patients p
      join episodes e on e.patient_id = p.id and e.end_date is null
      where p.created_at >= ${mark.since}::timestamptz
      order by p.code`,
  );
  const patients = found.map((r) => ({
    id: r.id,
    code: r.code,
    clinicId: r.clinic_id,
    dailyMg: Number(r.daily_mg),
    dosable: r.dosed_yesterday && !r.dosed_today && r.daily_mg !== null,
  }));
  if (patients.length !== opts.count) throw new Error(`${opts.bench}: ${opts.count} patients seeded but ${patients.length} found`);
  await checkDecisions(db, patients, today);
  return { patients, nurse, today, seconds: (performance.now() - started) / 1000 };
}

/** The server's own decision for a sample, so that a change in the rules shows here and not as a run of 409s. */
async function checkDecisions(db: Db, patients: CounterPatient[], today: string): Promise<void> {
  const sample = [...patients.filter((p) => p.dosable).slice(0, CHECKED_DOSABLE), ...patients.filter((p) => !p.dosable).slice(0, 5)];
  for (const p of sample) {
    const card = await counterCard(db, new Date(), p.id, p.clinicId, null);
    if (card.today !== today) throw new Error(`the service day changed during the setup (${today} → ${card.today}): run again`);
    const d = card.decision;
    const give = d.kind === 'give' && d.part === 1 && d.mg === p.dailyMg;
    if (p.dosable && !give) throw new Error(`patient ${p.code} should get 'give' ${p.dailyMg} mg but the counter decides ${JSON.stringify(d)}`);
    if (!p.dosable && (d.kind === 'give' || d.kind === 'reduced')) throw new Error(`patient ${p.code} should not be dosable but the counter decides ${d.kind}`);
  }
}

/** A logged-in nurse on the real app: the headers of an htmx request from the counter page. */
export async function nurseApp(db: Db, nurseId: string): Promise<{ fetch: (r: Request) => Response | Promise<Response>; headers: Record<string, string> }> {
  const { token, csrfToken } = await createSession(db, nurseId, new Date(), { idleMinutes: 30, absoluteMinutes: 720 });
  const app = createApp({
    db,
    clock: systemClock,
    config: loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', SEED_DEMO: 'false' }),
    logger: createLogger('silent'),
  });
  return {
    fetch: app.fetch,
    // htmx sends the session's CSRF token in a header (see csrfGuard); GETs ignore it.
    headers: { cookie: `mp_session=${token}`, 'x-csrf-token': csrfToken, 'hx-request': 'true', 'hx-target': 'counter' },
  };
}
