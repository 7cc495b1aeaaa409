// Shared by the process-level tests: a cookie-keeping HTTP client for a real
// server (fetch, no redirects followed), the counter as the page drives it
// (the demo's nurse, the card's forms, htmx posts), a registry of spawned servers and temp
// folders cleaned up in afterAll whatever happened, and direct access to a
// stopped server's database.
import { CookieJar } from '../helpers/cookies.ts';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { openDatabase, type DatabaseTarget, type Db } from '../../db/client.ts';
import { rows } from '../../db/sql.ts';
import { verifyAuditChain } from '../../server/services/audit.ts';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';

export const DEMO_PASSWORD = 'demo-pass-1234';

/** A browser-like client for a running server: keeps cookies, sends Origin, reads `_csrf` from pages. */
export class HttpClient {
  private readonly jar = new CookieJar();
  readonly cookies = this.jar.cookies;
  csrf = '';
  constructor(readonly base: string) {}

  private remember(res: Response): void {
    this.jar.remember(res);
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', this.jar.header());
    const res = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual', signal: init.signal ?? AbortSignal.timeout(20_000) });
    this.remember(res);
    return res;
  }

  async get(path: string): Promise<{ status: number; html: string; location: string | null }> {
    const res = await this.request(path);
    const html = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (m) this.csrf = m[1]!;
    return { status: res.status, html, location: res.headers.get('location') };
  }

  /** Posts a form as a browser would: Origin of the server, the page's CSRF token in `_csrf`. */
  async post(path: string, form: Record<string, string>): Promise<{ status: number; html: string; location: string | null }> {
    const body = new URLSearchParams({ _csrf: this.csrf, ...form });
    const res = await this.request(path, {
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.base },
    });
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  }
}

/** Logs in through the login form; returns the client and the login's status (303 on success). */
export async function login(base: string, username: string, password: string): Promise<{ client: HttpClient; status: number }> {
  const client = new HttpClient(base);
  const page = await client.get('/login');
  if (page.status !== 200 || !client.cookies.has('mp_csrf') || !client.csrf) throw new Error(`unexpected login page (${page.status})`);
  const res = await client.post('/login', { username, password });
  if (res.status === 303 && !client.cookies.has('mp_session')) throw new Error('login answered 303 without a session cookie');
  return { client, status: res.status };
}

/** Logs in and loads a page holding the session's CSRF token; throws unless the login succeeds. */
export async function loginAsAdmin(base: string, password = DEMO_PASSWORD): Promise<HttpClient> {
  const { client, status } = await login(base, 'admin', password);
  if (status !== 303) throw new Error(`admin login answered ${status}`);
  const form = await client.get('/admin/clinics/new');
  if (form.status !== 200) throw new Error(`GET /admin/clinics/new answered ${form.status}`);
  return client;
}

export function clinicForm(code: string): Record<string, string> {
  return {
    code,
    name: `Cơ sở thử ${code}`,
    kind: 'facility',
    parentId: '',
    provinceCode: '31',
    communeCode: '11329',
    address: `${code} Lạch Tray`,
    timeZone: 'Asia/Ho_Chi_Minh',
    active: 'true',
  };
}

/** Creates a clinic through the admin form; returns the HTTP status (303 = created). */
export async function postClinic(client: HttpClient, code: string, signal?: AbortSignal): Promise<number> {
  const body = new URLSearchParams({ _csrf: client.csrf, ...clinicForm(code) });
  const res = await client.request('/admin/clinics', {
    method: 'POST',
    body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: client.base },
    ...(signal ? { signal } : {}),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The clinic codes shown on the admin's clinic list. */
export async function listedClinicCodes(client: HttpClient): Promise<Set<string>> {
  const page = await client.get('/admin/clinics');
  if (page.status !== 200) throw new Error(`GET /admin/clinics answered ${page.status}`);
  return new Set([...page.html.matchAll(/<code>([A-Z0-9]+)<\/code>/g)].map((m) => m[1]!));
}

/** The hidden fields of the counter card's step form, as the page would post them: the step's first form, "no signs" at the check, "given" (or the pump's button) at the confirmation. */
export function stepFields(html: string): Record<string, string> {
  const form = /<form[^>]*action="\/counter\/(?:check|dose)"[^>]*>([\s\S]*?)<\/form>/.exec(html)?.[1] ?? '';
  const out: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** What the counter card says of the patient (give, already_dosed, …). */
export const kindOf = (html: string) => /data-kind="([a-z_]+)"/.exec(html)?.[1] ?? null;

/** The demo's nurse logged in, at the counter: the client and the clinic the counter opens on. */
export async function nurse(base: string): Promise<{ client: HttpClient; clinic: string }> {
  const { client, status } = await login(base, 'nurse', DEMO_PASSWORD);
  if (status !== 303) throw new Error(`nurse login answered ${status}`);
  const page = await client.get('/counter');
  const clinic = /name="clinic" value="([0-9a-f-]{36})"/.exec(page.html)?.[1];
  if (page.status !== 200 || !clinic) throw new Error(`GET /counter answered ${page.status}`);
  return { client, clinic };
}

/** Posts with the session's CSRF token in the header, as htmx does. */
export async function hxPost(client: HttpClient, path: string, form: Record<string, string>): Promise<{ status: number; html: string }> {
  const res = await client.request(path, {
    method: 'POST',
    body: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: client.base, 'hx-request': 'true', 'x-csrf-token': client.csrf },
  });
  return { status: res.status, html: await res.text() };
}

/** Keeps track of what a test file spawned or created, so afterAll can clean up after a failure too. */
export class Cleanup {
  private children = new Set<ChildProcess>();
  private dirs: string[] = [];
  private tasks: (() => Promise<void>)[] = [];

  dir(prefix = 'mp-process-'): string {
    const d = tempDir(prefix);
    this.dirs.push(d);
    return d;
  }

  /** Starts a server (LOG_LEVEL warn unless given); it is killed in run() if still alive. */
  start(env: Record<string, string>, opts: { timeoutMs?: number } = {}): Promise<ServerProcess> {
    return startServer({ LOG_LEVEL: 'warn', ...env }, { timeoutMs: opts.timeoutMs ?? 90_000, onSpawn: (child) => {
      this.children.add(child);
      child.on('exit', () => this.children.delete(child));
    } });
  }

  defer(task: () => Promise<void>): void {
    this.tasks.push(task);
  }

  async run(): Promise<void> {
    await Promise.all(
      [...this.children].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      }),
    );
    this.children.clear();
    for (const t of this.tasks.splice(0).reverse()) {
      try {
        await t();
      } catch (e) {
        console.error('cleanup task failed:', e);
      }
    }
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

export interface DbFacts {
  users: number;
  demoSeeds: number;
  clinicCodes: Set<string>;
  /** Clinics without their `clinic_create` audit row (the two are written in one transaction). */
  clinicsWithoutAudit: number;
  chain: { ok: boolean; rows: number };
}

/**
 * Opens a database the server is not using (a stopped server's DATA_DIR, or a
 * PostgreSQL database) without migrating it, and reads what the tests check.
 */
export async function readDbFacts(target: DatabaseTarget): Promise<DbFacts> {
  const database = await openDatabase(target, { migrate: false });
  try {
    const db: Db = database.db;
    const [u] = await rows<{ n: number | string }>(db, sql`select count(*) as n from users`);
    const [s] = await rows<{ n: number | string }>(db, sql`select count(*) as n from audit_log where action = 'demo_seed'`);
    const codes = await rows<{ code: string }>(db, sql`select code from clinics`);
    const [orphans] = await rows<{ n: number | string }>(
      db,
      sql`select count(*) as n from clinics c
          where c.code not in ('HP01', 'HP01A')
            and not exists (select 1 from audit_log a where a.action = 'clinic_create' and a.entity_id = c.id::text)`,
    );
    const chain = await verifyAuditChain(db);
    return {
      users: Number(u!.n),
      demoSeeds: Number(s!.n),
      clinicCodes: new Set(codes.map((r) => r.code)),
      clinicsWithoutAudit: Number(orphans!.n),
      chain: { ok: chain.ok, rows: chain.rows },
    };
  } finally {
    await database.close();
  }
}

/** True if the output holds a JavaScript stack frame line. */
export function hasStackTrace(output: string): boolean {
  return /^\s{4}at /m.test(output);
}
