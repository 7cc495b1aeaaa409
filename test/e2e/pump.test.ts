// The counter with a dispensing pump, in a real browser: the real server (as
// `npm start` runs it, with PUMP_PATH) drives the MPP/1 simulator, a process
// of its own on a socat PTY pair. A nurse scans a patient's code + Enter,
// Enter ("no signs"), then the pump button (which says the ml); the card
// shows the pump's progress, polled every 300 ms, with the volume rising;
// when the pump says DONE the card gives way to a notice with the volume the
// pump measured, which is what the simulator says it delivered (it delivers
// 99% of what it is asked: 7,9 ml, hence 79 mg given); and the dose record is
// completed in the database with that volume.
//
// The server is started here and not by describeE2E (helpers.ts), which takes
// no environment of its own: the database is prepared first (the demo, the
// pump PUMP_PATH names, a calibration, and a patient with an order in force
// who was dosed yesterday, so the decision is "give" 80 mg = 8 ml), then the
// server opens it with PUMP_PATH set and finds that pump on the path.
// Like describeE2E, it runs on PGlite, and on PostgreSQL when TEST_DATABASE_URL
// is set, and every page is watched for console errors, uncaught exceptions
// and Content-Security-Policy violations.
import { rmSync } from 'node:fs';
import { and, eq } from 'drizzle-orm';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseTarget, type Db } from '../../db/client.ts';
import { fold } from '../../db/fold.ts';
import { ensureAdminUnits } from '../../db/reference-data.ts';
import { doseOrders, doses, doseSlots, episodes, patients, pumpEvents, users } from '../../db/schema.ts';
import { seedDemo } from '../../db/seed.ts';
import { txnOfDose } from '../../devices/mpp/protocol.ts';
import { serviceDay, systemClock } from '../../server/clock.ts';
import { ensureEnvPump } from '../../server/services/pumps.ts';
import { ensureDefaultRuleSet } from '../../server/services/rule-sets.ts';
import { createPostgresDatabase, DRIVERS, type Driver } from '../helpers/db.ts';
import { hasSocat, startSimulator, type SimProcess } from '../helpers/pump-sim.ts';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';
import { artifactPath, CHROMIUM_ARGS, DEMO_PASSWORD, login, Tab, VI } from './helpers.ts';

const CODE = 'HP01-09001';
const NAME = 'Vũ Văn Hải';
const DAILY_MG = 80;
/** mg/ml of the demo clinic's methadone. */
const CONCENTRATION = 10;
/** 80 mg at 10 mg/ml. */
const PLANNED_ML = DAILY_MG / CONCENTRATION;
const SERIAL = 'SIM-0001';
const TIME_ZONE = 'Asia/Ho_Chi_Minh';
/** Slow enough to watch: 8 ml at 4 ml/s is 2 s of pumping, a PROGRESS frame every 100 ms, ~6 polls of the page. */
const FLOW_ML_PER_S = 4;
const PROGRESS_INTERVAL_MS = 100;
/** The pump delivers 99% of what it is asked (7.92, rounded by the pump to 7.9 ml): a volume with a decimal, shown with a comma in Vietnamese. */
const DELIVERY_ERROR = 0.99;

const POLL = { timeout: 15_000 };
const ACTION_TIMEOUT_MS = 10_000;
const NAVIGATION_TIMEOUT_MS = 20_000;

const SEL = {
  scan: '#scan',
  card: 'article#card',
  noSigns: 'button[name="intoxication"][value="none"]',
  /** The confirmation form that carries the pump (the hand-measured form beside it has none). */
  pumpButton: 'form:has(input[name="pump"]) button[name="outcome"][value="given"]',
  pumpStep: '#pump-step',
  progress: '#pump-step progress',
  pumpMl: '#pump-step .pump-ml',
  notice: '#counter .notice',
} as const;

const squash = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
const pathOf = (url: string) => new URL(url).pathname;
/** As the server formats ml for Vietnamese (views/format.ts formatNumber, 2 decimals): "7,9". */
const viNumber = (n: number, digits: number) => new Intl.NumberFormat('vi-VN', { maximumFractionDigits: digits }).format(n);
const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const addDays = (day: string, n: number) => isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000));

/**
 * The database the server will open: reference data and the demo (as the
 * server itself would seed them), the pump on the simulator's path (as
 * PUMP_PATH does), a calibration (a pump is blocked without one), and the patient.
 */
async function prepareDatabase(target: DatabaseTarget, pumpPath: string): Promise<{ pumpName: string }> {
  const database = await openDatabase(target);
  try {
    const db = database.db;
    const now = systemClock.now();
    await ensureAdminUnits(db);
    await ensureDefaultRuleSet(db);
    await seedDemo(db, DEMO_PASSWORD, now);
    const pump = await ensureEnvPump({ db, clock: systemClock }, pumpPath, 9600, SERIAL);
    if (!pump) throw new Error('ensureEnvPump found no demo clinic');
    const manager = await userId(db, 'manager');
    const doctor = await userId(db, 'doctor');
    const nurse = await userId(db, 'nurse');
    await db.insert(pumpEvents).values({ pumpId: pump.id, kind: 'calibration', details: { step: 'set', old: 1, factor: 1 }, by: manager, at: now });
    await addPatient(db, { clinicId: pump.clinicId, doctor, nurse, now });
    return { pumpName: pump.name };
  } finally {
    await database.close();
  }
}

async function userId(db: Db, username: string): Promise<string> {
  const [u] = await db.select({ id: users.id }).from(users).where(eq(users.username, username));
  if (!u) throw new Error(`the demo has no ${username}`);
  return u.id;
}

/** A patient of the pump's clinic in maintenance, with an order in force and yesterday's dose: today's decision is "give" 80 mg. */
async function addPatient(db: Db, o: { clinicId: string; doctor: string; nurse: string; now: Date }): Promise<void> {
  const today = serviceDay(o.now, TIME_ZONE);
  const yesterday = addDays(today, -1);
  const [p] = await db.insert(patients).values({ code: CODE, homeClinicId: o.clinicId, fullName: NAME, searchName: fold(NAME), birthDate: '1979-03-03', sex: 'male' }).returning();
  const [ep] = await db.insert(episodes).values({ patientId: p!.id, clinicId: o.clinicId, kind: 'first', startDate: addDays(today, -60) }).returning();
  const [order] = await db
    .insert(doseOrders)
    .values({ patientId: p!.id, episodeId: ep!.id, phase: 'maintenance', startDate: addDays(today, -14), endDate: addDays(today, 15), dailyMg: DAILY_MG, prescribedBy: o.doctor, createdAt: new Date(o.now.getTime() - 15 * 86_400_000) })
    .returning();
  const [d] = await db
    .insert(doses)
    .values({ patientId: p!.id, episodeId: ep!.id, orderId: order!.id, clinicId: o.clinicId, serviceDay: yesterday, outcome: 'given', prescribedMg: DAILY_MG, givenMg: DAILY_MG, ml: PLANNED_ML, concentration: CONCENTRATION, givenBy: o.nurse, at: new Date(o.now.getTime() - 86_400_000) })
    .returning();
  await db.insert(doseSlots).values({ patientId: p!.id, serviceDay: yesterday, part: 1, doseId: d!.id });
}

/** A browser context with one page, watched as helpers.ts watches its tabs. */
async function openWatchedPage(browser: Browser, baseURL: string, problems: string[]): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, locale: 'vi-VN', timezoneId: TIME_ZONE, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);
  await context.exposeBinding('__e2eReportCsp', (_source, report: string) => void problems.push(`CSP violation: ${report}`));
  await context.addInitScript(() => {
    document.addEventListener(
      'securitypolicyviolation',
      (e) => (window as unknown as { __e2eReportCsp?: (s: string) => void }).__e2eReportCsp?.(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} on ${e.documentURI}`),
      true,
    );
  });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location().url;
    // The browser's own favicon probe (checked by a test of its own).
    if (/status of 404/.test(msg.text()) && where.endsWith('/favicon.ico')) return;
    problems.push(`console error on ${page.url()}: ${msg.text()}${where ? ` [${where}]` : ''}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught exception on ${page.url()}: ${err.message}`));
  return { context, page };
}

/** Waits until the element matching `selector` has the keyboard focus. */
async function expectFocus(page: Page, selector: string, what: string): Promise<void> {
  await expect
    .poll(() => page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector), { ...POLL, message: `${what} has the focus` })
    .toBe(true);
}

/** Presses Enter, which must send an htmx request to `path`; resolves with its status. */
async function enterFor(page: Page, path: string): Promise<number> {
  const answered = page.waitForResponse((r) => pathOf(r.url()) === path && r.request().headers()['hx-request'] === 'true', { timeout: 20_000 });
  await page.keyboard.press('Enter');
  return (await answered).status();
}

/** The <progress> value now, or null once the pump step has gone. */
async function progressValue(page: Page): Promise<number | null> {
  return page
    .locator(SEL.progress)
    .getAttribute('value', { timeout: 1_000 })
    .then((v) => (v === null ? null : Number(v)))
    .catch(() => null);
}

for (const driver of DRIVERS) {
  describe.skipIf(!hasSocat)(`e2e: the counter doses through the pump simulator [${driver}]`, { timeout: 90_000 }, () => {
    let sim: SimProcess | null = null;
    let server: ServerProcess | null = null;
    let browser: Browser | null = null;
    let target: DatabaseTarget | null = null;
    let dataDir: string | null = null;
    let dropDatabase: (() => Promise<void>) | null = null;
    /** The name PUMP_PATH gives the demo clinic's pump (server/services/pumps.ts ensureEnvPump). */
    let pumpName = '';
    let context: BrowserContext | null = null;
    let page: Page | null = null;
    const problems: string[] = [];

    beforeAll(async () => {
      const launching = chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
      launching.catch(() => {});
      sim = await startSimulator({ serial: SERIAL, flow: FLOW_ML_PER_S });
      await sim.set({ progressIntervalMs: PROGRESS_INTERVAL_MS, deliveryError: DELIVERY_ERROR });
      let serverEnv: Record<string, string>;
      if (driver === 'pglite') {
        dataDir = tempDir('mp-e2e-pump-');
        target = { kind: 'pglite', dataDir };
        serverEnv = { DATA_DIR: dataDir };
      } else {
        const created = await createPostgresDatabase('mp_e2e_pump');
        dropDatabase = created.drop;
        target = { kind: 'postgres', url: created.url };
        serverEnv = { DATABASE_URL: created.url };
      }
      ({ pumpName } = await prepareDatabase(target, sim.path));
      server = await startServer({ ...serverEnv, SEED_DEMO: 'true', DEMO_PASSWORD, PUMP_PATH: sim.path, PUMP_SERIAL: SERIAL }, { timeoutMs: 90_000 });
      browser = await launching;
    }, 150_000);

    afterEach(async (ctx) => {
      if (ctx.task.result?.state === 'fail') {
        if (page && !page.isClosed()) await page.screenshot({ path: artifactPath(`failure-pump-${driver}.png`), fullPage: true }).catch(() => {});
        if (server) process.stderr.write(`\n--- server output (${driver}), last 3000 characters ---\n${server.output().slice(-3000)}\n`);
      }
      await context?.close().catch(() => {});
      context = null;
      page = null;
      expect(problems.splice(0), 'console errors, uncaught exceptions or CSP violations on the pages visited').toEqual([]);
    });

    afterAll(async () => {
      await browser?.close().catch(() => {});
      await server?.stop();
      await sim?.stop();
      await dropDatabase?.();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('a nurse doses one patient through the pump, sees the progress rise and the volume the pump measured, and the dose is recorded', { timeout: 90_000 }, async () => {
      const opened = await openWatchedPage(browser!, server!.url, problems);
      context = opened.context;
      page = opened.page;
      const p = page;
      await login(new Tab(context, p, server!.url), 'nurse');
      await p.goto('/counter');
      await p.locator(SEL.scan).waitFor({ state: 'visible' });
      await expectFocus(p, SEL.scan, 'the scan field, on opening the counter');

      // The card: the code typed (or scanned) + Enter.
      await p.keyboard.type(CODE, { delay: 15 });
      expect(await enterFor(p, '/counter/find')).toBe(200);
      const card = p.locator(SEL.card);
      await expect.poll(() => card.getAttribute('data-patient', { timeout: 2_000 }).catch(() => null), { ...POLL, message: `the card of ${CODE}` }).toBe(CODE);
      expect(await card.getAttribute('data-kind'), `the decision for ${CODE}`).toBe('give');
      expect(squash(await card.locator('.pcard-name').textContent())).toBe(NAME);
      expect(squash(await card.locator('.dose-amount').textContent())).toMatch(new RegExp(`^${DAILY_MG} mg = ${PLANNED_ML} ml`));

      // "No signs" by Enter: the confirmation, with the pump's button (ready: identified, calibrated, idle).
      await expectFocus(p, SEL.noSigns, `"${VI.ctr_check_none}"`);
      expect(await enterFor(p, '/counter/check')).toBe(200);
      await p.getByRole('heading', { level: 3, name: VI.ctr_confirm_title }).waitFor();
      const pumpButton = p.locator(SEL.pumpButton);
      await pumpButton.waitFor({ state: 'visible' });
      expect(squash(await pumpButton.textContent())).toBe(VI.pump_button({ name: pumpName, ml: String(PLANNED_ML) }));
      expect(await p.locator('.pump-state').count(), 'no "pump not ready" warning').toBe(0);
      await expectFocus(p, SEL.pumpButton, 'the pump button');
      await p.screenshot({ path: artifactPath(`pump-confirm-${driver}.png`), fullPage: true });

      // The pump button: the server commits the pending record, sends DISPENSE and answers once the pump ACKed it.
      const posted = p.waitForResponse((r) => pathOf(r.url()) === '/counter/dose' && r.request().method() === 'POST', { timeout: 20_000 });
      await p.keyboard.press('Enter');
      const res = await posted;
      expect(res.status()).toBe(200);
      expect(new URLSearchParams(res.request().postData() ?? '').get('pump'), 'the pump posted with the dose').toMatch(/^[0-9a-f-]{36}$/);

      // The progress: the <progress> (max = the planned ml) and its text, rising as the page polls.
      const step = p.locator(SEL.pumpStep);
      await step.waitFor({ state: 'attached' });
      const doseId = await step.getAttribute('data-dose');
      expect(doseId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await p.locator(SEL.progress).getAttribute('max')).toBe(String(PLANNED_ML));
      expect(squash(await p.locator(SEL.pumpMl).textContent())).toMatch(new RegExp(`^[\\d,]+ / ${PLANNED_ML} ml$`));
      await p.getByRole('heading', { level: 3, name: VI.pump_dispensing_title }).waitFor();
      const first = await progressValue(p);
      expect(first, 'the progress bar, first read').not.toBeNull();
      const seen: number[] = [first!];
      await expect
        .poll(
          async () => {
            const v = await progressValue(p);
            if (v !== null) seen.push(v);
            return v !== null && v > first!;
          },
          { timeout: 10_000, interval: 50, message: `the progress rising above ${first} ml (seen ${seen.join(', ')})` },
        )
        .toBe(true);
      const second = seen[seen.length - 1]!;
      expect(second).toBeGreaterThan(first!);
      expect(second).toBeLessThanOrEqual(PLANNED_ML);
      await p.screenshot({ path: artifactPath(`pump-progress-${driver}.png`), fullPage: true }).catch(() => {});

      // DONE: the server swaps the working area for the notice with the measured volume.
      const notice = p.locator(SEL.notice);
      await notice.waitFor({ state: 'visible', timeout: 20_000 });
      await step.waitFor({ state: 'detached' });
      expect(await card.count(), 'the card cleared for the next patient').toBe(0);
      expect(await notice.getAttribute('class')).toContain('ok');
      const report = await sim!.report();
      const txn = report.transactions.find((t) => t.txn === txnOfDose(doseId!));
      expect(txn, `the simulator's transaction for dose ${doseId}`).toBeDefined();
      expect(txn!.state).toBe('DONE');
      expect(txn!.deliveredMl).toBeCloseTo(PLANNED_ML * DELIVERY_ERROR, 1);
      expect(report.dispenseCommands).toBe(1);
      // What was given is what the pump measured: 7,9 ml, so 79 mg at 10 mg/ml.
      const ml = viNumber(txn!.deliveredMl, 2);
      const mg = viNumber(txn!.deliveredMl * CONCENTRATION, 1);
      expect(ml).toContain(',');
      expect(squash(await notice.textContent())).toBe(VI.pump_result_done({ name: NAME, mg, ml }));
      await expectFocus(p, SEL.scan, 'the scan field, after the pump dose');
      await p.screenshot({ path: artifactPath(`pump-done-${driver}.png`), fullPage: true });

      // The pump's page, left open, follows the pump without a reload: unplugged, it says so within seconds.
      await p.goto('/pumps');
      await p.getByRole('link', { name: pumpName }).click();
      const state = p.locator('#pump-state');
      await expect.poll(async () => squash(await state.textContent()), { ...POLL, message: 'the pump page says the pump is ready' }).toBe(VI.pump_state_ready);
      expect(await p.locator('#pump-tools form').count()).toBe(2);
      await sim!.command({ cmd: 'unplug' });
      await expect.poll(async () => squash(await state.textContent()), { timeout: 20_000, message: 'the open pump page says the pump is offline' }).toBe(VI.pump_state_offline);
      // Its calibration and priming forms go with it, replaced by the line that says why.
      await expect.poll(async () => squash(await p.locator('#pump-tools').textContent()), { timeout: 10_000, message: 'the pump page withdraws its tools' }).toBe(VI.pump_tools_offline);
      expect(await p.locator('#pump-tools form').count()).toBe(0);
      await p.screenshot({ path: artifactPath(`pump-page-offline-${driver}.png`), fullPage: true });
      await context.close();
      context = null;
      page = null;

      // The record: completed, by the pump, with the pump's volume (read once the server has let go of the database).
      await server!.stop();
      const database = await openDatabase(target!, { migrate: false });
      try {
        const [row] = await database.db.select().from(doses).where(and(eq(doses.id, doseId!)));
        expect(row).toMatchObject({ status: 'completed', method: 'pump', outcome: 'given', prescribedMg: DAILY_MG });
        expect(row!.ml).toBeCloseTo(txn!.deliveredMl, 2);
        expect(row!.givenMg).toBeCloseTo(txn!.deliveredMl * CONCENTRATION, 1);
        const events = await database.db.select({ kind: pumpEvents.kind }).from(pumpEvents).where(eq(pumpEvents.doseId, doseId!));
        expect(events.map((e) => e.kind).sort()).toEqual(['dispense', 'done']);
      } finally {
        await database.close();
      }
    });
  });
}
