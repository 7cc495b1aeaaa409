// Every timeout and retry count of the pump driver, with its default, its
// allowed range and the reason for both. server/config.ts reads them from the
// environment (PUMP_<NAME in upper snake case>) through this table, so the
// ranges are written once.
import { z } from 'zod';

export const PUMP_OPTIONS = {
  /** How long a direct answer may take. A typical pump answers within 200 ms (specification); more than that is a lost frame. */
  answerTimeoutMs: { def: 500, min: 50, max: 5000 },
  /** Re-sends of a command that is safe to repeat (HELLO, STATUS, QUERY, STOP, CAL) when no answer came. DISPENSE and PRIME are never re-sent. */
  commandRetries: { def: 2, min: 0, max: 5 },
  /** Silence during a transaction after which its outcome is unknown and the host asks (specification: 2 s). */
  silenceMs: { def: 2000, min: 500, max: 10_000 },
  /** QUERY retries when the pump stays silent during a transaction (specification: 3). */
  queryRetries: { def: 3, min: 0, max: 10 },
  /** Time between those QUERY retries (specification: 1 s). */
  queryIntervalMs: { def: 1000, min: 200, max: 10_000 },
  /** The STATUS heartbeat of an idle pump: an unplugged pump must be noticed within 5 s (security.md), hence the ceiling. */
  statusIntervalMs: { def: 3000, min: 250, max: 5000 },
  /** Wait before reopening a serial port that closed or failed to open (a USB adapter re-plugged). */
  reconnectMs: { def: 2000, min: 250, max: 60_000 },
  /** Longest wait for PRIMED after PRIME was accepted: 200 ml (the most) at a slow 1 ml/s, with room. */
  primeTimeoutMs: { def: 240_000, min: 1000, max: 600_000 },
} as const;

export type PumpOptions = { -readonly [K in keyof typeof PUMP_OPTIONS]: number };

export const DEFAULT_PUMP_OPTIONS: PumpOptions = Object.fromEntries(Object.entries(PUMP_OPTIONS).map(([k, v]) => [k, v.def])) as PumpOptions;

/** The environment variable of an option: answerTimeoutMs → PUMP_ANSWER_TIMEOUT_MS. */
export function envName(option: keyof PumpOptions): string {
  return `PUMP_${option.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** A zod schema of one option as an environment variable (a string coerced to an integer in range, or its default). */
export function optionSchema(option: keyof PumpOptions) {
  const o = PUMP_OPTIONS[option];
  return z.coerce.number().int().min(o.min).max(o.max).default(o.def);
}

/** Options for a driver: the defaults with some overridden, each checked against its range. */
export function pumpOptions(overrides: Partial<PumpOptions> = {}): PumpOptions {
  const out = { ...DEFAULT_PUMP_OPTIONS };
  for (const [k, v] of Object.entries(overrides) as [keyof PumpOptions, number | undefined][]) {
    if (v === undefined) continue;
    const r = PUMP_OPTIONS[k];
    if (!Number.isInteger(v) || v < r.min || v > r.max) throw new RangeError(`${k} must be an integer from ${r.min} to ${r.max}`);
    out[k] = v;
  }
  return out;
}
