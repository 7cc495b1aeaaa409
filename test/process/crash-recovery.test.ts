// The embedded database must keep every write the server acknowledged, even
// when the process dies without warning (SIGKILL is as close as a test gets to
// a power cut: nothing runs after it). The server must then come back on the
// same folder by itself: its own stale lock and PGlite's stale postmaster.pid
// are its job, not the operator's.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { messages } from '../../views/i18n/index.ts';
import { Cleanup, DEMO_PASSWORD, listedClinicCodes, loginAsAdmin, postClinic, readDbFacts } from './helpers.ts';

const ROUNDS = 3; // kills in one test: a single kill could land in a lucky moment
const WRITERS = 4; // concurrent request loops, so several requests are in flight at the kill
const MIN_ACKS_PER_ROUND = 5;

describe('The embedded database survives a power cut', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('keeps every acknowledged clinic, seeds once and keeps the audit chain whole across repeated SIGKILLs', async () => {
    const dataDir = cleanup.dir('mp-crash-');
    const env = { DATA_DIR: dataDir, SEED_DEMO: 'true', DEMO_PASSWORD };
    const acknowledged = new Set<string>();
    const unexpected: string[] = [];
    let next = 1;

    for (let round = 0; round < ROUNDS; round++) {
      // Comes up on the folder left by the previous kill, with no clean-up in between.
      const server = await cleanup.start(env);
      const admin = await loginAsAdmin(server.url);
      if (round > 0) {
        const listed = await listedClinicCodes(admin);
        const lost = [...acknowledged].filter((c) => !listed.has(c));
        expect(lost, `acknowledged clinics missing after kill ${round}`).toEqual([]);
      }

      let killed = false;
      let inFlight = 0;
      let ackedThisRound = 0;
      const writers = Array.from({ length: WRITERS }, async () => {
        while (!killed) {
          const code = `K${String(next++).padStart(4, '0')}`;
          inFlight++;
          try {
            const status = await postClinic(admin, code);
            if (status === 303) {
              acknowledged.add(code);
              ackedThisRound++;
            } else if (!killed) unexpected.push(`${code}: HTTP ${status}`);
          } catch (e) {
            // The kill cuts the connection: that request was never acknowledged.
            if (!killed) unexpected.push(`${code}: ${(e as Error).message}`);
          } finally {
            inFlight--;
          }
        }
      });

      // Kill after 1.2 s, 1.5 s, 1.8 s (varied from round to round), once a few
      // clinics were acknowledged in this round (a busy machine is slower).
      const began = Date.now();
      const killAfter = 1_200 + 300 * (round % 3);
      while ((Date.now() - began < killAfter || ackedThisRound < MIN_ACKS_PER_ROUND) && Date.now() - began < 20_000) await sleep(25);
      const inFlightAtKill = inFlight;
      killed = true;
      server.child.kill('SIGKILL');
      const exit = await server.exited;
      await Promise.all(writers);

      expect(exit.signal).toBe('SIGKILL');
      expect(unexpected).toEqual([]);
      expect(ackedThisRound, 'too few clinics acknowledged before the kill').toBeGreaterThanOrEqual(MIN_ACKS_PER_ROUND);
      expect(inFlightAtKill, 'no request was in flight at the kill').toBeGreaterThan(0);
    }

    // The last restart: everything acknowledged is there, through the admin's own pages.
    const server = await cleanup.start(env);
    expect(server.output()).not.toContain('demo_seeded');
    const admin = await loginAsAdmin(server.url);
    const listed = await listedClinicCodes(admin);
    expect([...acknowledged].filter((c) => !listed.has(c))).toEqual([]);
    const audit = await admin.get('/audit');
    expect(audit.status).toBe(200);
    // The admin's locale is the default, Vietnamese: "Chuỗi kiểm tra toàn vẹn hợp lệ (N bản ghi)."
    const [before, after] = messages('vi').audit_chain_ok({ n: 424242 }).split('424242') as [string, string];
    expect(audit.html).toContain(`<p class="ok">${before}`);
    expect(audit.html).toMatch(new RegExp(`${escapeRegExp(before)}\\d+${escapeRegExp(after)}`));
    expect(audit.html).not.toContain(messages('vi').audit_chain_broken({ id: 0 }).split('0')[0]!);

    await server.stop('SIGTERM');
    expect((await server.exited).code).toBe(0);

    // And in the folder itself, once the server is gone.
    const facts = await readDbFacts({ kind: 'pglite', dataDir });
    expect([...acknowledged].filter((c) => !facts.clinicCodes.has(c))).toEqual([]);
    expect(facts.users).toBe(5);
    expect(facts.demoSeeds).toBe(1);
    expect(facts.clinicsWithoutAudit).toBe(0);
    expect(facts.chain.ok).toBe(true);
    console.info(`crash-recovery: ${acknowledged.size} acknowledged clinics over ${ROUNDS} kills, ${facts.clinicCodes.size - 2} found, audit chain of ${facts.chain.rows} rows intact`);
  }, 240_000);
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
