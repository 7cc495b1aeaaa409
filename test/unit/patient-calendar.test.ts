// The patient page's 90-day calendar: what each day shows, from the episode,
// the orders and the standing dose records (R11: refused, withheld and
// spilled do not cover a day; a void cancels what it voids).
import { describe, expect, it } from 'vitest';
import { calendarStates, dayStates } from '../../server/services/patient-record.ts';

const rec = (serviceDay: string, outcome: string, o: { voidsId?: string; voided?: boolean } = {}) => ({ serviceDay, outcome, voidsId: o.voidsId ?? null, voided: o.voided ?? false });

describe('a day from its dose records', () => {
  it.each<[string, ReturnType<typeof rec>[], string | undefined]>([
    ['R11 given → dosed', [rec('2026-11-10', 'given')], 'dosed'],
    ['R11 vomited was swallowed → dosed', [rec('2026-11-10', 'vomited')], 'dosed'],
    ['R15 supplied to a representative → dosed', [rec('2026-11-10', 'supplied')], 'dosed'],
    ['R14 take-home → take_home', [rec('2026-11-10', 'take_home')], 'take_home'],
    ['R10 withheld alone → withheld', [rec('2026-11-10', 'withheld')], 'withheld'],
    ['R10 withheld, then given after the doctor ruled → dosed', [rec('2026-11-10', 'withheld'), rec('2026-11-10', 'given')], 'dosed'],
    ['R11 refused alone → no state (missed)', [rec('2026-11-10', 'refused')], undefined],
    ['R11 spilled alone → no state (missed)', [rec('2026-11-10', 'spilled')], undefined],
    ['a voided dose does not count', [rec('2026-11-10', 'given', { voided: true }), rec('2026-11-10', 'given', { voidsId: 'x' })], undefined],
    ['a voided dose and the right one recorded after it → dosed', [rec('2026-11-10', 'given', { voided: true }), rec('2026-11-10', 'given', { voidsId: 'x' }), rec('2026-11-10', 'given')], 'dosed'],
  ])('%s', (_name, records, expected) => expect(dayStates(records).get('2026-11-10')).toBe(expected));
});

describe('the calendar', () => {
  const episodes = [{ startDate: '2026-11-05', endDate: null }];
  const orders = [{ startDate: '2026-11-06', endDate: '2026-11-30' }];
  const states = calendarStates('2026-11-10', 7, episodes, orders, dayStates([rec('2026-11-08', 'given'), rec('2026-11-09', 'withheld')]));
  it.each<[string, string]>([
    ['2026-11-04', 'not_in_treatment'],
    ['2026-11-05', 'no_order'],
    ['2026-11-06', 'missed'],
    ['2026-11-08', 'dosed'],
    ['2026-11-09', 'withheld'],
    ['2026-11-10', 'due'],
  ])('%s is %s', (day, state) => expect(states.find((s) => s.day === day)?.state).toBe(state));
});
