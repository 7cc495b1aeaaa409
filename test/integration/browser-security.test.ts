// security.md "The browser" and "Inputs": CSRF in two layers, security
// headers, no inline script, escaped user text, size limits.
import { expect, it } from 'vitest';
import { makeTestApp } from '../helpers/app.ts';
import { ORIGIN, TestClient } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';
import { clinics } from '../../db/schema.ts';
import { eq } from 'drizzle-orm';

describeEachDatabase('browser security', (get) => {
  async function adminClient() {
    const { db } = get();
    const t = makeTestApp(db);
    const clinic = await makeClinic(db);
    const admin = await makeUser(db, 'admin', [clinic.id]);
    const { token, csrfToken } = await sessionFor(db, admin.id);
    const c = new TestClient(t.app);
    c.setCookie('mp_session', token);
    c.csrf = csrfToken;
    return { ...t, c, clinic, admin, token, csrfToken };
  }
  const newClinic = (code: string, name = 'Điểm cấp phát') => ({ code, name, kind: 'facility', parentId: '', provinceCode: '31', communeCode: '11329', address: '', timeZone: 'Asia/Ho_Chi_Minh', active: 'true' });

  it('refuses a POST without the session’s token, with a wrong token, or from another site; writes nothing', async () => {
    const { c, app, token, csrfToken } = await adminClient();
    const { db } = get();
    expect((await c.post('/admin/clinics', newClinic('CSRF1'), { csrf: null })).res.status).toBe(403);
    expect((await c.post('/admin/clinics', newClinic('CSRF2'), { csrf: 'x'.repeat(43) })).res.status).toBe(403);
    const crossSite = await c.post('/admin/clinics', newClinic('CSRF3'), { headers: { origin: 'https://evil.example' } });
    expect(crossSite.res.status).toBe(403);
    expect(crossSite.html).toContain('Phiên biểu mẫu không hợp lệ');
    const fetchSite = await c.post('/admin/clinics', newClinic('CSRF4'), { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(fetchSite.res.status).toBe(403);
    // The token in the htmx header works as well as the form field.
    const viaHeader = await app.request(`${ORIGIN}/admin/clinics`, {
      method: 'POST',
      headers: { cookie: `mp_session=${token}`, 'x-csrf-token': csrfToken, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(newClinic('CSRF5')).toString(),
    });
    expect(viaHeader.status).toBe(303);
    const written = await db.select({ code: clinics.code }).from(clinics);
    expect(written.map((w) => w.code).filter((x) => x.startsWith('CSRF'))).toEqual(['CSRF5']);
  });

  it('login itself needs the pre-login token (double submit)', async () => {
    const { app } = await adminClient();
    const res = await app.request(`${ORIGIN}/login`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=admin&password=whatever-123',
    });
    expect(res.status).toBe(403);
  });

  it('sends the security headers; pages are no-store; static files are cacheable', async () => {
    const { c } = await adminClient();
    const { res, html } = await c.get('/home');
    const h = res.headers;
    const csp = h.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(h.get('x-content-type-options')).toBe('nosniff');
    expect(h.get('referrer-policy')).toBe('same-origin');
    expect(h.get('cache-control')).toBe('no-store');
    // No inline script, no inline handlers, no hx-on, and htmx locked down.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toContain('hx-on');
    expect(html).toContain('&quot;allowEval&quot;:false');
    expect(html).toContain('&quot;historyCacheSize&quot;:0');
    expect(html).toContain('&quot;selfRequestsOnly&quot;:true');
    expect(html).not.toMatch(/https?:\/\/(unpkg|cdn|cdnjs|jsdelivr)/);
    const version = /htmx\.min\.js\?v=([0-9a-f]+)/.exec(html)![1];
    const js = await c.request(`/static/htmx.min.js?v=${version}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toContain('htmx');
  });

  it('escapes user text and disables htmx inside user-written regions', async () => {
    const { c, app } = await adminClient();
    const payload = '<img src=x onerror=alert(1)><a hx-get="/logout" hx-trigger="load">x</a>';
    await c.get('/admin/clinics/new');
    const r = await c.post('/admin/clinics', newClinic('XSS1', payload));
    expect(r.res.status).toBe(303);
    const list = await c.get('/admin/clinics');
    expect(list.html).not.toContain('<img src=x');
    expect(list.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // The table body holding user text carries hx-disable.
    expect(list.html).toMatch(/<tbody hx-disable[^>]*>.*XSS1/s);
    void app;
  });

  it('answers 413 to a huge body quickly, and 431 is left to Node for huge headers', async () => {
    const { c } = await adminClient();
    const big = await c.request('/admin/clinics', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, 'content-length': String(3 * 1024 * 1024) },
      body: 'a='.padEnd(3 * 1024 * 1024, 'x'),
    });
    expect(big.status).toBe(413);
  });

  it('an unknown page is a 404 page in the user’s language, not a stack trace', async () => {
    const { c } = await adminClient();
    const { res, html } = await c.get('/no/such/page');
    expect(res.status).toBe(404);
    expect(html).toContain('Không tìm thấy');
    expect(html).not.toMatch(/\s+at\s+\S+\s+\(/);
    const badId = await c.get('/admin/clinics/not-a-uuid/edit');
    expect(badId.res.status).toBe(404);
  });

  it('a clinic’s record is changed only through the app, and the change is audited in the same transaction', async () => {
    const { c, clinic } = await adminClient();
    const { db } = get();
    await c.get(`/admin/clinics/${clinic.id}/edit`);
    const r = await c.post(`/admin/clinics/${clinic.id}`, { ...newClinic('IGNORED', 'Tên mới'), code: 'IGNORED' });
    expect(r.res.status).toBe(303);
    const [row] = await db.select().from(clinics).where(eq(clinics.id, clinic.id));
    expect(row!.name).toBe('Tên mới');
    expect(row!.code).toBe(clinic.code); // the code never changes
  });
});
