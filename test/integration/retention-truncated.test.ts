// R22 with patients enrolled before a clinic's dose records began: a run
// whose first recorded dose came more than 30 days (R18) after it began has
// its induction outside the records. It is in no cohort and not under the
// Kaplan–Meier curve (else every such patient would form the go-live month's
// cohort), it is counted apart on the page, and Circular 05's cross-section
// counts its time in treatment from the run's start. Every figure is worked
// out by hand here.
//
// One clinic T; doses on the 1st, 11th and 21st of each month from the first
// recorded dose to AS_OF (gaps ≤ 11 days, no dropout). Records begin 2026-01-05.
// | P  | run began  | first recorded dose | first dose − start | in the cohorts?      | cross-section from
// | Q1 | 2024-06-01 | 2026-01-05          | 583 days           | no (truncated)       | 2024-06-01
// | Q2 | 2026-01-05 | 2026-01-05          | 0                  | 2026-01              | 2026-01-05
// | Q3 | 2025-12-10 | 2026-01-05          | 26                 | 2026-01              | 2026-01-05
// | Q4 | 2025-12-05 | 2026-01-05          | 31                 | no (truncated)       | 2025-12-05
// | Q5 | 2026-02-01 | 2026-02-01          | 0                  | 2026-02              | 2026-02-01
// On 2026-09-30: in treatment 5; for more than 6 months (since before 2026-03-30) Q1–Q5 = 5;
// for more than 12 months (since before 2025-09-30) Q1 only = 1.
import { beforeAll, expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { doseSlots, doses, episodes, patients } from '../../db/schema.ts';
import { fold } from '../../db/fold.ts';
import { FixedClock } from '../../server/clock.ts';
import { addDays } from '../../server/dosing/days.ts';
import { cohortRetention, cohortRuns, crossSectional, kaplanMeier, retentionReport, type RunFilter } from '../../server/services/retention.ts';
import { messages } from '../../views/i18n/index.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';

const AS_OF = '2026-09-30';

function sched(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) if (['01', '11', '21'].includes(d.slice(8))) out.push(d);
  return out;
}

describeEachDatabase('R22: runs that began before the dose records', (get) => {
  let db: Db;
  let f: RunFilter;
  let manager: TestClient;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    db = get().db;
    const clinic = await makeClinic(db, { name: 'T' });
    f = { clinicIds: [clinic.id] };
    const nurse = await makeUser(db, 'nurse', [clinic.id]);
    const m = await makeUser(db, 'manager', [clinic.id]);
    manager = new TestClient(makeTestApp(db, {}, new FixedClock(new Date('2026-10-01T05:00:00Z'))).app); // yesterday in Hà Nội: AS_OF
    manager.setCookie('mp_session', (await sessionFor(db, m.id)).token);
    const person = async (code: string, start: string, firstDose: string) => {
      const name = `Bệnh nhân ${code}`;
      const [p] = await db.insert(patients).values({ code: `${clinic.code}-${code}`, homeClinicId: clinic.id, fullName: name, searchName: fold(name), birthDate: '1980-01-01', sex: 'male' }).returning();
      const [e] = await db.insert(episodes).values({ patientId: p!.id, clinicId: clinic.id, kind: 'first', startDate: start, referralSource: '' }).returning();
      const days = [firstDose, ...sched(addDays(firstDose, 1), AS_OF)];
      const rows = await db
        .insert(doses)
        .values(days.map((d) => ({ patientId: p!.id, episodeId: e!.id, clinicId: clinic.id, serviceDay: d, part: 1, outcome: 'given' as const, prescribedMg: 60, givenMg: 60, ml: 6, concentration: 10, givenBy: nurse.id, at: new Date(`${d}T02:00:00Z`) })))
        .returning();
      await db.insert(doseSlots).values(rows.map((r) => ({ patientId: r.patientId, serviceDay: r.serviceDay, part: r.part, doseId: r.id })));
      ids[code] = `${clinic.code}-${code}`;
    };
    await person('Q1', '2024-06-01', '2026-01-05');
    await person('Q2', '2026-01-05', '2026-01-05');
    await person('Q3', '2025-12-10', '2026-01-05');
    await person('Q4', '2025-12-05', '2026-01-05');
    await person('Q5', '2026-02-01', '2026-02-01');
  });

  it('R22 the cohorts and the curve leave out the runs whose induction is not in the records, and say how many', async () => {
    for (const gaps of ['spans', 'slots'] as const) {
      const r = await retentionReport(db, AS_OF, f, 'month', 'all', gaps);
      expect(r.truncated, gaps).toBe(2);
      expect(r.cohorts.map((c) => [c.cohort, c.kind, c.size, c.at[6].eligible, c.at[6].retained]), gaps).toEqual([
        ['2026-01', 'first', 2, 2, 2],
        ['2026-02', 'first', 1, 1, 1],
      ]);
      expect(r.all.runs, gaps).toBe(3);
    }
    expect((await cohortRetention(db, AS_OF, f, 'month')).map((c) => c.size)).toEqual([2, 1]);
    expect((await kaplanMeier(db, AS_OF, f, 'all', false)).runs).toBe(3);
    const jan = await cohortRuns(db, AS_OF, f, { grouping: 'month', cohort: '2026-01', kind: 'first', outcome: 'all' });
    expect(jan.map((r) => r.code).sort()).toEqual([ids.Q2, ids.Q3]);
  });

  it('R22 the cross-section counts a truncated run from its start: a patient enrolled in 2024 is in treatment for more than 12 months', async () => {
    for (const gaps of ['spans', 'slots'] as const) {
      expect(await crossSectional(db, AS_OF, f, gaps), gaps).toEqual({ day: AS_OF, inTreatment: 5, over6: 5, over12: 1 });
    }
  });

  it('R22 the retention page says how many runs are left out, and why, in its definitions', async () => {
    const t = messages('vi');
    const page = await manager.get('/reports/retention');
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('data-truncated="2"');
    expect(page.html).toContain(t.ret_truncated({ n: 2 }));
    expect(page.html).toContain(t.ret_def_truncated);
  });
});
