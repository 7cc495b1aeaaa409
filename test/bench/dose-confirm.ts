// POST /counter/dose: the nurse confirms a dose ("given"), through the real
// app with a logged-in nurse's session and CSRF header, as htmx sends it from
// the confirmation step. `connections` counters at once, every request for a
// different patient not yet dosed today, with the mg of the decision (the
// daily mg of the patient's order) and a fresh requestId. Each one records a
// dose (server/services/dispense.ts recordDose: the facts read and decided,
// then one statement writes the dose, its slot and its audit row if the facts
// still hold) and answers the working area with "given". The audit sealer runs
// beside it every second, as the server's does. Its `ratio` is over
// bare-insert, one row into a small table through the same pool.
//
// Patients are seeded for the run: enough dosable ones for BENCH_DOSE_RATE
// doses a second over the warm-up and the measured window. Should they run
// out, the window is cut short and said so.
import { randomUUID } from 'node:crypto';
import { rng } from '../../db/synthetic.ts';
import { loadConfig } from '../../server/config.ts';
import { startAuditSealer } from '../../server/jobs/scheduler.ts';
import { addCounterPatients, HISTORY_DAYS, nurseApp } from './counter-patients.ts';
import { measureHttp } from './load.ts';
import type { Measure } from './measure.ts';

/** The doses a second the patients are prepared for (about three times what a loaded 2-core machine does). */
const DEFAULT_RATE = 300;
const SEED = 70_000_000;
/** Seven in ten synthetic patients are dosable today (db/synthetic.ts). */
const DOSABLE_SHARE = 0.7;

function readRate(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_RATE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 10 || n > 100_000) throw new Error(`BENCH_DOSE_RATE must be a whole number of doses a second in [10, 100000], got ${JSON.stringify(raw)}`);
  return n;
}

export const doseConfirm: Measure = {
  name: 'dose-confirm',
  ratioTo: 'bare-insert',
  async run(ctx) {
    const rate = readRate(process.env.BENCH_DOSE_RATE);
    const { db } = await ctx.database();
    const needed = Math.ceil(rate * (ctx.warmupSeconds + ctx.seconds)) + 1;
    // Rounded up to whole tens, so the share of dosable patients holds.
    const count = Math.ceil(needed / DOSABLE_SHARE / 10) * 10 + 10;
    ctx.log(`dose-confirm: seeding ${count} patients with ${HISTORY_DAYS} days of dose history (for up to ${rate} doses/s)`);
    const { patients, nurse, today, seconds } = await addCounterPatients(ctx, db, { bench: 'dose-confirm', count, seed: SEED });
    const dosable = patients.filter((p) => p.dosable);
    if (dosable.length < needed) throw new Error(`dose-confirm: ${dosable.length} dosable patients of ${count}, ${needed} needed`);
    // The queue at 20 counters: patients of both clinics, in no particular order.
    const r = rng(SEED);
    for (let i = dosable.length - 1; i > 0; i--) {
      const j = Math.floor(r.next() * (i + 1));
      [dosable[i], dosable[j]] = [dosable[j]!, dosable[i]!];
    }
    // As the confirmation form sends them (views/pages/counter.tsx): the card's fields, the check, the button.
    const bodies = dosable.map((p) =>
      new URLSearchParams({ clinic: p.clinicId, patient: p.id, requestId: randomUUID(), part: '1', mg: String(p.dailyMg), intoxication: 'none', breathAlcohol: '', outcome: 'given' }).toString(),
    );

    const { fetch, headers } = await nurseApp(db, nurse.id);
    // The server's audit sealer at its default pace, so its work is in the figure.
    let sealFailure: unknown = null;
    const stopSealer = startAuditSealer(db, loadConfig({}).AUDIT_SEAL_SECONDS, (e) => (sealFailure ??= e));
    const result = await measureHttp('dose-confirm', ctx, {
      fetch,
      path: '/counter/dose',
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      bodies,
      eachBodyOnce: true,
      // The "given" notice (a 409 stale/already-dosed answer is not 200, so an error anyway).
      expectBody: 'class="notice ok"',
      expectBodyEveryTime: true,
    }).finally(stopSealer);
    if (sealFailure) throw sealFailure;
    const notes = [`${count} patients seeded (${dosable.length} dosable today, ${today}) with ${HISTORY_DAYS} days of history in ${seconds.toFixed(1)} s`, ...(result.notes ?? [])];
    return [{ ...result, notes }];
  },
};
