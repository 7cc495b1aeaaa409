// R19: grounds to review termination, by tables of facts (pure).
import { describe, expect, it } from 'vitest';
import { terminationGrounds, type ReviewFacts } from '../../server/dosing/follow-up.ts';
import { DEFAULT_PARAMS } from '../../server/dosing/parameters.ts';

const DAY = '2026-11-23';
const base: ReviewFacts = { episodeStart: '2025-06-01', maintenanceSince: '2026-01-10', violations: [], tests: [] };
const opi = (testDate: string, r: 'positive' | 'negative') => ({ testDate, results: { opiates: r, methadone: 'positive' as const } });

describe('terminationGrounds (R19)', () => {
  it.each<[string, Partial<ReviewFacts>, string[], string | null]>([
    ['R19 nothing: no violation, no test', {}, [], null],
    ['R19 one violation in 6 months is not enough', { violations: ['2026-10-01'] }, [], null],
    ['R19 two violations within 182 days', { violations: ['2026-06-01', '2026-11-20'] }, ['violations'], '2026-11-20'],
    ['R19 two violations, one older than the window', { violations: ['2026-05-24', '2026-11-20'] }, [], null],
    ['R19 a violation before the episode does not count', { episodeStart: '2026-10-01', violations: ['2026-09-20', '2026-11-01'] }, [], null],
    ['R19 a violation after the day closed does not count yet', { violations: ['2026-11-01', '2026-11-24'] }, [], null],
    ['R19 two consecutive positive opioid tests after maintenance', { tests: [opi('2026-03-01', 'positive'), opi('2026-04-01', 'positive')] }, ['opioid_positive'], '2026-04-01'],
    ['R19 positives interrupted by a negative are not consecutive', { tests: [opi('2026-03-01', 'positive'), opi('2026-04-01', 'negative'), opi('2026-05-01', 'positive')] }, [], null],
    ['R19 positives before maintenance do not count', { tests: [opi('2025-12-01', 'positive'), opi('2026-01-05', 'positive')] }, [], null],
    ['R19 positives more than 12 months after maintenance do not count', { maintenanceSince: '2025-06-10', tests: [opi('2026-07-01', 'positive'), opi('2026-08-01', 'positive')] }, [], null],
    ['R19 no maintenance yet: opioid positives are not a ground', { maintenanceSince: null, tests: [opi('2026-03-01', 'positive'), opi('2026-04-01', 'positive')] }, [], null],
    ['R19 a test without opiates does not break a run', { tests: [opi('2026-03-01', 'positive'), { testDate: '2026-03-15', results: { cannabis: 'negative' } }, opi('2026-04-01', 'positive')] }, ['opioid_positive'], '2026-04-01'],
    ['R19 a positive test for another drug', { tests: [{ testDate: '2026-09-09', results: { methamphetamine: 'positive' } }] }, ['other_drug'], '2026-09-09'],
    ['R19 methadone positive is expected, not a ground', { tests: [{ testDate: '2026-09-09', results: { methadone: 'positive', opiates: 'negative' } }] }, [], null],
    ['R19 another drug before the episode began is not a ground', { episodeStart: '2026-10-01', tests: [{ testDate: '2026-09-09', results: { cannabis: 'positive' } }] }, [], null],
    [
      'R19 several grounds: the evidence day is the latest',
      { violations: ['2026-07-01', '2026-08-01'], tests: [opi('2026-03-01', 'positive'), opi('2026-04-01', 'positive'), { testDate: '2026-10-10', results: { cannabis: 'positive' } }] },
      ['violations', 'opioid_positive', 'other_drug'],
      '2026-10-10',
    ],
  ])('%s', (_name, facts, grounds, evidenceDay) => {
    const r = terminationGrounds({ ...base, ...facts }, DAY, DEFAULT_PARAMS);
    expect(r.grounds).toEqual(grounds);
    expect(r.evidenceDay).toBe(evidenceDay);
  });

  it('R19 counts follow the rule set: three violations asked for', () => {
    const facts = { ...base, violations: ['2026-10-01', '2026-11-01'] };
    expect(terminationGrounds(facts, DAY, { ...DEFAULT_PARAMS, review_violations: 3 }).grounds).toEqual([]);
    expect(terminationGrounds({ ...facts, violations: [...facts.violations, '2026-11-20'] }, DAY, { ...DEFAULT_PARAMS, review_violations: 3 }).grounds).toEqual(['violations']);
  });
});
