// Start-up as an operator meets it: bad configuration and an unreachable
// database are told in plain words (no stack trace); data and the demo survive
// a restart; the demo is seeded once, and only when asked for.
import { afterAll, describe, expect, it } from 'vitest';
import type { DatabaseTarget } from '../../db/client.ts';
import { createPostgresDatabase } from '../helpers/db.ts';
import { runServerExpectingExit } from '../helpers/server-process.ts';
import { Cleanup, DEMO_PASSWORD, hasStackTrace, listedClinicCodes, login, loginAsAdmin, postClinic, readDbFacts } from './helpers.ts';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

describe('refusing to start', () => {
  it('lists every bad variable in one message, without a stack trace', async () => {
    const dataDir = cleanup.dir('mp-start-');
    const { code, output } = await runServerExpectingExit({ DATA_DIR: dataDir, PORT: 'abc', SESSION_IDLE_MINUTES: '0', DEFAULT_TIME_ZONE: 'Mars/Base' }, 30_000);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull(); // it ended by itself, before runServerExpectingExit's 30 s kill
    expect(output.match(/could not start/g)).toHaveLength(1);
    expect(output.match(/Invalid configuration/g)).toHaveLength(1);
    for (const name of ['PORT', 'SESSION_IDLE_MINUTES', 'DEFAULT_TIME_ZONE']) expect(output).toMatch(new RegExp(`^\\s*- ${name}:`, 'm'));
    expect(hasStackTrace(output)).toBe(false);
  }, 60_000);

  it('says the database cannot be reached when DATABASE_URL points nowhere, without a stack trace or the password', async () => {
    const { code, output } = await runServerExpectingExit({ DATABASE_URL: 'postgres://postgres:s3cret-pw@127.0.0.1:1/none' }, 30_000);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(output).toMatch(/could not start/);
    expect(output).toMatch(/database/i);
    expect(output).toMatch(/cannot be reached/);
    expect(output).not.toContain('s3cret-pw');
    expect(hasStackTrace(output)).toBe(false);
  }, 60_000);
});

describe('the embedded database across restarts', () => {
  it('prints its URL, keeps data over a clean restart and seeds the demo only once', async () => {
    const dataDir = cleanup.dir('mp-start-');
    await checkRestartKeepsData({ DATA_DIR: dataDir }, { kind: 'pglite', dataDir });
  }, 180_000);

  it('creates no account with SEED_DEMO=false', async () => {
    const dataDir = cleanup.dir('mp-start-');
    const server = await cleanup.start({ DATA_DIR: dataDir, SEED_DEMO: 'false', DEMO_PASSWORD });
    expect(server.output()).toContain(`Methadone Point is running at ${server.url}`);
    expect(server.output()).not.toContain('demo_seeded');
    expect((await login(server.url, 'admin', DEMO_PASSWORD)).status).toBe(401);
    expect((await login(server.url, 'admin', 'methadone-demo')).status).toBe(401);
    await server.stop('SIGTERM');
    const facts = await readDbFacts({ kind: 'pglite', dataDir });
    expect(facts.users).toBe(0);
    expect(facts.demoSeeds).toBe(0);
  }, 180_000);
});

describe.runIf(process.env.TEST_DATABASE_URL)('PostgreSQL (TEST_DATABASE_URL) across restarts', () => {
  it('prints its URL, keeps data over a clean restart and seeds the demo only once', async () => {
    const pg = await createPostgresDatabase('mp_process');
    cleanup.defer(pg.drop);
    await checkRestartKeepsData({ DATABASE_URL: pg.url }, { kind: 'postgres', url: pg.url });
  }, 180_000);
});

/** Two starts on one database: the clinic made in the first is there in the second; 5 demo users, one seed. */
async function checkRestartKeepsData(env: Record<string, string>, target: DatabaseTarget): Promise<void> {
  const full = { ...env, SEED_DEMO: 'true', DEMO_PASSWORD };
  const first = await cleanup.start(full);
  expect(first.output()).toContain(`Methadone Point is running at ${first.url}`);
  expect(first.output()).toContain('demo_seeded');
  const admin = await loginAsAdmin(first.url);
  expect(await postClinic(admin, 'RS01')).toBe(303);
  expect(await listedClinicCodes(admin)).toContain('RS01');
  await first.stop('SIGTERM');
  expect((await first.exited).code).toBe(0);

  const second = await cleanup.start(full);
  expect(second.output()).toContain(`Methadone Point is running at ${second.url}`);
  expect(second.output()).not.toContain('demo_seeded');
  const again = await loginAsAdmin(second.url);
  expect(await listedClinicCodes(again)).toEqual(new Set(['HP01', 'HP01A', 'RS01']));
  await second.stop('SIGTERM');
  expect((await second.exited).code).toBe(0);

  const facts = await readDbFacts(target);
  expect(facts.users).toBe(5);
  expect(facts.demoSeeds).toBe(1);
  expect(facts.clinicCodes).toEqual(new Set(['HP01', 'HP01A', 'RS01']));
  expect(facts.chain.ok).toBe(true);
}
