// The counter's dose decision: R9–R12 of clinical-rules.md, with R8 (split
// parts), R1/R2 (mg → ml), R14/R15 (take-home and supply cover a day) and R16
// (guest dosing). Pure: given the service day, the clinic, the episode, its
// orders and the patient's dose history, it says what the nurse may do now
// and why. The service reads the facts, asks, and writes the record.
//
// The checks run in this order; the first that stops the dose decides:
//   1. R12 an open episode that has started (else doctor_review 'no_episode');
//   2. R9  today already covered everywhere in the programme: a take-home or a
//          supply for today (take_home_day), or every part due today given or
//          vomited (already_dosed), at any clinic;
//   3. R12/R16 this clinic is home, or a host with a guest authorisation
//          covering today (else not_this_clinic);
//   4. R10 a withholding today for intoxication stands until a doctor rules
//          'resume' after it (else doctor_review 'withheld_intoxication');
//          a doctor's 'no_dose' ruling for today closes the day
//          (doctor_review 'doctor_no_dose');
//   4b. R12/R4 an order in force today (else doctor_review 'no_order');
//   5. R11 missed days (below);
//   6. R8  the next part due (part 1, then part 2), never more than what is
//          left of the day's total; R2 rounds the volume down.
//
// R9 — what blocks a later attempt the same day: 'given' and 'vomited' (it was
// swallowed; a replacement is the exception workflow, not this function),
// 'take_home' and 'supplied'. 'withheld', 'refused' and 'spilled' do not: the
// dose was not taken, and a later attempt is decided afresh — except that
// after an R10 withholding the day stays closed until a doctor rules (4.).
//
// R11 missed days = the service days strictly between the last covered day
// and today (every day is a service day; closed days, hospital and custody
// count as missed). Covered = 'given', 'vomited', 'take_home', 'supplied', at
// any clinic, in any episode. With no covered day at all, the count runs from
// the episode's start day (inclusive) to yesterday. Examples, today = 10th:
//   last covered the 9th                   → 0 missed
//   last covered the 8th                   → 1 (the 9th)
//   last covered the 5th                   → 4 (6th–9th)
//   never covered, episode started the 10th → 0
//   never covered, episode started the 7th  → 3 (7th, 8th, 9th)
//   last covered the 2nd in an earlier episode (a transfer, a re-enrolment),
//   this episode started the 9th           → 7 (3rd–9th), not 1: tolerance
//   follows the last dose, not the paperwork, so a covered day before the
//   episode's start still counts (it only ever gives more missed days).
// Actions (thresholds are parameters; defaults 2/3/4/5):
//   m < missed_check_days                       → the ordered dose
//   missed_check_days ≤ m < missed_half_dose_days → the ordered dose, intoxication check mandatory
//   missed_half_dose_days ≤ m < missed_doctor_days → at most half, only with the doctor's
//       approval recorded for today: min(approval, half rounded down to the resolution);
//       without one, doctor_review 'missed_needs_approval'
//   missed_doctor_days ≤ m < missed_reinduction_days → no dose until the doctor orders one:
//       the order in force must be written after the last covered day and its daily mg
//       ≤ min(restart_max_mg, half the previous order); else 'missed_needs_order'
//       (or 'restart_above_max' when such an order exists but is too high)
//   m ≥ missed_reinduction_days → only an induction order written after the last
//       covered day; else 'missed_needs_induction'
// With no covered day at all, "written after the last covered day" means
// written on or after the episode's start. "The previous order" is the order
// in force on the last covered day (failing that, the latest one starting
// before the current order; none → only restart_max_mg applies). On a reduced
// day a split order gives half of each part, the two together within the
// day's reduced total. From missed_check_days on, every dose carries the
// mandatory intoxication check. The system never raises a dose: every mg it
// gives is ≤ the ordered mg, and the parts of a day never exceed its total.
import { daysBetween } from './days.ts';
import { orderInForce, type Phase } from './orders.ts';
import type { RuleParams } from './parameters.ts';
import { volumeFor } from './volume.ts';

export const DOSE_OUTCOMES = ['given', 'take_home', 'supplied', 'withheld', 'refused', 'vomited', 'spilled'] as const;
export type DoseOutcome = (typeof DOSE_OUTCOMES)[number];
/** R11: outcomes that cover a day. */
export const COVERING_OUTCOMES: readonly DoseOutcome[] = ['given', 'vomited', 'take_home', 'supplied'];
/** Outcomes where the dose was swallowed at a counter (their mg counts towards the day's total). */
const SWALLOWED: readonly DoseOutcome[] = ['given', 'vomited'];
const AWAY: readonly DoseOutcome[] = ['take_home', 'supplied'];

export interface OpenEpisode {
  clinicId: string;
  startDate: string;
}

/** An order of the episode, as written. Pass them in the order written (start date, then creation). */
export interface CounterOrder {
  id: string;
  phase: Phase;
  startDate: string;
  endDate: string;
  dailyMg: number;
  splitMg: readonly [number, number] | null;
  takeHomeDays: number;
  /** The service day the doctor wrote it. */
  writtenDay: string;
}

/** A dose record of the patient at any clinic; voided records already removed. */
export interface DoseRecord {
  serviceDay: string;
  part: 1 | 2;
  outcome: DoseOutcome;
  clinicId: string;
  givenMg: number;
  at: Date;
  byName: string;
}

export interface GuestAuthorisation {
  hostClinicId: string;
  fromDate: string;
  toDate: string;
}

/** R11 row 3: the doctor's approval of a reduced dose on a day. */
export interface MissedDoseApproval {
  day: string;
  maxMg: number;
}

/** R10: a doctor's ruling on today's dose after a withholding. */
export interface DoctorRuling {
  day: string;
  kind: 'resume' | 'no_dose';
  at: Date;
}

export interface CounterFacts {
  today: string;
  clinicId: string;
  episode: OpenEpisode | null;
  orders: readonly CounterOrder[];
  history: readonly DoseRecord[];
  guestAuthorisations: readonly GuestAuthorisation[];
  approvals: readonly MissedDoseApproval[];
  /** R10 rulings; none when absent. */
  rulings?: readonly DoctorRuling[];
}

export interface Reason {
  rule: string;
  code: string;
  values: Record<string, number | string>;
}

export type ReviewCode =
  | 'no_episode'
  | 'no_order'
  | 'withheld_intoxication'
  | 'doctor_no_dose'
  | 'missed_needs_approval'
  | 'missed_needs_order'
  | 'restart_above_max'
  | 'missed_needs_induction'
  | 'dose_below_resolution';

/** What a give or reduced decision carries. */
export interface DoseFields {
  part: 1 | 2;
  /** The mg to give now (≤ orderedMg), what the measured volume holds. */
  mg: number;
  ml: number;
  /** What the order says for this part (the day's total when not split). */
  orderedMg: number;
  orderId: string;
  intoxicationCheckMandatory: boolean;
  missedDays: number;
  reasons: Reason[];
}
/** The record that blocks a dose today (R9): when, who, where. */
export interface BlockingFields {
  at: Date;
  byName: string;
  clinicId: string;
  reasons: Reason[];
}

export type Decision =
  | ({ kind: 'give' } & DoseFields)
  | ({ kind: 'reduced'; approvedMaxMg: number } & DoseFields)
  | { kind: 'doctor_review'; code: ReviewCode; reasons: Reason[] }
  | ({ kind: 'already_dosed' } & BlockingFields)
  | ({ kind: 'take_home_day'; outcome: 'take_home' | 'supplied' } & BlockingFields)
  | { kind: 'not_this_clinic'; reasons: Reason[] };

const reason = (rule: string, code: string, values: Reason['values'] = {}): Reason => ({ rule, code, values });
const review = (code: ReviewCode, rule: string, values: Reason['values'] = {}): Decision => ({ kind: 'doctor_review', code, reasons: [reason(rule, code, values)] });

/** R11: the last covered day before `today`, at any clinic; null if none. */
export function lastCoveredDay(history: readonly DoseRecord[], today: string): string | null {
  let last: string | null = null;
  for (const r of history) if (r.serviceDay < today && COVERING_OUTCOMES.includes(r.outcome) && (last === null || r.serviceDay > last)) last = r.serviceDay;
  return last;
}

/**
 * R11: missed days before today, and their anchor: the last covered day (in
 * any episode), or null when there is none and the count runs from the
 * episode's start. See the examples at the top of this file.
 */
export function missedDays(history: readonly DoseRecord[], episodeStart: string, today: string): { missed: number; anchor: string | null } {
  const last = lastCoveredDay(history, today);
  // A covered day before the episode's start lies before the start, so its count is the larger one.
  if (last === null) return { missed: Math.max(0, daysBetween(episodeStart, today)), anchor: null };
  return { missed: daysBetween(last, today) - 1, anchor: last };
}

/** The most recent record (by time; ties: the later in the list), so the one shown is the latest. */
const latest = (records: readonly DoseRecord[]): DoseRecord | null =>
  records.reduce<DoseRecord | null>((best, r) => (best === null || r.at.getTime() >= best.at.getTime() ? r : best), null);

/** The counter's decision for the next dose of the patient today. */
export function decideDose(f: CounterFacts, p: RuleParams): Decision {
  const { today, episode } = f;
  // 1. R12 an active episode.
  if (!episode || episode.startDate > today) return review('no_episode', 'R12', episode ? { startDate: episode.startDate } : {});

  const todays = f.history.filter((r) => r.serviceDay === today);
  const order = orderInForce(f.orders, today);

  // 2. R9 (and R14/R15): a day covered by a take-home or a supply.
  const away = latest(todays.filter((r) => AWAY.includes(r.outcome)));
  if (away) {
    const outcome = away.outcome as 'take_home' | 'supplied';
    return { kind: 'take_home_day', outcome, at: away.at, byName: away.byName, clinicId: away.clinicId, reasons: [reason('R9', 'take_home_day', { outcome })] };
  }
  const swallowed = todays.filter((r) => SWALLOWED.includes(r.outcome));
  const givenTodayMg = swallowed.reduce((s, r) => s + r.givenMg, 0);
  const dosed = (blocking: DoseRecord, code = 'already_dosed'): Decision => ({
    kind: 'already_dosed',
    at: blocking.at,
    byName: blocking.byName,
    clinicId: blocking.clinicId,
    reasons: [reason('R9', code, { givenTodayMg, ...(order ? { dailyMg: order.dailyMg } : {}) })],
  });
  // R8: a split order's parts are given separately, part 1 then part 2; one dose otherwise.
  const parts: (1 | 2)[] = order?.splitMg ? [1, 2] : [1];
  const next = order?.splitMg ? parts.find((part) => !swallowed.some((r) => r.part === part)) : swallowed.length ? undefined : 1;
  const lastSwallowed = latest(swallowed);
  if (lastSwallowed && (!order || next === undefined)) return dosed(lastSwallowed);

  // 3. R12/R16 home clinic, or a guest authorisation covering today.
  const guest = f.guestAuthorisations.some((g) => g.hostClinicId === f.clinicId && g.fromDate <= today && today <= g.toDate);
  if (f.clinicId !== episode.clinicId && !guest) return { kind: 'not_this_clinic', reasons: [reason('R12', 'not_this_clinic', { homeClinicId: episode.clinicId })] };

  // 4. R10 a withholding today stands until a doctor rules after it.
  const rulings = (f.rulings ?? []).filter((r) => r.day === today);
  if (rulings.some((r) => r.kind === 'no_dose')) return review('doctor_no_dose', 'R10');
  const withheld = latest(todays.filter((r) => r.outcome === 'withheld'));
  if (withheld && !rulings.some((r) => r.kind === 'resume' && r.at.getTime() > withheld.at.getTime()))
    return review('withheld_intoxication', 'R10', { at: withheld.at.toISOString(), byName: withheld.byName });

  // 4b. R12/R4 an order in force today.
  if (!order || next === undefined) {
    const upcoming = f.orders.filter((o) => o.startDate > today).map((o) => o.startDate).sort()[0];
    return review('no_order', 'R12', upcoming ? { nextOrderStart: upcoming } : {});
  }

  // 5. R11 missed days.
  const { missed, anchor } = missedDays(f.history, episode.startDate, today);
  const writtenAfter = anchor === null ? order.writtenDay >= episode.startDate : order.writtenDay > anchor;
  const m = { missedDays: missed };
  const reasons: Reason[] = [];
  let dayMg = order.dailyMg;
  let scale = 1;
  let approvedMaxMg: number | null = null;
  if (missed >= p.missed_reinduction_days) {
    if (!(order.phase === 'induction' && writtenAfter)) return review('missed_needs_induction', 'R11', { ...m, threshold: p.missed_reinduction_days });
    reasons.push(reason('R11', 'restart_after_missed', { ...m, orderId: order.id, writtenDay: order.writtenDay }));
  } else if (missed >= p.missed_doctor_days) {
    if (!writtenAfter) return review('missed_needs_order', 'R11', { ...m, threshold: p.missed_doctor_days });
    const previous = previousOrder(f.orders, order, anchor);
    const maxMg = Math.min(p.restart_max_mg, previous ? previous.dailyMg / 2 : Infinity);
    if (order.dailyMg > maxMg) return review('restart_above_max', 'R11', { ...m, orderedMg: order.dailyMg, maxMg });
    reasons.push(reason('R11', 'restart_after_missed', { ...m, orderId: order.id, writtenDay: order.writtenDay, maxMg }));
  } else if (missed >= p.missed_half_dose_days) {
    const approvals = f.approvals.filter((a) => a.day === today && a.maxMg > 0);
    if (!approvals.length) return review('missed_needs_approval', 'R11', { ...m, threshold: p.missed_half_dose_days });
    approvedMaxMg = Math.min(...approvals.map((a) => a.maxMg));
    const halfMg = roundDown(order.dailyMg / 2, p);
    dayMg = Math.min(approvedMaxMg, halfMg);
    scale = 0.5;
    reasons.push(reason('R11', 'missed_half_dose', { ...m, approvedMaxMg, halfMg, dayMg }));
  } else if (missed >= p.missed_check_days) {
    reasons.push(reason('R11', 'missed_check_intoxication', { ...m, threshold: p.missed_check_days }));
  } else {
    reasons.push(reason('R11', 'ordered_dose', m));
  }

  // 6. R8 the part due, never more than what is left of the day's total; R2 rounds down.
  const orderedMg = order.splitMg ? order.splitMg[next - 1]! : order.dailyMg;
  const partMg = scale === 1 ? orderedMg : roundDown(orderedMg * scale, p);
  const leftMg = dayMg - givenTodayMg;
  const wantedMg = Math.min(partMg, leftMg);
  if (wantedMg <= 0 || roundDown(wantedMg, p) <= 0) return lastSwallowed ? dosed(lastSwallowed, 'day_total_reached') : review('dose_below_resolution', 'R2', { wantedMg });
  const volume = volumeFor(wantedMg, p.concentration_mg_per_ml, p.measuring_resolution_ml);
  if (order.splitMg) reasons.push(reason('R8', 'split_part', { part: next, partMg: orderedMg, dailyMg: order.dailyMg }));
  if (givenTodayMg > 0 && leftMg < partMg) reasons.push(reason('R8', 'capped_by_day_total', { givenTodayMg, dayMg }));
  if (volume.mg < wantedMg) reasons.push(reason('R2', 'rounded_down', { wantedMg, mg: volume.mg }));
  const dose: DoseFields = {
    part: next,
    mg: volume.mg,
    ml: volume.ml,
    orderedMg,
    orderId: order.id,
    intoxicationCheckMandatory: missed >= p.missed_check_days,
    missedDays: missed,
    reasons,
  };
  return approvedMaxMg === null ? { kind: 'give', ...dose } : { kind: 'reduced', approvedMaxMg, ...dose };
}

/** mg rounded down to what the measuring resolution can deliver. */
function roundDown(mg: number, p: RuleParams): number {
  return volumeFor(Math.max(0, mg), p.concentration_mg_per_ml, p.measuring_resolution_ml).mg;
}

/**
 * R11 row 4 "half the previous order": the order the patient was on at the
 * last covered day; failing that, the latest order that started before the
 * current one (the lower bound is the safer one when the history is unclear).
 */
function previousOrder(orders: readonly CounterOrder[], current: CounterOrder, anchor: string | null): CounterOrder | null {
  const others = orders.filter((o) => o !== current && o.id !== current.id);
  const atAnchor = anchor === null ? null : orderInForce(others, anchor);
  if (atAnchor) return atAnchor;
  let best: CounterOrder | null = null;
  for (const o of others) if (o.startDate <= current.startDate && (!best || o.startDate >= best.startDate)) best = o;
  return best;
}
