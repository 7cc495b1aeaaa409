// security.md "Who sees what": deny by default, one permission table, and a
// test that lists every route of the app and tries every role on it.
import { expect, it } from 'vitest';
import { ROLES, type Role } from '../../db/schema.ts';
import { can, PUBLIC, ROUTE_ACCESS } from '../../server/auth/permissions.ts';
import { makeTestApp } from '../helpers/app.ts';
import { ORIGIN } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';

describeEachDatabase('access matrix', (get) => {
  it('every route of the app is in the access table, and the table names no route that does not exist', () => {
    const { app } = makeTestApp(get().db);
    const registered = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`));
    const missing = [...registered].filter((r) => !(r in ROUTE_ACCESS));
    const stale = Object.keys(ROUTE_ACCESS).filter((r) => !registered.has(r));
    expect(missing).toEqual([]);
    expect(stale).toEqual([]);
  });

  it('tries every role (and no session) on every route: allowed answers, denied gets 403, anonymous goes to login', async () => {
    const { db } = get();
    const { app } = makeTestApp(db);
    const clinic = await makeClinic(db);
    const target = await makeUser(db, 'nurse', [clinic.id]);
    const users = Object.fromEntries(await Promise.all(ROLES.map(async (r) => [r, await makeUser(db, r, [clinic.id])] as const))) as unknown as Record<Role, { id: string }>;
    const params: Record<string, string> = { clinicId: clinic.id, userId: target.id, file: 'app.css' };
    const failures: string[] = [];

    for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
      const [method, pattern] = route.split(' ') as [string, string];
      const path = pattern.replace(/:(\w+)/g, (_, p: string) => params[p]!);
      const send = async (cookie: string | null, csrf: string) =>
        app.request(`${ORIGIN}${path}`, {
          method,
          headers: { origin: ORIGIN, 'x-csrf-token': csrf, ...(cookie ? { cookie } : {}), ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
          ...(method === 'POST' ? { body: '' } : {}),
        });

      // Without a session.
      const anon = await send(null, 'x');
      if (access === PUBLIC) {
        if (anon.status === 401 || (anon.status === 303 && anon.headers.get('location') === '/login')) failures.push(`${route} anonymous: public route asked for login`);
      } else {
        const ok = method === 'GET' ? anon.status === 303 && anon.headers.get('location') === '/login' : anon.status === 401 || anon.status === 403;
        if (!ok) failures.push(`${route} anonymous: got ${anon.status}`);
      }
      if (access === PUBLIC) continue;

      for (const role of ROLES) {
        // A fresh session each time: some routes (logout, deactivate) end sessions.
        const { token, csrfToken } = await sessionFor(db, users[role].id);
        const res = await send(`mp_session=${token}`, csrfToken);
        const allowed = can(role, access);
        if (allowed && (res.status === 403 || res.status === 401)) failures.push(`${route} ${role}: allowed but got ${res.status}`);
        if (!allowed && res.status !== 403) failures.push(`${route} ${role}: denied but got ${res.status}`);
        if (res.status >= 500) failures.push(`${route} ${role}: ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
  }, 180_000);

  it('a clinic the user does not work at answers 404, as if it did not exist', async () => {
    const { db } = get();
    const { app } = makeTestApp(db);
    const mine = await makeClinic(db);
    const other = await makeClinic(db, { name: 'Cơ sở khác' });
    for (const role of ['nurse', 'doctor', 'counsellor', 'manager'] as const) {
      const user = await makeUser(db, role, [mine.id]);
      const { token } = await sessionFor(db, user.id);
      const cookie = `mp_session=${token}`;
      expect((await app.request(`${ORIGIN}/clinics/${mine.id}`, { headers: { cookie } })).status).toBe(200);
      const res = await app.request(`${ORIGIN}/clinics/${other.id}`, { headers: { cookie } });
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('Cơ sở khác');
    }
  });

  it('a manager’s audit log shows only their clinics’ records', async () => {
    const { db } = get();
    const { app } = makeTestApp(db);
    const mine = await makeClinic(db, { name: 'Clinic Mine' });
    const other = await makeClinic(db, { name: 'Clinic Elsewhere' });
    const admin = await makeUser(db, 'admin', [mine.id]);
    const { audit } = await import('../../server/services/audit.ts');
    await audit(db, { action: 'clinic_update', actorId: admin.id, clinicId: mine.id, entityType: 'clinic', entityId: mine.id, at: new Date() });
    await audit(db, { action: 'clinic_update', actorId: admin.id, clinicId: other.id, entityType: 'clinic', entityId: other.id, at: new Date() });
    const manager = await makeUser(db, 'manager', [mine.id]);
    const { token } = await sessionFor(db, manager.id);
    const html = await (await app.request(`${ORIGIN}/audit`, { headers: { cookie: `mp_session=${token}` } })).text();
    expect(html).toContain('Clinic Mine');
    expect(html).not.toContain('Clinic Elsewhere');
  });
});
