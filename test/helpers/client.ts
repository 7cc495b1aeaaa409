// A small browser for app.request(): keeps cookies, sends Origin like a
// browser would, and reads the CSRF token from the pages it gets.
import type { Hono } from 'hono';
import { CookieJar } from './cookies.ts';

export const ORIGIN = 'http://localhost';

export class TestClient {
  private readonly jar = new CookieJar();
  readonly cookies = this.jar.cookies;
  csrf = '';
  constructor(
    private app: Hono<any>,
    private defaults: Record<string, string> = {},
  ) {}

  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  private cookieHeader(): string {
    return this.jar.header();
  }

  private remember(res: Response): void {
    this.jar.remember(res);
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(this.defaults)) if (!headers.has(k)) headers.set(k, v);
    if (this.cookies.size && !headers.has('cookie')) headers.set('cookie', this.cookieHeader());
    const res = await this.app.request(`${ORIGIN}${path}`, { ...init, headers });
    this.remember(res);
    return res;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<{ res: Response; html: string }> {
    const res = await this.request(path, { headers });
    const html = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (m) this.csrf = m[1]!;
    return { res, html };
  }

  /** Posts a form like a browser: Origin set, the page's CSRF token in `_csrf`. */
  async post(path: string, form: Record<string, string | string[]>, opts: { csrf?: string | null; headers?: Record<string, string> } = {}): Promise<{ res: Response; html: string }> {
    const body = new URLSearchParams();
    const token = opts.csrf === undefined ? this.csrf : opts.csrf;
    if (token !== null) body.append('_csrf', token);
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    const res = await this.request(path, {
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, ...opts.headers },
    });
    return { res, html: await res.text() };
  }
}
