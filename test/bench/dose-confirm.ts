// POST /counter/dose: the nurse confirms a dose ("given"), through the real
// app with a logged-in nurse's session and CSRF header, as htmx sends it from
// the confirmation step. `connections` counters at once, every request for a
// different patient not yet dosed today, with the mg of the decision (the
// daily mg of the patient's order) and a fresh requestId. Each one records a
// dose (server/services/dispense.ts recordDose: the facts decided on, then
// one statement writes the dose, its slot and its audit row if the facts
// still hold) and answers the working area with "given". The audit sealer runs
// beside it every second, as the server's does. Its `ratio` is over
// bare-insert, one row into a small table through the same pool, measured
// right before and right after each window (their mean): on a shared machine
// whose speed drifts within minutes, a baseline from minutes earlier moved
// the ratio by a third.
//
// Two windows, each on patients of its own:
//   dose-confirm       as at the counter: each patient's card was shown on
//                      this server before (the scans are counter-card's
//                      figure, not timed here), so the confirmation decides on
//                      the facts the card kept (keepFacts) under the write's
//                      guard;
//   dose-confirm@cold  no card shown here (another server showed it, or this
//                      one restarted since): the confirmation reads the facts.
//
// Patients are seeded for the run: enough dosable ones for BENCH_DOSE_RATE
// doses a second over the warm-up and the measured window of each. Should
// they run out, the window is cut short and said so.
import { randomUUID } from 'node:crypto';
import { rng } from '../../db/synthetic.ts';
import { loadConfig } from '../../server/config.ts';
import { startAuditSealer } from '../../server/jobs/scheduler.ts';
import { KEPT_FACTS_MAX } from '../../server/services/dispense.ts';
import { addCounterPatients, CHECKED_DOSABLE as SAMPLED, HISTORY_DAYS, nurseApp, type CounterPatient } from './counter-patients.ts';
import { bareInsertTarget } from './bare-insert.ts';
import { measureHttp } from './load.ts';
import type { Measure } from './measure.ts';
import { round, type BenchResult } from './report.ts';

/**
 * The doses a second the patients are prepared for, in each window (a loaded
 * 2-core machine does 300–450 cold, 500–800 after the card). Above about 900,
 * more cards are shown than a server keeps (KEPT_FACTS_MAX): the run says so.
 */
const DEFAULT_RATE = 800;
const SEED = 70_000_000;
/** Seven in ten synthetic patients are dosable today (db/synthetic.ts). */
const DOSABLE_SHARE = 0.7;

function readRate(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_RATE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 10 || n > 100_000) throw new Error(`BENCH_DOSE_RATE must be a whole number of doses a second in [10, 100000], got ${JSON.stringify(raw)}`);
  return n;
}

/** Scans each patient's card at their clinic's counter, `connections` at a time, as the nurse does before confirming; returns how many were shown. */
async function showCards(fetch: (r: Request) => Response | Promise<Response>, headers: Record<string, string>, patients: CounterPatient[], connections: number): Promise<number> {
  let next = 0;
  const scan = async () => {
    for (let p = patients[next++]; p; p = patients[next++]) {
      const res = await fetch(new Request(`http://127.0.0.1/counter/find?${new URLSearchParams({ clinic: p.clinicId, q: p.code })}`, { headers }));
      const body = await res.text();
      if (res.status !== 200 || !body.includes('data-kind="give"')) throw new Error(`dose-confirm: the card of ${p.code} answered ${res.status} without 'give'`);
    }
  };
  await Promise.all(Array.from({ length: connections }, scan));
  return patients.length;
}

export const doseConfirm: Measure = {
  name: 'dose-confirm',
  ratioTo: 'bare-insert',
  async run(ctx) {
    const rate = readRate(process.env.BENCH_DOSE_RATE);
    const { db } = await ctx.database();
    const perWindow = Math.ceil(rate * (ctx.warmupSeconds + ctx.seconds)) + 1;
    // Both windows, and the patients the seeding's check showed the card of (SAMPLED).
    const needed = 2 * perWindow + SAMPLED;
    // Rounded up to whole tens, so the share of dosable patients holds.
    const count = Math.ceil(needed / DOSABLE_SHARE / 10) * 10 + 10;
    ctx.log(`dose-confirm: seeding ${count} patients with ${HISTORY_DAYS} days of dose history (for up to ${rate} doses/s)`);
    const { patients, nurse, today, seconds } = await addCounterPatients(ctx, db, { bench: 'dose-confirm', count, seed: SEED });
    const dosable = patients.filter((p) => p.dosable);
    if (dosable.length < needed) throw new Error(`dose-confirm: ${dosable.length} dosable patients of ${count}, ${needed} needed`);
    // The seeding's check showed the cards of the first dosable patients (in code order): never cold.
    const unseen = dosable.slice(SAMPLED);
    // The queue at 20 counters: patients of both clinics, in no particular order.
    const r = rng(SEED);
    for (let i = unseen.length - 1; i > 0; i--) {
      const j = Math.floor(r.next() * (i + 1));
      [unseen[i], unseen[j]] = [unseen[j]!, unseen[i]!];
    }
    const cold = unseen.slice(0, perWindow);
    const carded = unseen.slice(perWindow);
    // Kept beyond the bound, the first cards would be gone before their confirmation.
    if (carded.length > KEPT_FACTS_MAX) ctx.log(`dose-confirm: ${carded.length} cards are more than a server keeps (${KEPT_FACTS_MAX}): the first confirmations read their facts`);
    // As the confirmation form sends them (views/pages/counter.tsx): the card's fields, the check, the button.
    const bodiesOf = (ps: CounterPatient[]) =>
      ps.map((p) => new URLSearchParams({ clinic: p.clinicId, patient: p.id, requestId: randomUUID(), part: '1', mg: String(p.dailyMg), intoxication: 'none', breathAlcohol: '', outcome: 'given' }).toString());

    const { fetch, headers } = await nurseApp(db, nurse.id);
    const target = (bodies: string[]) => ({
      fetch,
      path: '/counter/dose',
      method: 'POST' as const,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      bodies,
      eachBodyOnce: true,
      // The "given" notice (a 409 stale/already-dosed answer is not 200, so an error anyway).
      expectBody: 'class="notice ok"',
      expectBodyEveryTime: true,
    });
    // The server's audit sealer at its default pace, so its work is in the figures.
    let sealFailure: unknown = null;
    const stopSealer = startAuditSealer(db, loadConfig({}).AUDIT_SEAL_SECONDS, (e) => (sealFailure ??= e));
    // The ratio's baseline measured right before and right after each window, on
    // the same database: this machine's speed drifts by a third within minutes.
    const bare = await bareInsertTarget(db);
    const bracketed = async (name: string, bodies: string[]): Promise<BenchResult> => {
      const before = await measureHttp('bare-insert', ctx, bare);
      ctx.log(`${name}: ${ctx.warmupSeconds} s warm-up + ${ctx.seconds} s, ${ctx.connections} connections`);
      const r = await measureHttp(name, ctx, target(bodies));
      const after = await measureHttp('bare-insert', ctx, bare);
      const baseline = ((before.per_s ?? 0) + (after.per_s ?? 0)) / 2;
      return {
        ...r,
        ...(r.per_s !== undefined && baseline > 0 ? { ratio: round(r.per_s / baseline, 3) } : {}),
        notes: [`ratio over bare-insert measured right before and after it: ${before.per_s}/s and ${after.per_s}/s`, ...(r.notes ?? [])],
      };
    };
    try {
      const coldResult = await bracketed('dose-confirm@cold', bodiesOf(cold));
      ctx.log(`dose-confirm: showing the cards of ${carded.length} patients first (not timed)`);
      const shown = await showCards(fetch, headers, carded, ctx.connections);
      const result = await bracketed('dose-confirm', bodiesOf(carded));
      if (sealFailure) throw sealFailure;
      const seeded = `${count} patients seeded (${dosable.length} dosable today, ${today}) with ${HISTORY_DAYS} days of history in ${seconds.toFixed(1)} s`;
      return [
        { ...result, notes: [`each patient's card shown on this server before (${shown} cards)`, seeded, ...(result.notes ?? [])] },
        { ...coldResult, notes: ['no card shown before: the confirmation reads the facts', ...(coldResult.notes ?? [])] },
      ];
    } finally {
      stopSealer();
    }
  },
};
