// The pure follow-up rules: R11's count of consecutive missed days as the day
// close sees it, the R17/R18 levels and who hears of them, the counsellor
// list's groups, and which days a clinic has still to close (time zones,
// closing time, catch-up). Every case names the rule it checks.
import { describe, expect, it } from 'vitest';
import type { AlertLevel } from '../../db/schema.ts';
import { addDays } from '../../server/dosing/days.ts';
import { alertRecipients, anchorDay, ALERT_RULES, bucketOf, levelsReached, levelsToRaise, missedAtClose, thresholds } from '../../server/dosing/follow-up.ts';
import { DEFAULT_PARAMS, type RuleParams } from '../../server/dosing/parameters.ts';
import { daysDue, MAX_CATCH_UP_DAYS } from '../../server/services/day-close.ts';

const D = '2026-11-23';
const d = (n: number) => addDays(D, n);
/** A rule set with other thresholds, as a province might choose. */
const STRICT: RuleParams = { ...DEFAULT_PARAMS, alert_counsellor_days: 2, alert_doctor_days: 4, dropout_days: 14 };

describe('anchorDay: the day a run of missed days hangs from', () => {
  it.each([
    ['R11 last covered inside the episode', d(-4), d(-10), d(-4)],
    ['R11 covered on the day before the episode began (same anchor)', d(-11), d(-10), d(-11)],
    ['R11 R18 covered long before a re-enrolment: counted from the new start', d(-90), d(-10), d(-11)],
    ['R11 never covered: the day before the start', null, d(-10), d(-11)],
    ['R11 covered on the day itself', D, d(-10), D],
  ])('%s', (_name, lastCovered, start, expected) => {
    expect(anchorDay(lastCovered, start)).toBe(expected);
  });
});

describe('missedAtClose: consecutive missed days at the close of a day (R11)', () => {
  it.each<[string, string | null, string, string, number]>([
    ['R11 came today: 0', D, d(-30), D, 0],
    ['R11 covered yesterday: 1', d(-1), d(-30), D, 1],
    ['R11 covered two days ago: 2', d(-2), d(-30), D, 2],
    ['R11 covered five days ago: 5', d(-5), d(-30), D, 5],
    ['R11 never covered, episode began today: 1', null, D, D, 1],
    ['R11 never covered, episode began two days ago: 3', null, d(-2), D, 3],
    ['R11 episode begins tomorrow: not counted', null, d(1), D, 0],
    ['R11 R18 re-enrolment three days ago after a dose 60 days ago: 3, not 60', d(-60), d(-2), D, 3],
    ['R18 thirty days since the last cover: 30', d(-30), d(-100), D, 30],
    ['R11 a cover after the day (a later close) does not count backwards', d(2), d(-30), D, 0],
    ['R11 across a month end: 31 Jan, 1 Feb, 2 Feb', '2026-01-30', '2026-01-01', '2026-02-02', 3],
    ['R11 across a leap day: 28 Feb, 29 Feb, 1 Mar', '2028-02-27', '2028-01-01', '2028-03-01', 3],
  ])('%s', (_name, lastCovered, start, day, expected) => {
    expect(missedAtClose(lastCovered, start, day)).toBe(expected);
  });
});

describe('thresholds and levels (R17, R18)', () => {
  it('R17 R18 default thresholds: missed 1, counsellor 3, doctor 5, dropout 30', () => {
    expect(thresholds(DEFAULT_PARAMS)).toEqual({ missed: 1, counsellor: 3, doctor: 5, dropout: 30 });
  });
  it('R17 R18 thresholds follow the rule set, never constants', () => {
    expect(thresholds(STRICT)).toEqual({ missed: 1, counsellor: 2, doctor: 4, dropout: 14 });
  });
  it('R17 R18 each level names its rule', () => {
    expect(ALERT_RULES).toEqual({ missed: 'R17', counsellor: 'R17', doctor: 'R17', dropout: 'R18' });
  });

  it.each<[string, number, RuleParams, AlertLevel[]]>([
    ['R11 R17 came today: nothing', 0, DEFAULT_PARAMS, []],
    ['R17 day 1: on the list', 1, DEFAULT_PARAMS, ['missed']],
    ['R17 day 2: still only the list', 2, DEFAULT_PARAMS, ['missed']],
    ['R17 day 3: counsellor alert', 3, DEFAULT_PARAMS, ['missed', 'counsellor']],
    ['R17 day 4: no new level', 4, DEFAULT_PARAMS, ['missed', 'counsellor']],
    ['R17 day 5: doctor too', 5, DEFAULT_PARAMS, ['missed', 'counsellor', 'doctor']],
    ['R18 day 29: not yet dropout', 29, DEFAULT_PARAMS, ['missed', 'counsellor', 'doctor']],
    ['R18 day 30: dropout', 30, DEFAULT_PARAMS, ['missed', 'counsellor', 'doctor', 'dropout']],
    ['R18 day 45: every level', 45, DEFAULT_PARAMS, ['missed', 'counsellor', 'doctor', 'dropout']],
    ['R17 other rule set, day 2: counsellor', 2, STRICT, ['missed', 'counsellor']],
    ['R17 other rule set, day 4: doctor', 4, STRICT, ['missed', 'counsellor', 'doctor']],
    ['R18 other rule set, day 14: dropout', 14, STRICT, ['missed', 'counsellor', 'doctor', 'dropout']],
  ])('levelsReached: %s', (_name, missed, params, expected) => {
    expect(levelsReached(missed, params)).toEqual(expected);
  });

  it.each<[string, number, string | null, AlertLevel[]]>([
    ['R17 no hold: every level reached', 5, null, ['missed', 'counsellor', 'doctor']],
    ['R11 R17 hold until a later day: escalation pauses', 5, d(3), []],
    ['R11 R17 hold until today (inclusive): still paused', 5, D, []],
    ['R11 R17 hold ended yesterday: every level reached by the count that ran on', 7, d(-1), ['missed', 'counsellor', 'doctor']],
    ['R18 hold ended: dropout at 30 counted through the hold', 30, d(-1), ['missed', 'counsellor', 'doctor', 'dropout']],
    ['R18 hold over the dropout day: paused', 30, d(10), []],
    ['R11 hold with nothing missed: nothing', 0, null, []],
  ])('levelsToRaise: %s', (_name, missed, holdUntil, expected) => {
    expect(levelsToRaise(missed, holdUntil, D, DEFAULT_PARAMS)).toEqual(expected);
  });
});

describe('who hears of each level (R17, R18)', () => {
  it.each<[string, AlertLevel, string[]]>([
    ['R17 day 1 is only the list', 'missed', []],
    ['R17 counsellor alert: the counsellor', 'counsellor', ['counsellor']],
    ['R17 day 5: counsellor and doctor', 'doctor', ['counsellor', 'doctor']],
    ['R18 dropout: counsellor and manager (who confirms)', 'dropout', ['counsellor', 'manager']],
  ])('%s', (_name, level, expected) => {
    expect(alertRecipients(level)).toEqual(expected);
  });
});

describe("the counsellor list's groups (R17)", () => {
  it.each([
    ['R17 day 1: today', 1, 'today'],
    ['R17 day 2: 2–4', 2, 'd2_4'],
    ['R17 day 4: 2–4', 4, 'd2_4'],
    ['R17 day 5: 5–13', 5, 'd5_13'],
    ['R17 day 13: 5–13', 13, 'd5_13'],
    ['R17 day 14: 14 or more', 14, 'd14'],
    ['R18 day 30: 14 or more', 30, 'd14'],
  ])('%s', (_name, missed, bucket) => {
    expect(bucketOf(missed)).toBe(bucket);
  });
});

describe('daysDue: the days a clinic has still to close (R11 per clinic time zone)', () => {
  const HCM = 'Asia/Ho_Chi_Minh';
  it.each<[string, { timeZone: string; closingTime: string; lastClosed: string | null }, string, boolean, string[]]>([
    ['R11 before closing time: through yesterday', { timeZone: HCM, closingTime: '17:00', lastClosed: '2026-11-20' }, '2026-11-23T09:59:00Z', false, ['2026-11-21', '2026-11-22']],
    ['R11 at closing time: through today', { timeZone: HCM, closingTime: '17:00', lastClosed: '2026-11-20' }, '2026-11-23T10:00:00Z', false, ['2026-11-21', '2026-11-22', '2026-11-23']],
    ['R11 today already closed: nothing', { timeZone: HCM, closingTime: '17:00', lastClosed: '2026-11-23' }, '2026-11-23T12:00:00Z', false, []],
    ['R11 never closed: only the last day due', { timeZone: HCM, closingTime: '17:00', lastClosed: null }, '2026-11-23T12:00:00Z', false, ['2026-11-23']],
    ['R11 manager closes early: today', { timeZone: HCM, closingTime: '17:00', lastClosed: '2026-11-22' }, '2026-11-23T02:00:00Z', true, ['2026-11-23']],
    ['R11 after midnight local, before UTC midnight: the local day', { timeZone: HCM, closingTime: '17:00', lastClosed: '2026-11-22' }, '2026-11-23T18:00:00Z', false, ['2026-11-23']],
    ['R11 London 16:59 local: yesterday', { timeZone: 'Europe/London', closingTime: '17:00', lastClosed: '2026-11-21' }, '2026-11-23T16:59:00Z', false, ['2026-11-22']],
    ['R11 London summer time 17:00 BST is 16:00 UTC', { timeZone: 'Europe/London', closingTime: '17:00', lastClosed: '2026-07-01' }, '2026-07-02T16:00:00Z', false, ['2026-07-02']],
    ['R11 Bangkok closing 20:30', { timeZone: 'Asia/Bangkok', closingTime: '20:30', lastClosed: '2026-11-22' }, '2026-11-23T13:29:00Z', false, []],
    ['R11 Bangkok closing 20:30, one minute later', { timeZone: 'Asia/Bangkok', closingTime: '20:30', lastClosed: '2026-11-22' }, '2026-11-23T13:30:00Z', false, ['2026-11-23']],
    ['R11 closing at 00:00: the day closes as soon as it starts', { timeZone: HCM, closingTime: '00:00', lastClosed: '2026-11-22' }, '2026-11-22T17:00:00Z', false, ['2026-11-23']],
  ])('%s', (_name, clinic, now, throughToday, expected) => {
    expect(daysDue(clinic, new Date(now), throughToday)).toEqual(expected);
  });

  it(`R11 a server off for months catches up only the last ${MAX_CATCH_UP_DAYS} days`, () => {
    const due = daysDue({ timeZone: HCM, closingTime: '17:00', lastClosed: '2026-06-01' }, new Date('2026-11-23T12:00:00Z'));
    expect(due.length).toBe(MAX_CATCH_UP_DAYS);
    expect(due.at(-1)).toBe('2026-11-23');
    expect(due[0]).toBe(addDays('2026-11-23', -(MAX_CATCH_UP_DAYS - 1)));
  });

  it('R11 a weekend with the server off: Saturday, Sunday and Monday in order', () => {
    // 2026-11-20 is a Friday.
    expect(daysDue({ timeZone: HCM, closingTime: '17:00', lastClosed: '2026-11-20' }, new Date('2026-11-23T10:30:00Z'))).toEqual(['2026-11-21', '2026-11-22', '2026-11-23']);
  });
});
