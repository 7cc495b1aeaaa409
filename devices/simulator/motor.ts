// One run of the pump's motor (a dose or a prime) as plain arithmetic: where
// it will stop and why, and how much it has delivered at a given time. The
// simulator owns the timers; this only says when they are due, so a change of
// flow rate mid-run is a rebase and not a rewrite of the timeline.
import type { FaultCode } from '../mpp/protocol.ts';
import type { SimTxn } from './memory.ts';

/** How a run ends: as planned, with a fault frame, or with the power gone (reported only when it returns). */
export type Ending = { kind: 'done' } | { kind: 'fault'; code: FaultCode } | { kind: 'power'; offMs: number };

export interface Motor {
  readonly kind: 'dose' | 'prime';
  /** The transaction of a dose (null for a prime, which is not one). */
  readonly rec: SimTxn | null;
  readonly endMl: number;
  readonly ending: Ending;
  /** The volume at which the pump falls silent during this run, if it does. */
  silenceAtMl: number | null;
  /** Delivered volume at baseAt; baseAt may lie in the future while the transaction is PENDING. */
  baseMl: number;
  baseAt: number;
  flowMlPerS: number;
  timers: { start?: unknown; end?: unknown; silence?: unknown; progress?: unknown };
}

/** Volumes are measured and reported to one decimal (MPP/1 writes them so). */
export function round1(ml: number): number {
  return Math.round(ml * 10) / 10;
}

export function deliveredAt(m: Motor, now: number): number {
  const ran = Math.max(0, now - m.baseAt);
  return Math.min(m.endMl, m.baseMl + (ran * m.flowMlPerS) / 1000);
}

/** Milliseconds from now until the motor has delivered `ml` (0 if it already has). */
export function msUntil(m: Motor, ml: number, now: number): number {
  const wait = Math.max(0, m.baseAt - now);
  return wait + (Math.max(0, ml - m.baseMl) * 1000) / m.flowMlPerS;
}

/** Keeps the volume delivered so far and continues from now at a new rate. */
export function rebase(m: Motor, flowMlPerS: number, now: number): void {
  m.baseMl = deliveredAt(m, now);
  m.baseAt = Math.max(now, m.baseAt);
  m.flowMlPerS = flowMlPerS;
}

export interface DosePlan {
  /** What the pump will measure if nothing stops it: the request times the delivery error. */
  targetMl: number;
  reservoirMl: number;
  faultAt: { code: FaultCode; ml: number } | null;
  powerCycleAtMl: { ml: number; offMs: number } | null;
}

/**
 * Where a dose stops. An injected fault or power cut past the end still
 * happens, at the end: the test asked for this transaction to fail. At the
 * same volume a power cut beats an injected fault, which beats an empty
 * reservoir, which beats finishing.
 */
export function planDose(p: DosePlan): { endMl: number; ending: Ending } {
  let end: { endMl: number; ending: Ending } = { endMl: p.targetMl, ending: { kind: 'done' } };
  const consider = (ml: number, ending: Ending): void => {
    const v = round1(Math.min(ml, p.targetMl));
    if (v < end.endMl || (v === end.endMl && end.ending.kind === 'done')) end = { endMl: v, ending };
  };
  if (p.powerCycleAtMl) consider(p.powerCycleAtMl.ml, { kind: 'power', offMs: p.powerCycleAtMl.offMs });
  if (p.faultAt) consider(p.faultAt.ml, { kind: 'fault', code: p.faultAt.code });
  // Running dry mid-dose; a reservoir holding exactly the dose still finishes it.
  if (p.reservoirMl < p.targetMl) consider(p.reservoirMl, { kind: 'fault', code: 'RESERVOIR_EMPTY' });
  return end;
}
