// security.md "Faults": the database restarting — requests answer 503 with a
// message, the process stays up, and it recovers by itself. Simulated on
// PostgreSQL by terminating every connection of the test's database, as a
// server restart does (PGlite runs in the process and cannot restart alone).
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { ensureAdminUnits } from '../../db/reference-data.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { createPostgresDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';

describe.runIf(!!process.env.TEST_DATABASE_URL)('database restart [postgres]', () => {
  it('answers 503 while connections are dropped, then recovers without a restart of ours', async () => {
    const created = await createPostgresDatabase();
    const database = await openDatabase({ kind: 'postgres', url: created.url });
    try {
      await ensureAdminUnits(database.db);
      const { app } = makeTestApp(database.db);
      const clinic = await makeClinic(database.db);
      const user = await makeUser(database.db, 'nurse', [clinic.id]);
      const { token } = await sessionFor(database.db, user.id);
      const c = new TestClient(app);
      c.setCookie('mp_session', token);
      expect((await c.get('/home')).res.status).toBe(200);

      const name = new URL(created.url).pathname.slice(1);
      const admin = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
      // Refuse new connections for a moment, and cut the existing ones.
      await admin.unsafe(`alter database "${name}" with allow_connections false`);
      await admin.unsafe(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`);
      const during = await c.get('/home');
      expect(during.res.status).toBe(503);
      expect(during.html).toContain('tạm thời không kết nối được cơ sở dữ liệu');
      expect(during.res.headers.get('retry-after')).toBeTruthy();
      await admin.unsafe(`alter database "${name}" with allow_connections true`);
      await admin.end();

      let status = 0;
      for (let i = 0; i < 20 && status !== 200; i++) {
        status = (await c.get('/home')).res.status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect(status).toBe(200);
    } finally {
      await database.close();
      await created.drop();
    }
  });
});
