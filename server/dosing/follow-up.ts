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
import type { AlertLevel } from '../../db/schema.ts';
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
export const ALERT_RULES: Record<AlertLevel, 'R17' | 'R18'> = { missed: 'R17', counsellor: 'R17', doctor: 'R17', dropout: 'R18' };

/** The consecutive missed days at which each level is reached (R17, R18). */
export function thresholds(p: RuleParams): Record<AlertLevel, number> {
  return { missed: 1, counsellor: p.alert_counsellor_days, doctor: p.alert_doctor_days, dropout: p.dropout_days };
}

/** Every level reached by a count of missed days, least urgent first. */
export function levelsReached(missed: number, p: RuleParams): AlertLevel[] {
  const t = thresholds(p);
  return (Object.keys(t) as AlertLevel[]).filter((l) => missed >= t[l]);
}

/**
 * The levels a day close raises: those reached, unless a hold (a contact
 * found the patient in hospital or custody) covers the day. A hold pauses
 * escalation only; R11's count at the counter runs on regardless.
 */
export function levelsToRaise(missed: number, holdUntil: string | null, day: string, p: RuleParams): AlertLevel[] {
  if (holdUntil !== null && holdUntil >= day) return [];
  return levelsReached(missed, p);
}

/** Who is told of an alert, beyond the list itself (R17: day 5 the doctor; R18: the manager confirms). */
export function alertRecipients(level: AlertLevel): ('counsellor' | 'doctor' | 'manager')[] {
  switch (level) {
    case 'missed':
      return [];
    case 'counsellor':
      return ['counsellor'];
    case 'doctor':
      return ['counsellor', 'doctor'];
    case 'dropout':
      return ['counsellor', 'manager'];
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
