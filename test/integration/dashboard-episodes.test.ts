// The dashboard's "in treatment today" and "ended this month" are found on
// partial indexes (open episodes, ended ones, transfers out) instead of
// reading every episode a clinic ever had. This holds them to the plain
// definition (reports.ts's header: start_date <= d and EFF_END null or after
// d; EFF_END in the month), written out here, over random episodes: ends
// before, on and after the day, transfers whose next episode starts the same
// day, later, or at another clinic of the group. Both databases.
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { END_REASONS, episodes, type EndReason } from '../../db/schema.ts';
import { pgArray, rows } from '../../db/sql.ts';
import { addDays } from '../../server/dosing/days.ts';
import { dashboard, EFF_END } from '../../server/services/reports.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic } from '../helpers/fixtures.ts';
import { addPatient } from '../helpers/follow-up.ts';

const BASE = '2026-09-01';
/** Noon in Hồ Chí Minh City on day n after BASE. */
const noon = (n: number) => new Date(`${addDays(BASE, n)}T05:00:00Z`);

interface Plan {
  clinic: 0 | 1;
  start: number;
  /** Days to the end (none: still open), and why. */
  end: { after: number; reason: EndReason; next: { gap: number; clinic: 0 | 1 } | null } | null;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  clinic: fc.constantFrom<0 | 1>(0, 1),
  start: fc.integer({ min: 0, max: 60 }),
  end: fc.option(
    fc.record({
      after: fc.integer({ min: 0, max: 40 }),
      reason: fc.constantFrom<EndReason>(...END_REASONS),
      // A transfer's next episode: the same day (as transfer() does), later, or never (left the group).
      next: fc.option(fc.record({ gap: fc.integer({ min: 0, max: 20 }), clinic: fc.constantFrom<0 | 1>(0, 1) }), { freq: 3 }),
    }),
    { freq: 4 },
  ),
});

/** The plain definitions, per clinic and for the group (patients once, transfers inside it not ends). */
async function plain(db: Db, ids: string[], day: string, monthFrom: string) {
  const scope = sql`${pgArray(ids)}::uuid[]`;
  const [r] = await rows<Record<string, unknown>>(
    db,
    sql`select
      (select coalesce(json_object_agg(c.id, (select count(*) from episodes e where e.clinic_id = c.id and e.start_date <= ${day}::date and (${EFF_END} is null or ${EFF_END} > ${day}::date))), '{}') from clinics c where c.id = any(${scope})) as active,
      (select count(distinct e.patient_id) from episodes e where e.clinic_id = any(${scope}) and e.start_date <= ${day}::date and (${EFF_END} is null or ${EFF_END} > ${day}::date)) as active_all,
      (select coalesce(json_object_agg(c.id, (select count(*) from episodes e where e.clinic_id = c.id and ${EFF_END} between ${monthFrom}::date and ${day}::date)), '{}') from clinics c where c.id = any(${scope})) as ended,
      (select count(*) from episodes e where e.clinic_id = any(${scope}) and ${EFF_END} between ${monthFrom}::date and ${day}::date
         and not (e.end_reason = 'transferred_out' and exists (select 1 from episodes n where n.transferred_from_id = e.id and n.clinic_id = any(${scope})))) as ended_all`,
  );
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, number>;
  return { active: json(r!.active), activeAll: Number(r!.active_all), ended: json(r!.ended), endedAll: Number(r!.ended_all) };
}

describeEachDatabase('dashboard: in treatment and ended, from the partial indexes, as the plain definitions', (get) => {
  it('over random episodes and transfers, on random days', async () => {
    const { db } = get();
    await fc.assert(
      fc.asyncProperty(fc.array(planArb, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 0, max: 90 }), { minLength: 1, maxLength: 4 }), async (plans, days) => {
        const facility = await makeClinic(db);
        const clinics = [facility, await makeClinic(db, { kind: 'satellite', parentId: facility.id })];
        const ids = clinics.map((c) => c.id);
        for (const p of plans) {
          const t = await addPatient(db, { clinicId: clinics[p.clinic]!.id, startDate: addDays(BASE, p.start) });
          if (!p.end) continue;
          const endDate = addDays(BASE, p.start + p.end.after);
          await db.update(episodes).set({ endDate, endReason: p.end.reason }).where(sql`${episodes.id} = ${t.episodeId}`);
          if (p.end.reason === 'transferred_out' && p.end.next) {
            await db.insert(episodes).values({ patientId: t.id, clinicId: clinics[p.end.next.clinic]!.id, kind: 'transfer_in', startDate: addDays(endDate, p.end.next.gap), transferredFromId: t.episodeId });
          }
        }
        for (const n of days) {
          const day = addDays(BASE, n);
          const dash = await dashboard(db, noon(n), ids);
          const want = await plain(db, ids, day, `${day.slice(0, 7)}-01`);
          for (const r of dash.rows) {
            expect(r.activeToday, `${r.code} ${day} active`).toBe(Number(want.active[r.clinicId] ?? 0));
            expect(Object.values(r.ended).reduce((a, b) => a + b, 0), `${r.code} ${day} ended`).toBe(Number(want.ended[r.clinicId] ?? 0));
          }
          expect(dash.total.activeToday, `${day} active, together`).toBe(want.activeAll);
          expect(Object.values(dash.total.ended).reduce((a, b) => a + b, 0), `${day} ended, together`).toBe(want.endedAll);
        }
      }),
      { numRuns: 30 },
    );
  });
});
