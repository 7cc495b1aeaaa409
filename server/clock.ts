// One injectable clock for every service, so tests can stand at 23:59 in Hà Nội
// or on the day a patient's 30th missed day falls.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that stays where a test puts it. */
export class FixedClock implements Clock {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  set(at: Date | string): void {
    this.current = new Date(at);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The service day of an instant at a clinic: the local calendar date in the
 * clinic's time zone (never the server's date, never UTC), as YYYY-MM-DD.
 */
export function serviceDay(at: Date, timeZone: string): string {
  let f = dayFormatters.get(timeZone);
  if (!f) {
    // en-CA formats dates as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(timeZone, f);
  }
  return f.format(at);
}

const timeFormatters = new Map<string, Intl.DateTimeFormat>();

/** The local wall-clock time of an instant at a clinic, as HH:MM (24-hour). */
export function localTime(at: Date, timeZone: string): string {
  let f = timeFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    timeFormatters.set(timeZone, f);
  }
  return f.format(at);
}
