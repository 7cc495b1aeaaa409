// Calendar arithmetic on service days (YYYY-MM-DD strings, no time zone: the
// zone was applied when the day was computed). Pure.

const MS_PER_DAY = 86_400_000;

// Fixed offsets of YYYY-MM-DD: slicing is a third of the cost of split and
// map, and these run thousands of times a request (the missed list, a day close).
const toUtc = (day: string): number => Date.UTC(+day.slice(0, 4), +day.slice(5, 7) - 1, +day.slice(8, 10));

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

export function isDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = toUtc(s);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
}

export function addDays(day: string, n: number): string {
  const d = new Date(toUtc(day) + n * MS_PER_DAY);
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** b − a in days (positive when b is later). */
export function daysBetween(a: string, b: string): number {
  return Math.round((toUtc(b) - toUtc(a)) / MS_PER_DAY);
}

/** Inclusive length of a range of days. */
export const rangeLength = (from: string, to: string): number => daysBetween(from, to) + 1;
