// The counter's dose decision (R8–R12, R14–R16 of clinical-rules.md) by
// tables of cases; each names its rule id. TODAY is the service day; a
// history record "n days ago" is on TODAY − n.
import { describe, expect, it } from 'vitest';
import { addDays } from '../../server/dosing/days.ts';
import { decideDose, lastCoveredDay, missedDays, type CounterFacts, type CounterOrder, type Decision, type DoseRecord } from '../../server/dosing/decision.ts';
import { DEFAULT_PARAMS, inconsistencies, type RuleParams } from '../../server/dosing/parameters.ts';

const P = DEFAULT_PARAMS;
const TODAY = '2026-11-23';
const HOME = 'clinic-home';
const HOST = 'clinic-host';
const OTHER = 'clinic-other';
const day = (n: number) => addDays(TODAY, n);

/** The standing maintenance order: 80 mg, written long ago. */
const order = (o: Partial<CounterOrder> = {}): CounterOrder => ({
  id: 'o-80',
  phase: 'maintenance',
  startDate: day(-20),
  endDate: day(9),
  dailyMg: 80,
  splitMg: null,
  takeHomeDays: 0,
  writtenDay: day(-21),
  ...o,
});
/** A new order written today, starting today. */
const newOrder = (o: Partial<CounterOrder> = {}) => order({ id: 'o-new', startDate: TODAY, endDate: day(6), writtenDay: TODAY, ...o });
let seq = 0;
const rec = (daysAgo: number, o: Partial<DoseRecord> = {}): DoseRecord => ({
  serviceDay: day(-daysAgo),
  part: 1,
  outcome: 'given',
  clinicId: HOME,
  givenMg: 80,
  at: new Date(Date.parse(`${day(-daysAgo)}T01:00:00Z`) + seq++ * 60_000),
  byName: 'Nguyễn Thị Lan',
  ...o,
});
/** The last covered day so that `missed` days lie between it and today. */
const missed = (n: number, o: Partial<DoseRecord> = {}) => [rec(n + 1, o)];
const facts = (o: Partial<CounterFacts> = {}): CounterFacts => ({
  today: TODAY,
  clinicId: HOME,
  episode: { clinicId: HOME, startDate: day(-60) },
  orders: [order()],
  history: missed(0),
  guestAuthorisations: [],
  approvals: [],
  ...o,
});

/** One line per decision: kind, the dose if any, the reason codes. */
function summary(d: Decision): string {
  const codes = d.reasons.map((r) => `${r.rule}:${r.code}`).join(' ');
  switch (d.kind) {
    case 'give':
    case 'reduced':
      return `${d.kind} part ${d.part} ${d.mg} mg ${d.ml} ml${d.intoxicationCheckMandatory ? ' check' : ''} | ${codes}`;
    case 'doctor_review':
      return `doctor_review ${d.code} | ${codes}`;
    case 'already_dosed':
    case 'take_home_day':
      return `${d.kind} at ${d.clinicId} | ${codes}`;
    case 'not_this_clinic':
      return `not_this_clinic | ${codes}`;
  }
}
const decide = (o: Partial<CounterFacts> = {}, p: RuleParams = P) => summary(decideDose(facts(o), p));

describe('R11 missed days: counting', () => {
  // history (days ago, outcome), episode start (days from today) → missed days
  it.each<[string, [number, DoseRecord['outcome']][], number, number]>([
    ['R11 dosed yesterday: 0 missed', [[1, 'given']], -60, 0],
    ['R11 last dose two days ago: 1 missed (yesterday)', [[2, 'given']], -60, 1],
    ['R11 last dose five days ago: 4 missed', [[5, 'given']], -60, 4],
    ['R11 enrolled today, never dosed: 0 missed', [], 0, 0],
    ['R11 enrolled yesterday, never dosed: 1 missed', [], -1, 1],
    ['R11 enrolled 3 days ago, never dosed: 3 missed', [], -3, 3],
    ['R11 a dose today does not change today’s count', [[0, 'given'], [3, 'given']], -60, 2],
    ['R11 vomited covers the day (it was swallowed)', [[1, 'vomited']], -60, 0],
    ['R11 take-home covers the day', [[1, 'take_home'], [2, 'take_home'], [3, 'given']], -60, 0],
    ['R11 supply to a representative covers the day', [[1, 'supplied']], -60, 0],
    ['R11 refused, withheld and spilled do not cover', [[1, 'refused'], [2, 'withheld'], [3, 'spilled'], [4, 'given']], -60, 3],
    ['R11 a take-home for a later day is not a covered day before today', [[-1, 'take_home'], [3, 'given']], -60, 2],
    ['R11 a dose in an earlier episode still counts (transfer): 6 missed, not 1', [[7, 'given']], -1, 6],
  ])('%s', (_name, records, start, expected) => {
    const history = records.map(([ago, outcome]) => rec(ago, { outcome }));
    expect(missedDays(history, day(start), TODAY).missed).toBe(expected);
  });
  it('R11 the last covered day is the latest covering record before today, at any clinic', () => {
    expect(lastCoveredDay([rec(4), rec(2, { clinicId: HOST }), rec(1, { outcome: 'refused' }), rec(0)], TODAY)).toBe(day(-2));
    expect(lastCoveredDay([rec(0)], TODAY)).toBeNull();
  });
});

describe('R11 missed days: the action at the counter (default thresholds 2/3/4/5)', () => {
  const approve = (maxMg: number, on = TODAY) => [{ day: on, maxMg }];
  it.each<[string, Partial<CounterFacts>, string]>([
    ['R11 0 missed: the ordered dose', {}, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R11 1 missed: the ordered dose', { history: missed(1) }, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R11 2 missed: the ordered dose, intoxication check mandatory', { history: missed(2) }, 'give part 1 80 mg 8 ml check | R11:missed_check_intoxication'],
    ['R11 2 missed counting refused/withheld days as missed', { history: [rec(3), rec(2, { outcome: 'refused' }), rec(1, { outcome: 'withheld' })] }, 'give part 1 80 mg 8 ml check | R11:missed_check_intoxication'],
    ['R11 3 missed without the doctor’s approval: doctor review', { history: missed(3) }, 'doctor_review missed_needs_approval | R11:missed_needs_approval'],
    ['R11 3 missed, approval for yesterday only: doctor review', { history: missed(3), approvals: approve(40, day(-1)) }, 'doctor_review missed_needs_approval | R11:missed_needs_approval'],
    ['R11 3 missed, approval of 0 mg is no approval to dose', { history: missed(3), approvals: approve(0) }, 'doctor_review missed_needs_approval | R11:missed_needs_approval'],
    ['R11 3 missed, approval 40 mg of 80: 40 mg', { history: missed(3), approvals: approve(40) }, 'reduced part 1 40 mg 4 ml check | R11:missed_half_dose'],
    ['R11 3 missed, approval above half: still at most half', { history: missed(3), approvals: approve(70) }, 'reduced part 1 40 mg 4 ml check | R11:missed_half_dose'],
    ['R11 3 missed, approval below half: the approval', { history: missed(3), approvals: approve(30) }, 'reduced part 1 30 mg 3 ml check | R11:missed_half_dose'],
    ['R11 3 missed, two approvals: the smaller', { history: missed(3), approvals: [...approve(35), ...approve(25)] }, 'reduced part 1 25 mg 2.5 ml check | R11:missed_half_dose'],
    ['R11 3 missed, half of 85 mg is rounded down to 42 mg', { history: missed(3), orders: [order({ dailyMg: 85 })], approvals: approve(60) }, 'reduced part 1 42 mg 4.2 ml check | R11:missed_half_dose'],
    ['R11 3 missed, enrolled 3 days ago and never dosed', { history: [], episode: { clinicId: HOME, startDate: day(-3) } }, 'doctor_review missed_needs_approval | R11:missed_needs_approval'],
    ['R11 4 missed: no dose until the doctor orders one', { history: missed(4) }, 'doctor_review missed_needs_order | R11:missed_needs_order'],
    ['R11 4 missed, an approval does not replace an order', { history: missed(4), approvals: approve(40) }, 'doctor_review missed_needs_order | R11:missed_needs_order'],
    [
      'R11 4 missed, new order of min(40, half of 80) written today: restart at 40 mg',
      { history: missed(4), orders: [order(), newOrder({ dailyMg: 40 })] },
      'give part 1 40 mg 4 ml check | R11:restart_after_missed',
    ],
    [
      'R11 4 missed, new order written the day after the last dose: restart',
      { history: missed(4), orders: [order(), newOrder({ dailyMg: 30, writtenDay: day(-4) })] },
      'give part 1 30 mg 3 ml check | R11:restart_after_missed',
    ],
    [
      'R11 4 missed, new order written on the day of the last dose does not count',
      { history: missed(4), orders: [order(), newOrder({ dailyMg: 30, writtenDay: day(-5) })] },
      'doctor_review missed_needs_order | R11:missed_needs_order',
    ],
    [
      'R11 4 missed, new order above 40 mg: doctor review',
      { history: missed(4), orders: [order({ dailyMg: 120 }), newOrder({ dailyMg: 45 })] },
      'doctor_review restart_above_max | R11:restart_above_max',
    ],
    [
      'R11 4 missed, previous order 60 mg: restart at most 30 mg (31 refused)',
      { history: missed(4), orders: [order({ dailyMg: 60 }), newOrder({ dailyMg: 31 })] },
      'doctor_review restart_above_max | R11:restart_above_max',
    ],
    [
      'R11 4 missed, previous order 60 mg: 30 mg given',
      { history: missed(4), orders: [order({ dailyMg: 60 }), newOrder({ dailyMg: 30 })] },
      'give part 1 30 mg 3 ml check | R11:restart_after_missed',
    ],
    ['R11 5 missed: new induction order needed', { history: missed(5) }, 'doctor_review missed_needs_induction | R11:missed_needs_induction'],
    [
      'R11 5 missed, a new maintenance order is not enough',
      { history: missed(5), orders: [order(), newOrder({ dailyMg: 20 })] },
      'doctor_review missed_needs_induction | R11:missed_needs_induction',
    ],
    [
      'R11 5 missed, induction order written before the last dose is not enough',
      { history: missed(5), orders: [order({ phase: 'induction', dailyMg: 20, writtenDay: day(-7), startDate: day(-6), endDate: TODAY })] },
      'doctor_review missed_needs_induction | R11:missed_needs_induction',
    ],
    [
      'R11 5 missed, new induction order written today: its dose',
      { history: missed(5), orders: [order(), newOrder({ phase: 'induction', dailyMg: 20, endDate: TODAY })] },
      'give part 1 20 mg 2 ml check | R11:restart_after_missed',
    ],
    ['R11 30 missed: new induction order needed', { history: missed(30) }, 'doctor_review missed_needs_induction | R11:missed_needs_induction'],
    [
      'R11 transfer: last dose 7 days ago elsewhere, this episode opened yesterday with a maintenance order → 6 missed',
      { history: [rec(7, { clinicId: OTHER })], episode: { clinicId: HOME, startDate: day(-1) }, orders: [order({ startDate: day(-1), writtenDay: day(-1) })] },
      'doctor_review missed_needs_induction | R11:missed_needs_induction',
    ],
    [
      'R11 enrolled today with an induction order: 0 missed, the first dose',
      { history: [], episode: { clinicId: HOME, startDate: TODAY }, orders: [newOrder({ phase: 'induction', dailyMg: 20, endDate: TODAY })] },
      'give part 1 20 mg 2 ml | R11:ordered_dose',
    ],
    ['R11 a dose at a guest clinic covers the day', { history: missed(0, { clinicId: HOST }) }, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R11 take-home days cover the days', { history: [rec(4), rec(3, { outcome: 'take_home' }), rec(2, { outcome: 'take_home' }), rec(1, { outcome: 'take_home' })] }, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
  ])('%s', (_name, o, expected) => {
    expect(decide(o)).toBe(expected);
  });

  it('R11 the reasons carry the missed days and the limits', () => {
    const d = decideDose(facts({ history: missed(3), approvals: approve(60) }), P);
    expect(d.kind).toBe('reduced');
    expect(d.reasons[0]).toEqual({ rule: 'R11', code: 'missed_half_dose', values: { missedDays: 3, approvedMaxMg: 60, halfMg: 40, dayMg: 40 } });
    if (d.kind === 'reduced') expect({ orderedMg: d.orderedMg, approvedMaxMg: d.approvedMaxMg, missedDays: d.missedDays, orderId: d.orderId }).toEqual({ orderedMg: 80, approvedMaxMg: 60, missedDays: 3, orderId: 'o-80' });
  });
});

describe('R11 thresholds come from the rule set', () => {
  const early: RuleParams = { ...P, missed_check_days: 1, missed_half_dose_days: 2, missed_doctor_days: 3, missed_reinduction_days: 4 };
  const late: RuleParams = { ...P, missed_check_days: 3, missed_half_dose_days: 5, missed_doctor_days: 7, missed_reinduction_days: 10, restart_max_mg: 25 };
  it('R11 both test rule sets are consistent', () => {
    expect(inconsistencies(early)).toEqual([]);
    expect(inconsistencies(late)).toEqual([]);
  });
  it.each<[string, RuleParams, Partial<CounterFacts>, string]>([
    ['R11 thresholds 1/2/3/4: 0 missed → ordered dose', early, {}, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R11 thresholds 1/2/3/4: 1 missed → check', early, { history: missed(1) }, 'give part 1 80 mg 8 ml check | R11:missed_check_intoxication'],
    ['R11 thresholds 1/2/3/4: 2 missed → approval', early, { history: missed(2) }, 'doctor_review missed_needs_approval | R11:missed_needs_approval'],
    ['R11 thresholds 1/2/3/4: 3 missed → order', early, { history: missed(3) }, 'doctor_review missed_needs_order | R11:missed_needs_order'],
    ['R11 thresholds 1/2/3/4: 4 missed → induction', early, { history: missed(4) }, 'doctor_review missed_needs_induction | R11:missed_needs_induction'],
    ['R11 thresholds 3/5/7/10: 2 missed → ordered dose, no check', late, { history: missed(2) }, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R11 thresholds 3/5/7/10: 4 missed → check', late, { history: missed(4) }, 'give part 1 80 mg 8 ml check | R11:missed_check_intoxication'],
    ['R11 thresholds 3/5/7/10: 6 missed → approval', late, { history: missed(6) }, 'doctor_review missed_needs_approval | R11:missed_needs_approval'],
    ['R11 thresholds 3/5/7/10: 9 missed → order', late, { history: missed(9) }, 'doctor_review missed_needs_order | R11:missed_needs_order'],
    ['R11 restart_max_mg 25: a 30 mg restart order is too high', late, { history: missed(8), orders: [order(), newOrder({ dailyMg: 30 })] }, 'doctor_review restart_above_max | R11:restart_above_max'],
    ['R11 restart_max_mg 25: 25 mg restarts', late, { history: missed(8), orders: [order(), newOrder({ dailyMg: 25 })] }, 'give part 1 25 mg 2.5 ml check | R11:restart_after_missed'],
    ['R11 thresholds 3/5/7/10: 10 missed → induction', late, { history: missed(10) }, 'doctor_review missed_needs_induction | R11:missed_needs_induction'],
  ])('%s', (_name, params, o, expected) => {
    expect(decide(o, params)).toBe(expected);
  });
});

describe('R10 a withholding for intoxication stands until a doctor rules', () => {
  const withheld = rec(0, { outcome: 'withheld', givenMg: 0 });
  const ruling = (kind: 'resume' | 'no_dose', minutes: number, d = TODAY) => ({ day: d, kind, at: new Date(withheld.at.getTime() + minutes * 60_000) });
  it.each<[string, Partial<CounterFacts>, string]>([
    ['R10 withheld earlier today, no ruling: doctor review', { history: [...missed(0), withheld] }, 'doctor_review withheld_intoxication | R10:withheld_intoxication'],
    ['R10 withheld, then the doctor rules resume: the ordered dose', { history: [...missed(0), withheld], rulings: [ruling('resume', 30)] }, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R10 a resume ruled before the withholding does not lift it', { history: [...missed(0), withheld], rulings: [ruling('resume', -30)] }, 'doctor_review withheld_intoxication | R10:withheld_intoxication'],
    ['R10 a resume of yesterday does not lift today\'s withholding', { history: [...missed(0), withheld], rulings: [ruling('resume', 30, day(-1))] }, 'doctor_review withheld_intoxication | R10:withheld_intoxication'],
    ['R10 no dose today, ruled by the doctor: doctor review', { history: [...missed(0), withheld], rulings: [ruling('resume', 10), ruling('no_dose', 20)] }, 'doctor_review doctor_no_dose | R10:doctor_no_dose'],
    ['R10 withheld yesterday does not carry over to today', { history: [...missed(0), rec(1, { outcome: 'withheld', givenMg: 0 }), rec(1)] }, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R10 withheld at another clinic today also stands here', { history: [...missed(0), { ...withheld, clinicId: HOST }] }, 'doctor_review withheld_intoxication | R10:withheld_intoxication'],
  ])('%s', (_name, o, expected) => expect(decide(o)).toBe(expected));
});

describe('R9 once a day, across every clinic', () => {
  const split = order({ dailyMg: 100, splitMg: [60, 40] });
  it.each<[string, Partial<CounterFacts>, string]>([
    ['R9 given today here: already dosed', { history: [...missed(0), rec(0)] }, `already_dosed at ${HOME} | R9:already_dosed`],
    ['R9 given today at another clinic: already dosed', { history: [...missed(0), rec(0, { clinicId: HOST })] }, `already_dosed at ${HOST} | R9:already_dosed`],
    ['R9 given today elsewhere, asked at a clinic with no authorisation: already dosed first', { clinicId: OTHER, history: [...missed(0), rec(0, { clinicId: HOST })] }, `already_dosed at ${HOST} | R9:already_dosed`],
    ['R9 vomited today blocks (the replacement is the exception workflow)', { history: [...missed(0), rec(0, { outcome: 'vomited' })] }, `already_dosed at ${HOME} | R9:already_dosed`],
    ['R9 refused earlier today does not block', { history: [...missed(0), rec(0, { outcome: 'refused', givenMg: 0 })] }, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R9 spilled earlier today does not block', { history: [...missed(0), rec(0, { outcome: 'spilled' })] }, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R9 a take-home for today: take-home day', { history: [...missed(0), rec(0, { outcome: 'take_home', clinicId: HOME })] }, `take_home_day at ${HOME} | R9:take_home_day`],
    ['R9 a supply for today: take-home day', { history: [...missed(0), rec(0, { outcome: 'supplied' })] }, `take_home_day at ${HOME} | R9:take_home_day`],
    ['R9 given today, even with no order in force now: already dosed', { orders: [], history: [...missed(0), rec(0)] }, `already_dosed at ${HOME} | R9:already_dosed`],
    ['R8 split: part 1 first', { orders: [split] }, 'give part 1 60 mg 6 ml | R11:ordered_dose R8:split_part'],
    ['R8 split: part 1 given, part 2 next', { orders: [split], history: [...missed(0), rec(0, { givenMg: 60 })] }, 'give part 2 40 mg 4 ml | R11:ordered_dose R8:split_part'],
    ['R8 split: part 1 given at a host clinic, part 2 here', { orders: [split], history: [...missed(0), rec(0, { givenMg: 60, clinicId: HOST })] }, 'give part 2 40 mg 4 ml | R11:ordered_dose R8:split_part'],
    ['R9 split: both parts given: already dosed', { orders: [split], history: [...missed(0), rec(0, { givenMg: 60 }), rec(0, { part: 2, givenMg: 40 })] }, `already_dosed at ${HOME} | R9:already_dosed`],
    ['R8 split: part 1 refused, part 1 again', { orders: [split], history: [...missed(0), rec(0, { outcome: 'refused', givenMg: 0 })] }, 'give part 1 60 mg 6 ml | R11:ordered_dose R8:split_part'],
    [
      'R8 split: part 1 given as 50 mg under an earlier order: part 2 only up to the day’s total',
      { orders: [order(), newOrder({ dailyMg: 80, splitMg: [40, 40] })], history: [...missed(0), rec(0, { givenMg: 50 })] },
      'give part 2 30 mg 3 ml | R11:ordered_dose R8:split_part R8:capped_by_day_total',
    ],
    [
      'R9 the full day’s dose given, then a split order from today: the day’s total is reached',
      { orders: [order(), newOrder({ dailyMg: 80, splitMg: [40, 40] })], history: [...missed(0), rec(0, { givenMg: 80 })] },
      `already_dosed at ${HOME} | R9:day_total_reached`,
    ],
    [
      'R11+R8 split on a reduced day: each part halved, within the approval',
      { orders: [split], history: missed(3), approvals: [{ day: TODAY, maxMg: 50 }] },
      'reduced part 1 30 mg 3 ml check | R11:missed_half_dose R8:split_part',
    ],
    [
      'R11+R8 split on a reduced day: part 2 is what is left of the approval',
      { orders: [split], history: [...missed(3), rec(0, { givenMg: 30 })], approvals: [{ day: TODAY, maxMg: 40 }] },
      'reduced part 2 10 mg 1 ml check | R11:missed_half_dose R8:split_part R8:capped_by_day_total',
    ],
  ])('%s', (_name, o, expected) => {
    expect(decide(o)).toBe(expected);
  });

  it('R9 names the record that blocks: when, who, where', () => {
    const blocking = rec(0, { clinicId: HOST, byName: 'Trần Văn Minh', at: new Date('2026-11-23T00:45:00Z') });
    const d = decideDose(facts({ history: [...missed(0), rec(0, { outcome: 'refused', at: new Date('2026-11-23T00:30:00Z') }), blocking] }), P);
    expect(d).toEqual({ kind: 'already_dosed', at: blocking.at, byName: 'Trần Văn Minh', clinicId: HOST, reasons: [{ rule: 'R9', code: 'already_dosed', values: { givenTodayMg: 80, dailyMg: 80 } }] });
  });
});

describe('R12 no order / episode ended / not this clinic, and R16 guest dosing', () => {
  const guest = (fromDate: string, toDate: string, hostClinicId = HOST) => [{ hostClinicId, fromDate, toDate }];
  it.each<[string, Partial<CounterFacts>, string]>([
    ['R12 no open episode', { episode: null }, 'doctor_review no_episode | R12:no_episode'],
    ['R12 the episode starts tomorrow', { episode: { clinicId: HOME, startDate: day(1) } }, 'doctor_review no_episode | R12:no_episode'],
    ['R12 no order at all', { orders: [] }, 'doctor_review no_order | R12:no_order'],
    ['R12 the order ended yesterday', { orders: [order({ endDate: day(-1) })] }, 'doctor_review no_order | R12:no_order'],
    ['R12 the next order starts tomorrow', { orders: [order({ endDate: day(-1) }), newOrder({ startDate: day(1) })] }, 'doctor_review no_order | R12:no_order'],
    ['R12 the order ends today: still in force', { orders: [order({ endDate: TODAY })] }, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R12 the order in force is the latest-starting one', { orders: [order(), order({ id: 'o-70', dailyMg: 70, startDate: day(-3) })] }, 'give part 1 70 mg 7 ml | R11:ordered_dose'],
    ['R12 another clinic without authorisation', { clinicId: OTHER }, 'not_this_clinic | R12:not_this_clinic'],
    ['R16 a host with an authorisation covering today', { clinicId: HOST, guestAuthorisations: guest(day(-2), day(2)) }, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R16 an authorisation from today to today', { clinicId: HOST, guestAuthorisations: guest(TODAY, TODAY) }, 'give part 1 80 mg 8 ml | R11:ordered_dose'],
    ['R16 an authorisation that ended yesterday', { clinicId: HOST, guestAuthorisations: guest(day(-5), day(-1)) }, 'not_this_clinic | R12:not_this_clinic'],
    ['R16 an authorisation from tomorrow', { clinicId: HOST, guestAuthorisations: guest(day(1), day(5)) }, 'not_this_clinic | R12:not_this_clinic'],
    ['R16 an authorisation for another host', { clinicId: HOST, guestAuthorisations: guest(day(-2), day(2), OTHER) }, 'not_this_clinic | R12:not_this_clinic'],
    ['R16 the host applies the missed-day rules too', { clinicId: HOST, guestAuthorisations: guest(day(-2), day(2)), history: missed(4) }, 'doctor_review missed_needs_order | R11:missed_needs_order'],
    ['R12 no episode comes before not this clinic', { clinicId: OTHER, episode: null }, 'doctor_review no_episode | R12:no_episode'],
    ['R12 not this clinic comes before no order', { clinicId: OTHER, orders: [] }, 'not_this_clinic | R12:not_this_clinic'],
  ])('%s', (_name, o, expected) => {
    expect(decide(o)).toBe(expected);
  });
});

describe('R1/R2 volume of the decided dose', () => {
  it.each<[string, Partial<RuleParams>, Partial<CounterFacts>, string]>([
    ['R1 at 5 mg/ml, 80 mg is 16 ml', { concentration_mg_per_ml: 5 }, {}, 'give part 1 80 mg 16 ml | R11:ordered_dose'],
    ['R1 at 1 mg/ml, 80 mg is 80 ml', { concentration_mg_per_ml: 1 }, {}, 'give part 1 80 mg 80 ml | R11:ordered_dose'],
    ['R2 83 mg at a 0.5 ml resolution: 8 ml (80 mg), never more', { measuring_resolution_ml: 0.5 }, { orders: [order({ dailyMg: 83 })] }, 'give part 1 80 mg 8 ml | R11:ordered_dose R2:rounded_down'],
    ['R2 82.5 mg at 0.1 ml: 8.2 ml (82 mg)', {}, { orders: [order({ dailyMg: 82.5 })] }, 'give part 1 82 mg 8.2 ml | R11:ordered_dose R2:rounded_down'],
    ['R2 half of 85 mg at a 0.5 ml resolution is 40 mg', { measuring_resolution_ml: 0.5 }, { orders: [order({ dailyMg: 85 })], history: missed(3), approvals: [{ day: TODAY, maxMg: 60 }] }, 'reduced part 1 40 mg 4 ml check | R11:missed_half_dose'],
    ['R2 an approval below the resolution: no dose to measure', { measuring_resolution_ml: 0.5 }, { history: missed(3), approvals: [{ day: TODAY, maxMg: 3 }] }, 'doctor_review dose_below_resolution | R2:dose_below_resolution'],
  ])('%s', (_name, params, o, expected) => {
    expect(decide(o, { ...P, ...params })).toBe(expected);
  });
});
