// `npm run bench`: runs the registered measures one after the other and prints
// a table, then one JSON line per measure to compare runs.
//
//   BENCH_DATABASE_URL  postgres://… of a server: a fresh database is created on
//                       it for the run and dropped at the end. Unset: PGlite in memory.
//   BENCH_SECONDS       measured seconds per measure (default 10), after ~1 s of warm-up.
//   BENCH_ONLY          comma-separated measure names (default: all). A measure's
//                       ratio baseline runs too.
//   BENCH_PATIENTS      synthetic patients patient-search adds (default 60000).
//   BENCH_DOSE_RATE     doses a second dose-confirm prepares patients for in each of
//                       its two windows (default 800): each request doses a different patient, so a faster
//                       machine needs more (the run says if they ran out).
//   BENCH_CLOSE_PATIENTS  patients day-close seeds, in clinics of 3,000 (at most 20;
//                       default 60000 on PostgreSQL, 3000 on PGlite).
//   BENCH_CLOSE_DAYS    days of dose history each (default 730 on PostgreSQL, 120 on
//                       PGlite): 60000 × 730 is about 41 million doses and as many
//                       slots, some 15 minutes of seeding on 2 cores and ~20 GB on
//                       the server. A smaller scale shows in the JSON line's
//                       patients and dose_rows.
//   BENCH_DASHBOARD_PATIENTS  patients of each of the 20 managers' facilities (with
//                       their satellite points) dashboard seeds (default 3000 on
//                       PostgreSQL, 300 on PGlite).
//   BENCH_DASHBOARD_DAYS  days of dose history they have (default 90 on PostgreSQL,
//                       60 on PGlite; most were in treatment before).
//   BENCH_REPORT_PATIENTS  patients of the province retention-report seeds, in
//                       facilities of 3,000 (two at least; default 60000 on
//                       PostgreSQL, 3000 on PGlite).
//   BENCH_REPORT_DAYS   days of history (default 730 on PostgreSQL, 120 on PGlite;
//                       60 at least): enrolments over all of it, ~24 monthly cohorts.
//                       60000 × 730 is some 28 million doses and as many slots,
//                       about 8 minutes of seeding on 2 cores.
//   BENCH_REPORT_RUNS   reports timed after the first (default 3); ms is their median.
//   BENCH_REPORT_EXPLAIN  1: the slowest query of the report is run once more under
//                       EXPLAIN (ANALYZE, BUFFERS) and its plan logged.
//   BENCH_PUMP_DOSES    doses pump-start and pump-record give through the pump
//                       simulator (default 200), one after the other.
//   BENCH_PUMP_FLOW     the simulator's flow rate in ml/s (default 200).
//
// Exits 1 if a measure failed or had a response other than 200, 2 on bad settings.
import { bareInsert } from './bare-insert.ts';
import { barePage } from './bare-page.ts';
import { counterCard } from './counter-card.ts';
import { dashboard } from './dashboard.ts';
import { dayClose } from './day-close.ts';
import { openBenchDatabase, type OpenedBenchDatabase } from './database.ts';
import { doseConfirm } from './dose-confirm.ts';
import { homePage } from './home-page.ts';
import { missedList } from './missed-list.ts';
import { patientSearch } from './patient-search.ts';
import { pumpRecord, pumpStart } from './pump.ts';
import { retentionReport } from './retention-report.ts';
import type { BenchContext, Measure } from './measure.ts';
import { jsonLine, round, table, type BenchResult } from './report.ts';

/**
 * Every measure, in the order they run. Later issues add theirs here. The
 * counter's measures come after patient-search so that its figures do not
 * move with their patients; in a full run they see its patients too.
 * day-close comes after those: its dose history (tens of millions of rows on a
 * server) would otherwise be under every measure after it. The reports'
 * measures come after it, so that its figures do not move with their
 * histories (in a full run they see its rows, as the counter's see the
 * patients of patient-search): the dashboard's (millions of rows), then
 * retention-report's, the largest. pump-start and pump-record (one run of
 * doses through the pump simulator, shared) follow the counter's measures.
 */
const MEASURES: Measure[] = [barePage, homePage, patientSearch, bareInsert, doseConfirm, counterCard, pumpStart, pumpRecord, missedList, dayClose, dashboard, retentionReport];

const CONNECTIONS = 20;
const WARMUP_SECONDS = 1;

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

function readSeconds(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 10;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0 || s > 600) fail(`BENCH_SECONDS must be a number of seconds in (0, 600], got ${JSON.stringify(raw)}`);
  return s;
}

/** The measures to run: the ones asked for, plus their ratio baselines, in registry order. */
function select(raw: string | undefined): Measure[] {
  const byName = new Map(MEASURES.map((m) => [m.name, m]));
  const asked = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (asked.length === 0) return MEASURES;
  const unknown = asked.filter((n) => !byName.has(n));
  if (unknown.length > 0) fail(`unknown measure(s) in BENCH_ONLY: ${unknown.join(', ')} (known: ${MEASURES.map((m) => m.name).join(', ')})`);
  const wanted = new Set<string>();
  const add = (name: string) => {
    if (wanted.has(name)) return;
    wanted.add(name);
    const base = byName.get(name)?.ratioTo;
    if (base) {
      if (!asked.includes(base)) log(`${base} runs too: it is the ratio baseline of ${name}`);
      add(base);
    }
  };
  asked.forEach(add);
  return MEASURES.filter((m) => wanted.has(m.name));
}

function checkRegistry(): void {
  const names = new Set<string>();
  for (const m of MEASURES) {
    if (names.has(m.name)) throw new Error(`measure ${m.name} is registered twice`);
    if (m.ratioTo && !names.has(m.ratioTo)) throw new Error(`measure ${m.name}: its baseline ${m.ratioTo} must be registered before it`);
    names.add(m.name);
  }
}

async function main(): Promise<number> {
  checkRegistry();
  const seconds = readSeconds(process.env.BENCH_SECONDS);
  const selected = select(process.env.BENCH_ONLY);
  const serverUrl = process.env.BENCH_DATABASE_URL || undefined;
  if (serverUrl && !/^postgres(ql)?:\/\//.test(serverUrl)) fail('BENCH_DATABASE_URL must start with postgres:// or postgresql://');

  // The database is opened by the first measure that asks for it, and closed (dropped) whatever happens.
  const shared: { opening: Promise<OpenedBenchDatabase> | null } = { opening: null };
  const closeDatabase = async () => {
    const p = shared.opening;
    shared.opening = null;
    if (p) await p.then((d) => d.close(), () => {});
  };
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up`);
    const force = setTimeout(() => process.exit(130), 15_000);
    force.unref();
    void closeDatabase().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const ctx: BenchContext = {
    connections: CONNECTIONS,
    warmupSeconds: WARMUP_SECONDS,
    seconds,
    log,
    database: () => {
      if (interrupted) return Promise.reject(new Error('interrupted'));
      if (!shared.opening) {
        log(serverUrl ? 'creating a PostgreSQL database on BENCH_DATABASE_URL and seeding the demo' : 'opening PGlite in memory and seeding the demo');
        shared.opening = openBenchDatabase(serverUrl);
      }
      return shared.opening;
    },
  };

  const results: BenchResult[] = [];
  let databaseLabel: string | null = null;
  try {
    for (const measure of selected) {
      log(measure.oneShot ? `${measure.name}: once, timed` : `${measure.name}: ${WARMUP_SECONDS} s warm-up + ${seconds} s, ${CONNECTIONS} connections`);
      try {
        results.push(...(await measure.run(ctx)));
      } catch (e) {
        if (interrupted) return 130;
        log(`${measure.name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        results.push({ bench: measure.name, failed: e instanceof Error ? e.message : String(e) });
      }
      if (interrupted) return 130;
    }
    if (shared.opening) databaseLabel = (await shared.opening.catch(() => null))?.label ?? null;
  } finally {
    await closeDatabase();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  for (const r of results) {
    // A measure that took its own baseline beside it (dose-confirm) has set its ratio.
    if (r.ratio !== undefined) continue;
    const base = selected.find((m) => m.name === r.bench)?.ratioTo;
    const baseline = base ? results.find((b) => b.bench === base) : undefined;
    if (r.per_s !== undefined && baseline?.per_s) r.ratio = round(r.per_s / baseline.per_s, 3);
  }

  const heading = `Methadone Point benchmarks: ${databaseLabel ?? 'no database'}, ${CONNECTIONS} connections, ${seconds} s each after ${WARMUP_SECONDS} s warm-up, node ${process.version}`;
  process.stdout.write(`\n${heading}\n\n${table(results)}\n\n${results.map(jsonLine).join('\n')}\n`);

  const bad = results.filter((r) => r.failed !== undefined || (r.errors ?? 0) > 0);
  if (bad.length > 0) log(`not clean: ${bad.map((r) => r.bench).join(', ')}`);
  return bad.length > 0 ? 1 : 0;
}

const code = await main();
process.exitCode = code;
// Everything is closed by now; should a stray handle keep the process alive, do not hang.
setTimeout(() => process.exit(code), 5_000).unref();
