// Adherence (issue 6) against figures worked out by hand: the share of days
// in treatment with a dose taken, observed or take-home, per patient and per
// clinic, and its distribution in bands.
import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { episodes } from '../../db/schema.ts';
import { clinicAdherence, patientAdherence } from '../../server/services/adherence.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';
import { addPatient, cover, uncoveredRecord } from '../helpers/follow-up.ts';

describeEachDatabase('adherence', (get) => {
  it('per patient and per clinic over a period, hand-computed', async () => {
    const { db } = get();
    const clinic = await makeClinic(db);
    const elsewhere = await makeClinic(db);
    const nurse = await makeUser(db, 'nurse', [clinic.id, elsewhere.id]);
    // X: in treatment from 02-20, open. Period 03-01..03-10: 10 days in treatment.
    // Covered: 03-01..03-10 except 03-05 (withheld: a record, no dose) = 9; 03-07 a take-home. 9/10 = 90% (band 80–94).
    const x = await addPatient(db, { clinicId: clinic.id, clinicCode: clinic.code, startDate: '2026-02-20' });
    for (const d of ['01', '02', '03', '04', '06', '08', '09', '10']) await cover(db, x, `2026-03-${d}`, { givenBy: nurse.id });
    await cover(db, x, '2026-03-07', { givenBy: nurse.id, outcome: 'take_home' });
    await uncoveredRecord(db, x, '2026-03-05', { outcome: 'withheld', givenBy: nurse.id });
    await cover(db, x, '2026-02-28', { givenBy: nurse.id }); // before the period: not counted
    // Y: from 03-06, episode ended 03-09 (the end day is not in treatment): 03-06, 03-07, 03-08 = 3 days.
    // Covered 03-06 only = 1/3 = 33.3% (band 0–49).
    const y = await addPatient(db, { clinicId: clinic.id, clinicCode: clinic.code, startDate: '2026-03-06' });
    await cover(db, y, '2026-03-06', { givenBy: nurse.id });
    await db.update(episodes).set({ endDate: '2026-03-09', endReason: 'withdrew' }).where(eq(episodes.id, y.episodeId));
    // Z: from 03-09, open: 03-09, 03-10 = 2 days, both covered = 100% (band 95+).
    const z = await addPatient(db, { clinicId: clinic.id, clinicCode: clinic.code, startDate: '2026-03-09' });
    await cover(db, z, '2026-03-09', { givenBy: nurse.id });
    await cover(db, z, '2026-03-10', { givenBy: nurse.id });
    // At another clinic: not in this clinic's figures.
    const w = await addPatient(db, { clinicId: elsewhere.id, clinicCode: elsewhere.code, startDate: '2026-03-01' });
    await cover(db, w, '2026-03-02', { givenBy: nurse.id });

    const [c] = await clinicAdherence(db, [clinic.id], '2026-03-01', '2026-03-10');
    // Clinic: 10 + 3 + 2 = 15 days, 9 + 1 + 2 = 12 covered: 80%. Bands 0–49: Y; 50–79: none; 80–94: X; 95+: Z.
    expect(c).toMatchObject({ patients: 3, days: 15, covered: 12, bands: [1, 0, 1, 1] });
    expect(c!.pooled).toBeCloseTo(0.8, 10);
    // Lowest first.
    const per = await patientAdherence(db, [clinic.id], '2026-03-01', '2026-03-10');
    expect(per.map((p) => [p.code, p.days, p.covered])).toEqual([
      [y.code, 3, 1],
      [x.code, 10, 9],
      [z.code, 2, 2],
    ]);
    // Both clinics: W adds 10 days (03-01..03-10), 1 covered.
    const both = await clinicAdherence(db, [clinic.id, elsewhere.id], '2026-03-01', '2026-03-10');
    expect(both.find((r) => r.clinicId === elsewhere.id)).toMatchObject({ patients: 1, days: 10, covered: 1, bands: [1, 0, 0, 0] });
  });
});
