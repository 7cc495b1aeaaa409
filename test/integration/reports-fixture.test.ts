// The report services against a small synthetic programme whose every figure
// is worked out by hand in this file (R18, R21, R22). Nothing here is computed
// by the code under test: the expectations are literal numbers.
//
// Clinics: A (facility), B (satellite of A), X (a facility outside the scope,
// zone UTC). Every report is asked for the scope [A, B]. "sched(a..b)": covered
// on the 1st, 11th and 21st of each month in a..b (gaps ≤ 11 days). 60 mg
// unless said. Years: 2026 unless written.
//
// | P  | clinic | sex | born       | referral  | episodes                                          | covered days
// | 01 | A      | M   | 1985-03-10 | voluntary | first 2025-12-16, open                            | 2025-12-16 + sched(2025-12-21..2027-01-31), 80 mg; 04-01 split: part 1 given 40 + part 2 take-home 40
// | 02 | A → B  | F   | 1992-08-20 | police    | first A 01-05, ends 03-10 transferred_out;        | A: 01-05 + sched(..03-01); B: sched(03-11..2027-01-31), 04-01 take-home
// |    |        |     |            |           | transfer_in B 03-10 (from the A episode), open    |
// | 03 | A      | M   | 1970-01-15 | health    | first 01-10, ends 03-16 dropped_out (confirmed);  | 01-10, 01-11, 01-21, 02-01, 02-11;  04-20 + sched(04-21..2027-01-31)
// |    |        |     |            |           | re_enrolment 04-20 (referral voluntary), open     |
// | 04 | A      | F   | 2000-02-02 | voluntary | first 02-03, open                                 | 02-03, 02-11, 02-21, 03-01, [03-21 withheld: no slot], 03-31 + sched(04-01..2027-01-31), 100 mg
// | 05 | B      | M   | 1988-11-30 | police    | first 02-10, open (dropout not confirmed)         | 02-10, 02-11, 02-21, 03-01; open alerts missed, counsellor, doctor, dropout
// | 06 | A      | M   | 1978-07-07 | health    | first 01-20, ends 03-25 deceased                  | 01-20 + sched(01-21..03-21)
// | 07 | A → X  | F   | 1995-05-05 | police    | first A 01-26, ends 04-10 transferred_out;        | A: 01-26 + sched(02-01..04-01); X: sched(04-11..2027-01-31)
// |    |        |     |            |           | transfer_in X 04-10 (out of the scope), open      |
// | 08 | X → A  | M   | 1982-09-09 | voluntary | first X 2025-11-01, ends 02-01 transferred_out;   | X: 2025-11-01 + sched(..01-21); A: sched(02-01..2027-01-31)
// |    |        |     |            |           | transfer_in A 02-01, open                         |
// | 09 | B      | M   | 1998-12-01 | voluntary | first 02-20, ends 04-15 incarcerated              | 02-20 + sched(02-21..04-11), 30 mg
// | 10 | A      | F   | 1990-01-01 | health    | first 03-20, open                                 | none; open alerts missed, counsellor
// | 11 | A      | M   | 1986-03-15 | police    | first 03-14, open                                 | 03-14 VOIDED (slot released), 03-15, 03-21 + sched(04-01..2027-01-31)
// | 12 | A      | F   | 1968-10-10 | health    | first 2025-12-20, ends 03-12 completed_taper      | 2025-12-20 + sched(2025-12-21..03-11)
// | 13 | B      | M   | 1960-06-06 | police    | first 2025-12-10, ends 03-25 withdrew             | 2025-12-10 + sched(2025-12-11..03-21)
// Alerts also: P01 an open 'review' (not a missed-dose alert), P04 a closed 'missed'.
//
// Runs as seen on 2027-01-31 (exit = first of the run's end and the 30th uncovered day, R18):
// | run  | first dose | age band  | month   | quarter (R21) | exit                    | t = exit − first
// | P01  | 2025-12-16 | 40 40_49  | 2025-12 | 2026-Q1       | none                    | (411 censored)
// | P02  | 01-05      | 33 30_39  | 2026-01 | 2026-Q1       | none: A→B is inside     | (391)
// | P03a | 01-10      | 55 50p    | 2026-01 | 2026-Q1       | 02-11 + 30 = 03-13 dropout (before the 03-16 end) | 62
// | P03b | 04-20 (re) | 56 50p    | 2026-04 | 2026-Q2       | none                    | (286)
// | P04  | 02-03      | 26 u30    | 2026-02 | 2026-Q1       | none: 03-02..03-30 is 29 uncovered days | (362)
// | P05  | 02-10      | 37 30_39  | 2026-02 | 2026-Q1       | 03-01 + 30 = 03-31 dropout | 49
// | P06  | 01-20      | 47 40_49  | 2026-01 | 2026-Q1       | 03-25 deceased          | 64
// | P07  | 01-26      | 30 30_39  | 2026-01 | 2026-Q1       | 04-10 transferred_out (to X, out of the programme) | 74
// | P08  | began at X: in no cohort of [A, B]
// | P09  | 02-20      | 27 u30    | 2026-02 | 2026-Q1       | 04-15 incarcerated      | 54
// | P10  | no dose: in no cohort
// | P11  | 03-15 (03-14 voided) | 40 40_49 (39 on 03-14) | 2026-03 | 2026-Q2 (03-14 would be Q1) | none | (322)
// | P12  | 2025-12-20 | 57 50p    | 2025-12 | 2026-Q1       | 03-12 completed_taper   | 82
// | P13  | 2025-12-10 | 65 50p    | 2025-12 | 2025-Q4       | 03-25 withdrew          | 105
// Day D: 3 → 91, 6 → 182, 12 → 365, 24 → 730. On 2027-01-31 day 365 has come for
// first doses up to 2026-01-31, day 182 up to 2026-08-02; day 730 for none.
import { eq } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { alerts, doseSlots, doses, episodes, patients, type AlertLevel, type EndReason, type EpisodeKind, type Sex } from '../../db/schema.ts';
import { fold } from '../../db/fold.ts';
import { addDays } from '../../server/dosing/days.ts';
import { monthPeriod, quarterPeriod } from '../../server/reports/periods.ts';
import { dashboard, programmeReport, type Indicators } from '../../server/services/reports.ts';
import { cohortRetention, cohortRuns, crossSectional, kaplanMeier, retentionReport, type CohortRow, type RunFilter } from '../../server/services/retention.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';

/** Retention is asked as of the last day of the fixture; the open runs are covered up to it. */
const AS_OF = '2027-01-31';
const END = AS_OF;

/** The 1st, 11th and 21st of each month in [from, to]. */
function sched(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) if (['01', '11', '21'].includes(d.slice(8))) out.push(d);
  return out;
}

interface Ep {
  kind?: EpisodeKind;
  clinicId: string;
  start: string;
  referral?: string;
  end?: [string, EndReason];
  /** A transfer_in continuing the episode listed before it. */
  fromPrev?: boolean;
}

describeEachDatabase('R18 R21 R22 reports on a hand-computed programme', (get) => {
  let db: Db;
  let A: string, B: string, X: string, aCode: string;
  const P: Record<string, { id: string; eps: string[] }> = {};
  const scope = (): RunFilter => ({ clinicIds: [A, B] });
  const codes = (rs: { code: string }[]) => rs.map((r) => r.code).sort();

  beforeAll(async () => {
    db = get().db;
    const a = await makeClinic(db, { name: 'A' });
    A = a.id;
    aCode = a.code;
    B = (await makeClinic(db, { kind: 'satellite', parentId: A, name: 'B' })).id;
    X = (await makeClinic(db, { name: 'X', timeZone: 'UTC' })).id;
    const nurse = await makeUser(db, 'nurse', [A, B, X]);

    const person = async (code: string, sex: Sex, birthDate: string, eps: Ep[]) => {
      const name = `Bệnh nhân ${code}`;
      const [p] = await db.insert(patients).values({ code, homeClinicId: eps[0]!.clinicId, fullName: name, searchName: fold(name), birthDate, sex }).returning();
      const ids: string[] = [];
      for (const e of eps) {
        const [row] = await db
          .insert(episodes)
          .values({
            patientId: p!.id,
            clinicId: e.clinicId,
            kind: e.kind ?? 'first',
            startDate: e.start,
            referralSource: e.referral ?? '',
            transferredFromId: e.fromPrev ? ids[ids.length - 1]! : null,
            endDate: e.end?.[0] ?? null,
            endReason: e.end?.[1] ?? null,
          })
          .returning();
        ids.push(row!.id);
      }
      P[code] = { id: p!.id, eps: ids };
    };
    /** Dose records (and their slots when covering) of `code`'s episode `ep`. */
    const give = async (code: string, ep: number, clinicId: string, days: string[], mg: number, o: { outcome?: 'given' | 'take_home' | 'withheld'; part?: number } = {}) => {
      const outcome = o.outcome ?? 'given';
      const rows = await db
        .insert(doses)
        .values(
          days.map((d) => ({
            patientId: P[code]!.id,
            episodeId: P[code]!.eps[ep]!,
            clinicId,
            serviceDay: d,
            part: o.part ?? 1,
            outcome,
            prescribedMg: mg,
            givenMg: outcome === 'withheld' ? 0 : mg,
            ml: outcome === 'withheld' ? 0 : mg / 10,
            concentration: 10,
            givenBy: nurse.id,
            at: new Date(`${d}T02:00:00Z`),
          })),
        )
        .returning();
      if (outcome !== 'withheld') await db.insert(doseSlots).values(rows.map((r) => ({ patientId: r.patientId, serviceDay: r.serviceDay, part: r.part, doseId: r.id })));
      return rows;
    };

    await person('P01', 'male', '1985-03-10', [{ clinicId: A, start: '2025-12-16', referral: 'voluntary' }]);
    await give('P01', 0, A, ['2025-12-16', ...sched('2025-12-21', END).filter((d) => d !== '2026-04-01')], 80);
    await give('P01', 0, A, ['2026-04-01'], 40);
    await give('P01', 0, A, ['2026-04-01'], 40, { outcome: 'take_home', part: 2 });

    await person('P02', 'female', '1992-08-20', [
      { clinicId: A, start: '2026-01-05', referral: 'police', end: ['2026-03-10', 'transferred_out'] },
      { kind: 'transfer_in', clinicId: B, start: '2026-03-10', fromPrev: true },
    ]);
    await give('P02', 0, A, ['2026-01-05', ...sched('2026-01-06', '2026-03-09')], 60);
    await give('P02', 1, B, sched('2026-03-10', END).filter((d) => d !== '2026-04-01'), 60);
    await give('P02', 1, B, ['2026-04-01'], 60, { outcome: 'take_home' });

    await person('P03', 'male', '1970-01-15', [
      { clinicId: A, start: '2026-01-10', referral: 'health', end: ['2026-03-16', 'dropped_out'] },
      { kind: 're_enrolment', clinicId: A, start: '2026-04-20', referral: 'voluntary' },
    ]);
    await give('P03', 0, A, ['2026-01-10', '2026-01-11', '2026-01-21', '2026-02-01', '2026-02-11'], 60);
    await give('P03', 1, A, ['2026-04-20', ...sched('2026-04-21', END)], 60);

    await person('P04', 'female', '2000-02-02', [{ clinicId: A, start: '2026-02-03', referral: 'voluntary' }]);
    await give('P04', 0, A, ['2026-02-03', '2026-02-11', '2026-02-21', '2026-03-01', '2026-03-31', ...sched('2026-04-01', END)], 100);
    await give('P04', 0, A, ['2026-03-21'], 100, { outcome: 'withheld' });

    await person('P05', 'male', '1988-11-30', [{ clinicId: B, start: '2026-02-10', referral: 'police' }]);
    await give('P05', 0, B, ['2026-02-10', '2026-02-11', '2026-02-21', '2026-03-01'], 60);

    await person('P06', 'male', '1978-07-07', [{ clinicId: A, start: '2026-01-20', referral: 'health', end: ['2026-03-25', 'deceased'] }]);
    await give('P06', 0, A, ['2026-01-20', ...sched('2026-01-21', '2026-03-21')], 60);

    await person('P07', 'female', '1995-05-05', [
      { clinicId: A, start: '2026-01-26', referral: 'police', end: ['2026-04-10', 'transferred_out'] },
      { kind: 'transfer_in', clinicId: X, start: '2026-04-10', fromPrev: true },
    ]);
    await give('P07', 0, A, ['2026-01-26', ...sched('2026-02-01', '2026-04-01')], 60);
    await give('P07', 1, X, sched('2026-04-11', END), 60);

    await person('P08', 'male', '1982-09-09', [
      { clinicId: X, start: '2025-11-01', referral: 'voluntary', end: ['2026-02-01', 'transferred_out'] },
      { kind: 'transfer_in', clinicId: A, start: '2026-02-01', fromPrev: true },
    ]);
    await give('P08', 0, X, ['2025-11-01', ...sched('2025-11-02', '2026-01-31')], 60);
    await give('P08', 1, A, sched('2026-02-01', END), 60);

    await person('P09', 'male', '1998-12-01', [{ clinicId: B, start: '2026-02-20', referral: 'voluntary', end: ['2026-04-15', 'incarcerated'] }]);
    await give('P09', 0, B, ['2026-02-20', ...sched('2026-02-21', '2026-04-11')], 30);

    await person('P10', 'female', '1990-01-01', [{ clinicId: A, start: '2026-03-20', referral: 'health' }]);

    await person('P11', 'male', '1986-03-15', [{ clinicId: A, start: '2026-03-14', referral: 'police' }]);
    const [wrong] = await give('P11', 0, A, ['2026-03-14'], 60);
    // The void, as dose-reviews.ts writes it: a void row pointing at the dose, and the slot released.
    await db.insert(doses).values({ ...wrong!, id: undefined, givenMg: 0, ml: 0, voidsId: wrong!.id, voidReason: 'ghi nhầm', requestId: null });
    await db.delete(doseSlots).where(eq(doseSlots.doseId, wrong!.id));
    await give('P11', 0, A, ['2026-03-15', '2026-03-21', ...sched('2026-04-01', END)], 60);

    await person('P12', 'female', '1968-10-10', [{ clinicId: A, start: '2025-12-20', referral: 'health', end: ['2026-03-12', 'completed_taper'] }]);
    await give('P12', 0, A, ['2025-12-20', ...sched('2025-12-21', '2026-03-11')], 60);

    await person('P13', 'male', '1960-06-06', [{ clinicId: B, start: '2025-12-10', referral: 'police', end: ['2026-03-25', 'withdrew'] }]);
    await give('P13', 0, B, ['2025-12-10', ...sched('2025-12-11', '2026-03-21')], 60);

    // Alerts last: a covered day closes a patient's open alerts (0013 trigger).
    const alert = (code: string, clinicId: string, level: AlertLevel, raisedDay: string, closed = false) =>
      db.insert(alerts).values({
        patientId: P[code]!.id,
        episodeId: P[code]!.eps[0]!,
        clinicId,
        level,
        anchorDay: '2026-03-01',
        raisedDay,
        missedDays: 1,
        raisedAt: new Date(`${raisedDay}T10:00:00Z`),
        ...(closed ? { closedAt: new Date('2026-03-31T02:00:00Z'), closedAs: 'returned' as const } : {}),
      });
    for (const [level, day] of [['missed', '2026-03-02'], ['counsellor', '2026-03-04'], ['doctor', '2026-03-06'], ['dropout', '2026-03-31']] as const) await alert('P05', B, level, day);
    await alert('P10', A, 'missed', '2026-03-21');
    await alert('P10', A, 'counsellor', '2026-03-23');
    await alert('P01', A, 'review', '2026-03-20');
    await alert('P04', A, 'missed', '2026-03-02', true);
  });

  const cell = (eligible: number, retained: number, censored: number) => ({ eligible, retained, censored });
  const NONE = cell(0, 0, 0);
  const cohort = (key: string, kind: CohortRow['kind'], size: number, m3: ReturnType<typeof cell>, m6: ReturnType<typeof cell>, m12 = NONE): CohortRow => ({
    cohort: key,
    kind,
    size,
    at: { 3: m3, 6: m6, 12: m12, 24: NONE },
  });

  it('R22 retention at 3/6/12/24 months per month cohort, first enrolments and re-enrolments apart', async () => {
    // 2025-12: P01 (none), P12 (82, completed: lost, not censored), P13 (105, withdrew).
    //   3 (D 91): P01 ✓, P13 105 ≥ 91 ✓, P12 ✗ → 3/2/0.  6 (D 182) and 12 (D 365): P01 only → 3/1/0.
    // 2026-01: P02 (none: the A→B transfer is one run, retained), P03a (62 dropout), P06 (64 deceased), P07 (74 transfer out).
    //   3, 6, 12 alike: retained P02; lost P03a, P06, P07; censored P06, P07 → 4/1/2
    //   (without censoring 1/4 = 25 %; with it 1/(4 − 2) = 50 %).
    // 2026-02: P04 (none: 29 uncovered days is no dropout), P05 (49 dropout), P09 (54 custody) → 3/1/1; 12: not yet (02-03 + 365 > 2027-01-31).
    // 2026-03: P11 (03-15; the voided 03-14 is no first dose) → 1/1/0. 2026-04 re-enrolment: P03b → 1/1/0; D 182 = 10-19 has come.
    expect(await cohortRetention(db, AS_OF, scope(), 'month')).toEqual([
      cohort('2025-12', 'first', 3, cell(3, 2, 0), cell(3, 1, 0), cell(3, 1, 0)),
      cohort('2026-01', 'first', 4, cell(4, 1, 2), cell(4, 1, 2), cell(4, 1, 2)),
      cohort('2026-02', 'first', 3, cell(3, 1, 1), cell(3, 1, 1)),
      cohort('2026-03', 'first', 1, cell(1, 1, 0), cell(1, 1, 0)),
      cohort('2026-04', 're_enrolment', 1, cell(1, 1, 0), cell(1, 1, 0)),
    ]);
  });

  it('R21 R22 quarter cohorts follow the reporting quarters (15th to 14th)', async () => {
    // 2025-Q4 (09-15..12-14): P13 (12-10): 3 ✓ (105), 6 ✗, 12 ✗.
    // 2026-Q1 (12-15..03-14): P01 (12-16), P12 (12-20), P02, P03a, P06, P07, P04, P05, P09 = 9.
    //   3 and 6: retained P01, P02, P04; censored P06, P07, P09 → 9/3/3.
    //   12: day 365 has come for first doses ≤ 2026-01-31: P01, P12, P02, P03a, P06, P07 → 6, retained P01, P02, censored P06, P07.
    // 2026-Q2 (03-15..06-14): P11 (03-15) first; P03b (04-20) re-enrolment.
    expect(await cohortRetention(db, AS_OF, scope(), 'quarter')).toEqual([
      cohort('2025-Q4', 'first', 1, cell(1, 1, 0), cell(1, 0, 0), cell(1, 0, 0)),
      cohort('2026-Q1', 'first', 9, cell(9, 3, 3), cell(9, 3, 3), cell(6, 2, 2)),
      cohort('2026-Q2', 'first', 1, cell(1, 1, 0), cell(1, 1, 0)),
      cohort('2026-Q2', 're_enrolment', 1, cell(1, 1, 0), cell(1, 1, 0)),
    ]);
  });

  it('R22 filters: sex, age band at the first dose, referral source of the run, clinic', async () => {
    const sizes = async (f: Partial<RunFilter>) => (await cohortRetention(db, AS_OF, { ...scope(), ...f }, 'month')).map((r) => [r.cohort, r.kind, r.size]);
    // Female: P12 | P02, P07 | P04.
    expect.soft(await sizes({ sex: 'female' })).toEqual([['2025-12', 'first', 1], ['2026-01', 'first', 2], ['2026-02', 'first', 1]]);
    // u30: P04 (26), P09 (27). 30_39: P02 (33), P07 (30) | P05 (37).
    expect.soft(await sizes({ ageBand: 'u30' })).toEqual([['2026-02', 'first', 2]]);
    expect.soft(await sizes({ ageBand: '30_39' })).toEqual([['2026-01', 'first', 2], ['2026-02', 'first', 1]]);
    // 40_49: P01 (40) | P06 (47) | P11 (40 on its first dose 03-15, 39 on its episode start 03-14).
    expect.soft(await sizes({ ageBand: '40_49' })).toEqual([['2025-12', 'first', 1], ['2026-01', 'first', 1], ['2026-03', 'first', 1]]);
    // 50p: P12 (57), P13 (65) | P03a (55) | P03b (56).
    expect.soft(await sizes({ ageBand: '50p' })).toEqual([['2025-12', 'first', 2], ['2026-01', 'first', 1], ['2026-04', 're_enrolment', 1]]);
    // Referral is the run's first episode's: P03a 'health', P03b 'voluntary'; P02's transfer_in episode (no referral) stays 'police'.
    expect.soft(await sizes({ referral: 'police' })).toEqual([['2025-12', 'first', 1], ['2026-01', 'first', 2], ['2026-02', 'first', 1], ['2026-03', 'first', 1]]);
    expect.soft(await sizes({ referral: 'health' })).toEqual([['2025-12', 'first', 1], ['2026-01', 'first', 2]]);
    expect.soft(await sizes({ referral: 'voluntary' })).toEqual([['2025-12', 'first', 1], ['2026-02', 'first', 2], ['2026-04', 're_enrolment', 1]]);
    expect.soft(await sizes({ sex: 'male', ageBand: '50p' })).toEqual([['2025-12', 'first', 1], ['2026-01', 'first', 1], ['2026-04', 're_enrolment', 1]]);
    // Female 2026-01 at 3 months: P02 retained, P07 censored.
    expect.soft((await cohortRetention(db, AS_OF, { ...scope(), sex: 'female' }, 'month'))[1]!.at[3]).toEqual(cell(2, 1, 1));
    // B alone: the runs that began at B (P13 | P05, P09); P02 is counted where its run began (A), not at B.
    expect.soft(await sizes({ clinicIds: [B] })).toEqual([['2025-12', 'first', 1], ['2026-02', 'first', 2]]);
  });

  it('R22 drill-down: the runs behind a retention cell', async () => {
    const q = (grouping: 'month' | 'quarter', key: string, outcome: 'all' | 'retained' | 'lost' | 'censored', month: 3 | 6 = 3) =>
      cohortRuns(db, AS_OF, scope(), { grouping, cohort: key, kind: 'first', month, outcome });
    expect.soft(codes(await q('month', '2026-01', 'all'))).toEqual(['P02', 'P03', 'P06', 'P07']);
    expect.soft(codes(await q('month', '2026-01', 'retained'))).toEqual(['P02']);
    expect.soft(codes(await q('month', '2026-01', 'censored'))).toEqual(['P06', 'P07']);
    const lost = await q('month', '2026-01', 'lost');
    expect.soft(lost.map((r) => [r.code, r.clinicCode, r.firstDay, r.exitDay, r.exitReason])).toEqual([
      ['P03', aCode, '2026-01-10', '2026-03-13', 'dropped_out'],
      ['P06', aCode, '2026-01-20', '2026-03-25', 'deceased'],
      ['P07', aCode, '2026-01-26', '2026-04-10', 'transferred_out'],
    ]);
    expect.soft(codes(await q('quarter', '2026-Q1', 'retained', 6))).toEqual(['P01', 'P02', 'P04']);
    expect.soft(codes(await q('quarter', '2026-Q1', 'censored', 6))).toEqual(['P06', 'P07', 'P09']);
    expect.soft(codes(await q('quarter', '2026-Q1', 'lost', 6))).toEqual(['P03', 'P05', 'P06', 'P07', 'P09', 'P12']);
    expect.soft((await q('quarter', '2025-Q4', 'lost', 6)).map((r) => [r.code, r.exitDay, r.exitReason])).toEqual([['P13', '2026-03-25', 'withdrew']]);
    expect.soft((await q('month', '2026-03', 'all')).map((r) => [r.code, r.firstDay])).toEqual([['P11', '2026-03-15']]);
  });

  it('R18 the 30th consecutive uncovered day is the dropout; 29 are not', async () => {
    // P05: last covered 03-01; 03-30 is the 29th uncovered day, 03-31 the 30th.
    // P04: covered 03-01 and 03-31; 03-02..03-30 = 29 uncovered days (the withheld 03-21 covers nothing).
    const feb = (asOf: string) => cohortRuns(db, asOf, scope(), { grouping: 'month', cohort: '2026-02', kind: 'first', outcome: 'all' });
    const exits = (rs: { code: string; exitDay: string | null; exitReason: string | null }[]) => rs.map((r) => [r.code, r.exitDay, r.exitReason]);
    const on30 = await feb('2026-03-30');
    expect.soft(on30.map((r) => [r.code, r.exitDay])).toEqual([['P04', null], ['P05', null], ['P09', null]]);
    expect.soft(exits(await feb('2026-03-31')).slice(0, 2)).toEqual([['P04', null, null], ['P05', '2026-03-31', 'dropped_out']]);
    // As seen on 03-30 no run has left; P09's custody (04-15) has not happened yet, so no exit reason either.
    expect.soft(exits(on30)).toEqual([['P04', null, null], ['P05', null, null], ['P09', null, null]]);
  });

  it('R22 Kaplan–Meier time in treatment, with and without censoring', async () => {
    // t: P05 49 e, P09 54 custody, P03a 62 e, P06 64 death, P07 74 transfer out, P12 82 e, P13 105 e;
    // still in (censored on 2027-01-31): P03b 286, P11 322, P04 362, P02 391, P01 411. 12 runs.
    // Every exit an event: S = 11/12, 10/12, 9/12, 8/12, 7/12, 6/12, 5/12 with 12..6 at risk.
    const all = await kaplanMeier(db, AS_OF, scope(), 'all', false);
    expect.soft(all.runs).toBe(12);
    expect.soft(all.steps.map((s) => [s.day, s.atRisk, s.events])).toEqual([[49, 12, 1], [54, 11, 1], [62, 10, 1], [64, 9, 1], [74, 8, 1], [82, 7, 1], [105, 6, 1]]);
    const surv = (c: { steps: { survival: number }[] }) => c.steps.map((s) => Number(s.survival.toFixed(6)));
    expect.soft(surv(all)).toEqual([0.916667, 0.833333, 0.75, 0.666667, 0.583333, 0.5, 0.416667]);
    // Deaths, transfers out, custody censored: 49: 11/12 = 0.916667; 54 censored (10 left);
    // 62: × 9/10 = 0.825; 64 and 74 censored (7 left); 82: × 6/7 = 0.707143; 105: × 5/6 = 0.589286.
    const cens = await kaplanMeier(db, AS_OF, scope(), 'all', true);
    expect.soft(cens.steps.map((s) => [s.day, s.atRisk, s.events])).toEqual([[49, 12, 1], [62, 10, 1], [82, 7, 1], [105, 6, 1]]);
    expect.soft(surv(cens)).toEqual([0.916667, 0.825, 0.707143, 0.589286]);
    // At risk on day 0, 91, 182, 365, 547, 730: 12; t ≥ 91: 105, 286, 322, 362, 391, 411 = 6; ≥ 182: 5; ≥ 365: 391, 411 = 2; then 0.
    const atRisk = [{ month: 0, n: 12 }, { month: 3, n: 6 }, { month: 6, n: 5 }, { month: 12, n: 2 }, { month: 18, n: 0 }, { month: 24, n: 0 }];
    expect.soft(all.atRisk).toEqual(atRisk);
    expect.soft(cens.atRisk).toEqual(atRisk);
    // Re-enrolments alone: P03b, no event.
    const re = await kaplanMeier(db, AS_OF, scope(), 're_enrolment', false);
    expect.soft([re.runs, re.steps.length, re.atRisk.map((a) => a.n)]).toEqual([1, 0, [1, 1, 1, 0, 0, 0]]);
  });

  it("R22 the retention page's single statement gives the separate functions' figures", async () => {
    for (const [grouping, kind, f] of [['month', 'all', scope()], ['quarter', 'first', scope()], ['quarter', 're_enrolment', { ...scope(), sex: 'male' }]] as const) {
      const one = await retentionReport(db, AS_OF, f, grouping, kind);
      expect(one.cohorts).toEqual(await cohortRetention(db, AS_OF, f, grouping));
      expect(one.all).toEqual(await kaplanMeier(db, AS_OF, f, kind, false));
      expect(one.censored).toEqual(await kaplanMeier(db, AS_OF, f, kind, true));
    }
  });

  it('Circular 05 cross-sectional counts on a day (not retention)', async () => {
    // On 2026-12-31, in treatment in A or B with no exit: P01 (first dose 2025-12-16), P02 (01-05, at B),
    // P03b (04-20), P04 (02-03), P08 (run began at X 2025-11-01, at A since 02-01), P11 (03-15) = 6.
    // Not: P05 (dropped out 03-31, episode still open), P07 (at X, out of the programme), P10 (no dose), the ended ones.
    // > 6 months: first dose before 2026-06-30: all 6. > 12 months: before 2025-12-31: P01, P08 = 2.
    expect.soft(await crossSectional(db, '2026-12-31', scope())).toEqual({ day: '2026-12-31', inTreatment: 6, over6: 6, over12: 2 });
    // By sex, which tells the patients apart: women P02, P04 (not P07, who is at X); men P01, P03b, P08, P11.
    expect.soft(await crossSectional(db, '2026-12-31', { ...scope(), sex: 'female' })).toMatchObject({ inTreatment: 2, over6: 2, over12: 0 });
    expect.soft(await crossSectional(db, '2026-12-31', { ...scope(), sex: 'male' })).toMatchObject({ inTreatment: 4, over6: 4, over12: 2 });
    // Not retention: "6 of 6 in treatment > 6 months" on that day, while the 2026-Q1 cohort kept 3 of 9 to month 6.
  });

  const ind = (...v: number[]): Indicators => {
    const [activeStart, newlyEnrolled, reEnrolled, transferredIn, transferredOut, droppedOut, deceased, completed, otherEnded, activeEnd, doses, mg] = v as [number, number, number, number, number, number, number, number, number, number, number, number];
    return { activeStart, newlyEnrolled, reEnrolled, transferredIn, transferredOut, droppedOut, deceased, completed, otherEnded, activeEnd, doses, mg };
  };
  const balanced = (i: Indicators) =>
    i.activeStart + i.newlyEnrolled + i.reEnrolled + i.transferredIn - i.transferredOut - i.droppedOut - i.deceased - i.completed - i.otherEnded === i.activeEnd;
  const byClinic = async (from: string, to: string) => {
    const r = await programmeReport(db, [A, B], from, to);
    for (const row of [...r.rows.map((x) => x.ind), r.total]) expect(balanced(row)).toBe(true);
    return { a: r.rows.find((x) => x.clinicId === A)!.ind, b: r.rows.find((x) => x.clinicId === B)!.ind, total: r.total };
  };
  //                 start new re  in out drop dead compl other end doses mg

  it('programme report for March 2026: the A→B transfer is out at A and in at B, neither in the total', async () => {
    const m = monthPeriod(2026, 3);
    // On 02-28, A: P01 P02 P03a P04 P06 P07 P08 P12 = 8; B: P05 P09 P13 = 3. On 03-31, A: P01 P04 P07 P08 P10 P11 = 6; B: P02 P05 P09 = 3.
    // Doses in March at A: P01 3×80, P02 03-01 60, P04 03-01 + 03-31 ×100 (03-21 withheld: 0 mg, not a dose),
    //   P06, P07, P08 3×60 each, P11 03-15 + 03-21 (the voided 03-14 and its void row not counted), P12 2×60 → 19 doses, 1280 mg.
    // At B: P02 03-11, 03-21 ×60, P05 03-01 ×60, P09 3×30, P13 3×60 → 9 doses, 450 mg.
    expect(await byClinic(m.from, m.to)).toEqual({
      a: ind(8, 2, 0, 0, 1, 1, 1, 1, 0, 6, 19, 1280),
      b: ind(3, 0, 0, 1, 0, 0, 0, 0, 1, 3, 9, 450),
      total: ind(11, 2, 0, 0, 0, 1, 1, 1, 1, 9, 28, 1730),
    });
  });

  it('R21 programme report for the reporting quarters 2026-Q1 and 2026-Q2', async () => {
    const q1 = quarterPeriod(2026, 1);
    expect([q1.from, q1.to]).toEqual(['2025-12-15', '2026-03-14']);
    // Q1, on 12-14 only P13 (B, from 12-10). New at A: P01 P12 P02 P03a P06 P07 P04 P11 = 8; at B: P05 P09.
    // P08 in from X: a transfer in at A and in the total. P02: out at A, in at B, not in the total.
    // P12 completed 03-12; P03a's end (03-16) is in Q2. On 03-14, A: P01 P03a P04 P06 P07 P08 P11 = 7; B: P02 P05 P09 P13 = 4.
    // Doses A: P01 10×80, P02 7, P03a 5, P04 4×100, P06 7, P07 6, P08 5 (its X doses are not A's), P12 10, ×60 → 54, 3600 mg.
    // Doses B: P02 1, P05 4, P13 9 (not 12-10, 12-11) ×60, P09 4×30 → 18, 960 mg.
    expect(await byClinic(q1.from, q1.to)).toEqual({
      a: ind(0, 8, 0, 1, 1, 0, 0, 1, 0, 7, 54, 3600),
      b: ind(1, 2, 0, 1, 0, 0, 0, 0, 0, 4, 18, 960),
      total: ind(1, 10, 0, 1, 0, 0, 0, 1, 0, 11, 72, 4560),
    });
    const q2 = quarterPeriod(2026, 2);
    // Q2 (03-15..06-14): at A P10 new, P03b re-enrolled, P07 out to X (out of the scope: in the total too), P03a dropped out 03-16,
    // P06 died; at B P13 withdrew, P09 custody (other ended). On 06-14, A: P01 P03b P04 P08 P10 P11 = 6; B: P02 P05 = 2.
    // Schedule days in Q2: 03-21 04-01 04-11 04-21 05-01 05-11 05-21 06-01 06-11 (9).
    // A: P01 9 days, 04-01 in two parts → 10 records, 8×80 + 40 + 40 = 720; P03b 04-20 + 6 = 7; P04 03-31 + 8 = 9 ×100;
    //    P06 1, P07 2 (03-21, 04-01), P08 9, P11 03-15 + 03-21 + 8 = 10 → 48 records; 720 + 420 + 900 + 60 + 120 + 540 + 600 = 3360 mg.
    // B: P02 9 ×60, P09 3 ×30, P13 1 ×60 → 13, 690 mg.
    expect(await byClinic(q2.from, q2.to)).toEqual({
      a: ind(7, 1, 1, 0, 1, 1, 1, 0, 0, 6, 48, 3360),
      b: ind(4, 0, 0, 0, 0, 0, 0, 0, 2, 2, 13, 690),
      total: ind(11, 1, 1, 0, 1, 1, 1, 0, 2, 8, 61, 4050),
    });
  });

  it("dashboard: today and this month are the clinic's own (Asia/Ho_Chi_Minh, UTC+7)", async () => {
    // 2026-03-31T18:30Z is 2026-04-01 01:30 in Hà Nội: the day and month are 04-01 and April (in UTC, 03-31 and March).
    const d = await dashboard(db, new Date('2026-03-31T18:30:00Z'), [A, B]);
    const a = d.rows.find((r) => r.clinicId === A)!;
    const b = d.rows.find((r) => r.clinicId === B)!;
    const ended0 = { completed_taper: 0, dropped_out: 0, transferred_out: 0, incarcerated: 0, hospitalised: 0, deceased: 0, withdrew: 0, discharged_violations: 0 };
    // A on 04-01: active P01 P04 P07 P08 P10 P11 = 6. Doses: P01 part 1 40 + part 2 take-home 40, P04 100, P07, P08, P11 60
    //   → 6 records, 360 mg, over 5 patient-days → 72 mg. P04's 03-31 dose is yesterday's. Open missed-dose alerts: P10
    //   (P01's 'review' and P04's closed alert not counted).
    expect(a).toMatchObject({ today: '2026-04-01', monthFrom: '2026-04-01', activeToday: 6, dosesToday: 6, dosesMonth: 6, mgMonth: 360, newMonth: 0, reEnrolMonth: 0, ended: ended0, openAlertPatients: 1, avgDailyMg: 72 });
    // B: active P02 P05 P09 = 3; doses P02 take-home 60, P09 30 → 2, 90 mg, 45 mg a patient-day; alerts: P05 (4 open levels, one patient).
    expect(b).toMatchObject({ today: '2026-04-01', monthFrom: '2026-04-01', activeToday: 3, dosesToday: 2, dosesMonth: 2, mgMonth: 90, openAlertPatients: 1, avgDailyMg: 45 });
    // Total: 9 patients (P02 once), 8 records, 450 mg over 7 patient-days = 64.29 → 64.3.
    expect(d.total).toEqual({ activeToday: 9, dosesToday: 8, dosesMonth: 8, mgMonth: 450, newMonth: 0, reEnrolMonth: 0, ended: ended0, openAlertPatients: 2, avgDailyMg: 64.3 });
    // X keeps UTC: still 03-31 and March there.
    expect((await dashboard(db, new Date('2026-03-31T18:30:00Z'), [X])).rows[0]).toMatchObject({ today: '2026-03-31', monthFrom: '2026-03-01', activeToday: 0, dosesToday: 0 });
  });

  it('dashboard: this month so far, ends, and the internal transfer not an end in the total', async () => {
    // 2026-03-25T10:00Z = 03-25 17:00 local; the month so far is 03-01..03-25.
    const d = await dashboard(db, new Date('2026-03-25T10:00:00Z'), [A, B]);
    const a = d.rows.find((r) => r.clinicId === A)!;
    const b = d.rows.find((r) => r.clinicId === B)!;
    // A: active on 03-25 P01 P04 P07 P08 P10 P11 = 6 (P06 ends that day). New: P11 (03-14), P10 (03-20).
    //   Ended: P02 transferred_out 03-10, P12 completed 03-12, P03a dropped_out 03-16, P06 deceased 03-25.
    //   Doses: March's 19 less P04's 03-31 → 18 records, 1180 mg over 18 patient-days → 65.56 → 65.6.
    expect(a).toMatchObject({ today: '2026-03-25', monthFrom: '2026-03-01', activeToday: 6, dosesToday: 0, dosesMonth: 18, mgMonth: 1180, newMonth: 2, avgDailyMg: 65.6 });
    expect(a.ended).toMatchObject({ transferred_out: 1, completed_taper: 1, dropped_out: 1, deceased: 1, withdrew: 0 });
    // B: active P02 P05 P09 = 3 (P13 ends 03-25); 9 records, 450 mg, 9 patient-days → 50; P13 withdrew.
    expect(b).toMatchObject({ activeToday: 3, dosesMonth: 9, mgMonth: 450, newMonth: 0, avgDailyMg: 50 });
    expect(b.ended).toMatchObject({ withdrew: 1, transferred_out: 0 });
    // Total: 9 active; 27 records, 1630 mg over 27 patient-days → 60.37 → 60.4; P02's transfer is no end.
    expect(d.total).toMatchObject({ activeToday: 9, dosesMonth: 27, mgMonth: 1630, newMonth: 2, avgDailyMg: 60.4 });
    expect(d.total.ended).toMatchObject({ transferred_out: 0, completed_taper: 1, dropped_out: 1, deceased: 1, withdrew: 1 });
  });
});
