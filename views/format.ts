// Dates dd/mm/yyyy, times 24-hour, in the clinic's time zone; numbers with the
// locale's decimal separator (12,5 in Vietnamese, 12.5 in English).
import type { Locale } from '../db/schema.ts';

const cache = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${timeZone}|${withTime}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      day: '2-digit',
      month: '2-digit',
      year: 'numeric',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' as const } : {}),
    });
    cache.set(key, f);
  }
  return f;
}

export const formatDateTime = (at: Date, timeZone: string): string => formatter(timeZone, true).format(at).replace(',', '');
export const formatTime = (at: Date, timeZone: string): string => formatDateTime(at, timeZone).slice(11);

/** A YYYY-MM-DD service day as dd/mm/yyyy. */
export function formatDay(day: string): string {
  const [y, m, d] = day.split('-');
  return `${d}/${m}/${y}`;
}

const numberFormats = new Map<string, Intl.NumberFormat>();
export function formatNumber(n: number, locale: Locale, fractionDigits = 1): string {
  const key = `${locale}|${fractionDigits}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: fractionDigits });
    numberFormats.set(key, f);
  }
  return f.format(n);
}
