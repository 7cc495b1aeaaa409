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

/** Seconds since a performance.now() reading. */
export const secondsSince = (since: number): number => (performance.now() - since) / 1000;

/** Times the steps of a seed: each is logged as it ends and kept for the report's notes. */
export function stepTimer(prefix: string, log: (line: string) => void) {
  const steps: string[] = [];
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const out = await run();
    steps.push(`${what} ${secondsSince(t).toFixed(1)} s`);
    log(`${prefix}: ${what} in ${secondsSince(t).toFixed(1)} s`);
    return out;
  };
  return { steps, step };
}
