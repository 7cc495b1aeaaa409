// Order rules of clinical-rules.md by tables of cases; each names its rule id.
import { describe, expect, it } from 'vitest';
import { addDays, daysBetween, isDay } from '../../server/dosing/days.ts';
import { checkGuestAuthorisation, checkOrder, checkRepresentativeSupply, orderInForce, resolve, takeHomeEligibility, type OrderDraft, type PriorOrder, type TakeHomeFacts } from '../../server/dosing/orders.ts';
import { DEFAULT_PARAMS, inconsistencies, type RuleParams } from '../../server/dosing/parameters.ts';
import { mgIn, volumeFor } from '../../server/dosing/volume.ts';

const P = DEFAULT_PARAMS;
const TODAY = '2026-11-23';
const draft = (o: Partial<OrderDraft> = {}): OrderDraft => ({ phase: 'induction', startDate: TODAY, endDate: TODAY, dailyMg: 20, splitMg: null, takeHomeDays: 0, ...o });
const prior = (phase: PriorOrder['phase'], startDate: string, endDate: string, dailyMg: number): PriorOrder => ({ phase, startDate, endDate, dailyMg });
const codes = (d: OrderDraft, priorOrders: PriorOrder[] = [], params: RuleParams = P, takeHome = null as Parameters<typeof checkOrder>[1]['takeHome']) =>
  checkOrder(d, { today: TODAY, prior: priorOrders, takeHome }, params).map((f) => `${f.rule}:${f.code}:${f.severity}`);

describe('R1/R2 volume: ml = mg ÷ concentration, rounded down to the resolution', () => {
  it.each([
    // mg, concentration, resolution → ml, mg given
    [80, 10, 0.1, 8, 80],
    [85, 10, 0.1, 8.5, 85],
    [85.5, 10, 0.1, 8.5, 85], // never more than ordered
    [33, 10, 0.1, 3.3, 33],
    [0.7, 10, 0.1, 0, 0],
    [80, 1, 0.1, 80, 80], // a 1 mg/ml mix: ten times the volume
    [80, 5, 0.5, 16, 80],
    [81, 5, 0.5, 16, 80],
    [100, 10, 1, 10, 100],
    [105, 10, 1, 10, 100],
  ])('R1/R2 %s mg at %s mg/ml, resolution %s ml → %s ml (%s mg)', (mg, conc, res, ml, given) => {
    expect(volumeFor(mg, conc, res)).toEqual({ ml, mg: given });
  });
  it('R1 mg in a measured volume', () => expect(mgIn(8.5, 10)).toBe(85));
  it('R2 given mg never exceeds ordered mg for any mg 0–300 in 0.1 steps', () => {
    for (let tenth = 0; tenth <= 3000; tenth++) {
      const mg = tenth / 10;
      for (const [c, r] of [[10, 0.1], [5, 0.1], [1, 0.1], [10, 0.5]] as const) expect(volumeFor(mg, c, r).mg).toBeLessThanOrEqual(mg + 1e-9);
    }
  });
});

describe('order rules', () => {
  it.each<[string, OrderDraft, PriorOrder[], string[]]>([
    ['R5 first dose within the usual range', draft({ dailyMg: 20 }), [], []],
    ['R5 first dose above 20 mg warns', draft({ dailyMg: 25 }), [], ['R5:first_dose_above_warn:warn']],
    ['R5 first dose above 30 mg needs a written reason', draft({ dailyMg: 35 }), [], ['R5:first_dose_above_max:reason']],
    ['R5 a re-induction after maintenance is a first dose again', draft({ dailyMg: 40 }), [prior('maintenance', addDays(TODAY, -40), addDays(TODAY, -8), 80)], ['R3:phase_change:reason', 'R5:first_dose_above_max:reason']],
    ['R5 the second day of an induction is not', draft({ dailyMg: 30 }), [prior('induction', addDays(TODAY, -1), addDays(TODAY, -1), 25)], []],
    ['R5 a dose of 0 mg is refused', draft({ dailyMg: 0 }), [], ['R5:dose_out_of_range:refuse']],
    ['R5 a dose of 10,000 mg is refused', draft({ dailyMg: 10_000 }), [], ['R5:dose_out_of_range:refuse', 'R5:first_dose_above_max:reason', 'R7:high_dose:second_doctor']],
    ['R4 induction orders are daily', draft({ endDate: addDays(TODAY, 1) }), [], ['R4:induction_length:refuse']],
    ['R4 titration orders last 3–5 days (2 is too short)', draft({ phase: 'titration', endDate: addDays(TODAY, 1), dailyMg: 30 }), [prior('titration', addDays(TODAY, -3), addDays(TODAY, -1), 30)], ['R4:titration_length:refuse']],
    ['R4 titration of 4 days is fine', draft({ phase: 'titration', endDate: addDays(TODAY, 3), dailyMg: 30 }), [prior('titration', addDays(TODAY, -3), addDays(TODAY, -1), 30)], []],
    ['R4 maintenance of 30 days is fine', draft({ phase: 'maintenance', endDate: addDays(TODAY, 29), dailyMg: 80 }), [prior('maintenance', '2026-10-24', '2026-11-22', 80)], []],
    ['R4 maintenance of 31 days is refused', draft({ phase: 'maintenance', endDate: addDays(TODAY, 30), dailyMg: 80 }), [prior('maintenance', '2026-10-24', '2026-11-22', 80)], ['R4:order_too_long:refuse']],
    ['R4 end before start is refused', draft({ phase: 'maintenance', endDate: addDays(TODAY, -1), dailyMg: 80 }), [prior('maintenance', '2026-10-24', '2026-11-22', 80)], ['R4:order_end_before_start:refuse']],
    ['R4 an order never starts in the past', draft({ phase: 'maintenance', startDate: addDays(TODAY, -1), endDate: addDays(TODAY, 5), dailyMg: 80 }), [prior('maintenance', '2026-10-24', '2026-11-21', 80)], ['R4:order_start_in_past:refuse']],
    ['R3 a phase change needs a reason', draft({ phase: 'maintenance', endDate: addDays(TODAY, 29), dailyMg: 60 }), [prior('titration', addDays(TODAY, -5), addDays(TODAY, -1), 60)], ['R3:phase_change:reason']],
    ['R6 +10 mg in titration is allowed', draft({ phase: 'titration', endDate: addDays(TODAY, 3), dailyMg: 50 }), [prior('titration', addDays(TODAY, -10), addDays(TODAY, -1), 40)], []],
    ['R6 +15 mg at once needs a reason', draft({ phase: 'titration', endDate: addDays(TODAY, 3), dailyMg: 55 }), [prior('titration', addDays(TODAY, -10), addDays(TODAY, -1), 40)], ['R6:increase_step_above_max:reason']],
    [
      'R6 +40 mg within 7 days needs a reason even in steps of 10',
      draft({ phase: 'titration', endDate: addDays(TODAY, 3), dailyMg: 70 }),
      [prior('titration', addDays(TODAY, -9), addDays(TODAY, -7), 30), prior('titration', addDays(TODAY, -6), addDays(TODAY, -5), 40), prior('titration', addDays(TODAY, -4), addDays(TODAY, -3), 50), prior('titration', addDays(TODAY, -2), addDays(TODAY, -1), 60)],
      ['R6:increase_week_above_max:reason'],
    ],
    ['R6 increases are not limited in maintenance', draft({ phase: 'maintenance', endDate: addDays(TODAY, 10), dailyMg: 100 }), [prior('maintenance', addDays(TODAY, -10), addDays(TODAY, -1), 80)], []],
    ['R7 above 120 mg needs a second doctor', draft({ phase: 'maintenance', endDate: addDays(TODAY, 10), dailyMg: 130 }), [prior('maintenance', addDays(TODAY, -10), addDays(TODAY, -1), 120)], ['R7:high_dose:second_doctor']],
    ['R7 exactly 120 mg does not', draft({ phase: 'maintenance', endDate: addDays(TODAY, 10), dailyMg: 120 }), [prior('maintenance', addDays(TODAY, -10), addDays(TODAY, -1), 120)], []],
    ['R8 split parts must add up to the day’s total', draft({ phase: 'maintenance', endDate: addDays(TODAY, 10), dailyMg: 100, splitMg: [60, 30] }), [prior('maintenance', addDays(TODAY, -10), addDays(TODAY, -1), 100)], ['R8:split_sum_mismatch:refuse']],
    ['R8 a split of 60 + 40 for 100 mg is fine', draft({ phase: 'maintenance', endDate: addDays(TODAY, 10), dailyMg: 100, splitMg: [60, 40] }), [prior('maintenance', addDays(TODAY, -10), addDays(TODAY, -1), 100)], []],
    ['R8 parts must be positive', draft({ phase: 'maintenance', endDate: addDays(TODAY, 10), dailyMg: 100, splitMg: [100, 0] }), [prior('maintenance', addDays(TODAY, -10), addDays(TODAY, -1), 100)], ['R8:split_parts_invalid:refuse']],
    ['R14 take-home is off by default', draft({ phase: 'maintenance', endDate: addDays(TODAY, 10), dailyMg: 80, takeHomeDays: 2 }), [prior('maintenance', addDays(TODAY, -10), addDays(TODAY, -1), 80)], ['R14:take_home_disabled:refuse']],
  ])('%s', (_name, d, priorOrders, expected) => {
    expect(codes(d, priorOrders)).toEqual(expected);
  });

  const withTakeHome = { ...P, take_home_enabled: 1 };
  const eligible: TakeHomeFacts = { daysInTreatment: 200, attendancePercent: 97, daysSincePositiveTest: null, checklistComplete: true };
  it.each<[string, Partial<OrderDraft>, typeof eligible, string[]]>([
    ['R14 eligible patient, 3 days', { takeHomeDays: 3 }, eligible, []],
    ['R14 more than the maximum of consecutive days', { takeHomeDays: 5 }, eligible, ['R14:take_home_too_many_days:refuse']],
    ['R14 too new in treatment', { takeHomeDays: 2 }, { ...eligible, daysInTreatment: 30 }, ['R14:take_home_not_eligible:refuse']],
    ['R14 recent positive test', { takeHomeDays: 2 }, { ...eligible, daysSincePositiveTest: 10 }, ['R14:take_home_not_eligible:refuse']],
    ['R14 not with a split dose', { takeHomeDays: 2, splitMg: [40, 40] }, eligible, ['R14:take_home_split:refuse']],
  ])('%s', (_name, o, facts, expected) => {
    const d = draft({ phase: 'maintenance', endDate: addDays(TODAY, 10), dailyMg: 80, ...o });
    expect(codes(d, [prior('maintenance', addDays(TODAY, -10), addDays(TODAY, -1), 80)], withTakeHome, facts)).toEqual(expected);
  });

  it.each([
    [{ daysInTreatment: 89, attendancePercent: 100, daysSincePositiveTest: null, checklistComplete: true }, ['time_in_treatment']],
    [{ daysInTreatment: 90, attendancePercent: 89, daysSincePositiveTest: 200, checklistComplete: true }, ['attendance']],
    [{ daysInTreatment: 400, attendancePercent: 95, daysSincePositiveTest: 89, checklistComplete: false }, ['positive_test', 'checklist']],
    [{ daysInTreatment: 400, attendancePercent: 95, daysSincePositiveTest: 90, checklistComplete: true }, []],
  ])('R14 eligibility %j → %j', (facts, problems) => {
    expect(takeHomeEligibility(facts, P)).toEqual(problems);
  });

  it.each([
    [{ reason: null, secondDoctor: false }, ['R5:first_dose_above_max']],
    [{ reason: 'ngắn', secondDoctor: false }, ['R5:first_dose_above_max']],
    [{ reason: 'Đã dùng 40 mg tại cơ sở khác, có xác nhận', secondDoctor: false }, []],
  ])('R5 an override needs a written reason: %j', (given, unresolved) => {
    const findings = checkOrder(draft({ dailyMg: 40 }), { today: TODAY, prior: [], takeHome: null }, P);
    const r = resolve(findings, given);
    expect(r.ok ? [] : r.unresolved.map((f) => `${f.rule}:${f.code}`)).toEqual(unresolved);
  });

  it('R7 a reason is not enough for a high dose: a second doctor must confirm', () => {
    const findings = checkOrder(draft({ phase: 'maintenance', endDate: addDays(TODAY, 5), dailyMg: 150 }), { today: TODAY, prior: [prior('maintenance', addDays(TODAY, -5), addDays(TODAY, -1), 120)], takeHome: null }, P);
    expect(resolve(findings, { reason: 'a long enough reason', secondDoctor: false }).ok).toBe(false);
    expect(resolve(findings, { reason: null, secondDoctor: true }).ok).toBe(true);
  });

  it('R4 the order in force on a day is the latest-starting order covering it', () => {
    const orders = [prior('maintenance', '2026-11-01', '2026-11-30', 80), prior('maintenance', '2026-11-15', '2026-11-30', 90)];
    expect(orderInForce(orders, '2026-11-10')?.dailyMg).toBe(80);
    expect(orderInForce(orders, '2026-11-15')?.dailyMg).toBe(90);
    expect(orderInForce(orders, '2026-12-01')).toBeNull();
  });
});

describe('R16 guest dosing and R15 supply to a representative', () => {
  const g = { homeClinicId: 'a', hostClinicId: 'b', fromDate: TODAY, toDate: addDays(TODAY, 6), episodeActive: true };
  it.each<[string, Partial<typeof g>, string[]]>([
    ['R16 a week at another clinic', {}, []],
    ['R16 not at the home clinic itself', { hostClinicId: 'a' }, ['guest_same_clinic']],
    ['R16 range reversed', { toDate: addDays(TODAY, -1) }, ['guest_range_invalid', 'guest_in_past']],
    ['R16 longer than the maximum', { toDate: addDays(TODAY, 30) }, ['guest_too_long']],
    ['R16 only in an active episode', { episodeActive: false }, ['guest_no_episode']],
  ])('%s', (_n, o, expected) => {
    expect(checkGuestAuthorisation({ ...g, ...o }, TODAY, P).map((f) => f.code)).toEqual(expected);
  });

  const s = { requestReference: 'BV Việt Tiệp 123/GGT', representativeName: 'Trần Thị B', representativeIdNumber: '031234567890', undertakingSigned: true, bottles: 3, days: 3 };
  it.each<[string, Partial<typeof s>, string[]]>([
    ['R15 a complete supply', {}, []],
    ['R15 the hospital’s request form is required', { requestReference: ' ' }, ['supply_missing_request']],
    ['R15 the representative’s identity is required', { representativeIdNumber: '' }, ['supply_missing_representative']],
    ['R15 the signed undertaking is required', { undertakingSigned: false }, ['supply_no_undertaking']],
    ['R15 one sealed bottle per day', { bottles: 2 }, ['supply_bottles']],
    ['R15 no more days than the take-home maximum', { bottles: 6, days: 6 }, ['supply_too_many_days']],
  ])('%s', (_n, o, expected) => {
    expect(checkRepresentativeSupply({ ...s, ...o }, P).map((f) => f.code)).toEqual(expected);
  });
});

describe('rule set parameters and days', () => {
  it('the shipped defaults are consistent', () => expect(inconsistencies(P)).toEqual([]));
  it('R11 thresholds out of order are caught', () => expect(inconsistencies({ ...P, missed_half_dose_days: 5 })).toContain('missed_half_dose_days'));
  it.each([
    ['2026-11-23', 8, '2026-12-01'],
    ['2028-02-28', 1, '2028-02-29'],
    ['2026-01-01', -1, '2025-12-31'],
  ])('%s + %s days = %s', (a, n, b) => {
    expect(addDays(a, n)).toBe(b);
    expect(daysBetween(a, b)).toBe(n);
  });
  it.each([['2026-02-30', false], ['2026-13-01', false], ['26-11-23', false], ['2026-11-23', true]])('%s is a day: %s', (s, ok) => expect(isDay(s)).toBe(ok));
});
