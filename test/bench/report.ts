// Figures and how they are printed: a table for people, one JSON line per
// measure for comparing runs (`npm run bench | grep '^{'`).

/** What one measure reports. Fields that do not apply are left out. */
export interface BenchResult {
  bench: string;
  /** Responses completed in the measured window. */
  requests?: number;
  per_s?: number;
  p50_ms?: number;
  p99_ms?: number;
  /** This measure's per_s over its baseline's (see Measure.ratioTo). */
  ratio?: number;
  /**
   * The server's main thread busy per request, in ms (its event loop's active
   * time over warm-up and window, over the requests): what a request costs
   * Node, steadier than per_s on a machine shared with others. The load
   * generator runs in a worker thread and is not in it.
   */
  node_ms?: number;
  /** CPU of the local PostgreSQL server's processes per request, in ms (/proc; absent when the server is elsewhere or on PGlite). */
  db_cpu_ms?: number;
  /** Responses that were not 200 (or failed outright), warm-up included. Absent when none. */
  errors?: number;
  /** Why, e.g. { "status 500": 3, "ECONNRESET": 1 }. Table only. */
  errorKinds?: Record<string, number>;
  /** Patients in the database the measure searched (patient-search) or counted (day-close). */
  patients?: number;
  /** A one-shot measure's wall time (day-close: closing one service day at every clinic). */
  ms?: number;
  /** The same the first time, on a fresh database (day-close: the first day closed, every alert new). */
  first_ms?: number;
  /** The same done again right after (day-close: the idempotent second close of that day). */
  repeat_ms?: number;
  /** How many times a one-shot measure did its work (retention-report: the first report and the repeats ms is the median of). */
  runs?: number;
  /** Dose records in the database the measure ran against (day-close). */
  dose_rows?: number;
  /** Alerts the measure raised (day-close). */
  alerts?: number;
  /** Lines printed under the table (e.g. how long seeding took). Table only. */
  notes?: string[];
  /** The measure could not run at all (set by the runner). */
  failed?: string;
}

/** Nearest-rank percentile of ascending-sorted values (q in 0..1); NaN when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** The machine-readable line: only the comparable figures, in a fixed order. */
export function jsonLine(r: BenchResult): string {
  const out: Record<string, string | number> = { bench: r.bench };
  if (r.per_s !== undefined) out.per_s = r.per_s;
  if (r.p50_ms !== undefined) out.p50_ms = r.p50_ms;
  if (r.p99_ms !== undefined) out.p99_ms = r.p99_ms;
  if (r.ratio !== undefined) out.ratio = r.ratio;
  if (r.node_ms !== undefined) out.node_ms = r.node_ms;
  if (r.db_cpu_ms !== undefined) out.db_cpu_ms = r.db_cpu_ms;
  if (r.ms !== undefined) out.ms = r.ms;
  if (r.first_ms !== undefined) out.first_ms = r.first_ms;
  if (r.repeat_ms !== undefined) out.repeat_ms = r.repeat_ms;
  if (r.runs !== undefined) out.runs = r.runs;
  if (r.errors !== undefined && r.errors > 0) out.errors = r.errors;
  if (r.patients !== undefined) out.patients = r.patients;
  if (r.dose_rows !== undefined) out.dose_rows = r.dose_rows;
  if (r.alerts !== undefined) out.alerts = r.alerts;
  if (r.failed !== undefined) out.failed = r.failed;
  return JSON.stringify(out);
}

const COLUMNS: { title: string; cell: (r: BenchResult) => string; left?: boolean }[] = [
  { title: 'bench', cell: (r) => r.bench, left: true },
  { title: 'requests', cell: (r) => (r.requests === undefined ? '-' : String(r.requests)) },
  { title: 'per_s', cell: (r) => (r.per_s === undefined ? '-' : String(r.per_s)) },
  { title: 'p50_ms', cell: (r) => (r.p50_ms === undefined ? '-' : r.p50_ms.toFixed(2)) },
  { title: 'p99_ms', cell: (r) => (r.p99_ms === undefined ? '-' : r.p99_ms.toFixed(2)) },
  { title: 'ratio', cell: (r) => (r.ratio === undefined ? '-' : r.ratio.toFixed(3)) },
  { title: 'ms', cell: (r) => (r.ms === undefined ? '-' : r.ms.toFixed(0)) },
  { title: 'errors', cell: (r) => (r.failed !== undefined ? 'FAILED' : String(r.errors ?? 0)) },
];

export function table(results: BenchResult[]): string {
  const rows = [COLUMNS.map((c) => c.title), ...results.map((r) => COLUMNS.map((c) => c.cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((v, i) => (COLUMNS[i]!.left ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  for (const r of results) {
    for (const note of r.notes ?? []) out.push(`  ${r.bench}: ${note}`);
    if (r.failed !== undefined) out.push(`  ${r.bench}: failed: ${r.failed}`);
    if (r.errorKinds && Object.keys(r.errorKinds).length > 0) {
      out.push(`  ${r.bench}: errors: ${Object.entries(r.errorKinds).map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    }
  }
  return out.join('\n');
}
