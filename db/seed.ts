// Demo data: one methadone facility with one satellite dispensing point, and
// one account per role. Only ever written into an empty database.
import { count, eq } from 'drizzle-orm';
import { serviceDay } from '../server/clock.ts';
import { hashPassword } from '../server/auth/password.ts';
import { audit } from '../server/services/audit.ts';
import type { Db } from './client.ts';
import { clinics, userClinics, users, type Role } from './schema.ts';
import { seedPatients, seedProgrammeHistory } from './synthetic.ts';

/** Synthetic patients in the demo. */
export const DEMO_PATIENTS = 40;
/** Patients of the demo whose treatment is over (none in treatment today). */
export const DEMO_PAST_PATIENTS = 36;

export const DEMO_USERS: { username: Role; fullName: string; clinics: ('facility' | 'satellite')[] }[] = [
  { username: 'admin', fullName: 'Quản trị Hệ thống', clinics: ['facility', 'satellite'] },
  { username: 'nurse', fullName: 'Điều dưỡng Nguyễn Thị Hoa', clinics: ['facility', 'satellite'] },
  { username: 'doctor', fullName: 'Bác sĩ Trần Văn Minh', clinics: ['facility', 'satellite'] },
  { username: 'counsellor', fullName: 'Tư vấn viên Lê Thị Lan', clinics: ['facility', 'satellite'] },
  { username: 'manager', fullName: 'Trưởng cơ sở Phạm Quốc Hùng', clinics: ['facility', 'satellite'] },
];

/** Seeds the demo if the database has no accounts yet. Returns whether it did. */
export async function seedDemo(db: Db, password: string, now: Date): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(users);
  if (Number(row?.n ?? 0) > 0) return false;
  // Hash first, outside the transaction: scrypt is deliberately slow.
  const hashes = await Promise.all(DEMO_USERS.map(() => hashPassword(password)));
  const seeded = await db.transaction(async (tx) => {
    const [facility] = await tx
      .insert(clinics)
      .values({ code: 'HP01', name: 'Cơ sở điều trị Methadone Ngô Quyền', kind: 'facility', provinceCode: 31, communeCode: 11329, address: '12 Lạch Tray', timeZone: 'Asia/Ho_Chi_Minh' })
      .returning();
    const [satellite] = await tx
      .insert(clinics)
      .values({ code: 'HP01A', name: 'Điểm cấp phát thuốc Methadone Lê Chân', kind: 'satellite', parentId: facility!.id, provinceCode: 31, communeCode: 11383, address: 'Trạm Y tế phường Lê Chân', timeZone: 'Asia/Ho_Chi_Minh' })
      .returning();
    const byKind = { facility: facility!.id, satellite: satellite!.id };
    for (const [i, u] of DEMO_USERS.entries()) {
      const [created] = await tx
        .insert(users)
        .values({ username: u.username, fullName: u.fullName, role: u.username, passwordHash: hashes[i]!, passwordChangedAt: now })
        .returning({ id: users.id });
      await tx.insert(userClinics).values(u.clinics.map((k) => ({ userId: created!.id, clinicId: byKind[k] })));
    }
    await audit(tx, { action: 'demo_seed', actorId: null, details: { clinics: [facility!.code, satellite!.code], users: DEMO_USERS.map((u) => u.username) }, at: now });
    const [doctor] = await tx.select({ id: users.id }).from(users).where(eq(users.username, 'doctor'));
    const [nurse] = await tx.select({ id: users.id }).from(users).where(eq(users.username, 'nurse'));
    const [counsellor] = await tx.select({ id: users.id }).from(users).where(eq(users.username, 'counsellor'));
    return { clinics: [facility!, satellite!], doctorId: doctor!.id, nurseId: nurse!.id, counsellorId: counsellor!.id };
  });
  // A few dozen synthetic patients in treatment, so every page has something to show.
  await seedPatients(db, { clinics: seeded.clinics, count: DEMO_PATIENTS, today: serviceDay(now, 'Asia/Ho_Chi_Minh'), prescriberId: seeded.doctorId, giverId: seeded.nurseId, counsellorId: seeded.counsellorId, historyDays: 700, seed: 2026, communes: [{ code: 11329, provinceCode: 31 }, { code: 11383, provinceCode: 31 }] });
  // And a past: patients whose treatment ended (dropout, death, transfer, completion, re-enrolment), for the reports.
  await seedProgrammeHistory(db, { clinics: [seeded.clinics[0]!, seeded.clinics[1]!], count: DEMO_PAST_PATIENTS, today: serviceDay(now, 'Asia/Ho_Chi_Minh'), giverId: seeded.nurseId, seed: 2025 });
  return true;
}
