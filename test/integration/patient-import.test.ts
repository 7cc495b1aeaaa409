// Importing a clinic's spreadsheet of patients. Acceptance: "a preview shows
// every row's problems with row and column; nothing is written until the user
// confirms, and then it is all or nothing, in one transaction."
import { and, asc, count, eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { expect, it } from 'vitest';
import { auditLog, clinicCounters, patients } from '../../db/schema.ts';
import { serviceDay } from '../../server/clock.ts';
import { commitImport, previewImport } from '../../server/services/patient-import.ts';
import { makeTestApp } from '../helpers/app.ts';
import { ORIGIN, TestClient } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';

let files = 0;
/**
 * A clean file of 3 rows. The tests of a suite share a database, and the same
 * person (national ID, or name and date of birth) is never registered twice,
 * so each file gets its own birth year and national IDs.
 */
function cleanFile() {
  const n = ++files;
  const year = 1940 + n;
  const id = (k: number) => `031${String(n).padStart(6, '0')}${k}${k}${k}`;
  const csv = [
    'ho_ten,ngay_sinh,gioi_tinh,cccd,dien_thoai,dia_chi,tinh,xa,nguoi_than,dien_thoai_nguoi_than',
    `Nguyễn Văn An,05/09/${year},nam,${id(1)},0912 345 678,"Số 5, ngõ 12",Hải Phòng,Phường Lê Chân,Nguyễn Thị Hoa,0987 111 222`,
    `Trần Thị Bình,${year}-01-31,nữ,,0987654321,,thanh pho hai phong,le chan,,`,
    `Lê Văn Cường,1/2/${year},Nam,${id(3)},,,31,,,`,
  ].join('\r\n');
  return { csv, year, ids: [id(1), id(3)] as const };
}

/** The text of the hidden `csv` field, as a browser would send it back. */
function csvField(html: string): string {
  const m = /<textarea[^>]*name="csv"[^>]*>([\s\S]*?)<\/textarea>/.exec(html);
  if (!m) throw new Error('no csv field in the page');
  const text = m[1]!.replace(/&(#(\d+)|#x([0-9a-f]+)|amp|lt|gt|quot|apos);/gi, (_all, _e, dec: string | undefined, hex: string | undefined) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" }[_all.toLowerCase()] ?? _all;
  });
  // The HTML parser drops one line break right after <textarea>.
  return text.startsWith('\n') ? text.slice(1) : text;
}

/** The problems table of a preview page: [row, column, message] per line. */
function problemRows(html: string): string[][] {
  const body = /<tbody hx-disable="?[^>]*>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((tr) => [...tr[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((td) => td[1]!));
}

describeEachDatabase('patient import from a CSV file', (get) => {
  async function setup(role: 'nurse' | 'doctor' | 'counsellor' = 'nurse') {
    const { db } = get();
    const t = makeTestApp(db);
    const clinic = await makeClinic(db, { name: 'Cơ sở Lê Chân' });
    const user = await makeUser(db, role, [clinic.id]);
    const { token, csrfToken } = await sessionFor(db, user.id);
    const c = new TestClient(t.app);
    c.setCookie('mp_session', token);
    c.csrf = csrfToken;
    const today = serviceDay(new Date(), 'Asia/Ho_Chi_Minh');
    return { ...t, db, c, clinic, user, today };
  }

  /** A multipart POST as the browser sends it: Origin set, CSRF token in the header. */
  async function post(c: TestClient, fields: Record<string, string | File>) {
    const fd = new FormData();
    for (const [k, v] of Object.entries(fields)) fd.append(k, v);
    const res = await c.request('/patients/import', { method: 'POST', body: fd, headers: { origin: ORIGIN, 'x-csrf-token': c.csrf } });
    return { res, html: await res.text() };
  }
  const upload = (c: TestClient, clinicId: string, content: string | Uint8Array, name = 'benh-nhan.csv') =>
    post(c, { clinicId, file: new File([content as BlobPart], name, { type: 'text/csv' }) });
  const confirm = (c: TestClient, clinicId: string, csv: string) => post(c, { clinicId, confirm: '1', csv });

  async function patientCount(clinicId?: string): Promise<number> {
    const [row] = await get().db.select({ n: count() }).from(patients).where(clinicId ? eq(patients.homeClinicId, clinicId) : undefined);
    return Number(row!.n);
  }
  async function importAudits(clinicId: string) {
    return get().db.select().from(auditLog).where(and(eq(auditLog.action, 'patient_import'), eq(auditLog.clinicId, clinicId)));
  }

  it('shows the upload form with a label on every control and the user’s clinics only', async () => {
    const { c, clinic, db } = await setup();
    const other = await makeClinic(db, { name: 'Cơ sở không phải của tôi' });
    const { res, html } = await c.get('/patients/import');
    expect(res.status).toBe(200);
    expect(html).toContain('enctype="multipart/form-data"');
    expect(html).toContain('<label for="import-file">Tệp CSV</label>');
    expect(html).toContain('accept=".csv,text/csv"');
    expect(html).toContain('<label for="import-clinic">Đăng ký vào cơ sở</label>');
    expect(html).toContain(`value="${clinic.id}"`);
    expect(html).not.toContain(other.id);
  });

  it('a clean file of 3 rows: the preview writes nothing, the confirm registers all 3 in one go with one audit row', async () => {
    const { c, clinic, db } = await setup();
    const { csv, year, ids } = cleanFile();
    const before = await patientCount();
    const preview = await upload(c, clinic.id, csv);
    expect(preview.res.status).toBe(200);
    for (const name of ['Nguyễn Văn An', 'Trần Thị Bình', 'Lê Văn Cường']) expect(preview.html).toContain(name);
    expect(preview.html).toContain('Số 5, ngõ 12, Phường Lê Chân, Thành phố Hải Phòng');
    expect(preview.html).toContain('Nhập 3 người bệnh');
    expect(preview.html).toContain('name="confirm" value="1"');
    expect(preview.html).toContain('<label for="import-csv">');
    expect(await patientCount()).toBe(before);
    expect(await importAudits(clinic.id)).toHaveLength(0);

    const done = await confirm(c, clinic.id, csvField(preview.html));
    expect(done.res.status).toBe(303);
    expect(done.res.headers.get('location')).toBe('/patients');
    expect(decodeURIComponent(c.cookies.get('mp_flash') ?? '')).toContain('import_done');

    const rows = await db.select().from(patients).where(eq(patients.homeClinicId, clinic.id)).orderBy(asc(patients.code));
    expect(rows.map((p) => p.code)).toEqual([`${clinic.code}-00001`, `${clinic.code}-00002`, `${clinic.code}-00003`]);
    expect(rows[0]).toMatchObject({ fullName: 'Nguyễn Văn An', birthDate: `${year}-09-05`, sex: 'male', nationalId: ids[0], phone: '0912 345 678', phoneDigits: '0912345678', street: 'Số 5, ngõ 12', provinceCode: 31, communeCode: 11383, nextOfKinName: 'Nguyễn Thị Hoa', hivStatus: 'unknown', searchName: 'nguyen van an' });
    expect(rows[1]).toMatchObject({ fullName: 'Trần Thị Bình', birthDate: `${year}-01-31`, sex: 'female', nationalId: null, provinceCode: 31, communeCode: 11383 });
    expect(rows[2]).toMatchObject({ fullName: 'Lê Văn Cường', birthDate: `${year}-02-01`, nationalId: ids[1], provinceCode: 31, communeCode: null });
    expect(rows.every((p) => p.createdBy !== null)).toBe(true);

    const audits = await importAudits(clinic.id);
    expect(audits).toHaveLength(1);
    expect(audits[0]!.details).toEqual({ clinicId: clinic.id, count: 3, codes: rows.map((p) => p.code) });
    expect(JSON.stringify(audits[0])).not.toMatch(new RegExp(`Nguyễn|Trần|Cường|${ids[0]}`));

    // Sending the same file again (back button, double click) registers nobody twice.
    const again = await confirm(c, clinic.id, csv);
    expect(again.res.status).toBe(422);
    expect(again.html).toContain('Số CCCD này đã có trong hồ sơ một người bệnh khác.');
    expect(again.html).toContain('Đã có người bệnh cùng họ tên và ngày sinh');
    expect(await patientCount(clinic.id)).toBe(3);
  });

  it('a file with problems shows each with its row and the column as written, and writes nothing', async () => {
    const { c, clinic, db, today } = await setup();
    const csv = [
      'Họ tên,NGAY_SINH,Giới tính,CCCD,Tỉnh,Xã,STT',
      'Nguyễn Văn An,31/02/1985,nam,,,,1',
      'Trần Thị Bình,01/01/1990,nữ,03108501234,,,2',
      'Lê Văn Cường,01/01/1980,nam,,Hải Phòng,Phường Không Có,3',
      ',01/01/1980,nam,,,,4',
      'Phạm Văn Dũng,02/02/1982,nam,031082000222,,,5',
      'Hoàng Văn Em,03/03/1983,nam,031082000222,,,6',
      'Võ Thị Phương,04/04/1984,không rõ,,,,7',
    ].join('\n');
    const before = await patientCount();
    const r = await upload(c, clinic.id, csv);
    expect(r.res.status).toBe(422);
    expect(r.html).toContain('7 lỗi cần sửa trong tệp trước khi nhập. Chưa có gì được ghi.');
    expect(r.html).toContain('Các cột không được nhập: STT.');
    expect(r.html).not.toContain('name="confirm"');
    expect(problemRows(r.html)).toEqual([
      ['2', 'NGAY_SINH', 'Ngày không hợp lệ (ngày/tháng/năm).'],
      ['3', 'CCCD', 'Số CCCD phải có đúng 12 chữ số. Nếu số bắt đầu bằng 0, có thể Excel đã bỏ mất số 0: định dạng cột là Văn bản (Text) rồi lưu lại.'],
      ['4', 'Xã', 'Không tìm thấy xã / phường này trong tỉnh / thành phố đã ghi.'],
      ['5', 'Họ tên', 'Vui lòng nhập thông tin này.'],
      ['6', 'CCCD', 'Trùng với một dòng khác trong tệp.'],
      ['7', 'CCCD', 'Trùng với một dòng khác trong tệp.'],
      ['8', 'Giới tính', 'Giới tính ghi là nam, nữ hoặc khác.'],
    ]);
    expect(await patientCount()).toBe(before);

    // The service says the same, with catalogue keys.
    const preview = await previewImport(db, csv, clinic.id, [clinic.id], today);
    expect(preview.problems).toEqual([
      { row: 2, column: 'NGAY_SINH', message: 'err_date' },
      { row: 3, column: 'CCCD', message: 'import_national_id_zeros' },
      { row: 4, column: 'Xã', message: 'import_unknown_commune' },
      { row: 5, column: 'Họ tên', message: 'err_required' },
      { row: 6, column: 'CCCD', message: 'import_duplicate_in_file' },
      { row: 7, column: 'CCCD', message: 'import_duplicate_in_file' },
      { row: 8, column: 'Giới tính', message: 'import_bad_sex' },
    ]);
    // Confirming this text anyway is refused the same way.
    const forced = await confirm(c, clinic.id, csv);
    expect(forced.res.status).toBe(422);
    expect(problemRows(forced.html)).toHaveLength(7);
    expect(await patientCount()).toBe(before);
  });

  it('whole-file problems: a missing header, no data rows, too many rows', async () => {
    const { clinic, db, today } = await setup();
    const p = (csv: string) => previewImport(db, csv, clinic.id, null, today);
    expect((await p('ho_ten,gioi_tinh\nAn,nam\n')).problems).toEqual([{ row: 1, column: 'ngay_sinh', message: 'import_bad_header' }]);
    expect((await p('ho_ten,ngay_sinh,gioi_tinh,ho ten\n')).problems).toEqual([{ row: 1, column: 'ho ten', message: 'import_duplicate_header' }]);
    expect((await p('')).problems).toEqual([{ row: 0, column: '', message: 'import_empty' }]);
    expect((await p('ho_ten,ngay_sinh,gioi_tinh\r\n,,\r\n\r\n')).problems).toEqual([{ row: 0, column: '', message: 'import_empty' }]);
    const many = ['ho_ten,ngay_sinh,gioi_tinh', ...Array.from({ length: 5001 }, (_, i) => `Người ${i},01/01/1980,nam`)].join('\n');
    expect((await p(many)).problems).toEqual([{ row: 0, column: '', message: 'import_too_many' }]);
    // A row shifted by an unquoted comma is pointed at by its column letter.
    expect((await p('ho_ten,ngay_sinh,gioi_tinh,dia_chi\nAn,01/01/1980,nam,Số 5, ngõ 12\n')).problems).toEqual([{ row: 2, column: 'E', message: 'import_extra_cells' }]);

    const c2 = await setup();
    const r = await upload(c2.c, c2.clinic.id, 'ho_ten,gioi_tinh\nAn,nam\n');
    expect(r.res.status).toBe(422);
    expect(r.html).toContain('Thiếu cột bắt buộc: ngay_sinh.');
  });

  it('reads an Excel file: UTF-8 with BOM, semicolons, CRLF, places without accents; refuses a legacy code page', async () => {
    const { c, clinic } = await setup();
    const text = 'Họ tên;Ngày sinh;Giới tính;Tỉnh;Xã\r\nĐỗ Văn Hải;05/09/1985;Nam;tp hai phong;P. Le Chan\r\n';
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
    const r = await upload(c, clinic.id, bytes);
    expect(r.res.status).toBe(200);
    expect(r.html).toContain('Phường Lê Chân, Thành phố Hải Phòng');
    // Windows-1258 "Nguyễn" is not UTF-8.
    const legacy = await upload(c, clinic.id, new Uint8Array([0x68, 0x6f, 0x5f, 0x74, 0x65, 0x6e, 0x0a, 0x4e, 0x67, 0x75, 0x79, 0xd2, 0x6e]));
    expect(legacy.res.status).toBe(422);
    expect(legacy.html).toContain('Tệp không ở dạng UTF-8');
    const none = await post(c, { clinicId: clinic.id });
    expect(none.res.status).toBe(422);
    expect(none.html).toContain('Chọn một tệp CSV.');
  });

  it('the confirm never trusts the preview: a CSV changed since then writes nothing', async () => {
    const { c, clinic, db } = await setup();
    const { csv, year, ids } = cleanFile();
    const preview = await upload(c, clinic.id, csv);
    expect(preview.res.status).toBe(200);
    const tampered = csvField(preview.html).replace(`${year}-01-31`, `${year}-02-31`);
    const r = await confirm(c, clinic.id, tampered);
    expect(r.res.status).toBe(422);
    expect(problemRows(r.html)).toEqual([['3', 'ngay_sinh', 'Ngày không hợp lệ (ngày/tháng/năm).']]);
    expect(await patientCount(clinic.id)).toBe(0);
    expect(await importAudits(clinic.id)).toHaveLength(0);

    // Someone registered one of the file's national IDs between preview and confirm.
    const other = await makeClinic(db);
    await db.insert(patients).values({ code: `${other.code}-00001`, homeClinicId: other.id, fullName: 'Người Khác', searchName: 'nguoi khac', birthDate: '1970-01-01', sex: 'male', nationalId: ids[1] });
    const late = await confirm(c, clinic.id, csvField(preview.html));
    expect(late.res.status).toBe(422);
    expect(problemRows(late.html)).toEqual([['4', 'cccd', 'Số CCCD này đã có trong hồ sơ một người bệnh khác.']]);
    expect(await patientCount(clinic.id)).toBe(0);
  });

  it('Vietnamese, Chinese and emoji in the name column: stored exactly, or a clear message; markup is shown as text', async () => {
    const { c, clinic, db } = await setup();
    const decomposed = 'Nguye\u0302\u0303n Thi\u0323 Ngo\u0323c A\u0301nh';
    const withEmoji = ['ho_ten,ngay_sinh,gioi_tinh,dia_chi', `${decomposed},01/01/1990,nữ,<b>nhà</b> & "ngõ"`, '阮文安,02/02/1970,khác,', 'Đặng 😀 Đào,03/03/1980,nam,'].join('\n');
    const r = await upload(c, clinic.id, withEmoji);
    expect(r.res.status).toBe(422);
    expect(problemRows(r.html)).toEqual([['4', 'ho_ten', 'Họ tên chỉ gồm chữ cái, dấu cách và các dấu . &#39; -']]);

    const ok = withEmoji.split('\n').slice(0, 3).join('\n');
    const preview = await upload(c, clinic.id, ok);
    expect(preview.res.status).toBe(200);
    expect(preview.html).toContain('&lt;b&gt;nhà&lt;/b&gt; &amp; &quot;ngõ&quot;');
    expect(preview.html).not.toContain('<b>nhà</b>');
    expect(preview.html).toContain('<tbody hx-disable');
    const done = await confirm(c, clinic.id, csvField(preview.html));
    expect(done.res.status).toBe(303);
    const rows = await db.select().from(patients).where(eq(patients.homeClinicId, clinic.id)).orderBy(asc(patients.code));
    expect(rows.map((p) => [p.fullName, p.searchName, p.sex, p.street])).toEqual([
      ['Nguyễn Thị Ngọc Ánh', 'nguyen thi ngoc anh', 'female', '<b>nhà</b> & "ngõ"'],
      ['阮文安', '阮文安', 'other', ''],
    ]);
    expect(rows[0]!.fullName).toBe('Nguyễn Thị Ngọc Ánh'.normalize('NFC'));
  });

  it('a nurse of another clinic cannot import into a clinic not theirs: 404, nothing written', async () => {
    const { db, clinic } = await setup();
    const stranger = await setup();
    const { csv } = cleanFile();
    const before = await patientCount();
    const preview = await upload(stranger.c, clinic.id, csv);
    expect(preview.res.status).toBe(404);
    expect(preview.html).not.toContain('Nguyễn Văn An');
    const forced = await confirm(stranger.c, clinic.id, csv);
    expect(forced.res.status).toBe(404);
    expect(await patientCount()).toBe(before);
    await expect(previewImport(db, csv, clinic.id, [stranger.clinic.id], stranger.today)).rejects.toThrow(/not found/);
    // A clinic id that is not an id at all.
    const junk = await confirm(stranger.c, 'not-a-uuid', csv);
    expect(junk.res.status).toBe(422);
    expect(await patientCount()).toBe(before);
  });

  it('all or nothing: a row that fails at insert time leaves no patient, no code used, no audit row', async () => {
    const { c, clinic, db } = await setup();
    const csv = ['ho_ten,ngay_sinh,gioi_tinh', 'Một Người,01/01/1931,nam', 'Hai Người,02/02/1931,nam', 'Lỗi Ghi,03/03/1931,nam'].join('\n');
    const preview = await upload(c, clinic.id, csv);
    expect(preview.res.status).toBe(200);
    // The third row passes every check but the database refuses it.
    await db.execute(sql`alter table patients add constraint test_import_refuse check (full_name <> 'Lỗi Ghi')`);
    try {
      const r = await confirm(c, clinic.id, csvField(preview.html));
      expect(r.res.status).toBe(500);
    } finally {
      await db.execute(sql`alter table patients drop constraint test_import_refuse`);
    }
    expect(await patientCount(clinic.id)).toBe(0);
    expect(await importAudits(clinic.id)).toHaveLength(0);
    expect(await db.select().from(clinicCounters).where(eq(clinicCounters.clinicId, clinic.id))).toEqual([]);
    // Once the cause is gone the same file goes in whole, numbered from 1.
    const r = await confirm(c, clinic.id, csv);
    expect(r.res.status).toBe(303);
    const codes = (await db.select({ code: patients.code }).from(patients).where(eq(patients.homeClinicId, clinic.id)).orderBy(asc(patients.code))).map((p) => p.code);
    expect(codes).toEqual([1, 2, 3].map((n) => `${clinic.code}-0000${n}`));
  });

  it('all or nothing under a real race (PostgreSQL): a national ID committed by another transaction during the insert', async (ctx) => {
    const t = get();
    if (t.driver !== 'postgres' || !t.url) return ctx.skip();
    const { clinic, user, today } = await setup();
    const other = await makeClinic(t.db);
    const csv = ['ho_ten,ngay_sinh,gioi_tinh,cccd', 'Một Người,01/01/1932,nam,079080000001', 'Hai Người,02/02/1932,nam,079080000002'].join('\n');
    const rival = postgres(t.url, { max: 1, onnotice: () => {} });
    const watcher = postgres(t.url, { max: 1, onnotice: () => {} });
    try {
      let outcome: Awaited<ReturnType<typeof commitImport>> | undefined;
      let failure: unknown = null;
      await rival.begin(async (tx) => {
        // Not yet committed: the import's checks cannot see it, its insert waits on the unique index.
        await tx`insert into patients (code, home_clinic_id, full_name, search_name, birth_date, sex, national_id) values (${`${other.code}-00001`}, ${other.id}, 'Người Khác', 'nguoi khac', '1970-01-01', 'male', '079080000002')`;
        const pending = commitImport({ db: t.db, clock: { now: () => new Date() } }, { userId: user.id, address: null }, csv, clinic.id, [clinic.id], today).then(
          (o) => (outcome = o),
          (e: unknown) => (failure = e),
        );
        for (let i = 0; i < 100; i++) {
          const [w] = await watcher`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
          if (w!.n > 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(outcome).toBeUndefined();
        // Committing the rival makes the import's insert fail; it must undo every row.
        void pending;
      });
      for (let i = 0; i < 100 && !outcome && !failure; i++) await new Promise((r) => setTimeout(r, 50));
      expect(failure).toBeNull();
      expect(outcome).toEqual({ ok: false, preview: expect.objectContaining({ problems: [{ row: 3, column: 'cccd', message: 'err_national_id_taken' }] }) });
      expect(await patientCount(clinic.id)).toBe(0);
      expect(await importAudits(clinic.id)).toHaveLength(0);
    } finally {
      await rival.end();
      await watcher.end();
    }
  });
});
