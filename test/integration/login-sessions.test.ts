// security.md "Accounts and sessions": uniform failures, throttling that cannot
// lock out the whole clinic, fresh session ids, server-side expiry, and a
// password change or disabled account ending other sessions at once. Each
// runs twice: with every session read from the database, and as the server
// runs, with live sessions kept in memory (server/auth/session-cache.ts).
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auditLog, sessions, users } from '../../db/schema.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, TEST_PASSWORD } from '../helpers/fixtures.ts';
import { FixedClock } from '../../server/clock.ts';
import { startSessionCache } from '../../server/auth/session-cache.ts';

const MIN = 60_000;

for (const kept of [false, true]) {
  describeEachDatabase(kept ? 'login and sessions, kept in memory' : 'login and sessions', (get) => {
    let stopCache = async () => {};
    beforeAll(async () => {
      if (kept) stopCache = await startSessionCache(get());
    });
    afterAll(() => stopCache());

    async function setup(overrides: Record<string, string> = {}) {
      const { db } = get();
      const clock = new FixedClock(new Date('2026-11-23T00:30:00Z'));
      const t = makeTestApp(db, overrides, clock);
      const clinic = await makeClinic(db);
      const user = await makeUser(db, 'nurse', [clinic.id]);
      const client = (address = '10.0.0.1') => new TestClient(t.app, { 'x-forwarded-for': address });
      const loginAs = async (c: TestClient, username = user.username, password = TEST_PASSWORD) => {
        await c.get('/login');
        return c.post('/login', { username, password });
      };
      return { ...t, db, clock, clinic, user, client, loginAs };
    }

    it('logs in with a fresh session id each time and lands on the role’s home page', async () => {
      const { client, loginAs, db, user } = await setup();
      const c = client();
      const { res } = await loginAs(c);
      expect(res.status).toBe(303);
      const first = c.cookies.get('mp_session');
      expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const home = await c.get('/');
      expect(home.res.headers.get('location')).toBe('/home');
      const page = await c.get('/home');
      expect(page.html).toContain('data-role-home="nurse"');
      await loginAs(c);
      expect(c.cookies.get('mp_session')).not.toBe(first);
      // Only the hash of the token is stored.
      const stored = await db.select().from(sessions).where(eq(sessions.userId, user.id));
      expect(stored.some((s) => s.idHash === first)).toBe(false);
    });

    it('the session cookie is HttpOnly and SameSite; over HTTPS it is __Host- and Secure', async () => {
      const { client, loginAs, app, user } = await setup({ COOKIE_SECURE: 'auto' });
      const c = client();
      await c.get('/login');
      const res = await app.request('http://localhost/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', cookie: `mp_csrf=${c.csrf}` },
        body: new URLSearchParams({ _csrf: c.csrf, username: 'nobody', password: 'x'.repeat(10) }).toString(),
      });
      expect(res.status).toBe(401);
      const plain = await loginAs(c);
      const cookie = plain.res.headers.getSetCookie().find((h) => h.startsWith('mp_session='))!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
      // Behind an HTTPS proxy (TRUST_PROXY is on in tests).
      const s = client();
      await s.get('/login', { 'x-forwarded-proto': 'https' });
      const secure = await s.post('/login', { username: user.username, password: TEST_PASSWORD }, { headers: { 'x-forwarded-proto': 'https', origin: 'https://localhost' } });
      const sc = secure.res.headers.getSetCookie().find((h) => h.startsWith('__Host-mp_session='));
      expect(sc).toBeDefined();
      expect(sc).toMatch(/Secure/);
      expect(sc).toMatch(/Path=\//);
    });

    it('an unknown user and a wrong password get the same answer, and both are audited', async () => {
      const { client, loginAs, db, user } = await setup();
      const a = await loginAs(client('10.1.0.1'), 'no-such-user');
      const b = await loginAs(client('10.1.0.2'), user.username, 'wrong-password-123');
      expect(a.res.status).toBe(401);
      expect(b.res.status).toBe(401);
      const msg = (h: string) => /id="login-error">([^<]*)</.exec(h)?.[1];
      expect(msg(a.html)).toBe('Tên đăng nhập hoặc mật khẩu không đúng.');
      expect(msg(b.html)).toBe(msg(a.html));
      const failed = await db.select().from(auditLog).where(eq(auditLog.action, 'login_failed'));
      expect(failed.some((r) => r.details.username === 'no-such-user')).toBe(true);
      expect(failed.some((r) => r.entityId === user.id)).toBe(true);
    });

    it('throttles an account after 5 failures with a clear message, even with the right password, then lifts', async () => {
      const { client, loginAs, clock, user } = await setup();
      for (let i = 0; i < 5; i++) await loginAs(client(`10.2.0.${i}`), user.username, 'wrong-password-123');
      const blocked = await loginAs(client('10.2.0.99'));
      expect(blocked.res.status).toBe(429);
      expect(blocked.html).toContain('Đăng nhập sai quá nhiều lần');
      expect(blocked.html).toMatch(/15 phút/);
      clock.advance(16 * MIN);
      expect((await loginAs(client('10.2.0.99'))).res.status).toBe(303);
    });

    it('throttles an address after 5 failures across accounts', async () => {
      const { client, loginAs, user } = await setup();
      const c = client('10.3.0.1');
      for (let i = 0; i < 5; i++) await loginAs(c, `someone-${i}`, 'wrong-password-123');
      expect((await loginAs(client('10.3.0.1'))).res.status).toBe(429);
      expect((await loginAs(client('10.3.0.2'), user.username)).res.status).toBe(303);
    });

    it('cannot be turned into a lockout of the clinic: a nurse on her own counter browser still logs in', async () => {
      const { client, loginAs, user, clock } = await setup();
      const counter = client('10.4.0.1'); // the clinic's one NAT address
      expect((await loginAs(counter)).res.status).toBe(303);
      await counter.get('/home');
      expect((await counter.post('/logout', {})).res.status).toBe(303);
      clock.advance(MIN);
      // Someone hammers her account, from the same address and others.
      for (let i = 0; i < 6; i++) await loginAs(client(i % 2 ? '10.4.0.1' : '203.0.113.9'), user.username, 'wrong-password-123');
      expect((await loginAs(client('10.4.0.1'))).res.status).toBe(429);
      // Her browser carries the trusted-device cookie from her earlier login.
      expect((await loginAs(counter)).res.status).toBe(303);
    });

    it('expires sessions when idle and at the absolute limit, on the server', async () => {
      const { client, loginAs, clock } = await setup({ SESSION_IDLE_MINUTES: '30', SESSION_ABSOLUTE_MINUTES: '480' });
      const c = client();
      await loginAs(c);
      clock.advance(29 * MIN);
      expect((await c.get('/home')).res.status).toBe(200);
      clock.advance(31 * MIN);
      const idle = await c.get('/home');
      expect(idle.res.status).toBe(303);
      expect(idle.res.headers.get('location')).toBe('/login');

      const d = client();
      await loginAs(d);
      for (let i = 0; i < 16; i++) {
        clock.advance(29 * MIN); // active all shift long (7 h 44 min)
        expect((await d.get('/home')).res.status).toBe(200);
      }
      clock.advance(20 * MIN); // 8 h 4 min: past the absolute limit
      expect((await d.get('/home')).res.status).toBe(303);
    });

    it('a password change ends every other session of the user at once, and keeps this one', async () => {
      const { client, loginAs } = await setup();
      const here = client();
      const elsewhere = client('10.5.0.2');
      await loginAs(here);
      await loginAs(elsewhere);
      await here.get('/account/password');
      const r = await here.post('/account/password', { current: TEST_PASSWORD, next: 'a-new-long-passphrase', confirm: 'a-new-long-passphrase' });
      expect(r.res.status).toBe(303);
      expect((await here.get('/home')).res.status).toBe(200);
      expect((await elsewhere.get('/home')).res.status).toBe(303);
    });

    it('refuses a weak or mismatched new password with a message per field (422)', async () => {
      const { client, loginAs } = await setup();
      const c = client();
      await loginAs(c);
      await c.get('/account/password');
      const common = await c.post('/account/password', { current: TEST_PASSWORD, next: 'password123', confirm: 'password123' });
      expect(common.res.status).toBe(422);
      expect(common.html).toContain('quá phổ biến');
      const short = await c.post('/account/password', { current: TEST_PASSWORD, next: 'short', confirm: 'short' });
      expect(short.html).toContain('từ 8 đến 128 ký tự');
      const wrong = await c.post('/account/password', { current: 'not-my-password', next: 'a-new-long-passphrase', confirm: 'a-new-long-passphrase' });
      expect(wrong.html).toContain('Mật khẩu hiện tại không đúng.');
      const mismatch = await c.post('/account/password', { current: TEST_PASSWORD, next: 'a-new-long-passphrase', confirm: 'another-long-passphrase' });
      expect(mismatch.html).toContain('không giống nhau');
    });

    it('a deactivated account loses its sessions at once and cannot log in', async () => {
      const { client, loginAs, db, user, clinic } = await setup();
      const nurse = client();
      await loginAs(nurse);
      const admin = await makeUser(db, 'admin', [clinic.id]);
      const a = client('10.6.0.1');
      await loginAs(a, admin.username);
      await a.get(`/admin/staff/${user.id}/edit`);
      const r = await a.post(`/admin/staff/${user.id}/deactivate`, {});
      expect(r.res.status).toBe(303);
      expect((await nurse.get('/home')).res.status).toBe(303);
      expect((await loginAs(client('10.6.0.2'))).res.status).toBe(401);
      const [row] = await db.select().from(users).where(eq(users.id, user.id));
      expect(row!.active).toBe(false);
    });

    it('after an admin reset the user must choose a new password before anything else', async () => {
      const { client, loginAs, db, user, clinic } = await setup();
      const admin = await makeUser(db, 'admin', [clinic.id]);
      const a = client('10.7.0.1');
      await loginAs(a, admin.username);
      await a.get(`/admin/staff/${user.id}/edit`);
      expect((await a.post(`/admin/staff/${user.id}/reset-password`, { password: 'temporary-pass-77' })).res.status).toBe(303);
      const n = client('10.7.0.2');
      expect((await loginAs(n, user.username, 'temporary-pass-77')).res.status).toBe(303);
      const home = await n.get('/home');
      expect(home.res.headers.get('location')).toBe('/account/password');
      const page = await n.get('/account/password');
      expect(page.html).toContain('vừa được đặt lại');
      await n.post('/account/password', { current: 'temporary-pass-77', next: 'my-own-passphrase-1', confirm: 'my-own-passphrase-1' });
      expect((await n.get('/home')).res.status).toBe(200);
    });

    it('logout ends the session on the server and clears site data', async () => {
      const { client, loginAs } = await setup();
      const c = client();
      await loginAs(c);
      const token = c.cookies.get('mp_session')!;
      await c.get('/home');
      const out = await c.post('/logout', {});
      expect(out.res.status).toBe(303);
      expect(out.res.headers.get('clear-site-data')).toContain('"cache"');
      // Even a copy of the old cookie is worthless now.
      const replay = new TestClient((await setup()).app);
      replay.setCookie('mp_session', token);
      expect((await replay.get('/home')).res.status).toBe(303);
    });
  });
}
