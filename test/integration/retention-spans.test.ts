// The retention page reads each run's first 30-day gap (R18) from
// coverage_spans, a table derived from the dose slots. These tests hold it to
// the reading straight from the slots (the walk the page used before): the
// same R22 cohorts, Kaplan–Meier steps and Circular 05 counts, on many days,
// over synthetic programme histories, random attendance, late entries,
// released slots and re-enrolments soon after an end. Both databases.
import fc from 'fast-check';
import { and, eq } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { doseSlots, episodes } from '../../db/schema.ts';
import { seedProgrammeHistory, seedPatients } from '../../db/synthetic.ts';
import { addDays } from '../../server/dosing/days.ts';
import { crossSectional, retentionReport, type RunFilter } from '../../server/services/retention.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';
import { addPatient, cover } from '../helpers/follow-up.ts';

const TODAY = '2026-11-20';

describeEachDatabase('retention from coverage_spans equals retention from the slots (R18, R22)', (get) => {
  let facility = { id: '', code: '' };
  let satellite = { id: '', code: '' };
  let other = { id: '', code: '' };
  let nurseId = '';
  beforeAll(async () => {
    const { db } = get();
    const f = await makeClinic(db);
    const s = await makeClinic(db, { kind: 'satellite', parentId: f.id });
    const o = await makeClinic(db);
    facility = { id: f.id, code: f.code };
    satellite = { id: s.id, code: s.code };
    other = { id: o.id, code: o.code };
    nurseId = (await makeUser(db, 'nurse', [f.id, s.id, o.id])).id;
    // Ended runs of every kind over two years, and patients in treatment with ~93% attendance.
    await seedProgrammeHistory(db, { clinics: [facility, satellite], count: 48, today: TODAY, giverId: nurseId, seed: 11 });
    await seedPatients(db, { clinics: [facility, satellite], count: 24, today: TODAY, prescriberId: nurseId, giverId: nurseId, historyDays: 400, seed: 12 });
  });

  const same = async (asOf: string, f: RunFilter) => {
    const { db } = get();
    for (const grouping of ['month', 'quarter'] as const) {
      expect(await retentionReport(db, asOf, f, grouping, 'all', 'spans'), `${asOf} ${grouping}`).toEqual(await retentionReport(db, asOf, f, grouping, 'all', 'slots'));
    }
    expect(await crossSectional(db, asOf, f, 'spans'), asOf).toEqual(await crossSectional(db, asOf, f, 'slots'));
  };

  it('R22 on every 23rd day of two years, for the facility with its satellite point and for the facility alone', async () => {
    for (let back = 0; back <= 740; back += 23) {
      const asOf = addDays(TODAY, -back);
      await same(asOf, { clinicIds: [facility.id, satellite.id] });
      await same(asOf, { clinicIds: [facility.id] });
    }
  });

  it('R18 R22 random attendance, episode ends, re-enrolments, late entries and released slots, seen on random days', async () => {
    const { db } = get();
    const start = addDays(TODAY, -200);
    const history = fc.record({
      covered: fc.uniqueArray(fc.integer({ min: 0, max: 199 }), { maxLength: 60 }),
      late: fc.uniqueArray(fc.integer({ min: 0, max: 199 }), { maxLength: 5 }),
      released: fc.array(fc.nat(), { maxLength: 4 }),
      endAfter: fc.option(fc.integer({ min: 1, max: 199 }), { freq: 2 }),
      // After the end, a re-enrolment this many days later: within 30 days of the last doses, its run starts inside their chain.
      reEnrolAfter: fc.option(fc.integer({ min: 0, max: 40 }), { freq: 2 }),
      asOf: fc.array(fc.integer({ min: 0, max: 210 }), { minLength: 1, maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(history, { minLength: 1, maxLength: 4 }), async (people) => {
        // Each property run in a clinic of its own, so that runs do not see each other's patients.
        const clinic = await makeClinic(db);
        for (const h of people) {
          const p = await addPatient(db, { clinicId: clinic.id, startDate: start });
          const days = [...h.covered.filter((d) => !h.late.includes(d)).sort((a, b) => a - b), ...h.late.filter((d) => !h.covered.includes(d))];
          for (const d of days) await cover(db, p, addDays(start, d), { givenBy: nurseId });
          for (const r of h.released) {
            if (days.length === 0) break;
            const d = days.splice(r % days.length, 1)[0]!;
            await db.delete(doseSlots).where(and(eq(doseSlots.patientId, p.id), eq(doseSlots.serviceDay, addDays(start, d))));
          }
          if (h.endAfter !== null) {
            await db.update(episodes).set({ endDate: addDays(start, h.endAfter), endReason: 'completed_taper' }).where(eq(episodes.id, p.episodeId));
            if (h.reEnrolAfter !== null) await db.insert(episodes).values({ patientId: p.id, clinicId: clinic.id, kind: 're_enrolment', startDate: addDays(start, h.endAfter + h.reEnrolAfter) });
          }
        }
        for (const a of people.flatMap((h) => h.asOf)) await same(addDays(start, a), { clinicIds: [clinic.id] });
      }),
      { numRuns: 15 },
    );
  });

  it('R22 a run that moved to a clinic outside the scope is a transfer out in both readings', async () => {
    const { db } = get();
    const p = await addPatient(db, { clinicId: facility.id, startDate: '2026-03-02' });
    for (let d = 0; d < 60; d++) await cover(db, p, addDays('2026-03-02', d), { givenBy: nurseId });
    await db.update(episodes).set({ endDate: '2026-05-01', endReason: 'transferred_out' }).where(eq(episodes.id, p.episodeId));
    const [moved] = await db.insert(episodes).values({ patientId: p.id, clinicId: other.id, kind: 'transfer_in', startDate: '2026-05-01', transferredFromId: p.episodeId }).returning();
    for (let d = 0; d < 40; d++) await cover(db, { ...p, episodeId: moved!.id, clinicId: other.id }, addDays('2026-05-01', d), { givenBy: nurseId });
    for (const asOf of ['2026-04-15', '2026-05-01', '2026-06-20', TODAY]) {
      await same(asOf, { clinicIds: [facility.id] });
      await same(asOf, { clinicIds: [facility.id, other.id] });
    }
  });
});
