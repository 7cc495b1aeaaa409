// Calendar arithmetic on service days (YYYY-MM-DD strings, no time zone: the
// zone was applied when the day was computed). Pure.

const MS_PER_DAY = 86_400_000;

const toUtc = (day: string): number => {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d);
};

export function isDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = toUtc(s);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
}

export function addDays(day: string, n: number): string {
  return new Date(toUtc(day) + n * MS_PER_DAY).toISOString().slice(0, 10);
}

/** b − a in days (positive when b is later). */
export function daysBetween(a: string, b: string): number {
  return Math.round((toUtc(b) - toUtc(a)) / MS_PER_DAY);
}

/** Inclusive length of a range of days. */
export const rangeLength = (from: string, to: string): number => daysBetween(from, to) + 1;
