// What a test may change in the simulated pump, and the clock it runs on.
// Every knob maps to a branch of the driver that the specification asks us to
// test (../../shared/design/pump-protocol.md, "Timing of a typical pump"):
// flow rate, each fault code at a chosen volume, a lost or corrupted line, a
// pump gone silent, a power cut. The one-shot knobs apply to the next
// transaction the pump starts (a repeated DISPENSE starts nothing).
import { z } from 'zod';
import { FAULT_CODES, type FaultCode } from '../mpp/protocol.ts';

export interface Behaviour {
  /** Delivery rate. A typical pump runs about 2 ml/s (specification). */
  flowMlPerS: number;
  /** Time between PROGRESS frames. The specification asks for at most 500 ms; a test may break that on purpose. */
  progressIntervalMs: number;
  /** How long the pump takes to act on a command and answer it (a typical pump: within 200 ms). */
  answerDelayMs: number;
  /** How long an acknowledged transaction stays PENDING before the motor runs (0: it starts with the ACK). */
  startDelayMs: number;
  /** Actual ÷ nominal volume: DONE reports requested × this, as the pump measures what it gave, not what was asked. */
  deliveryError: number;
  /** One-shot: the next transaction stops at `ml` (or at its end, if that comes first) with FAULT `code`. */
  faultAt: { code: FaultCode; ml: number } | null;
  /** The next n frames the pump sends carry a wrong checksum. */
  corruptNext: number;
  /** The next n frames the pump sends never reach the wire. */
  dropNext: number;
  /** One-shot: from this volume of the next transaction on, the pump says nothing and hears nothing, though it keeps delivering, until speak() or a power cycle. */
  silenceFromMl: number | null;
  /** One-shot: at this volume of the next transaction the power fails for offMs; the transaction ends FAULT POWER. */
  powerCycleAtMl: { ml: number; offMs: number } | null;
}

export const DEFAULT_BEHAVIOUR: Behaviour = {
  flowMlPerS: 2,
  progressIntervalMs: 250,
  answerDelayMs: 0,
  startDelayMs: 0,
  deliveryError: 1,
  faultAt: null,
  corruptNext: 0,
  dropNext: 0,
  silenceFromMl: null,
  powerCycleAtMl: null,
};

const ml = z.number().finite().min(0).max(10_000);
const ms = z.number().int().min(0).max(600_000);

/** A change to the behaviour as it arrives from outside (the CLI's stdin): checked, because a typo must fail the test that made it, not pass silently. */
export const behaviourPatchSchema = z
  .object({
    flowMlPerS: z.number().finite().positive().max(1000),
    progressIntervalMs: ms.min(10),
    answerDelayMs: ms,
    startDelayMs: ms,
    deliveryError: z.number().finite().positive().max(10),
    faultAt: z.object({ code: z.enum(FAULT_CODES), ml }).strict().nullable(),
    corruptNext: z.number().int().min(0),
    dropNext: z.number().int().min(0),
    silenceFromMl: ml.nullable(),
    powerCycleAtMl: z.object({ ml, offMs: ms }).strict().nullable(),
  })
  .strict()
  .partial() satisfies z.ZodType<Partial<Behaviour>>;

/** The timers the pump runs on: the globals by default, vitest's fake timers in unit tests. */
export interface SimClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  now(): number;
}

/** The global timers, looked up at each call so that fake timers installed later still apply. */
export const SYSTEM_CLOCK: SimClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
  now: () => Date.now(),
};
