// GET /reports, the manager's dashboard, under 20 managers at once: each the
// manager of one facility and its two satellite points, each request with
// that manager's own session, through the real app and its middleware.
//
// 20 facilities (MD01…, satellite points MD01A and MD01B) of
// BENCH_DASHBOARD_PATIENTS patients each (default 3,000 on PostgreSQL, 300 on
// PGlite; 30% of them dose at a satellite point), with BENCH_DASHBOARD_DAYS
// days of dose history (default 90 on PostgreSQL, 60 on PGlite). Most (97%)
// were in treatment before the history begins (episodes that started up to
// five and a half years ago), the others enrolled during it, this month
// included. What becomes of them is retention-report's seed (seedHistory),
// its events thinned out to 30% for a history of months: most come almost
// daily, one in ten irregularly; some drop out (some of them come back as
// re-enrolments), some leave (deceased, transferred out, completed taper,
// incarcerated), some move to the next facility: about 3% of a facility's
// episodes end in a month, 1% start (new patients) and 1.6% restart
// (re-enrolments).
// About 60% of those expected today have come so far (the page is looked at
// during the day). Yesterday is then closed at every clinic (closeDueDays, as
// the scheduler does), which raises the open alerts a real clinic has (missed,
// counsellor, doctor, dropout) and their in-app messages.
//
// Measured: dashboard@1, one manager after another from 1 connection (the
// page's own cost), then dashboard, the 20 at once, each connection sending
// its next request as soon as the last is answered (no think time: a far
// heavier load than 20 people reading). Requests the load gives up on (after
// 10 s) are waited for before going on. The service's figures
// (dashboard(db, now, clinicIds)) are checked not to be empty, and each
// manager's page to name their facility. The issue's goal, p99 under 100 ms,
// is reported, never asserted.
import { createApp } from '../../server/app.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { FixedClock, systemClock } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { addDays } from '../../server/dosing/days.ts';
import { createLogger } from '../../server/log.ts';
import { closeDueDays, type ChannelsOn } from '../../server/services/day-close.ts';
import { dashboard as dashboardFigures } from '../../server/services/reports.ts';
import { measureHttp } from './load.ts';
import type { Measure } from './measure.ts';
import { machineNote, readWhole, seedHistory } from './retention-report.ts';

const MANAGERS = 20;
const DEFAULTS = { postgres: { patients: 3_000, days: 90 }, pglite: { patients: 300, days: 60 } } as const;
/** The alerts go to the in-app inbox only (no e-mail or webhook configured). */
const CHANNELS: ChannelsOn = { email: false, webhook: false };
const GOAL_P99_MS = 100;
/** Requests name their manager: /m7/reports is GET /reports with the session of the manager of MD08. */
const MANAGER_PATH = /^\/m(\d+)(\/.*)$/;

export const dashboard: Measure = {
  name: 'dashboard',
  async run(ctx) {
    const { db, kind } = await ctx.database();
    const defaults = DEFAULTS[kind];
    const perFacility = readWhole('BENCH_DASHBOARD_PATIENTS', process.env.BENCH_DASHBOARD_PATIENTS, 10, 100_000) ?? defaults.patients;
    const days = readWhole('BENCH_DASHBOARD_DAYS', process.env.BENCH_DASHBOARD_DAYS, 35, 4_000) ?? defaults.days;
    ctx.log(`dashboard: seeding ${MANAGERS} facilities of ${perFacility} patients with ${days} days of doses`);
    const seeded = await seedHistory(
      db,
      kind,
      { label: 'dashboard', prefix: 'MD', patients: MANAGERS * perFacility, days, facilities: MANAGERS, satellites: 2, satellitePct: 30, caseloadPct: 97, caseloadSince: 'before', eventPct: 30, cameTodayPct: 60, idTag: '8002' },
      ctx.log,
    );
    // Yesterday closed at every clinic at 18:00 in Hà Nội (after the 17:00 closing): the open alerts.
    const yesterday = addDays(seeded.today, -1);
    const t = performance.now();
    const closed = await closeDueDays({ db, clock: new FixedClock(new Date(`${yesterday}T11:00:00Z`)) }, CHANNELS, { clinicIds: seeded.clinicIds });
    const raised = closed.reduce((n, r) => n + Object.values(r.raised).reduce((a, b) => a + b, 0), 0);
    if (closed.length !== seeded.clinicIds.length) throw new Error(`dashboard: ${closed.length} clinics closed ${yesterday}, ${seeded.clinicIds.length} seeded`);
    ctx.log(`dashboard: ${yesterday} closed at ${closed.length} clinics in ${((performance.now() - t) / 1000).toFixed(1)} s, ${raised} alerts raised`);
    ctx.log(`dashboard: seeded in ${seeded.seconds.toFixed(1)} s (${seeded.steps.join('; ')})`);

    // What the managers see, straight from the service.
    const figures = await Promise.all(seeded.facilities.map((f) => dashboardFigures(db, new Date(), f.clinicIds)));
    const total = (pick: (d: (typeof figures)[number]) => number) => figures.reduce((n, d) => n + pick(d), 0);
    const ended = total((d) => Object.values(d.total.ended).reduce((a, b) => a + b, 0));
    const seen = `in treatment today ${total((d) => d.total.activeToday)}, doses today ${total((d) => d.total.dosesToday)}, this month ${total((d) => d.total.dosesMonth)}; new this month ${total((d) => d.total.newMonth)}, re-enrolled ${total((d) => d.total.reEnrolMonth)}, ended ${ended}; patients with an open alert ${total((d) => d.total.openAlertPatients)}`;
    ctx.log(`dashboard: the ${MANAGERS} managers' dashboards together: ${seen}`);
    if (total((d) => d.total.activeToday) === 0 || total((d) => d.total.dosesToday) === 0 || total((d) => d.total.openAlertPatients) === 0) {
      throw new Error(`dashboard: an empty dashboard (${seen})`);
    }

    const app = createApp({
      db,
      clock: systemClock,
      config: loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', SEED_DEMO: 'false' }),
      logger: createLogger('silent'),
    });
    const tokens = await Promise.all(
      seeded.facilities.map(async (f) => (await createSession(db, f.managerId, new Date(), { idleMinutes: 30, absoluteMinutes: 720 })).token),
    );
    const manager = (req: Request): { k: number; rest: string; url: URL } | null => {
      const url = new URL(req.url);
      const m = MANAGER_PATH.exec(url.pathname);
      const k = m ? Number(m[1]) : -1;
      return m && k < MANAGERS ? { k, rest: m[2]!, url } : null;
    };
    // The page, as manager k asks for it (their session cookie). Requests the load gave up
    // on (after 10 s) still run here: counted, to wait for them after the load.
    let inFlight = 0;
    const fetch = async (req: Request): Promise<Response> => {
      const m = manager(req);
      if (!m) return new Response('no such manager', { status: 404 });
      const headers = new Headers(req.headers);
      headers.set('cookie', `mp_session=${tokens[m.k]}`);
      inFlight++;
      try {
        const res = await app.fetch(new Request(new URL(`${m.rest}${m.url.search}`, m.url), { method: req.method, headers }));
        // The body is read here, so that the count covers the whole answer.
        return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
      } finally {
        inFlight--;
      }
    };
    const drained = async () => {
      const t0 = performance.now();
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 100));
      const waited = (performance.now() - t0) / 1000;
      if (waited > 0.5) ctx.log(`dashboard: waited ${waited.toFixed(1)} s for the requests still running after the load`);
    };

    // Each manager's page names their facility.
    let bytes = 0;
    for (const [k, f] of seeded.facilities.entries()) {
      const res = await fetch(new Request(`http://bench/m${k}/reports`));
      const body = await res.text();
      bytes += Buffer.byteLength(body);
      if (res.status !== 200 || !body.includes(f.code)) throw new Error(`dashboard: manager ${k} (${f.code}) got ${res.status}${res.status === 200 ? ` without ${f.code}` : ''}: ${body.slice(0, 200)}`);
    }

    // One manager at a time first (the page's own cost), then the 20 at once.
    const paths = seeded.facilities.map((_, k) => `/m${k}/reports`);
    ctx.log(`dashboard@1: ${ctx.warmupSeconds} s warm-up + ${ctx.seconds} s, 1 connection`);
    const serial = await measureHttp('dashboard@1', { ...ctx, connections: 1 }, { fetch, path: paths });
    await drained();
    ctx.log(`dashboard: ${ctx.warmupSeconds} s warm-up + ${ctx.seconds} s, ${ctx.connections} connections`);
    const result = await measureHttp('dashboard', ctx, { fetch, path: paths });
    await drained();
    const notes = [
      `${MANAGERS} managers, each of a facility and 2 satellite points of ${perFacility} patients with ${days} days of doses; ${seeded.seededDoses} dose rows seeded (${seeded.doseRows} in the database), ${yesterday} closed (${raised} alerts raised); seeded in ${seeded.seconds.toFixed(1)} s`,
      `the page: ${Math.round(bytes / MANAGERS / 1024)} KB on average; together: ${seen}`,
      `the goal is a p99 under ${GOAL_P99_MS} ms: ${result.p99_ms !== undefined && result.p99_ms < GOAL_P99_MS ? 'met' : 'not met'}; ${machineNote()}`,
    ];
    ctx.log(`dashboard: ${notes.join('; ')}`);
    return [
      { ...result, patients: MANAGERS * perFacility, dose_rows: seeded.doseRows, notes: [...notes, ...(result.notes ?? [])] },
      { ...serial, notes: ['the same page from 1 connection, one request at a time', ...(serial.notes ?? [])] },
    ];
  },
};
