// The doctor's order rules, R3–R8 and R14–R16 of clinical-rules.md. Pure:
// given the draft, what came before, today and the parameters, they return
// findings with rule ids; the service decides what to store.
import { addDays, rangeLength } from './days.ts';
import type { RuleParams } from './parameters.ts';

export const PHASES = ['induction', 'titration', 'maintenance', 'taper'] as const;
export type Phase = (typeof PHASES)[number];

export interface OrderDraft {
  phase: Phase;
  startDate: string;
  endDate: string;
  dailyMg: number;
  /** R8: the day's parts in mg when split; null for one dose. */
  splitMg: readonly [number, number] | null;
  /** R14: consecutive take-home days the order allows (0 = none). */
  takeHomeDays: number;
}

/** An earlier order of the same episode (not voided). */
export interface PriorOrder {
  phase: Phase;
  startDate: string;
  endDate: string;
  dailyMg: number;
}

/**
 * How a finding can be passed: `refuse` never; `reason` with a written reason
 * (audited); `second_doctor` with another doctor's confirmation; `warn` is
 * shown and recorded, nothing more.
 */
export type Severity = 'refuse' | 'reason' | 'second_doctor' | 'warn';

export type OrderCode =
  | 'dose_out_of_range'
  | 'order_end_before_start'
  | 'order_start_in_past'
  | 'order_too_long'
  | 'induction_length'
  | 'titration_length'
  | 'phase_change'
  | 'first_dose_above_warn'
  | 'first_dose_above_max'
  | 'increase_step_above_max'
  | 'increase_week_above_max'
  | 'high_dose'
  | 'split_parts_invalid'
  | 'split_sum_mismatch'
  | 'take_home_disabled'
  | 'take_home_too_many_days'
  | 'take_home_not_eligible'
  | 'take_home_split';

export interface Finding<C extends string = OrderCode> {
  rule: string;
  code: C;
  severity: Severity;
  values: Record<string, number | string>;
}

/** Facts for R14's eligibility checklist, gathered by the service. */
export interface TakeHomeFacts {
  daysInTreatment: number;
  /** Share of days in treatment with a dose taken, 0–100 (over the last 90 days). */
  attendancePercent: number;
  /** Days since the last positive urine test; null if none. */
  daysSincePositiveTest: number | null;
  /** The clinic's checklist items the doctor ticked (safe storage, stable housing, …). */
  checklistComplete: boolean;
}

export type TakeHomeProblem = 'time_in_treatment' | 'attendance' | 'positive_test' | 'checklist';

/** R14: the eligibility checklist. */
export function takeHomeEligibility(f: TakeHomeFacts, p: RuleParams): TakeHomeProblem[] {
  const problems: TakeHomeProblem[] = [];
  if (f.daysInTreatment < p.take_home_min_days_in_treatment) problems.push('time_in_treatment');
  if (f.attendancePercent < p.take_home_min_attendance_percent) problems.push('attendance');
  if (f.daysSincePositiveTest !== null && f.daysSincePositiveTest < p.take_home_negative_test_days) problems.push('positive_test');
  if (!f.checklistComplete) problems.push('checklist');
  return problems;
}

/** The order in force on a day: the latest-starting order whose range covers it. */
export function orderInForce<T extends { startDate: string; endDate: string }>(orders: readonly T[], day: string): T | null {
  let best: T | null = null;
  for (const o of orders) if (o.startDate <= day && day <= o.endDate && (!best || o.startDate >= best.startDate)) best = o;
  return best;
}

export interface OrderContext {
  today: string;
  prior: readonly PriorOrder[];
  takeHome: TakeHomeFacts | null;
}

/** R3–R8 and R14 over a draft order. */
export function checkOrder(d: OrderDraft, ctx: OrderContext, p: RuleParams): Finding[] {
  const out: Finding[] = [];
  const add = (rule: string, code: OrderCode, severity: Severity, values: Finding['values'] = {}) => out.push({ rule, code, severity, values });

  if (!(d.dailyMg > 0 && d.dailyMg <= p.dose_max_mg)) add('R5', 'dose_out_of_range', 'refuse', { max: p.dose_max_mg });

  // R4 order length, by phase.
  const length = rangeLength(d.startDate, d.endDate);
  if (d.endDate < d.startDate) add('R4', 'order_end_before_start', 'refuse');
  else if (d.phase === 'induction' && length > p.induction_order_days) add('R4', 'induction_length', 'refuse', { max: p.induction_order_days });
  else if (d.phase === 'titration' && (length < p.titration_order_min_days || length > p.titration_order_max_days))
    add('R4', 'titration_length', 'refuse', { min: p.titration_order_min_days, max: p.titration_order_max_days });
  else if (length > p.maintenance_order_max_days) add('R4', 'order_too_long', 'refuse', { max: p.maintenance_order_max_days });
  // Doses already given stand on the orders of their day: an order never starts in the past.
  if (d.startDate < ctx.today) add('R4', 'order_start_in_past', 'refuse');

  const previous = latestBefore(ctx.prior, d.startDate);
  // R3: a phase change is a doctor's act with a reason.
  if (previous && previous.phase !== d.phase) add('R3', 'phase_change', 'reason', { from: previous.phase, to: d.phase });

  // R5 the first dose of an induction: the episode's first order, or a
  // re-induction after missed days (R11) or another phase.
  if (ctx.prior.length === 0 || (d.phase === 'induction' && previous?.phase !== 'induction')) {
    if (d.dailyMg > p.first_dose_max_mg) add('R5', 'first_dose_above_max', 'reason', { max: p.first_dose_max_mg });
    else if (d.dailyMg > p.first_dose_warn_mg) add('R5', 'first_dose_above_warn', 'warn', { warn: p.first_dose_warn_mg });
  }

  // R6 increases during induction and titration.
  if (previous && (d.phase === 'induction' || d.phase === 'titration')) {
    const step = d.dailyMg - previous.dailyMg;
    if (step > p.increase_step_max_mg) add('R6', 'increase_step_above_max', 'reason', { step, max: p.increase_step_max_mg });
    const weekAgo = addDays(d.startDate, -7);
    const base = orderInForce(ctx.prior, weekAgo)?.dailyMg ?? earliestFrom(ctx.prior, weekAgo)?.dailyMg ?? previous.dailyMg;
    const week = d.dailyMg - base;
    if (week > p.increase_7_days_max_mg) add('R6', 'increase_week_above_max', 'reason', { increase: week, max: p.increase_7_days_max_mg });
  }

  // R7 high dose: a second doctor confirms.
  if (d.dailyMg > p.high_dose_mg) add('R7', 'high_dose', 'second_doctor', { limit: p.high_dose_mg });

  // R8 split dose: two positive parts making the day's total.
  if (d.splitMg) {
    const [a, b] = d.splitMg;
    if (!(a > 0 && b > 0)) add('R8', 'split_parts_invalid', 'refuse');
    else if (Math.abs(a + b - d.dailyMg) > 1e-9) add('R8', 'split_sum_mismatch', 'refuse', { sum: a + b, total: d.dailyMg });
  }

  // R14 take-home.
  if (d.takeHomeDays > 0) {
    if (!p.take_home_enabled) add('R14', 'take_home_disabled', 'refuse');
    else {
      if (d.takeHomeDays > p.take_home_max_days) add('R14', 'take_home_too_many_days', 'refuse', { max: p.take_home_max_days });
      if (d.splitMg) add('R14', 'take_home_split', 'refuse');
      const problems = ctx.takeHome ? takeHomeEligibility(ctx.takeHome, p) : (['checklist'] as TakeHomeProblem[]);
      if (problems.length) add('R14', 'take_home_not_eligible', 'refuse', { problems: problems.join(',') });
    }
  }
  return out;
}

function latestBefore(orders: readonly PriorOrder[], day: string): PriorOrder | null {
  let best: PriorOrder | null = null;
  for (const o of orders) if (o.startDate <= day && (!best || o.startDate > best.startDate)) best = o;
  return best;
}

function earliestFrom(orders: readonly PriorOrder[], day: string): PriorOrder | null {
  let best: PriorOrder | null = null;
  for (const o of orders) if (o.startDate >= day && (!best || o.startDate < best.startDate)) best = o;
  return best;
}

export type Resolution = { ok: true } | { ok: false; unresolved: Finding[] };

/** Whether the findings are all passed by what the doctor gave: a written reason, a second doctor. */
export function resolve(findings: readonly Finding[], given: { reason: string | null; secondDoctor: boolean }): Resolution {
  const hasReason = !!given.reason && given.reason.trim().length >= 5;
  const unresolved = findings.filter(
    (f) => f.severity === 'refuse' || (f.severity === 'reason' && !hasReason) || (f.severity === 'second_doctor' && !given.secondDoctor),
  );
  return unresolved.length ? { ok: false, unresolved } : { ok: true };
}

// ---------------------------------------------------------------------------
// R16 guest dosing and R15 supply to a representative.

export type GuestCode = 'guest_same_clinic' | 'guest_range_invalid' | 'guest_too_long' | 'guest_in_past' | 'guest_no_episode';

export function checkGuestAuthorisation(
  g: { homeClinicId: string; hostClinicId: string; fromDate: string; toDate: string; episodeActive: boolean },
  today: string,
  p: RuleParams,
): Finding<GuestCode>[] {
  const out: Finding<GuestCode>[] = [];
  if (!g.episodeActive) out.push({ rule: 'R16', code: 'guest_no_episode', severity: 'refuse', values: {} });
  if (g.homeClinicId === g.hostClinicId) out.push({ rule: 'R16', code: 'guest_same_clinic', severity: 'refuse', values: {} });
  if (g.toDate < g.fromDate) out.push({ rule: 'R16', code: 'guest_range_invalid', severity: 'refuse', values: {} });
  else if (rangeLength(g.fromDate, g.toDate) > p.guest_max_days) out.push({ rule: 'R16', code: 'guest_too_long', severity: 'refuse', values: { max: p.guest_max_days } });
  if (g.toDate < today) out.push({ rule: 'R16', code: 'guest_in_past', severity: 'refuse', values: {} });
  return out;
}

export type SupplyCode = 'supply_missing_request' | 'supply_missing_representative' | 'supply_no_undertaking' | 'supply_bottles' | 'supply_too_many_days';

/** R15 (Circular 26/2023 art. 5.1.b): request form, representative's identity and undertaking, sealed bottles. */
export function checkRepresentativeSupply(
  s: { requestReference: string; representativeName: string; representativeIdNumber: string; undertakingSigned: boolean; bottles: number; days: number },
  p: RuleParams,
): Finding<SupplyCode>[] {
  const out: Finding<SupplyCode>[] = [];
  if (!s.requestReference.trim()) out.push({ rule: 'R15', code: 'supply_missing_request', severity: 'refuse', values: {} });
  if (!s.representativeName.trim() || !s.representativeIdNumber.trim()) out.push({ rule: 'R15', code: 'supply_missing_representative', severity: 'refuse', values: {} });
  if (!s.undertakingSigned) out.push({ rule: 'R15', code: 'supply_no_undertaking', severity: 'refuse', values: {} });
  if (!(Number.isInteger(s.bottles) && s.bottles >= 1 && s.bottles === s.days)) out.push({ rule: 'R15', code: 'supply_bottles', severity: 'refuse', values: { days: s.days } });
  if (s.days > p.take_home_max_days) out.push({ rule: 'R15', code: 'supply_too_many_days', severity: 'refuse', values: { max: p.take_home_max_days } });
  return out;
}

