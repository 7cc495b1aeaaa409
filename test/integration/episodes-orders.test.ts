// Episodes (enrol, end, re-enrol, transfer, guest dosing), dose orders under
// the rules (R3–R8, R16), and urine tests, through the real app.
import { and, eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { auditLog, doseOrders, episodes, patients } from '../../db/schema.ts';
import { FixedClock } from '../../server/clock.ts';
import { addDays } from '../../server/dosing/days.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { describeEachDatabase, expectRejection } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor, TEST_PASSWORD } from '../helpers/fixtures.ts';
import type { Role } from '../../db/schema.ts';

const TODAY = '2026-11-23';
const ddmm = (day: string) => `${day.slice(8)}/${day.slice(5, 7)}/${day.slice(0, 4)}`;

describeEachDatabase('episodes and orders', (get) => {
  let seq = 0;
  async function setup() {
    const { db } = get();
    // 09:00 in Hải Phòng on the 23rd.
    const t = makeTestApp(db, {}, new FixedClock(new Date('2026-11-23T02:00:00Z')));
    const clinic = await makeClinic(db, { name: 'Cơ sở Ngô Quyền' });
    const other = await makeClinic(db, { name: 'Cơ sở Lê Chân' });
    const login = async (role: Role, clinicIds = [clinic.id]) => {
      const u = await makeUser(db, role, clinicIds);
      const { token, csrfToken } = await sessionFor(db, u.id, new Date('2026-11-23T02:00:00Z'));
      const c = new TestClient(t.app);
      c.setCookie('mp_session', token);
      c.csrf = csrfToken;
      return Object.assign(c, { user: u });
    };
    const doctor = await login('doctor', [clinic.id, other.id]);
    const [p] = await db
      .insert(patients)
      .values({ code: `${clinic.code}-${++seq}`, homeClinicId: clinic.id, fullName: 'Phạm Văn Đức', searchName: 'pham van duc', birthDate: '1980-01-01', sex: 'male' })
      .returning();
    const url = `/patients/${p!.id}`;
    await doctor.get(url);
    return { ...t, db, clinic, other, doctor, login, patient: p!, url };
  }
  const order = (over: Record<string, string> = {}) => ({ phase: 'induction', dailyMg: '20', startDate: ddmm(TODAY), endDate: ddmm(TODAY), reason: '', ...over });

  it('enrols, refuses a second open episode, ends with a reason, re-enrols as a new episode', async () => {
    const { doctor, url, db, patient } = await setup();
    expect((await doctor.post(`${url}/episodes`, { startDate: ddmm('2026-11-01'), referralSource: 'Công an phường' })).res.status).toBe(303);
    const again = await doctor.post(`${url}/episodes`, { startDate: ddmm(TODAY), referralSource: '' });
    expect(again.res.status).toBe(409);
    expect(again.html).toContain('đang có một đợt điều trị chưa kết thúc');
    const future = await doctor.post(`${url}/episodes/end`, { endDate: ddmm('2026-12-01'), reason: 'dropped_out', note: '' });
    expect(future.res.status).toBe(422);
    expect(future.html).toContain('Ngày này chưa đến.');
    expect((await doctor.post(`${url}/episodes/end`, { endDate: ddmm('2026-11-20'), reason: 'incarcerated', note: 'Tạm giam' })).res.status).toBe(303);
    const overlap = await doctor.post(`${url}/episodes`, { startDate: ddmm('2026-11-20'), referralSource: '' });
    expect(overlap.res.status).toBe(422);
    expect((await doctor.post(`${url}/episodes`, { startDate: ddmm('2026-11-22'), referralSource: 'Tự đến' })).res.status).toBe(303);
    const rows = await db.select().from(episodes).where(eq(episodes.patientId, patient.id)).orderBy(episodes.startDate);
    expect(rows.map((r) => [r.kind, r.startDate, r.endDate, r.endReason])).toEqual([
      ['first', '2026-11-01', '2026-11-20', 'incarcerated'],
      ['re_enrolment', '2026-11-22', null, null],
    ]);
    const page = await doctor.get(url);
    expect(page.html).toContain('Điều trị lại');
    expect(page.html).toContain('Bị tạm giữ / tạm giam / đi tù');
  });

  it('episodes are written once and ended once: the database refuses anything else', async () => {
    const { doctor, url, db, patient } = await setup();
    await doctor.post(`${url}/episodes`, { startDate: ddmm('2026-11-01'), referralSource: '' });
    await expectRejection(db.execute(sql`update episodes set start_date = '2026-10-01' where patient_id = ${patient.id}`), /only the end/);
    await doctor.post(`${url}/episodes/end`, { endDate: ddmm('2026-11-10'), reason: 'withdrew', note: '' });
    await expectRejection(db.execute(sql`update episodes set end_reason = 'deceased' where patient_id = ${patient.id}`), /ended episode cannot change/);
    await expectRejection(db.execute(sql`delete from episodes where patient_id = ${patient.id}`), /append-only/);
  });

  it('transfers: the old episode ends "transferred out", a new one opens at the new clinic, history stays', async () => {
    const { doctor, url, db, patient, other } = await setup();
    await doctor.post(`${url}/episodes`, { startDate: ddmm('2026-10-01'), referralSource: '' });
    const r = await doctor.post(`${url}/transfer`, { toClinicId: other.id, date: ddmm(TODAY), note: 'Chuyển nơi ở' });
    expect(r.res.status).toBe(303);
    const rows = await db.select().from(episodes).where(eq(episodes.patientId, patient.id)).orderBy(episodes.startDate);
    expect(rows.map((e) => [e.clinicId, e.kind, e.startDate, e.endDate, e.endReason])).toEqual([
      [patient.homeClinicId, 'first', '2026-10-01', '2026-11-22', 'transferred_out'],
      [other.id, 'transfer_in', TODAY, null, null],
    ]);
    expect(rows[1]!.transferredFromId).toBe(rows[0]!.id);
    const [moved] = await db.select().from(patients).where(eq(patients.id, patient.id));
    expect(moved!.homeClinicId).toBe(other.id);
    const [entry] = await db.select().from(auditLog).where(and(eq(auditLog.action, 'episode_transfer'), eq(auditLog.entityId, rows[1]!.id)));
    expect(entry!.details).toMatchObject({ fromClinicId: patient.homeClinicId, toClinicId: other.id });
  });

  it('R16 guest dosing: authorised for a range at another clinic; refused at the home clinic or too long', async () => {
    const { doctor, url, other, clinic } = await setup();
    await doctor.post(`${url}/episodes`, { startDate: ddmm('2026-11-01'), referralSource: '' });
    expect((await doctor.post(`${url}/guests`, { hostClinicId: other.id, fromDate: ddmm(TODAY), toDate: ddmm(addDays(TODAY, 6)), reason: 'Đi công tác' })).res.status).toBe(303);
    expect((await doctor.get(url)).html).toContain('Cơ sở Lê Chân: 23/11/2026 – 29/11/2026');
    const long = await doctor.post(`${url}/guests`, { hostClinicId: other.id, fromDate: ddmm(TODAY), toDate: ddmm(addDays(TODAY, 60)), reason: '' });
    expect(long.res.status).toBe(422);
    expect(long.html).toContain('R16');
    expect(long.html).toContain('Uống nhờ tối đa 30 ngày mỗi lần.');
    void clinic;
  });

  it('R5 a first dose above 30 mg is refused without a reason, saved with one, and the override is kept', async () => {
    const { doctor, url, db, patient } = await setup();
    await doctor.post(`${url}/episodes`, { startDate: ddmm(TODAY), referralSource: '' });
    await doctor.get(`${url}/orders/new`);
    const refused = await doctor.post(`${url}/orders`, order({ dailyMg: '40' }));
    expect(refused.res.status).toBe(422);
    expect(refused.html).toContain('R5');
    expect(refused.html).toContain('Liều đầu tiên vượt 30 mg');
    expect(refused.html).toContain('value="40"');
    const ok = await doctor.post(`${url}/orders`, order({ dailyMg: '40', reason: 'Đã dùng 40 mg/ngày tại trại, có giấy xác nhận' }));
    expect(ok.res.status).toBe(303);
    const [o] = await db.select().from(doseOrders).where(eq(doseOrders.patientId, patient.id));
    expect(o).toMatchObject({ dailyMg: 40, phase: 'induction', startDate: TODAY, endDate: TODAY });
    expect(o!.findings).toEqual([{ rule: 'R5', code: 'first_dose_above_max', severity: 'reason' }]);
    const page = await doctor.get(url);
    expect(page.html).toContain('40 mg = 4 ml (dung dịch 10 mg/ml)');
  });

  it.each([
    ['0', 'Liều phải lớn hơn 0'],
    ['10000', 'không quá 400 mg'],
    ['80,5', null],
    ['٨٠', 'Nhập số mg'],
    ['1e309', 'Nhập số mg'],
  ])('R5 a daily dose of %j: %s', async (value, message) => {
    const { doctor, url } = await setup();
    await doctor.post(`${url}/episodes`, { startDate: ddmm(TODAY), referralSource: '' });
    const r = await doctor.post(`${url}/orders`, order({ dailyMg: value, reason: 'Lý do đủ dài để ghi nhận' }));
    if (message === null) expect(r.res.status).toBe(303);
    else {
      expect(r.res.status).toBe(422);
      expect(r.html).toContain(message);
    }
  });

  it('R7 a high dose needs a second doctor who signs with their own password', async () => {
    const { doctor, url, login, db, patient } = await setup();
    await doctor.post(`${url}/episodes`, { startDate: '01/10/2026', referralSource: '' });
    // A maintenance order at 120 mg already in force.
    const [ep] = await db.select().from(episodes).where(eq(episodes.patientId, patient.id));
    await db.insert(doseOrders).values({ patientId: patient.id, episodeId: ep!.id, phase: 'maintenance', startDate: '2026-11-01', endDate: '2026-11-30', dailyMg: 120, prescribedBy: doctor.user.id });
    const high = order({ phase: 'maintenance', dailyMg: '140', endDate: ddmm(addDays(TODAY, 20)) });
    const refused = await doctor.post(`${url}/orders`, high);
    expect(refused.html).toContain('R7');
    expect(refused.html).toContain('cần bác sĩ thứ hai xác nhận');
    const second = await login('doctor');
    const wrong = await doctor.post(`${url}/orders`, { ...high, secondDoctorUsername: second.user.username, secondDoctorPassword: 'not-the-password' });
    expect(wrong.html).toContain('Không xác nhận được bác sĩ thứ hai');
    const self = await doctor.post(`${url}/orders`, { ...high, secondDoctorUsername: doctor.user.username, secondDoctorPassword: TEST_PASSWORD });
    expect(self.res.status).toBe(422);
    const ok = await doctor.post(`${url}/orders`, { ...high, secondDoctorUsername: second.user.username, secondDoctorPassword: TEST_PASSWORD });
    expect(ok.res.status).toBe(303);
    const orders = await db.select().from(doseOrders).where(eq(doseOrders.patientId, patient.id));
    expect(orders.find((o) => o.dailyMg === 140)!.confirmedBy).toBe(second.user.id);
    // The new order takes over from its start; the old row is untouched.
    expect(orders.find((o) => o.dailyMg === 120)!.endDate).toBe('2026-11-30');
    expect((await doctor.get(url)).html).toContain('140 mg = 14 ml');
  });

  it('R8 split parts must add up; R4 order length by phase; orders are append-only', async () => {
    const { doctor, url, db, patient } = await setup();
    await doctor.post(`${url}/episodes`, { startDate: ddmm(TODAY), referralSource: '' });
    const split = await doctor.post(`${url}/orders`, order({ dailyMg: '20', split: '1', splitFirstMg: '15', splitSecondMg: '10' }));
    expect(split.html).toContain('R8');
    const long = await doctor.post(`${url}/orders`, order({ endDate: ddmm(addDays(TODAY, 3)) }));
    expect(long.html).toContain('R4');
    expect(long.html).toContain('Chỉ định khởi liều kéo dài tối đa 1 ngày.');
    expect((await doctor.post(`${url}/orders`, order({ dailyMg: '20', split: '1', splitFirstMg: '10', splitSecondMg: '10' }))).res.status).toBe(303);
    await expectRejection(db.execute(sql`update dose_orders set daily_mg = 30 where patient_id = ${patient.id}`), /append-only/);
    await expectRejection(db.execute(sql`delete from dose_orders where patient_id = ${patient.id}`), /append-only/);
  });

  it('no order without an open episode; a nurse cannot prescribe', async () => {
    const { doctor, url, login } = await setup();
    const r = await doctor.post(`${url}/orders`, order());
    expect(r.res.status).toBe(409);
    expect(r.html).toContain('không có đợt điều trị nào đang mở');
    const nurse = await login('nurse');
    await nurse.get(url);
    expect((await nurse.post(`${url}/orders`, order())).res.status).toBe(403);
  });

  it('records urine drug tests and lists them on the patient page', async () => {
    const { doctor, url } = await setup();
    const none = await doctor.post(`${url}/urine-tests`, { testDate: ddmm(TODAY) });
    expect(none.res.status).toBe(422);
    expect(none.html).toContain('Chọn kết quả cho ít nhất một chất.');
    expect((await doctor.post(`${url}/urine-tests`, { testDate: ddmm(TODAY), r_opiates: 'negative', r_methamphetamine: 'positive' })).res.status).toBe(303);
    const page = await doctor.get(url);
    expect(page.html).toMatch(/badge danger">Dương tính/);
    expect(page.html).toMatch(/badge ok">Âm tính/);
  });

  it('the 90-day calendar shows days in treatment without a dose as missed, today as due', async () => {
    const { doctor, url, db, patient } = await setup();
    await doctor.post(`${url}/episodes`, { startDate: ddmm('2026-11-20'), referralSource: '' });
    const [ep] = await db.select().from(episodes).where(eq(episodes.patientId, patient.id));
    await db.insert(doseOrders).values({ patientId: patient.id, episodeId: ep!.id, phase: 'maintenance', startDate: '2026-11-21', endDate: '2026-11-30', dailyMg: 60, prescribedBy: doctor.user.id });
    const html = (await doctor.get(url)).html;
    expect(html).toContain('aria-label="19/11/2026: Ngoài đợt điều trị"');
    expect(html).toContain('aria-label="20/11/2026: Không có chỉ định"');
    expect(html).toContain('aria-label="22/11/2026: Bỏ liều"');
    expect(html).toContain('aria-label="23/11/2026: Chưa uống hôm nay"');
  });
});
