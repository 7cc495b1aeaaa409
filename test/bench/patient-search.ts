// GET /patients?q=… as the htmx fragment the search page asks for while one
// types (hx-target: results), by a logged-in doctor, over BENCH_PATIENTS
// synthetic patients (default 60,000) added to the demo's two clinics. The
// queries are names typed without diacritics ("nguyen van an", "tran thi"),
// cycled in a fixed order. Runs last: the patients it adds stay in the shared
// bench database.
import { asc, count, eq } from 'drizzle-orm';
import { fold } from '../../db/fold.ts';
import { clinics, patients, users } from '../../db/schema.ts';
import { NAME_PARTS, rng, seedPatients } from '../../db/synthetic.ts';
import { createApp } from '../../server/app.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { serviceDay, systemClock } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { measureHttp } from './load.ts';
import type { Measure } from './measure.ts';

const DEFAULT_PATIENTS = 60_000;
/** The seed of the synthetic patients (the demo's 40 use another). */
const SEED = 60_000;

function readPatients(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_PATIENTS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 2_000_000) throw new Error(`BENCH_PATIENTS must be a whole number in [0, 2000000], got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * What people type: a whole name, the family and middle names, a family name
 * alone, a family name and a woman's middle name. Some are given as examples,
 * the rest drawn (deterministically) from the names the patients are made of.
 */
export function searchQueries(n = 30): string[] {
  const { family, middleMale, middleFemale, givenMale } = NAME_PARTS;
  const r = rng(7);
  const shapes = [
    () => `${r.pick(family)} ${r.pick(middleMale)} ${r.pick(givenMale)}`,
    () => `${r.pick(family)} ${r.pick(middleMale)}`,
    () => r.pick(family),
    () => `${r.pick(family)} ${r.pick(middleFemale)}`,
    () => `${r.pick(middleMale)} ${r.pick(givenMale)}`,
  ];
  const out = ['nguyen van an', 'tran thi', 'pham duc', 'le minh', 'hoang', 'vu van hai'];
  for (let i = 0; out.length < n; i++) {
    const q = fold(shapes[i % shapes.length]!());
    if (!out.includes(q)) out.push(q);
  }
  return out;
}

export const patientSearch: Measure = {
  name: 'patient-search',
  async run(ctx) {
    const wanted = readPatients(process.env.BENCH_PATIENTS);
    const { db } = await ctx.database();
    const [doctor] = await db.select({ id: users.id }).from(users).where(eq(users.username, 'doctor'));
    if (!doctor) throw new Error('the demo doctor is missing from the bench database');
    const demoClinics = await db.select({ id: clinics.id, code: clinics.code }).from(clinics).orderBy(asc(clinics.code));
    if (demoClinics.length === 0) throw new Error('the demo clinics are missing from the bench database');

    const notes: string[] = [];
    if (wanted > 0) {
      const started = performance.now();
      const today = serviceDay(new Date(), 'Asia/Ho_Chi_Minh');
      // In steps, so that progress shows; seedPatients carries the codes on from the clinic counters.
      const STEP = 5_000;
      for (let done = 0; done < wanted; ) {
        const step = Math.min(STEP, wanted - done);
        await seedPatients(db, { clinics: demoClinics, count: step, today, prescriberId: doctor.id, seed: SEED + done, communes: [{ code: 11329, provinceCode: 31 }, { code: 11383, provinceCode: 31 }] });
        done += step;
        ctx.log(`patient-search: seeded ${done} / ${wanted} patients (${((performance.now() - started) / 1000).toFixed(1)} s)`);
      }
      // As after a bulk load in production (autovacuum would get there): planner statistics.
      await db.execute('analyze');
      const seconds = (performance.now() - started) / 1000;
      ctx.log(`patient-search: ${wanted} patients seeded with their episodes and orders in ${seconds.toFixed(1)} s`);
      notes.push(`${wanted} patients seeded in ${seconds.toFixed(1)} s`);
    }
    const [total] = await db.select({ n: count() }).from(patients);
    const patientCount = Number(total?.n ?? 0);

    const { token } = await createSession(db, doctor.id, new Date(), { idleMinutes: 30, absoluteMinutes: 720 });
    const app = createApp({
      db,
      clock: systemClock,
      config: loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', SEED_DEMO: 'false' }),
      logger: createLogger('silent'),
    });
    const queries = searchQueries();
    notes.push(`${queries.length} queries in turn: ${queries.map((q) => JSON.stringify(q)).join(', ')}`);
    const result = await measureHttp('patient-search', ctx, {
      fetch: app.fetch,
      path: queries.map((q) => `/patients?q=${encodeURIComponent(q)}`),
      headers: { cookie: `mp_session=${token}`, 'hx-request': 'true', 'hx-target': 'results' },
      expectBody: 'id="results"',
      expectBodyEveryTime: true,
    });
    return [{ ...result, patients: patientCount, notes }];
  },
};
