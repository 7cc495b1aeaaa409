import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold } from '../../db/fold.ts';
import { serviceDay } from '../../server/clock.ts';
import { addDays, daysBetween, isDay, rangeLength } from '../../server/dosing/days.ts';
import { formatDateTime, formatDay, formatNumber } from '../../views/format.ts';

describe('service day: the local date at the clinic, never the server’s or UTC', () => {
  it.each([
    ['2026-11-23T16:59:59Z', 'Asia/Ho_Chi_Minh', '2026-11-23'], // 23:59:59 in Hà Nội
    ['2026-11-23T17:00:00Z', 'Asia/Ho_Chi_Minh', '2026-11-24'], // midnight in Hà Nội, still the 23rd in UTC
    ['2026-11-23T00:30:00Z', 'Asia/Ho_Chi_Minh', '2026-11-23'],
    ['2026-12-31T17:00:00Z', 'Asia/Ho_Chi_Minh', '2027-01-01'],
    ['2026-11-23T17:00:00Z', 'UTC', '2026-11-23'],
    ['2026-11-23T17:00:00Z', 'Asia/Bangkok', '2026-11-24'],
  ])('%s in %s is %s', (at, tz, day) => {
    expect(serviceDay(new Date(at), tz)).toBe(day);
  });
});

describe('folding Vietnamese for search', () => {
  it.each([
    ['Nguyễn Văn An', 'nguyen van an'],
    ['ĐẶNG THỊ ĐÀO', 'dang thi dao'],
    ['  Phường   Lê Chân ', 'phuong le chan'],
    ['Thủy Nguyên', 'thuy nguyen'],
    ['Nguye\u0302\u0303n', 'nguyen'], // decomposed input
    ['阮文安', '阮文安'],
  ])('%s → %s', (input, expected) => {
    expect(fold(input)).toBe(expected);
  });
});

describe('display formats', () => {
  it.each([
    ['2026-11-23', '23/11/2026'],
    ['2027-01-05', '05/01/2027'],
  ])('day %s shows as %s', (day, shown) => expect(formatDay(day)).toBe(shown));

  it('times are 24-hour in the clinic’s zone', () => {
    expect(formatDateTime(new Date('2026-11-23T13:05:00Z'), 'Asia/Ho_Chi_Minh')).toBe('23/11/2026 20:05');
  });

  it.each([
    [12.5, 'vi', '12,5'],
    [12.5, 'en', '12.5'],
    [1000, 'vi', '1.000'],
  ] as const)('%s in %s is %s', (n, locale, shown) => expect(formatNumber(n, locale)).toBe(shown));
});

describe('calendar arithmetic on service days (server/dosing/days.ts)', () => {
  it.each([
    ['2026-11-29', 1, '2026-11-30'],
    ['2026-11-30', 1, '2026-12-01'],
    ['2026-12-31', 1, '2027-01-01'],
    ['2027-01-01', -1, '2026-12-31'],
    ['2024-02-28', 1, '2024-02-29'], // a leap year
    ['2026-02-28', 1, '2026-03-01'],
    ['2000-02-28', 1, '2000-02-29'], // divisible by 400: leap
    ['2100-02-28', 1, '2100-03-01'], // divisible by 100: not
    ['2026-03-01', -1, '2026-02-28'],
    ['2026-11-29', 0, '2026-11-29'],
    ['2026-11-29', -730, '2024-11-29'],
    ['0999-12-31', 1, '1000-01-01'], // four digits, padded
  ])('%s %+d days is %s', (day, n, expected) => {
    expect(addDays(day, n)).toBe(expected);
    expect(daysBetween(day, expected)).toBe(n);
    expect(isDay(expected)).toBe(true);
  });

  it.each(['2026-02-29', '2026-13-01', '2026-00-10', '2026-11-31', '2026-1-01', '26-11-29', '2026-11-29T00:00', ''])('%j is not a day', (s) => {
    expect(isDay(s)).toBe(false);
  });

  it('agrees with the Date object’s own calendar on any day from 1900 to 2200 and any step of two years', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }), fc.integer({ min: -730, max: 730 }), (ms, n) => {
        const day = new Date(ms).toISOString().slice(0, 10);
        const expected = new Date(Date.parse(day) + n * 86_400_000).toISOString().slice(0, 10);
        expect(addDays(day, n)).toBe(expected);
        expect(daysBetween(day, expected)).toBe(n);
        expect(rangeLength(day, expected)).toBe(n + 1);
      }),
    );
  });
});
