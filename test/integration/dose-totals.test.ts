// dose_day_totals, the per clinic and day dose counts the dashboard sums: the
// scheduler writes them for the days closed (its step after the day close),
// any dose written for a day afterwards (a late entry, a void) removes that
// day's row in its own transaction, and the dashboard
// counts the days without a row from the doses. Every check holds the
// dashboard and the rows to the count straight from the dose records. Both
// databases.
import { and, eq, sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { doseDayTotals } from '../../db/schema.ts';
import { rows } from '../../db/sql.ts';
import { FixedClock } from '../../server/clock.ts';
import { addDays } from '../../server/dosing/days.ts';
import { closeDay } from '../../server/services/day-close.ts';
import { voidDose } from '../../server/services/dose-reviews.ts';
import { settleClosedDays, settleDoseTotals, settleFrom } from '../../server/services/dose-totals.ts';
import { dashboard, standingDose } from '../../server/services/reports.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';
import { addPatient, cover, type TestPatient } from '../helpers/follow-up.ts';

const NONE = { email: false, webhook: false };
/** 10:00 in Hồ Chí Minh City on the 20th: the month so far is the 1st to the 20th. */
const NOW = new Date('2026-10-20T03:00:00Z');
const TODAY = '2026-10-20';
const evening = (day: string) => new Date(`${day}T11:00:00Z`);

/** A clinic's doses per day of [from, to] counted from the records, as the dashboard counted them before the totals. */
async function recount(db: Db, clinicId: string, from: string, to: string) {
  const out = await rows<{ day: string; doses: number; mg: number; patient_days: number }>(
    db,
    sql`select d.service_day::text as day, count(*)::int as doses, coalesce(sum(d.given_mg), 0)::float8 as mg, (count(*) filter (where d.part = 1))::int as patient_days
        from doses d where d.clinic_id = ${clinicId}::uuid and d.service_day between ${from}::date and ${to}::date and ${standingDose}
        group by d.service_day order by 1`,
  );
  return out.map((r) => ({ day: r.day, doses: Number(r.doses), mg: Number(r.mg), patientDays: Number(r.patient_days) }));
}

async function totalsRows(db: Db, clinicId: string) {
  const out = await db.select().from(doseDayTotals).where(eq(doseDayTotals.clinicId, clinicId)).orderBy(doseDayTotals.serviceDay);
  return out.map((r) => ({ day: r.serviceDay, doses: r.doses, mg: Number(r.mg), patientDays: r.patientDays }));
}

/** Every totals row equals the recount of its day (a day without doses has a row of zeros). */
async function expectRowsExact(db: Db, clinicId: string) {
  const kept = await totalsRows(db, clinicId);
  const counted = new Map((await recount(db, clinicId, '2000-01-01', '2100-01-01')).map((r) => [r.day, r]));
  for (const r of kept) expect(r, r.day).toEqual(counted.get(r.day) ?? { day: r.day, doses: 0, mg: 0, patientDays: 0 });
}

describeEachDatabase('daily dose totals: written for the closed days, removed by a later dose, the dashboard exact either way', (get) => {
  let clinicId = '';
  let nurseId = '';
  let managerId = '';
  const people: TestPatient[] = [];
  beforeAll(async () => {
    const { db } = get();
    clinicId = (await makeClinic(db)).id;
    nurseId = (await makeUser(db, 'nurse', [clinicId])).id;
    managerId = (await makeUser(db, 'manager', [clinicId])).id;
    for (let i = 0; i < 6; i++) people.push(await addPatient(get().db, { clinicId, startDate: '2026-08-25' }));
    // From late August to today, each patient on most days.
    for (let d = '2026-08-25'; d <= TODAY; d = addDays(d, 1)) {
      for (const [i, p] of people.entries()) if ((d.charCodeAt(9) + i) % 5 !== 0) await cover(db, p, d, { givenBy: nurseId });
    }
  });

  const figures = async () => {
    const dash = await dashboard(get().db, NOW, [clinicId]);
    const { dosesToday, dosesMonth, mgMonth, avgDailyMg } = dash.rows[0]!;
    return { dosesToday, dosesMonth, mgMonth, avgDailyMg };
  };
  const expected = async () => {
    const days = await recount(get().db, clinicId, '2026-10-01', TODAY);
    const month = days.reduce((a, r) => ({ doses: a.doses + r.doses, mg: a.mg + r.mg, pd: a.pd + r.patientDays }), { doses: 0, mg: 0, pd: 0 });
    return { dosesToday: days.find((r) => r.day === TODAY)?.doses ?? 0, dosesMonth: month.doses, mgMonth: month.mg, avgDailyMg: month.pd ? Math.round((month.mg / month.pd) * 10) / 10 : null };
  };

  it('with no totals yet, the dashboard counts the doses', async () => {
    expect(await totalsRows(get().db, clinicId)).toEqual([]);
    const f = await figures();
    expect(f.dosesMonth).toBeGreaterThan(50);
    expect(f).toEqual(await expected());
  });

  it('after the close of a day, the scheduler writes the totals from the first of the month before through that day, each exact', async () => {
    const { db } = get();
    const yesterday = addDays(TODAY, -1);
    expect(settleFrom(yesterday)).toBe('2026-09-01');
    expect(settleFrom('2026-01-31')).toBe('2025-12-01');
    // Nothing closed yet: nothing to write.
    await settleClosedDays(db);
    expect(await totalsRows(db, clinicId)).toEqual([]);
    expect(await closeDay({ db, clock: new FixedClock(evening(yesterday)) }, clinicId, yesterday, null, NONE)).not.toBeNull();
    expect(await totalsRows(db, clinicId)).toEqual([]);
    expect(await settleClosedDays(db)).toBeGreaterThanOrEqual(49);
    const kept = await totalsRows(db, clinicId);
    expect(kept.map((r) => r.day)).toEqual(Array.from({ length: 49 }, (_, i) => addDays('2026-09-01', i)));
    await expectRowsExact(db, clinicId);
    expect(await figures()).toEqual(await expected());
    // Settling again writes nothing: every day has its row.
    expect(await settleDoseTotals(db, clinicId, yesterday)).toBe(0);
    expect(await settleClosedDays(db)).toBe(0);
  });

  it('a late entry for a settled day removes that day\'s row; the dashboard stays exact; the step after the next close writes it again', async () => {
    const { db } = get();
    const day = '2026-10-07';
    const late = await addPatient(db, { clinicId, startDate: '2026-10-01' });
    await cover(db, late, day, { givenBy: nurseId });
    expect((await totalsRows(db, clinicId)).some((r) => r.day === day)).toBe(false);
    await expectRowsExact(db, clinicId);
    expect(await figures()).toEqual(await expected());
    expect(await closeDay({ db, clock: new FixedClock(evening(TODAY)) }, clinicId, TODAY, null, NONE)).not.toBeNull();
    await settleClosedDays(db);
    expect((await totalsRows(db, clinicId)).find((r) => r.day === day)).toBeDefined();
    expect((await totalsRows(db, clinicId)).find((r) => r.day === TODAY)).toBeDefined();
    await expectRowsExact(db, clinicId);
  });

  it('a void of a settled day\'s dose removes that day\'s row; the dashboard stays exact', async () => {
    const { db } = get();
    const [dose] = await rows<{ id: string; day: string }>(db, sql`select id, service_day::text as day from doses where clinic_id = ${clinicId}::uuid and service_day = '2026-10-12' and voids_id is null limit 1`);
    const before = await figures();
    await voidDose({ db, clock: new FixedClock(NOW) }, { userId: managerId, address: null }, dose!.id, 'Ghi nhầm', [clinicId]);
    expect((await totalsRows(db, clinicId)).some((r) => r.day === '2026-10-12')).toBe(false);
    const after = await figures();
    expect(after.dosesMonth).toBe(before.dosesMonth - 1);
    expect(after).toEqual(await expected());
    await settleDoseTotals(db, clinicId, TODAY);
    await expectRowsExact(db, clinicId);
    expect(await figures()).toEqual(await expected());
  });

  it('doses written for a day while its totals are being settled: the row, where there is one, counts them all', async () => {
    const { db } = get();
    for (let round = 0; round < 4; round++) {
      const day = addDays('2026-09-10', round);
      const extra = await Promise.all(Array.from({ length: 4 }, () => addPatient(db, { clinicId, startDate: '2026-09-01' })));
      await Promise.all([...extra.map((p) => cover(db, p, day, { givenBy: nurseId })), settleDoseTotals(db, clinicId, TODAY), ...extra.map((p) => cover(db, p, addDays(day, 1), { givenBy: nurseId }))]);
      await expectRowsExact(db, clinicId);
    }
    await settleDoseTotals(db, clinicId, TODAY);
    await expectRowsExact(db, clinicId);
    const [n] = await rows<{ n: number }>(db, sql`select count(*)::int as n from dose_day_totals where clinic_id = ${clinicId}::uuid and service_day between '2026-09-01' and ${TODAY}::date`);
    expect(n?.n).toBe(50);
  });

  it('the exactness check itself catches a row that is off by one', async () => {
    const { db } = get();
    // A stray row (as a bad hand edit would leave) is caught by the exactness check itself.
    await db.update(doseDayTotals).set({ doses: sql`${doseDayTotals.doses} + 1` }).where(and(eq(doseDayTotals.clinicId, clinicId), eq(doseDayTotals.serviceDay, '2026-09-03')));
    await expect(expectRowsExact(db, clinicId)).rejects.toThrow();
    await db.delete(doseDayTotals).where(and(eq(doseDayTotals.clinicId, clinicId), eq(doseDayTotals.serviceDay, '2026-09-03')));
    await expectRowsExact(db, clinicId);
  });
});
