// Reporting periods (R21). Months are calendar months. The Vietnamese
// reporting quarters and year (Circular 05/2023) do not follow the calendar:
// a quarter runs from the 15th of the month before it to the 14th of its
// last month, the year from 15 December of the year before to 14 December.
// Pure: days are YYYY-MM-DD strings in the clinic's zone.
import { addDays } from '../dosing/days.ts';

export type PeriodKind = 'month' | 'quarter' | 'year';

export interface Period {
  kind: PeriodKind;
  /** "2026-05", "2026-Q2", "2026". */
  key: string;
  year: number;
  /** Month 1–12 or quarter 1–4; 0 for a year. */
  index: number;
  /** Inclusive. */
  from: string;
  to: string;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const day = (y: number, m: number, d: number) => `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
const lastOfMonth = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

export function monthPeriod(year: number, month: number): Period {
  return { kind: 'month', key: `${pad(year, 4)}-${pad(month)}`, year, index: month, from: day(year, month, 1), to: day(year, month, lastOfMonth(year, month)) };
}

/** Quarter q of reporting year `year`: Q1 is 15/12 of year−1 to 14/03. */
export function quarterPeriod(year: number, q: number): Period {
  const endMonth = q * 3;
  const startMonth = endMonth - 3; // 0 = December of the year before
  const from = startMonth === 0 ? day(year - 1, 12, 15) : day(year, startMonth, 15);
  return { kind: 'quarter', key: `${pad(year, 4)}-Q${q}`, year, index: q, from, to: day(year, endMonth, 14) };
}

export function yearPeriod(year: number): Period {
  return { kind: 'year', key: pad(year, 4), year, index: 0, from: day(year - 1, 12, 15), to: day(year, 12, 14) };
}

/** The period of `kind` that holds `d`. */
export function periodOf(kind: PeriodKind, d: string): Period {
  const [y, m, dd] = d.split('-').map(Number) as [number, number, number];
  if (kind === 'month') return monthPeriod(y, m);
  // From the 15th of December on, a day belongs to the next reporting year.
  const afterCut = dd >= 15;
  const reportYear = m === 12 && afterCut ? y + 1 : y;
  if (kind === 'year') return yearPeriod(reportYear);
  if (m === 12 && afterCut) return quarterPeriod(reportYear, 1);
  // Months 1..12 with the 15th as the cut: the quarter whose last month is the first ≥ this one (or the next after the cut).
  const q = Math.ceil((afterCut && m % 3 === 0 ? m + 1 : m) / 3);
  return quarterPeriod(y, q);
}

/** The period before `p` (same kind). */
export function previousPeriod(p: Period): Period {
  return periodOf(p.kind, addDays(p.from, -1));
}

export function nextPeriod(p: Period): Period {
  return periodOf(p.kind, addDays(p.to, 1));
}

/** Parses a key made by this module ("2026-05", "2026-Q2", "2026"); null when it is not one. */
export function parsePeriod(key: string): Period | null {
  let m = /^(\d{4})-(\d{2})$/.exec(key);
  if (m) {
    const month = Number(m[2]);
    return month >= 1 && month <= 12 && Number(m[1]) >= 2000 ? monthPeriod(Number(m[1]), month) : null;
  }
  m = /^(\d{4})-Q([1-4])$/.exec(key);
  if (m) return Number(m[1]) >= 2000 ? quarterPeriod(Number(m[1]), Number(m[2])) : null;
  m = /^(\d{4})$/.exec(key);
  if (m) return Number(m[1]) >= 2000 ? yearPeriod(Number(m[1])) : null;
  return null;
}

/** Cohorts are months or reporting quarters; a cohort's key is its period's key. */
export type CohortGrouping = 'month' | 'quarter';
