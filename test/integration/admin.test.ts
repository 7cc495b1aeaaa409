// The admin creates clinics (facility or satellite point, province and commune
// of the 2025 two-tier list) and staff accounts; bad input gets a message per
// field in the user's language with everything typed kept (422).
import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { auditLog, clinics, userClinics, users } from '../../db/schema.ts';
import { verifyPassword } from '../../server/auth/password.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';

describeEachDatabase('admin: clinics and staff', (get) => {
  async function admin(locale: 'vi' | 'en' = 'vi') {
    const { db } = get();
    const t = makeTestApp(db);
    const facility = await makeClinic(db, { name: 'Cơ sở Ngô Quyền' });
    const a = await makeUser(db, 'admin', [facility.id]);
    if (locale === 'en') await db.update(users).set({ locale: 'en' }).where(eq(users.id, a.id));
    const { token, csrfToken } = await sessionFor(db, a.id);
    const c = new TestClient(t.app);
    c.setCookie('mp_session', token);
    c.csrf = csrfToken;
    return { ...t, c, facility, db, admin: a };
  }
  const form = (over: Record<string, string>) => ({ code: 'ABC', name: 'Điểm', kind: 'facility', parentId: '', provinceCode: '31', communeCode: '11329', address: '', timeZone: 'Asia/Ho_Chi_Minh', active: 'true', ...over });

  it('creates a satellite point under a facility, with province and commune, audited', async () => {
    const { c, facility, db } = await admin();
    await c.get('/admin/clinics/new');
    const r = await c.post('/admin/clinics', form({ code: 'lc01', name: 'Điểm cấp phát Lê Chân', kind: 'satellite', parentId: facility.id, communeCode: '11383' }));
    expect(r.res.status).toBe(303);
    const [row] = await db.select().from(clinics).where(eq(clinics.code, 'LC01'));
    expect(row).toMatchObject({ kind: 'satellite', parentId: facility.id, provinceCode: 31, communeCode: 11383, timeZone: 'Asia/Ho_Chi_Minh' });
    const [entry] = await db.select().from(auditLog).where(eq(auditLog.entityId, row!.id));
    expect(entry!.action).toBe('clinic_create');
    const list = await c.get('/admin/clinics');
    expect(list.html).toContain('Đã tạo cơ sở');
    expect(list.html).toContain('Phường Lê Chân, Thành phố Hải Phòng');
  });

  it('re-renders the form with 422, the values kept and a message per field', async () => {
    const { c } = await admin();
    await c.get('/admin/clinics/new');
    const r = await c.post('/admin/clinics', form({ code: 'a', name: '   ', kind: 'satellite', provinceCode: '1', communeCode: '11329', address: 'Số 5 <b>ngõ</b> 12' }));
    expect(r.res.status).toBe(422);
    expect(r.html).toContain('Mã cơ sở gồm 2–12 chữ in hoa');
    expect(r.html).toContain('Vui lòng nhập thông tin này.');
    expect(r.html).toContain('value="Số 5 &lt;b&gt;ngõ&lt;/b&gt; 12"');
    expect(r.html).toContain('value="a"');
    // Business checks come after the form is well-formed.
    const r2 = await c.post('/admin/clinics', form({ code: 'SAT9', kind: 'satellite', provinceCode: '1' }));
    expect(r2.res.status).toBe(422);
    expect(r2.html).toContain('Điểm cấp phát phải thuộc một cơ sở điều trị.');
    expect(r2.html).toContain('không thuộc tỉnh / thành phố đã chọn');
  });

  it('messages follow the user’s language', async () => {
    const { c } = await admin('en');
    await c.get('/admin/clinics/new');
    const r = await c.post('/admin/clinics', form({ code: '!!' }));
    expect(r.res.status).toBe(422);
    expect(r.html).toContain('A clinic code is 2–12 capital letters');
  });

  it('refuses a duplicate clinic code with a message, not an error page', async () => {
    const { c, facility } = await admin();
    await c.get('/admin/clinics/new');
    const r = await c.post('/admin/clinics', form({ code: facility.code }));
    expect(r.res.status).toBe(422);
    expect(r.html).toContain('Mã cơ sở này đã được dùng.');
  });

  it('the commune picker searches without diacritics within the province', async () => {
    const { c } = await admin();
    const r = await c.get('/places/communes?provinceCode=31&q=le%20chan', { 'hx-request': 'true' });
    expect(r.res.status).toBe(200);
    expect(r.html).toContain('<option value="11383" selected="">Phường Lê Chân</option>');
    const hanoi = await c.get('/places/communes?provinceCode=1&q=LE%20CHAN');
    expect(hanoi.html).not.toContain('Lê Chân');
  });

  it('creates a staff account with a role and clinics; the password is hashed and must be changed', async () => {
    const { c, facility, db } = await admin();
    const sat = await makeClinic(db, { kind: 'satellite', parentId: facility.id });
    await c.get('/admin/staff/new');
    const r = await c.post('/admin/staff', { username: ' Hoa.Nguyen ', fullName: 'Nguyễn Thị Hoa', role: 'nurse', clinicIds: [facility.id, sat.id], password: 'counter-shift-2026' });
    expect(r.res.status).toBe(303);
    const [u] = await db.select().from(users).where(eq(users.username, 'hoa.nguyen'));
    expect(u).toMatchObject({ role: 'nurse', mustChangePassword: true, active: true });
    expect(u!.passwordHash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(await verifyPassword('counter-shift-2026', u!.passwordHash)).toBe(true);
    const links = await db.select().from(userClinics).where(eq(userClinics.userId, u!.id));
    expect(links.map((l) => l.clinicId).sort()).toEqual([facility.id, sat.id].sort());
  });

  it('refuses bad staff input with messages, keeping the values', async () => {
    const { c, admin: a } = await admin();
    await c.get('/admin/staff/new');
    const r = await c.post('/admin/staff', { username: 'Nguyễn Hoa', fullName: 'Nguyễn Thị Hoa', role: 'superuser', password: '123' });
    expect(r.res.status).toBe(422);
    expect(r.html).toContain('Tên đăng nhập gồm 3–32 ký tự');
    expect(r.html).toContain('Vui lòng chọn một mục.');
    expect(r.html).toContain('Chọn ít nhất một cơ sở làm việc.');
    expect(r.html).toContain('value="Nguyễn Thị Hoa"');
    const taken = await c.post('/admin/staff', { username: a.username, fullName: 'X', role: 'nurse', clinicIds: [(await makeClinic(get().db)).id], password: 'a-good-long-password' });
    expect(taken.res.status).toBe(422);
    expect(taken.html).toContain('Tên đăng nhập này đã có người dùng.');
    const common = await c.post('/admin/staff', { username: 'new.user', fullName: 'X', role: 'nurse', clinicIds: [(await makeClinic(get().db)).id], password: 'matkhau123' });
    expect(common.html).toContain('quá phổ biến');
  });

  it('the admin cannot deactivate their own account', async () => {
    const { c, admin: a } = await admin();
    await c.get(`/admin/staff/${a.id}/edit`);
    const r = await c.post(`/admin/staff/${a.id}/deactivate`, {});
    expect(r.res.status).toBe(422);
    expect(r.html).toContain('Bạn không thể tự khóa tài khoản của mình.');
  });

  it('a change of role or clinics ends the user’s sessions so it applies at once', async () => {
    const { c, facility, db, app } = await admin();
    const nurse = await makeUser(db, 'nurse', [facility.id]);
    const { token } = await sessionFor(db, nurse.id);
    const n = new TestClient(app);
    n.setCookie('mp_session', token);
    expect((await n.get('/home')).res.status).toBe(200);
    await c.get(`/admin/staff/${nurse.id}/edit`);
    expect((await c.post(`/admin/staff/${nurse.id}`, { fullName: 'Test nurse', role: 'doctor', clinicIds: [facility.id] })).res.status).toBe(303);
    expect((await n.get('/home')).res.status).toBe(303);
  });
});
