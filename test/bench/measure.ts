// What a measure is, and what the runner hands it. run.ts keeps the registry.
import type { BenchDatabase } from './database.ts';
import type { LoadSettings } from './load.ts';
import type { BenchResult } from './report.ts';

export interface BenchContext extends LoadSettings {
  /** The shared bench database with the demo seeded; opened on first use, closed (and dropped) at the end. */
  database(): Promise<BenchDatabase>;
}

export interface Measure {
  name: string;
  /** A measure whose per_s this one's `ratio` is taken over; the runner runs it first. */
  ratioTo?: string;
  /** Runs once, without the load's warm-up and window or its connections, and reports `ms` (day-close). */
  oneShot?: boolean;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}
