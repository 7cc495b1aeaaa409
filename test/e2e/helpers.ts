// Browser tests: the real server (as `npm start` runs it) on each database,
// driven by Debian's Chromium through playwright-core. Each test file declares
// its suite once with describeE2E(); it runs on PGlite, and also on PostgreSQL
// when TEST_DATABASE_URL is set, each with its own server, database and browser.
//
// Every page a test opens is watched: a console error, an uncaught exception or
// a Content-Security-Policy violation fails the test (checked in afterEach).
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import type { Role } from '../../db/schema.ts';
import { messages, type Messages } from '../../views/i18n/index.ts';
import { createPostgresDatabase, DRIVERS, type Driver } from '../helpers/db.ts';
import { ROOT, startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';

export const VI: Messages = messages('vi');
export const EN: Messages = messages('en');

export const DEMO_PASSWORD = 'demo-pass-1234';
export const ROLES: Role[] = ['admin', 'nurse', 'doctor', 'counsellor', 'manager'];

/** Screenshots (and failure screenshots) go here, at the repository root; the folder is git-ignored. */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * A camera for getUserMedia without hardware: Chromium's fake device (a moving
 * test pattern), and its permission prompt answered "allow" by itself.
 */
export const FAKE_CAMERA_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

export interface E2EOptions {
  /** Chromium flags added to CHROMIUM_ARGS for this suite's browser (e.g. FAKE_CAMERA_ARGS). */
  chromiumArgs?: string[];
}

/** Bounded waits: generous for a loaded 2-core CI machine, short enough to fail fast. */
const ACTION_TIMEOUT_MS = 10_000;
const NAVIGATION_TIMEOUT_MS = 20_000;

/** One browser context (its own cookies) with one page, and what went wrong on it. */
export class Tab {
  /** Console errors, uncaught exceptions and CSP violations seen so far. */
  readonly problems: string[] = [];
  /** Console errors deliberately not counted as problems (the favicon's 404: see its own test). */
  readonly ignoredConsoleErrors: string[] = [];
  private expectedHttpErrors: { path: string; status: number }[] = [];

  constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  /**
   * Declares an HTTP error status the test provokes on purpose (e.g. 401 for a
   * wrong password): Chromium logs every 4xx/5xx response as a console error.
   */
  expectHttpError(pathname: string, status: number): void {
    this.expectedHttpErrors.push({ path: pathname, status });
  }

  /** Returns and clears the problems recorded so far. */
  takeProblems(): string[] {
    return this.problems.splice(0);
  }

  pathname(): string {
    return new URL(this.page.url()).pathname;
  }

  /** @internal */
  isExpectedConsoleError(text: string, url: string): boolean {
    const m = /Failed to load resource: the server responded with a status of (\d{3})/.exec(text);
    if (!m) return false;
    const status = Number(m[1]);
    let pathname: string;
    try {
      pathname = new URL(url).pathname;
    } catch {
      return false;
    }
    // The browser's own favicon probe: checked by a test of its own ("favicon"), not on every page.
    if (pathname === '/favicon.ico' && status === 404) {
      this.ignoredConsoleErrors.push(`${text} [${url}]`);
      return true;
    }
    return this.expectedHttpErrors.some((e) => e.path === pathname && e.status === status);
  }
}

export interface E2E {
  driver: Driver;
  server: ServerProcess;
  baseUrl: string;
  browser: Browser;
  /** A fresh browser context (no cookies) with a watched page; closed and checked after the test. */
  newTab(options?: BrowserContextOptions): Promise<Tab>;
}

async function openTab(browser: Browser, baseUrl: string, options: BrowserContextOptions): Promise<Tab> {
  const context = await browser.newContext({ baseURL: baseUrl, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh', ...options });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);
  const page = await context.newPage();
  const tab = new Tab(context, page, baseUrl);
  // The page's own report of CSP violations (Chromium also logs them as console errors).
  await context.exposeBinding('__e2eReportCsp', (_source, report: string) => {
    tab.problems.push(`CSP violation: ${report}`);
  });
  await context.addInitScript(() => {
    document.addEventListener(
      'securitypolicyviolation',
      (e) => {
        const report = (window as unknown as { __e2eReportCsp?: (s: string) => void }).__e2eReportCsp;
        report?.(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} on ${e.documentURI}${e.sample ? ` (${e.sample})` : ''}`);
      },
      true,
    );
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location().url;
    if (tab.isExpectedConsoleError(msg.text(), where)) return;
    tab.problems.push(`console error on ${page.url()}: ${msg.text()}${where ? ` [${where}]` : ''}`);
  });
  page.on('pageerror', (err) => tab.problems.push(`uncaught exception on ${page.url()}: ${err.message}`));
  return tab;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 120);
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

/**
 * Declares the suite once per database: a server (PGlite in a temporary
 * DATA_DIR; or a fresh PostgreSQL database, dropped afterwards) seeded with the
 * demo, and one Chromium. `get()` gives that target inside the tests.
 */
export function describeE2E(name: string, body: (get: () => E2E) => void, options: E2EOptions = {}): void {
  const args = [...CHROMIUM_ARGS, ...(options.chromiumArgs ?? [])];
  for (const driver of DRIVERS) {
    describe(`${name} [${driver}]`, { timeout: 60_000 }, () => {
      let env: E2E | undefined;
      let browserStarting: Promise<Browser> | null = null;
      let dataDir: string | null = null;
      let dropDatabase: (() => Promise<void>) | null = null;
      let tabs: Tab[] = [];
      let serverOutputShown = false;

      beforeAll(async () => {
        browserStarting = chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
        // Attached now so a failed launch is never an unhandled rejection while the server starts.
        browserStarting.catch(() => {});
        let serverEnv: Record<string, string>;
        if (driver === 'pglite') {
          dataDir = tempDir('mp-e2e-');
          serverEnv = { DATA_DIR: dataDir, SEED_DEMO: 'true', DEMO_PASSWORD };
        } else {
          const created = await createPostgresDatabase('mp_e2e');
          dropDatabase = created.drop;
          serverEnv = { DATABASE_URL: created.url, SEED_DEMO: 'true', DEMO_PASSWORD };
        }
        const server = await startServer(serverEnv, { timeoutMs: 90_000 });
        let browser: Browser;
        try {
          browser = await browserStarting;
        } catch (e) {
          await server.stop();
          throw e;
        }
        env = {
          driver,
          server,
          baseUrl: server.url,
          browser,
          newTab: async (options = {}) => {
            const tab = await openTab(browser, server.url, options);
            tabs.push(tab);
            return tab;
          },
        };
      }, 120_000);

      afterEach(async (context) => {
        const open = tabs;
        tabs = [];
        const failed = context.task.result?.state === 'fail';
        const problems: string[] = [];
        for (const [i, tab] of open.entries()) {
          if (failed && !tab.page.isClosed()) {
            await tab.page
              .screenshot({ path: artifactPath(`failure-${safeName(context.task.name)}-${driver}-${i}.png`), fullPage: true })
              .catch(() => {});
          }
          problems.push(...tab.problems);
          await tab.context.close().catch(() => {});
        }
        if (failed && env && !serverOutputShown) {
          serverOutputShown = true;
          process.stderr.write(`\n--- server output (${driver}), last 3000 characters ---\n${env.server.output().slice(-3000)}\n`);
        }
        expect(problems, 'console errors, uncaught exceptions or CSP violations on the pages visited').toEqual([]);
      });

      afterAll(async () => {
        // Also when beforeAll failed half-way: whatever was started is stopped.
        const browser = await browserStarting?.catch(() => null);
        await browser?.close().catch(() => {});
        await env?.server.stop();
        await dropDatabase?.();
        if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      }, 60_000);

      body(() => {
        if (!env) throw new Error('e2e target not ready (see the beforeAll error)');
        return env;
      });
    });
  }
}

// ---- page helpers ------------------------------------------------------------

/** The login form's parts, found by their labels in the given language. */
export function loginForm(page: Page, t: Messages = VI) {
  return {
    username: page.getByLabel(t.login_username, { exact: true }),
    password: page.getByLabel(t.login_password, { exact: true }),
    submit: page.getByRole('button', { name: t.login_submit, exact: true }),
  };
}

/**
 * Does `action` (a click, Enter, ...), which must POST a form to `path`, and
 * expects the server's 303 redirect (post → redirect → get). Any other answer
 * fails at once with the status and what the page says, instead of a timeout.
 */
export async function postExpectingRedirect(page: Page, path: string, action: () => Promise<void>): Promise<void> {
  const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === path);
  await action();
  const res = await answered;
  if (res.status() !== 303) {
    await page.waitForLoadState('load').catch(() => {});
    const said = (await page.locator('main').innerText({ timeout: 2_000 }).catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 300);
    throw new Error(`POST ${path} answered ${res.status()} instead of a 303 redirect; the page says: "${said}"`);
  }
  await page.waitForLoadState('load');
}

/** Logs in through the form and waits for the home page. */
export async function login(tab: Tab, username: string, opts: { password?: string; t?: Messages } = {}): Promise<void> {
  const { page } = tab;
  await page.goto('/login');
  const form = loginForm(page, opts.t ?? VI);
  await form.username.fill(username);
  await form.password.fill(opts.password ?? DEMO_PASSWORD);
  await postExpectingRedirect(page, '/login', () => form.submit.click());
  await page.waitForURL((u) => u.pathname === '/home');
  await page.locator('h1[data-role-home]').waitFor({ state: 'visible' });
}

/** Logs out with the header's button and waits for the login page. */
export async function logout(tab: Tab, t: Messages = VI): Promise<void> {
  const { page } = tab;
  await postExpectingRedirect(page, '/logout', () => page.getByRole('button', { name: t.logout, exact: true }).click());
  await page.waitForURL((u) => u.pathname === '/login');
}

/** The main navigation's link targets, in order. */
export async function navHrefs(page: Page, t: Messages = VI): Promise<string[]> {
  const nav = page.getByRole('navigation', { name: t.nav_label });
  await nav.waitFor({ state: 'visible' });
  return nav.getByRole('link').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
}

/** How far the page scrolls sideways (0 when it fits the viewport). */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
}
