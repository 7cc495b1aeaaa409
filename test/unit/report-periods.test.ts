// R21: reporting periods (server/reports/periods.ts), by tables of cases.
// Months are calendar months; a Vietnamese reporting quarter runs from the
// 15th of the month before it to the 14th of its last month, the reporting
// year from 15/12 of the year before to 14/12 (Circular 05/2023).
import { describe, expect, it } from 'vitest';
import { addDays, daysBetween } from '../../server/dosing/days.ts';
import { monthPeriod, nextPeriod, parsePeriod, periodOf, previousPeriod, quarterPeriod, yearPeriod, type Period, type PeriodKind } from '../../server/reports/periods.ts';

/** The comparable part of a period: [key, from, to]. */
const span = (p: Period) => [p.key, p.from, p.to];
const KINDS: PeriodKind[] = ['month', 'quarter', 'year'];

describe('periodOf (R21)', () => {
  it.each<[string, string, [string, string, string]]>([
    // The quarters' cuts: the 14th is the last day of a quarter, the 15th the first of the next.
    ['R21 14 March ends Q1', '2026-03-14', ['2026-Q1', '2025-12-15', '2026-03-14']],
    ['R21 15 March begins Q2', '2026-03-15', ['2026-Q2', '2026-03-15', '2026-06-14']],
    ['R21 14 June ends Q2', '2026-06-14', ['2026-Q2', '2026-03-15', '2026-06-14']],
    ['R21 15 June begins Q3', '2026-06-15', ['2026-Q3', '2026-06-15', '2026-09-14']],
    ['R21 14 September ends Q3', '2026-09-14', ['2026-Q3', '2026-06-15', '2026-09-14']],
    ['R21 15 September begins Q4', '2026-09-15', ['2026-Q4', '2026-09-15', '2026-12-14']],
    ['R21 14 December ends Q4', '2026-12-14', ['2026-Q4', '2026-09-15', '2026-12-14']],
    ['R21 15 December begins Q1 of the next year', '2026-12-15', ['2027-Q1', '2026-12-15', '2027-03-14']],
    ['R21 31 December is in Q1 of the next year', '2026-12-31', ['2027-Q1', '2026-12-15', '2027-03-14']],
    ['R21 1 January is in Q1', '2027-01-01', ['2027-Q1', '2026-12-15', '2027-03-14']],
    // Inside the quarters, away from the cuts.
    ['R21 the 15th of a quarter\'s first calendar month stays in it', '2026-04-15', ['2026-Q2', '2026-03-15', '2026-06-14']],
    ['R21 14 February is in Q1', '2026-02-14', ['2026-Q1', '2025-12-15', '2026-03-14']],
    ['R21 the 14th of a middle month stays in its quarter', '2026-08-14', ['2026-Q3', '2026-06-15', '2026-09-14']],
    ['R21 30 November is in Q4', '2026-11-30', ['2026-Q4', '2026-09-15', '2026-12-14']],
    ['R21 leap 29 February is in Q1', '2028-02-29', ['2028-Q1', '2027-12-15', '2028-03-14']],
  ])('quarter: %s (%s)', (_name, d, expected) => {
    const p = periodOf('quarter', d);
    expect(span(p)).toEqual(expected);
    expect(p.kind).toBe('quarter');
    expect(p.from <= d && d <= p.to).toBe(true);
  });

  it.each<[string, string, [string, string, string]]>([
    ['R21 14 December ends the reporting year', '2026-12-14', ['2026', '2025-12-15', '2026-12-14']],
    ['R21 15 December begins the next reporting year', '2026-12-15', ['2027', '2026-12-15', '2027-12-14']],
    ['R21 31 December is in the next reporting year', '2026-12-31', ['2027', '2026-12-15', '2027-12-14']],
    ['R21 1 January is in its calendar year\'s reporting year', '2027-01-01', ['2027', '2026-12-15', '2027-12-14']],
    ['R21 14 March does not cut the year', '2026-03-14', ['2026', '2025-12-15', '2026-12-14']],
    ['R21 15 March does not cut the year', '2026-03-15', ['2026', '2025-12-15', '2026-12-14']],
    ['R21 15 June does not cut the year', '2026-06-15', ['2026', '2025-12-15', '2026-12-14']],
    ['R21 15 September does not cut the year', '2026-09-15', ['2026', '2025-12-15', '2026-12-14']],
    ['R21 leap 29 February', '2028-02-29', ['2028', '2027-12-15', '2028-12-14']],
  ])('year: %s (%s)', (_name, d, expected) => {
    const p = periodOf('year', d);
    expect(span(p)).toEqual(expected);
    expect(p.kind).toBe('year');
    expect(p.index).toBe(0);
  });

  it.each<[string, string, [string, string, string]]>([
    ['R21 months are calendar months: 14 March', '2026-03-14', ['2026-03', '2026-03-01', '2026-03-31']],
    ['R21 months are calendar months: 15 March', '2026-03-15', ['2026-03', '2026-03-01', '2026-03-31']],
    ['R21 months are calendar months: 14 June', '2026-06-14', ['2026-06', '2026-06-01', '2026-06-30']],
    ['R21 months are calendar months: 15 June', '2026-06-15', ['2026-06', '2026-06-01', '2026-06-30']],
    ['R21 months are calendar months: 14 September', '2026-09-14', ['2026-09', '2026-09-01', '2026-09-30']],
    ['R21 months are calendar months: 15 September', '2026-09-15', ['2026-09', '2026-09-01', '2026-09-30']],
    ['R21 months are calendar months: 14 December', '2026-12-14', ['2026-12', '2026-12-01', '2026-12-31']],
    ['R21 15 December stays in December (no reporting cut for months)', '2026-12-15', ['2026-12', '2026-12-01', '2026-12-31']],
    ['R21 31 December', '2026-12-31', ['2026-12', '2026-12-01', '2026-12-31']],
    ['R21 1 January', '2027-01-01', ['2027-01', '2027-01-01', '2027-01-31']],
    ['R21 leap February ends on the 29th', '2028-02-29', ['2028-02', '2028-02-01', '2028-02-29']],
    ['R21 leap February from its 1st', '2028-02-01', ['2028-02', '2028-02-01', '2028-02-29']],
    ['R21 February of a common year ends on the 28th', '2026-02-10', ['2026-02', '2026-02-01', '2026-02-28']],
    ['R21 2000 was a leap year (divisible by 400)', '2000-02-15', ['2000-02', '2000-02-01', '2000-02-29']],
    ['R21 2100 is not a leap year', '2100-02-15', ['2100-02', '2100-02-01', '2100-02-28']],
  ])('month: %s (%s)', (_name, d, expected) => {
    const p = periodOf('month', d);
    expect(span(p)).toEqual(expected);
    expect(p.index).toBe(Number(d.slice(5, 7)));
  });
});

describe('quarterPeriod, yearPeriod, monthPeriod bounds (R21)', () => {
  it.each<[number, number, string, string, number]>([
    [2026, 1, '2025-12-15', '2026-03-14', 90],
    [2026, 2, '2026-03-15', '2026-06-14', 92],
    [2026, 3, '2026-06-15', '2026-09-14', 92],
    [2026, 4, '2026-09-15', '2026-12-14', 91],
    // Q1 holds February: a day longer in a leap year.
    [2028, 1, '2027-12-15', '2028-03-14', 91],
  ])('R21 quarterPeriod(%i, %i) runs from %s to %s (%i days)', (year, q, from, to, days) => {
    const p = quarterPeriod(year, q);
    expect(p).toEqual({ kind: 'quarter', key: `${year}-Q${q}`, year, index: q, from, to });
    expect(daysBetween(p.from, p.to) + 1).toBe(days);
  });

  it.each<[number, string, string, number]>([
    [2026, '2025-12-15', '2026-12-14', 365],
    // 15/12/2027–14/12/2028 holds 29 February 2028.
    [2028, '2027-12-15', '2028-12-14', 366],
    [2000, '1999-12-15', '2000-12-14', 366],
  ])('R21 yearPeriod(%i) runs from %s to %s (%i days)', (year, from, to, days) => {
    const p = yearPeriod(year);
    expect(p).toEqual({ kind: 'year', key: String(year), year, index: 0, from, to });
    expect(daysBetween(p.from, p.to) + 1).toBe(days);
  });

  it('R21 the four quarters of a reporting year make up the year exactly', () => {
    for (const year of [2025, 2026, 2027, 2028]) {
      const qs = [1, 2, 3, 4].map((q) => quarterPeriod(year, q));
      const y = yearPeriod(year);
      expect(qs[0]!.from).toBe(y.from);
      expect(qs[3]!.to).toBe(y.to);
      for (let i = 1; i < 4; i++) expect(qs[i]!.from).toBe(addDays(qs[i - 1]!.to, 1));
    }
  });

  it('R21 monthPeriod keys are zero-padded', () => {
    expect(monthPeriod(2026, 5)).toEqual({ kind: 'month', key: '2026-05', year: 2026, index: 5, from: '2026-05-01', to: '2026-05-31' });
    expect(monthPeriod(2026, 12).key).toBe('2026-12');
  });
});

describe('previousPeriod and nextPeriod (R21)', () => {
  it.each<[PeriodKind, string, string, string]>([
    ['month', '2026-01', '2025-12', '2026-02'],
    ['month', '2026-12', '2026-11', '2027-01'],
    ['month', '2028-03', '2028-02', '2028-04'],
    ['quarter', '2026-Q1', '2025-Q4', '2026-Q2'],
    ['quarter', '2026-Q4', '2026-Q3', '2027-Q1'],
    ['quarter', '2028-Q2', '2028-Q1', '2028-Q3'],
    ['year', '2026', '2025', '2027'],
  ])('R21 %s %s: previous %s, next %s', (kind, key, prev, next) => {
    const p = parsePeriod(key)!;
    expect(p.kind).toBe(kind);
    expect(previousPeriod(p).key).toBe(prev);
    expect(nextPeriod(p).key).toBe(next);
  });

  it.each(KINDS)('R21 consecutive %s periods tile the calendar: no gap, no overlap, 2019–2031', (kind) => {
    // Forward from the period holding 1 Jan 2019 to past 2031, then back again.
    const forward: Period[] = [periodOf(kind, '2019-01-01')];
    while (forward[forward.length - 1]!.to < '2031-12-31') forward.push(nextPeriod(forward[forward.length - 1]!));
    for (let i = 1; i < forward.length; i++) {
      const [a, b] = [forward[i - 1]!, forward[i]!];
      expect(b.from, `${a.key} → ${b.key}`).toBe(addDays(a.to, 1));
      expect(b.kind).toBe(kind);
      expect(b.key > a.key, `${a.key} < ${b.key}`).toBe(true);
      expect(span(previousPeriod(b))).toEqual(span(a));
    }
    const backward: Period[] = [forward[forward.length - 1]!];
    while (backward.length < forward.length) backward.push(previousPeriod(backward[backward.length - 1]!));
    expect(backward.reverse().map(span)).toEqual(forward.map(span));
    const expectedCount = { month: 13 * 12, quarter: 13 * 4 + 1, year: 14 }[kind];
    expect(forward.length).toBe(expectedCount);
  });

  it.each(KINDS)('R21 every day from 2019 to 2031 lies in exactly the %s period periodOf gives it', (kind) => {
    let day = '2019-01-01';
    let current = periodOf(kind, day);
    let seen = 0;
    while (day <= '2031-12-31') {
      const p = periodOf(kind, day);
      expect(p.from <= day && day <= p.to, `${day} in ${p.key} [${p.from}, ${p.to}]`).toBe(true);
      if (p.key !== current.key) {
        // A new period begins the day after the last one ended.
        expect(p.from, `${day}: ${current.key} → ${p.key}`).toBe(day);
        expect(addDays(current.to, 1)).toBe(day);
        current = p;
      }
      day = addDays(day, 1);
      seen++;
    }
    expect(seen).toBe(daysBetween('2019-01-01', '2031-12-31') + 1);
  });

  it('R21 a month, quarter and year each hold their own first and last days', () => {
    for (const kind of KINDS) {
      let p = periodOf(kind, '2024-06-01');
      for (let i = 0; i < 30; i++) {
        expect(span(periodOf(kind, p.from))).toEqual(span(p));
        expect(span(periodOf(kind, p.to))).toEqual(span(p));
        p = nextPeriod(p);
      }
    }
  });
});

describe('parsePeriod (R21)', () => {
  it.each<[string, PeriodKind, string, string]>([
    ['2026-05', 'month', '2026-05-01', '2026-05-31'],
    ['2026-01', 'month', '2026-01-01', '2026-01-31'],
    ['2026-12', 'month', '2026-12-01', '2026-12-31'],
    ['2028-02', 'month', '2028-02-01', '2028-02-29'],
    ['2026-Q1', 'quarter', '2025-12-15', '2026-03-14'],
    ['2026-Q4', 'quarter', '2026-09-15', '2026-12-14'],
    ['2026', 'year', '2025-12-15', '2026-12-14'],
    ['2000', 'year', '1999-12-15', '2000-12-14'],
  ])('R21 accepts %s', (key, kind, from, to) => {
    const p = parsePeriod(key);
    expect(p).not.toBeNull();
    expect(p!.kind).toBe(kind);
    expect(span(p!)).toEqual([key, from, to]);
  });

  it('R21 accepts every key periodOf makes, and gives the same period back', () => {
    for (const kind of KINDS) {
      let p = periodOf(kind, '2020-01-01');
      for (let i = 0; i < 40; i++) {
        expect(parsePeriod(p.key)).toEqual(p);
        p = nextPeriod(p);
      }
    }
  });

  it.each([
    '2026-13',
    '2026-00',
    '2026-Q5',
    '2026-Q0',
    '2026-q2',
    '2026-Q',
    '2026Q2',
    '',
    '26-01',
    '1999',
    '1999-12',
    '1999-Q4',
    '2026-5',
    '2026-005',
    '02026',
    '2026-05-01',
    ' 2026',
    '2026 ',
    '2026-05\n',
    'abcd',
    '2026-ab',
    '-2026',
    '2026-',
    '2026-1Q',
    '2026-H1',
    '２０２６',
  ])('R21 rejects %j', (junk) => {
    expect(parsePeriod(junk)).toBeNull();
  });
});
