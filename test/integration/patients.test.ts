// Patients: registration with a programme code and a photo, search without
// diacritics, duplicates shown before saving, sensitive fields by role, and
// bad input answered with a message per field (422), values kept.
import { count, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { auditLog, patientPhotos, patients } from '../../db/schema.ts';
import { fold } from '../../db/fold.ts';
import { patientCode, SEARCH_COUNT_CAP, searchPatients } from '../../server/services/patients.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';
import type { Role } from '../../db/schema.ts';

/** The frame of a JPEG (SOI, a JFIF APP0 segment, EOI): what the server checks. */
export const TINY_JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');
const jpegDataUrl = (b: Buffer = TINY_JPEG) => `data:image/jpeg;base64,${b.toString('base64')}`;

describeEachDatabase('patients', (get) => {
  async function setup(r: Role = 'nurse') {
    const { db } = get();
    const t = makeTestApp(db);
    const clinic = await makeClinic(db, { name: 'Cơ sở A' });
    const user = await makeUser(db, r, [clinic.id]);
    const login = async (role: Role, clinicIds = [clinic.id]) => {
      const u = await makeUser(db, role, clinicIds);
      const { token, csrfToken } = await sessionFor(db, u.id);
      const c = new TestClient(t.app);
      c.setCookie('mp_session', token);
      c.csrf = csrfToken;
      return c;
    };
    const c = await login(r);
    return { ...t, db, clinic, user, c, login };
  }
  // Each form gets its own birth date, so tests sharing a database are not each other's duplicates.
  let n = 0;
  const form = (clinicId: string, over: Record<string, string> = {}) => ({
    fullName: 'Nguyễn Văn An',
    birthDate: `${String((n % 28) + 1).padStart(2, '0')}/${String((Math.floor(n++ / 28) % 12) + 1).padStart(2, '0')}/1985`,
    sex: 'male',
    nationalId: '',
    phone: '0912 345 678',
    phone2: '',
    street: '12 Lạch Tray',
    provinceCode: '31',
    communeCode: '11329',
    formerAddress: 'Quận Ngô Quyền, Hải Phòng',
    nextOfKinName: 'Nguyễn Thị Bình',
    nextOfKinPhone: '0987654321',
    homeClinicId: clinicId,
    counsellorId: '',
    hivStatus: 'unknown',
    photoData: '',
    ...over,
  });

  it('registers a patient with a code from the clinic and a photo, audited', async () => {
    const { c, clinic, db } = await setup();
    await c.get('/patients/new');
    const r = await c.post('/patients', form(clinic.id, { photoData: jpegDataUrl(), nationalId: '031 085 012 345', birthDate: '05/09/1985' }));
    expect(r.res.status, /role="alert">([^<]*)/.exec(r.html)?.[1]).toBe(303);
    const [p] = await db.select().from(patients).where(eq(patients.homeClinicId, clinic.id));
    expect(p).toMatchObject({ code: patientCode(clinic.code, 1), fullName: 'Nguyễn Văn An', searchName: 'nguyen van an', birthDate: '1985-09-05', nationalId: '031085012345', phoneDigits: '0912345678' });
    const [photo] = await db.select().from(patientPhotos).where(eq(patientPhotos.patientId, p!.id));
    expect(Buffer.from(photo!.jpeg).equals(TINY_JPEG)).toBe(true);
    const page = await c.get(r.res.headers.get('location')!);
    expect(page.html).toContain(`Đã đăng ký người bệnh, mã ${p!.code}.`);
    const img = await c.request(`/patients/${p!.id}/photo`);
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    expect(img.headers.get('cache-control')).toBe('no-store');
    const entries = await db.select().from(auditLog).where(eq(auditLog.entityId, p!.id));
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['patient_create', 'patient_view']));
  });

  it('codes run per clinic and are never reused, even under concurrent registrations', async () => {
    const { c, clinic, db } = await setup();
    await c.get('/patients/new');
    const names = ['Trần Văn Bảy', 'Lê Thị Tám', 'Phạm Văn Chín', 'Hoàng Văn Mười', 'Đỗ Văn Một', 'Vũ Văn Hai'];
    const results = await Promise.all(names.map((n, i) => c.post('/patients', form(clinic.id, { fullName: n, birthDate: `0${i + 1}/01/1990` }))));
    expect(results.map((r) => r.res.status)).toEqual(names.map(() => 303));
    const codes = (await db.select({ code: patients.code }).from(patients).where(eq(patients.homeClinicId, clinic.id))).map((r) => r.code).sort();
    expect(codes).toEqual(names.map((_, i) => patientCode(clinic.code, i + 1)));
  });

  it('finds "Nguyễn Văn An" by "nguyen van an", by part of the phone, by code, by national ID — only in one’s clinics', async () => {
    const { c, clinic, login } = await setup('doctor');
    await c.get('/patients/new');
    await c.post('/patients', form(clinic.id, { nationalId: '001085012345' }));
    for (const q of ['nguyen van an', 'NGUYEN VAN', 'Nguyễn Văn An', 'van an', '345 678', clinic.code.toLowerCase(), '001085012345']) {
      const r = await c.get(`/patients?q=${encodeURIComponent(q)}`);
      expect(r.html, q).toContain('Nguyễn Văn An');
    }
    expect((await c.get('/patients?q=tran%20thi')).html).toContain('Không tìm thấy người bệnh nào.');
    // A nurse of another clinic finds nothing.
    const other = await makeClinic(get().db);
    const stranger = await login('nurse', [other.id]);
    expect((await stranger.get('/patients?q=nguyen')).html).not.toContain('Nguyễn Văn An');
    // The htmx fragment is just the results.
    const frag = await c.get('/patients?q=an', { 'hx-request': 'true', 'hx-target': 'results' });
    expect(frag.html.startsWith('<section id="results"')).toBe(true);
  });

  it('a name of two letters ("Lê") finds it by name and by code, each patient counted once', async () => {
    const { db, clinic } = await setup('doctor');
    const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.toUpperCase();
    const people = [
      ['LE', 'Phạm Văn Hải'], // by code only
      ['ZZ', 'Lê Văn An'], // by name only
      ['LE', 'Lê Thị Hoa'], // by both
      ['ZZ', 'Vũ Văn Nam'], // neither
    ] as const;
    await db.insert(patients).values(
      people.map(([prefix, fullName], i) => ({ code: `${prefix}${tag}-${i}`, homeClinicId: clinic.id, fullName, searchName: fold(fullName), birthDate: '1980-01-01', sex: 'male' as const })),
    );
    const le = await searchPatients(db, 'le', [clinic.id], 1, 20);
    expect(le.total).toBe(3);
    expect(le.rows.map((r) => r.fullName).sort()).toEqual(['Lê Thị Hoa', 'Lê Văn An', 'Phạm Văn Hải']);
    // With its diacritic it cannot be a code: by name only.
    expect((await searchPatients(db, 'Lê', [clinic.id], 1, 20)).total).toBe(2);
    // One letter, past the last page: no rows, the total still counted.
    const v = await searchPatients(db, 'v', [clinic.id], 2, 20);
    expect(v).toEqual({ rows: [], total: 3, capped: false });
  });

  it('counts matches up to SEARCH_COUNT_CAP, then says "more than" and pages on while pages are full', async () => {
    const { c, db, clinic } = await setup('doctor');
    const tag = `Xuyen${Math.floor(Math.random() * 1e6).toString(36)}`;
    const n = SEARCH_COUNT_CAP + 5;
    await db.insert(patients).values(
      Array.from({ length: n }, (_, i) => ({ code: `CAP${tag.toUpperCase()}-${i}`, homeClinicId: clinic.id, fullName: `Trần ${tag} ${i}`, searchName: fold(`Trần ${tag} ${i}`), birthDate: '1980-01-01', sex: 'female' as const, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) })),
    );
    const q = fold(tag);
    expect(await searchPatients(db, q, [clinic.id], 1, 20)).toMatchObject({ total: SEARCH_COUNT_CAP, capped: true });
    // The cap itself is exact: one fewer match is counted, not "more than".
    const exact = await searchPatients(db, `${q} 1`, [clinic.id], 1, 20);
    expect(exact).toMatchObject({ total: 1 + 10 + 100, capped: false }); // 1, 10–19, 100–199
    // Past the counted pages the rows are still there, newest first.
    const last = await searchPatients(db, q, [clinic.id], 11, 20);
    expect(last.rows.map((r) => r.fullName)).toEqual([4, 3, 2, 1, 0].map((i) => `Trần ${tag} ${i}`));
    // The counter's pick list does not count.
    expect(await searchPatients(db, q, [clinic.id], 1, 8, { count: false })).toMatchObject({ total: 0, capped: false });
    expect((await searchPatients(db, q, [clinic.id], 1, 8, { count: false })).rows).toHaveLength(8);

    const first = await c.get(`/patients?q=${encodeURIComponent(q)}`, { 'hx-request': 'true', 'hx-target': 'results' });
    expect(first.html).toContain(`Hơn ${SEARCH_COUNT_CAP} người bệnh`);
    expect(first.html).toContain(`page=2">`);
    expect(first.html).not.toContain(' / ');
    const eleventh = await c.get(`/patients?q=${encodeURIComponent(q)}&page=11`, { 'hx-request': 'true', 'hx-target': 'results' });
    expect(eleventh.html).toContain(`page=10">`);
    expect(eleventh.html).not.toContain(`page=12">`);
    const few = await c.get(`/patients?q=${encodeURIComponent(`${q} 1`)}&page=6`, { 'hx-request': 'true', 'hx-target': 'results' });
    expect(few.html).toContain('111 người bệnh');
    expect(few.html).toContain('/ 6');
    expect(few.html).not.toContain('page=7');
  });

  it('shows possible duplicates before saving, and saves only when the user confirms', async () => {
    const { c, clinic, db } = await setup();
    await c.get('/patients/new');
    await c.post('/patients', form(clinic.id, { birthDate: '07/07/1977' }));
    const again = await c.post('/patients', form(clinic.id, { fullName: 'nguyễn  văn AN', birthDate: '07/07/1977' }));
    expect(again.res.status).toBe(409);
    expect(again.html).toContain('Có thể người bệnh này đã được đăng ký');
    expect(again.html).toContain('Trùng họ tên và ngày sinh');
    expect(again.html).toContain('value="nguyễn  văn AN"');
    expect(Number((await db.select({ n: count() }).from(patients).where(eq(patients.homeClinicId, clinic.id)))[0]!.n)).toBe(1);
    const confirmed = await c.post('/patients', { ...form(clinic.id, { fullName: 'nguyễn  văn AN', birthDate: '07/07/1977' }), confirmNew: '1' });
    expect(confirmed.res.status).toBe(303);
  });

  it('refuses a national ID already on another record (422), naming it', async () => {
    const { c, clinic } = await setup();
    await c.get('/patients/new');
    await c.post('/patients', form(clinic.id, { nationalId: '031085012345' }));
    const r = await c.post('/patients', form(clinic.id, { fullName: 'Người Khác', birthDate: '01/01/1970', nationalId: '031085012345' }));
    expect(r.res.status).toBe(422);
    expect(r.html).toContain('Số CCCD này đã có trong hồ sơ một người bệnh khác.');
  });

  it.each([
    ['nationalId', '03108501234', 'Số CCCD gồm đúng 12 chữ số.'],
    ['birthDate', '01/01/2099', 'Ngày sinh không thể ở tương lai.'],
    ['birthDate', '31/02/1990', 'Ngày không hợp lệ'],
    ['fullName', '     ', 'Vui lòng nhập thông tin này.'],
    ['fullName', 'An 😀', 'Họ tên chỉ gồm chữ cái'],
    ['phone', '12345', 'Số điện thoại gồm 8–15 chữ số.'],
    ['photoData', 'data:image/png;base64,iVBORw0KGgo=', 'Ảnh phải là tệp JPEG.'],
    ['communeCode', '4', 'không thuộc tỉnh / thành phố đã chọn'],
  ])('bad %s (%j) gets a clear message, with every value kept', async (field, value, message) => {
    const { c, clinic, db } = await setup();
    await c.get('/patients/new');
    const before = Number((await db.select({ n: count() }).from(patients)).at(0)!.n);
    const r = await c.post('/patients', form(clinic.id, { [field]: value, street: 'Số 5 <script>x</script>' }));
    expect(r.res.status).toBe(422);
    expect(r.html).toContain(message);
    expect(r.html).toContain('value="Số 5 &lt;script&gt;x&lt;/script&gt;"');
    expect(Number((await db.select({ n: count() }).from(patients)).at(0)!.n)).toBe(before);
  });

  it('a photo too large is refused with a message, not an error page', async () => {
    const { c, clinic } = await setup();
    await c.get('/patients/new');
    const big = Buffer.concat([TINY_JPEG.subarray(0, TINY_JPEG.length - 2), Buffer.alloc(300 * 1024), Buffer.from([0xff, 0xd9])]);
    const r = await c.post('/patients', form(clinic.id, { photoData: jpegDataUrl(big) }));
    expect(r.res.status).toBe(422);
    expect(r.html).toContain('Ảnh quá lớn');
  });

  it('Chinese names and HTML are stored and shown safely', async () => {
    const { c, clinic } = await setup();
    await c.get('/patients/new');
    const r = await c.post('/patients', form(clinic.id, { fullName: '阮文安', nextOfKinName: 'Trần <b>Bình</b>'.replace(/[<>/]/g, ''), formerAddress: '<img src=x onerror=alert(1)>' }));
    expect(r.res.status).toBe(303);
    const page = await c.get(r.res.headers.get('location')!);
    expect(page.html).toContain('阮文安');
    expect(page.html).not.toContain('<img src=x');
    expect(page.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('HIV status and national ID are absent from the page for roles that may not see them', async () => {
    const { c, clinic, login } = await setup('doctor');
    await c.get('/patients/new');
    const r = await c.post('/patients', form(clinic.id, { nationalId: '031085099999', hivStatus: 'positive' }));
    const url = r.res.headers.get('location')!;
    const doctor = await c.get(url);
    expect(doctor.html).toContain('Tình trạng HIV');
    expect(doctor.html).toContain('031085099999');
    const nurse = await (await login('nurse')).get(url);
    expect(nurse.html).not.toContain('Tình trạng HIV');
    expect(nurse.html).toContain('031085099999');
    const manager = await (await login('manager')).get(url);
    expect(manager.res.status).toBe(200);
    expect(manager.html).not.toContain('031085099999');
    expect(manager.html).not.toContain('Tình trạng HIV');
    // A nurse editing the record cannot erase the HIV status she cannot see.
    const n = await login('nurse');
    await n.get(`${url}/edit`);
    expect((await n.post(url, form(clinic.id, { nationalId: '031085099999', phone: '0900000001' }))).res.status).toBe(303);
    const [p] = await get().db.select().from(patients).where(eq(patients.nationalId, '031085099999'));
    expect(p!.hivStatus).toBe('positive');
  });

  it('a patient of another clinic answers 404 everywhere', async () => {
    const { c, clinic, login } = await setup();
    await c.get('/patients/new');
    const r = await c.post('/patients', form(clinic.id, { photoData: jpegDataUrl() }));
    const url = r.res.headers.get('location')!;
    const other = await makeClinic(get().db);
    const stranger = await login('doctor', [other.id]);
    for (const path of [url, `${url}/edit`, `${url}/photo`, `${url}/card`, `${url}/orders/new`]) expect((await stranger.get(path)).res.status, path).toBe(404);
    await stranger.get('/patients');
    expect((await stranger.post(`${url}/episodes`, { startDate: '01/01/2026' })).res.status).toBe(404);
  });
});
