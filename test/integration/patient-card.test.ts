// The printable treatment card: the patient's own clinic sees it, with the
// name, the code, and a barcode that a scanner reads back as the code; another
// clinic gets a 404; nothing is cached.
import { expect, it } from 'vitest';
import { patientPhotos, patients } from '../../db/schema.ts';
import { fold } from '../../db/fold.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { readCode128 } from '../helpers/code128-reader.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';

/** A tiny but well-formed JPEG (SOI … EOI). */
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xd9]);

describeEachDatabase('patient treatment card', (get) => {
  async function setup(opts: { photo?: boolean } = {}) {
    const { db } = get();
    const t = makeTestApp(db);
    const clinic = await makeClinic(db, { name: 'Cơ sở điều trị Ngô Quyền' });
    const other = await makeClinic(db);
    const fullName = 'Nguyễn Thị Hồng Nhung';
    const code = `${clinic.code}-00042`;
    const [p] = await db
      .insert(patients)
      .values({ code, homeClinicId: clinic.id, fullName, searchName: fold(fullName), birthDate: '1985-09-05', sex: 'female' })
      .returning();
    if (opts.photo) await db.insert(patientPhotos).values({ patientId: p!.id, jpeg: JPEG });
    const client = async (clinicId: string) => {
      const nurse = await makeUser(db, 'nurse', [clinicId]);
      const { token } = await sessionFor(db, nurse.id);
      const c = new TestClient(t.app);
      c.setCookie('mp_session', token);
      return c;
    };
    return { patient: p!, clinic, other, client };
  }

  it('shows the card to a nurse of the clinic: name, code, birth date, clinic, photo and a barcode that reads back as the code', async () => {
    const { patient, clinic, client } = await setup({ photo: true });
    const c = await client(clinic.id);
    const { res, html } = await c.get(`/patients/${patient.id}/card`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(html).toContain('Nguyễn Thị Hồng Nhung');
    expect(html).toContain(patient.code);
    expect(html).toContain('05/09/1985');
    expect(html).toContain('Cơ sở điều trị Ngô Quyền');
    expect(html).toContain(`src="/patients/${patient.id}/photo"`);
    expect(html).not.toContain('Chưa có ảnh');
    expect(html).toContain('data-print');
    expect(html).toContain('In thẻ');
    expect(html).not.toMatch(/\son\w+=/i); // no inline handlers
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline scripts
    const svg = /<svg[^>]*role="img"[\s\S]*?<\/svg>/.exec(html)?.[0];
    expect(svg).toBeDefined();
    expect(svg).toContain(`aria-label="${patient.code}"`);
    const read = readCode128(svg!);
    expect(read.text).toBe(patient.code);
    expect(read.quietLeft).toBeGreaterThanOrEqual(10);
    expect(read.quietRight).toBeGreaterThanOrEqual(10);
  });

  it('without a photo, says so', async () => {
    const { patient, clinic, client } = await setup();
    const c = await client(clinic.id);
    const { res, html } = await c.get(`/patients/${patient.id}/card`);
    expect(res.status).toBe(200);
    expect(html).toContain('Chưa có ảnh');
    expect(html).not.toContain(`/patients/${patient.id}/photo`);
  });

  it('another clinic’s nurse gets a 404, as do a malformed and an unknown id', async () => {
    const { patient, other, client } = await setup({ photo: true });
    const c = await client(other.id);
    const r = await c.get(`/patients/${patient.id}/card`);
    expect(r.res.status).toBe(404);
    expect(r.res.headers.get('cache-control')).toBe('no-store');
    expect(r.html).not.toContain(patient.fullName);
    expect(r.html).not.toContain(patient.code);
    expect((await c.get('/patients/not-a-uuid/card')).res.status).toBe(404);
    expect((await c.get('/patients/6b1d2c1e-6a4f-4e59-9a51-8c3f6f0e2d11/card')).res.status).toBe(404);
  });
});
