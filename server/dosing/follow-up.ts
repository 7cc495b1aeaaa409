// R11 (counted for follow-up), R17 alerts and R18 dropout. Pure: given the
// last covered day, the episode's start, the day being closed and the rule
// parameters, say how many days in a row the patient has missed and which
// alert levels that reaches.
//
// Counting at the close of day D (D itself counts: the patient did not come):
//   last covered D                              → 0 (came today)
//   last covered D−1                            → 1
//   last covered D−5                            → 5
//   never covered, episode started D            → 1
//   never covered, episode started D−2          → 3
//   last covered long before this episode began → counted from the episode's
//     start: follow-up is about this episode (a re-enrolment after a dropout
//     is not "missed for 60 days" on its first day). The counter's R11 count
//     for the dose still follows the last dose (decision.ts), which is safer.
import type { MissedLevel } from '../../db/schema.ts';
import { addDays, daysBetween } from './days.ts';
import type { RuleParams } from './parameters.ts';

/** The day the current run of missed days hangs from: the last covered day, or the day before the episode began. */
export function anchorDay(lastCovered: string | null, episodeStart: string): string {
  const beforeStart = addDays(episodeStart, -1);
  return lastCovered !== null && lastCovered > beforeStart ? lastCovered : beforeStart;
}

/** Consecutive missed days at the close of `day` (0 when `day` itself is covered or the episode has not begun). */
export function missedAtClose(lastCovered: string | null, episodeStart: string, day: string): number {
  if (day < episodeStart) return 0;
  return Math.max(0, daysBetween(anchorDay(lastCovered, episodeStart), day));
}

/** Which rule each level comes from, for the reasons shown with an alert. */
export const ALERT_RULES: Record<MissedLevel, 'R17' | 'R18'> = { missed: 'R17', counsellor: 'R17', doctor: 'R17', dropout: 'R18' };

/** The consecutive missed days at which each level is reached (R17, R18). */
export function thresholds(p: RuleParams): Record<MissedLevel, number> {
  return { missed: 1, counsellor: p.alert_counsellor_days, doctor: p.alert_doctor_days, dropout: p.dropout_days };
}

/** Every level reached by a count of missed days, least urgent first. */
export function levelsReached(missed: number, p: RuleParams): MissedLevel[] {
  const t = thresholds(p);
  return (Object.keys(t) as MissedLevel[]).filter((l) => missed >= t[l]);
}

/**
 * The levels a day close raises: those reached, unless a hold (a contact
 * found the patient in hospital or custody) covers the day. A hold pauses
 * escalation only; R11's count at the counter runs on regardless.
 */
export function levelsToRaise(missed: number, holdUntil: string | null, day: string, p: RuleParams): MissedLevel[] {
  if (holdUntil !== null && holdUntil >= day) return [];
  return levelsReached(missed, p);
}

/** Who is told of an alert, beyond the list itself (R17: day 5 the doctor; R18: the manager confirms; R19: the doctor decides). */
export function alertRecipients(level: MissedLevel | 'review'): ('counsellor' | 'doctor' | 'manager')[] {
  switch (level) {
    case 'missed':
      return [];
    case 'counsellor':
      return ['counsellor'];
    case 'doctor':
      return ['counsellor', 'doctor'];
    case 'dropout':
      return ['counsellor', 'manager'];
    case 'review':
      return ['doctor'];
  }
}

export const MISSED_BUCKETS = ['today', 'd2_4', 'd5_13', 'd14'] as const;
export type MissedBucket = (typeof MISSED_BUCKETS)[number];

/** The counsellor list's groups: missed today (1), 2–4, 5–13, 14 or more. */
export function bucketOf(missed: number): MissedBucket {
  if (missed <= 1) return 'today';
  if (missed <= 4) return 'd2_4';
  if (missed <= 13) return 'd5_13';
  return 'd14';
}

// R19, grounds to review termination (Decree 90/2016 as summarised; check
// 141/2024). The system flags, a doctor decides. Counted at the close of `day`:
//   violations      ≥ review_violations procedure violations (a diversion
//                   incident at the swallow check, R13) in the
//                   review_violations_window_days up to the day;
//   opioid_positive ≥ review_opioid_positives consecutive positive opiate
//                   tests among the tests dated from the start of maintenance
//                   to review_opioid_window_days after it (and up to the day);
//   other_drug      a positive test for a drug other than opiates and
//                   methadone during the episode.
// The evidence day is the day of the latest fact behind a ground: a review
// already done for that evidence is not asked again.
export const REVIEW_GROUNDS = ['violations', 'opioid_positive', 'other_drug'] as const;
export type ReviewGround = (typeof REVIEW_GROUNDS)[number];

export interface ReviewFacts {
  episodeStart: string;
  /** The first day of maintenance in this episode (an order in phase maintenance), if reached. */
  maintenanceSince: string | null;
  /** Days of procedure violations (diversion incidents). */
  violations: readonly string[];
  tests: readonly { testDate: string; results: Readonly<Record<string, 'positive' | 'negative'>> }[];
}

export function terminationGrounds(f: ReviewFacts, day: string, p: RuleParams): { grounds: ReviewGround[]; evidenceDay: string | null } {
  const grounds: ReviewGround[] = [];
  const evidence: string[] = [];
  const from = addDays(day, -(p.review_violations_window_days - 1));
  const recent = f.violations.filter((v) => v >= from && v <= day && v >= f.episodeStart).sort();
  if (recent.length >= p.review_violations) {
    grounds.push('violations');
    evidence.push(recent[recent.length - 1]!);
  }
  const tests = f.tests.filter((t) => t.testDate >= f.episodeStart && t.testDate <= day).sort((a, b) => (a.testDate < b.testDate ? -1 : a.testDate > b.testDate ? 1 : 0));
  if (f.maintenanceSince !== null) {
    const until = addDays(f.maintenanceSince, p.review_opioid_window_days);
    let run = 0;
    let hit: string | null = null;
    for (const t of tests) {
      if (t.testDate < f.maintenanceSince || t.testDate > until || t.results.opiates === undefined) continue;
      run = t.results.opiates === 'positive' ? run + 1 : 0;
      if (run >= p.review_opioid_positives) hit = t.testDate;
    }
    if (hit !== null) {
      grounds.push('opioid_positive');
      evidence.push(hit);
    }
  }
  const other = tests.filter((t) => Object.entries(t.results).some(([substance, r]) => r === 'positive' && substance !== 'opiates' && substance !== 'methadone'));
  if (other.length > 0) {
    grounds.push('other_drug');
    evidence.push(other[other.length - 1]!.testDate);
  }
  return { grounds, evidenceDay: evidence.length ? evidence.sort()[evidence.length - 1]! : null };
}
