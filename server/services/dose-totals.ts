// dose_day_totals (db/schema.ts): a clinic's standing dispensed doses per
// service day, written for its closed days by the scheduler (after the day
// close, in the same pass) and deleted by any dose written for that day
// afterwards (migration 0020), so that a row is exact while it exists. The
// dashboard sums the rows and counts the days without one (today, a day not
// closed or changed since) from the doses.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { rows } from '../../db/sql.ts';

/**
 * The first day whose totals the close of `day` makes sure of: the first of
 * the month before, so that this month's and last month's figures never
 * count two months of doses (after an upgrade, an import of past doses, or
 * days whose rows a late dose removed).
 */
export function settleFrom(day: string): string {
  const [y, m] = day.split('-').map(Number) as [number, number];
  const first = new Date(Date.UTC(y, m - 2, 1));
  return first.toISOString().slice(0, 10);
}

/**
 * Writes the totals of the clinic's days from settleFrom(day) through `day`
 * that have none; returns how many. One short statement: it holds the
 * clinic's doses back only while it counts.
 */
export async function settleDoseTotals(db: Db, clinicId: string, day: string): Promise<number> {
  const [r] = await rows<{ n: number }>(db, sql`select mp_dose_totals_settle(${clinicId}::uuid, ${settleFrom(day)}::date, ${day}::date) as n`);
  return Number(r?.n ?? 0);
}

/**
 * The scheduler's step after the day close: at every active clinic, the
 * totals of its closed days since the first of last month that have none
 * (the day just closed; after an upgrade or a late dose, the days before).
 * A clinic with nothing to write is only looked at, its doses never held
 * back. Returns the days written.
 */
export async function settleClosedDays(db: Db): Promise<number> {
  const clinics = await rows<{ id: string; last: string }>(
    db,
    sql`select c.id, (select max(d.service_day) from day_closes d where d.clinic_id = c.id)::text as last from clinics c where c.active`,
  );
  let written = 0;
  for (const c of clinics) {
    if (c.last === null) continue;
    const [due] = await rows<{ missing: boolean }>(
      db,
      sql`select exists (select 1 from generate_series(${settleFrom(c.last)}::date, ${c.last}::date, interval '1 day') g
          where not exists (select 1 from dose_day_totals t where t.clinic_id = ${c.id}::uuid and t.service_day = g::date)) as missing`,
    );
    if (due?.missing) written += await settleDoseTotals(db, c.id, c.last);
  }
  return written;
}

/**
 * Per day of `[from, to]` at one clinic (alias x: day, doses, mg,
 * patient_days): the totals' rows, and for the days without one, the
 * standing dispensed doses counted as `standing` says (alias d).
 */
export function dailyDoses(clinicId: SQL, from: SQL, to: SQL, standing: SQL): SQL {
  return sql`(
    select t.service_day as day, t.doses, t.mg, t.patient_days from dose_day_totals t
    where t.clinic_id = ${clinicId} and t.service_day between ${from} and ${to}
    union all
    select d.service_day, count(*)::int, coalesce(sum(d.given_mg), 0), (count(*) filter (where d.part = 1))::int
    from doses d
    where d.clinic_id = ${clinicId}
      and d.service_day = any(array(
        select g::date from generate_series(${from}, ${to}, interval '1 day') g
        where not exists (select 1 from dose_day_totals t where t.clinic_id = ${clinicId} and t.service_day = g::date)))
      and ${standing}
    group by d.service_day
  )`;
}

