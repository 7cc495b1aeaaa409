import { describe, expect, it } from 'vitest';
import { fold } from '../../db/fold.ts';
import { serviceDay } from '../../server/clock.ts';
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
