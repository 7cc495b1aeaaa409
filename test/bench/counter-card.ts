// GET /counter/find?clinic=…&q=<code>: the nurse scans a patient's treatment
// card and the working area comes back with the patient card and the decision
// of this moment (server/services/counter.ts findAtCounter + counterCard),
// through the real app with a logged-in nurse's session, as htmx asks for it.
// The codes of PATIENTS synthetic patients with dose history are scanned in
// turn at their home clinic's counter: seven in ten get 'give', the others a
// doctor's review for missed days (db/synthetic.ts). Read only: no dose is
// recorded. Goal: p99 under 20 ms for the card a nurse waits for after her
// scan: counter-card@1 scans from one connection, one request at a time (a
// counter has one scanner). counter-card runs under the runner's
// `connections` like every measure, for the load's figures.
import { rng } from '../../db/synthetic.ts';
import { addCounterPatients, HISTORY_DAYS, nurseApp } from './counter-patients.ts';
import { measureHttp } from './load.ts';
import type { Measure } from './measure.ts';

const PATIENTS = 500;
const SEED = 80_000_000;

export const counterCard: Measure = {
  name: 'counter-card',
  async run(ctx) {
    const { db } = await ctx.database();
    ctx.log(`counter-card: seeding ${PATIENTS} patients with ${HISTORY_DAYS} days of dose history`);
    const { patients, nurse, seconds } = await addCounterPatients(ctx, db, { bench: 'counter-card', count: PATIENTS, seed: SEED });
    // Scanned in no particular order; each code once per turn.
    const r = rng(SEED);
    const order = [...patients];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(r.next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const paths = order.map((p) => `/counter/find?${new URLSearchParams({ clinic: p.clinicId, q: p.code })}`);
    const { fetch, headers } = await nurseApp(db, nurse.id);
    const target = {
      fetch,
      path: paths,
      headers,
      // The card itself (a code that is not found answers 200 with a notice and no card).
      expectBody: 'id="card"',
      expectBodyEveryTime: true,
    };
    const result = await measureHttp('counter-card', ctx, target);
    ctx.log(`counter-card@1: ${ctx.warmupSeconds} s warm-up + ${ctx.seconds} s, 1 connection`);
    const serial = await measureHttp('counter-card@1', { ...ctx, connections: 1 }, target);
    const dosable = patients.filter((p) => p.dosable).length;
    return [
      { ...result, notes: [`${PATIENTS} codes scanned in turn (${dosable} 'give', ${PATIENTS - dosable} doctor review); ${PATIENTS} patients seeded in ${seconds.toFixed(1)} s`] },
      { ...serial, notes: ['the same scans from 1 connection, one at a time'] },
    ];
  },
};
