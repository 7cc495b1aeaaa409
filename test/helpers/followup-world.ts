// A world for the follow-up pages' tests (test/integration/followup-routes.test.ts):
// clinics, staff and patients with missed days, a client per user, and the
// day close. Made through the real schema on a fixed clock.
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { contacts, patients, users, type Role } from '../../db/schema.ts';
import { FixedClock } from '../../server/clock.ts';
import { addDays } from '../../server/dosing/days.ts';
import { closeDueDays } from '../../server/services/day-close.ts';
import { makeTestApp } from './app.ts';
import { TestClient } from './client.ts';
import { makeClinic, makeUser, sessionFor } from './fixtures.ts';
import { addPatient, cover, type TestPatient } from './follow-up.ts';

/** 18:00 in Hải Phòng (UTC+7) on Monday 23 November 2026: after the closing time (17:00). */
export const NOW = new Date('2026-11-23T11:00:00Z');
export const TODAY = '2026-11-23';
export const ago = (n: number) => addDays(TODAY, -n);

let seq = 0;

/**
 * A facility with a satellite point and a clinic elsewhere; counsellors Lan
 * (facility and satellite), Bình (facility) and Chi (no patients of her own);
 * patients who missed 15, 6, 3, 1 days at the facility, 2 at the satellite,
 * one who came today, and one elsewhere who missed 4.
 */
export async function followupWorld(db: Db) {
  const clock = new FixedClock(NOW);
  const { app } = makeTestApp(db, {}, clock);
  const facility = await makeClinic(db, { name: 'Cơ sở Ngô Quyền' });
  const satellite = await makeClinic(db, { kind: 'satellite', parentId: facility.id, name: 'Điểm cấp phát Lê Chân' });
  const other = await makeClinic(db, { name: 'Cơ sở Kiến An' });
  const mine = [facility.id, satellite.id];
  const staff = async (role: Role, clinicIds: string[], fullName: string) => {
    const u = await makeUser(db, role, clinicIds);
    await db.update(users).set({ fullName }).where(eq(users.id, u.id));
    return { ...u, fullName };
  };
  const lan = await staff('counsellor', mine, 'Tư vấn viên Lê Thị Lan');
  const binh = await staff('counsellor', [facility.id], 'Tư vấn viên Đỗ Văn Bình');
  const chi = await staff('counsellor', mine, 'Tư vấn viên Vũ Thị Chi');
  const nurse = await staff('nurse', mine, 'Điều dưỡng Trần Thị Hoa');
  const doctor = await staff('doctor', mine, 'Bác sĩ Phạm Văn Minh');
  const manager = await staff('manager', mine, 'Trưởng cơ sở Hoàng Quốc Hùng');
  const admin = await staff('admin', [], 'Quản trị Hệ thống');
  const outsider = await staff('counsellor', [other.id], 'Tư vấn viên Kiến An');
  const otherManager = await staff('manager', [other.id], 'Trưởng cơ sở Kiến An');

  type P = TestPatient & { fullName: string; phone: string; phone2: string; street: string; nextOfKinName: string; nextOfKinPhone: string };
  const patient = async (o: { fullName: string; lastCovered: number | null; counsellor?: string | null; at?: typeof facility }): Promise<P> => {
    const at = o.at ?? facility;
    const n = ++seq;
    const phone = `0912 000 ${String(n).padStart(3, '0')}`;
    const p = await addPatient(db, { clinicId: at.id, clinicCode: at.code, startDate: ago(90), counsellorId: o.counsellor ?? null, fullName: o.fullName, phone });
    const extra = { phone2: `0225 333 ${String(n).padStart(3, '0')}`, street: `${n} Lạch Tray`, nextOfKinName: `Mẹ của ${o.fullName}`, nextOfKinPhone: `0988 111 ${String(n).padStart(3, '0')}` };
    await db.update(patients).set(extra).where(eq(patients.id, p.id));
    if (o.lastCovered !== null) await cover(db, p, ago(o.lastCovered), { givenBy: nurse.id });
    return { ...p, ...extra, fullName: o.fullName, phone };
  };
  const d = await patient({ fullName: 'Đặng Văn Dũng', lastCovered: 15, counsellor: binh.id });
  const c = await patient({ fullName: 'Cao Văn Cường', lastCovered: 6 });
  const b = await patient({ fullName: 'Bùi Văn Bảo', lastCovered: 3, counsellor: lan.id });
  const a = await patient({ fullName: 'An Văn Anh', lastCovered: 1, counsellor: lan.id });
  const s = await patient({ fullName: 'Sơn Văn Sáng', lastCovered: 2, counsellor: lan.id, at: satellite });
  const came = await patient({ fullName: 'Kim Văn Khoa', lastCovered: 0, counsellor: lan.id });
  const elsewhere = await patient({ fullName: 'Ông Văn Ở', lastCovered: 4, counsellor: outsider.id, at: other });

  const client = async (u: { id: string }) => {
    const cl = new TestClient(app);
    const { token, csrfToken } = await sessionFor(db, u.id, clock.now());
    cl.setCookie('mp_session', token);
    cl.csrf = csrfToken;
    return cl;
  };
  /** Today's day close at the three clinics (no e-mail or webhook configured). */
  const close = () => closeDueDays({ db, clock }, { email: false, webhook: false }, { clinicIds: [facility.id, satellite.id, other.id], throughToday: true });
  const contact = (p: { id: string }, o: Record<string, string>) =>
    ({ patient: p.id, method: 'phone', outcome: 'unreachable', returnDate: '', holdUntil: '', nextActionDate: '', note: '', clinic: '', counsellor: 'all', bucket: '', ...o }) as Record<string, string>;
  const contactsOf = (p: { id: string }) => db.select().from(contacts).where(eq(contacts.patientId, p.id));
  return { db, clock, facility, satellite, other, lan, binh, chi, nurse, doctor, manager, admin, outsider, otherManager, a, b, c, d, s, came, elsewhere, patient, client, close, contact, contactsOf };
}
