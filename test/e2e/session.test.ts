// Logging in and out in a real browser: the failure message, the keyboard-only
// path, that a logged-out browser cannot get the home page back, and the
// language switch (remembered for the user, not only for the browser). Also
// the self-check of the console/CSP watcher every test relies on.
import { expect, it } from 'vitest';
import { DEMO_PASSWORD, describeE2E, EN, login, loginForm, logout, postExpectingRedirect, VI, type Tab } from './helpers.ts';

describeE2E('e2e: login, logout, language', (get) => {
  it('a wrong password shows the Vietnamese message and keeps the username typed', async () => {
    const tab = await get().newTab();
    const { page } = tab;
    // The failed login answers 401, which Chromium logs as a console error: expected here.
    tab.expectHttpError('/login', 401);
    await page.goto('/login');
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('vi');
    await page.getByRole('heading', { level: 1, name: VI.login_title }).waitFor();

    const form = loginForm(page);
    await form.username.fill('nurse');
    await form.password.fill('not-the-password');
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login');
    await form.submit.click();
    expect((await answered).status(), 'POST /login with a wrong password').toBe(401);

    const alert = page.getByRole('alert');
    await alert.waitFor({ state: 'visible' });
    expect((await alert.textContent())?.trim()).toBe(VI.login_failed);
    expect(VI.login_failed).toBe('Tên đăng nhập hoặc mật khẩu không đúng.');
    expect(tab.pathname()).toBe('/login');
    // The username is kept, the password is not, and the cursor waits in the password field.
    await expect.poll(() => loginForm(page).username.inputValue()).toBe('nurse');
    expect(await loginForm(page).password.inputValue()).toBe('');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('password');
    expect(await page.locator('h1[data-role-home]').count()).toBe(0);

    // And the right password from there gets in.
    await loginForm(page).password.fill(DEMO_PASSWORD);
    await postExpectingRedirect(page, '/login', () => loginForm(page).submit.click());
    await page.waitForURL((u) => u.pathname === '/home');
    await page.locator('h1[data-role-home="nurse"]').waitFor({ state: 'visible' });
  });

  it('the login form can be completed with the keyboard only (Tab, typing, Enter)', async () => {
    const tab = await get().newTab();
    const { page } = tab;
    await page.goto('/login');
    await page.getByRole('heading', { level: 1, name: VI.login_title }).waitFor();
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el ? `${el.tagName.toLowerCase()}#${el.id}|${el.getAttribute('type') ?? ''}|${(el.textContent ?? '').trim()}` : '';
      });

    // The username field has the focus on arrival (autofocus).
    await expect.poll(focused).toMatch(/^input#username\|/);
    await page.keyboard.type('doctor');
    await page.keyboard.press('Tab');
    await expect.poll(focused).toMatch(/^input#password\|password\|/);
    await page.keyboard.type(DEMO_PASSWORD);
    await page.keyboard.press('Tab');
    await expect.poll(focused).toBe(`button#|submit|${VI.login_submit}`);
    await postExpectingRedirect(page, '/login', () => page.keyboard.press('Enter'));
    await page.waitForURL((u) => u.pathname === '/home');
    await page.locator('h1[data-role-home="doctor"]').waitFor({ state: 'visible' });
  });

  it('the header before the form is keyboard-reachable: skip link first, then brand, languages, the form', async () => {
    const tab = await get().newTab();
    const { page } = tab;
    await page.goto('/login');
    await page.getByRole('heading', { level: 1, name: VI.login_title }).waitFor();
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el?.id || (el?.textContent ?? '').trim();
      });
    await expect.poll(focused).toBe('username');
    // Back up to the top of the page with Shift+Tab ...
    const backwards: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Shift+Tab');
      backwards.push(await focused());
    }
    expect(backwards).toEqual(['English', 'Tiếng Việt', VI.app_name, VI.skip_to_content]);
    // ... where the skip link, hidden until focused, comes into view.
    const skip = page.getByRole('link', { name: VI.skip_to_content, exact: true });
    const box = await skip.boundingBox();
    expect(box && box.x >= 0 && box.y >= 0).toBe(true);
    // Then forward again with Tab, and log in from there.
    const forwards: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      forwards.push(await focused());
    }
    expect(forwards).toEqual([VI.app_name, 'Tiếng Việt', 'English', 'username']);
    await page.keyboard.type('counsellor');
    await page.keyboard.press('Tab');
    await page.keyboard.type(DEMO_PASSWORD);
    await postExpectingRedirect(page, '/login', () => page.keyboard.press('Enter'));
    await page.waitForURL((u) => u.pathname === '/home');
    await page.locator('h1[data-role-home="counsellor"]').waitFor({ state: 'visible' });
  });

  it('logout returns to /login; Back and /home afterwards do not show the home page', async () => {
    const tab = await get().newTab();
    const { page, context } = tab;
    await login(tab, 'nurse');
    await page.locator('h1[data-role-home="nurse"]').waitFor({ state: 'visible' });
    expect((await context.cookies()).some((c) => c.name === 'mp_session')).toBe(true);

    await logout(tab);
    await page.getByRole('status').filter({ hasText: VI.login_logged_out }).waitFor({ state: 'visible' });
    await page.getByRole('heading', { level: 1, name: VI.login_title }).waitFor();
    expect((await context.cookies()).some((c) => c.name === 'mp_session')).toBe(false);

    // Back: the home page is not shown from any cache; the server sends the browser to /login.
    await page.goBack();
    await page.waitForURL((u) => u.pathname === '/login');
    await page.waitForLoadState('load');
    await page.getByRole('heading', { level: 1, name: VI.login_title }).waitFor();
    expect(await page.locator('h1[data-role-home]').count()).toBe(0);

    // Typing the address: redirected to /login as well.
    const res = await page.goto('/home');
    expect(new URL(res!.url()).pathname).toBe('/login');
    expect(tab.pathname()).toBe('/login');
    expect(await page.locator('h1[data-role-home]').count()).toBe(0);
    await page.getByRole('heading', { level: 1, name: VI.login_title }).waitFor();
  });

  const lang = (tab: Tab) => tab.page.locator('html').getAttribute('lang');

  async function switchTo(tab: Tab, to: 'vi' | 'en') {
    const { page } = tab;
    const button = page.getByRole('button', { name: to === 'en' ? 'English' : 'Tiếng Việt', exact: true });
    // POST /lang answers with a redirect back to the same page.
    await postExpectingRedirect(page, '/lang', () => button.click());
    await page.locator(`html[lang="${to}"]`).waitFor({ state: 'attached' });
    await page.waitForLoadState('load');
  }

  // Four logins and two logouts: more time than the others on a busy machine.
  it('English at a click, remembered for the user after logout and login; a new browser gets Vietnamese', { timeout: 90_000 }, async () => {
    const user = 'manager';
    const first = await get().newTab();
    const { page } = first;
    await login(first, user);
    expect(await lang(first)).toBe('vi');
    const h1 = page.locator(`h1[data-role-home="${user}"]`);
    expect((await h1.textContent())?.trim()).toBe(VI.home_title_manager);
    expect(await page.getByRole('button', { name: 'Tiếng Việt', exact: true }).getAttribute('aria-pressed')).toBe('true');

    await switchTo(first, 'en');
    expect(first.pathname()).toBe('/home');
    expect((await h1.textContent())?.trim()).toBe(EN.home_title_manager);
    expect(await page.getByRole('button', { name: 'English', exact: true }).getAttribute('aria-pressed')).toBe('true');
    // The navigation and the header are English too.
    const nav = page.getByRole('navigation', { name: EN.nav_label });
    expect(await nav.getByRole('link', { name: EN.nav_home, exact: true }).getAttribute('href')).toBe('/home');
    expect(await nav.getByRole('link', { name: EN.nav_audit, exact: true }).getAttribute('href')).toBe('/audit');
    expect(await nav.getByRole('link', { name: EN.nav_account, exact: true }).getAttribute('href')).toBe('/account/password');
    // No link is left in Vietnamese.
    const viOnly = new Set(Object.keys(VI).filter((k) => k.startsWith('nav_')).map((k) => VI[k as keyof typeof VI]).filter((v) => typeof v === 'string' && !Object.values(EN).includes(v)));
    expect((await nav.getByRole('link').allTextContents()).map((x) => x.trim()).filter((x) => viOnly.has(x))).toEqual([]);
    await page.getByRole('button', { name: EN.logout, exact: true }).waitFor();

    // Log out and in again as the same user, in the same browser: still English.
    await logout(first, EN);
    await login(first, user, { t: EN });
    expect(await lang(first)).toBe('en');
    expect((await h1.textContent())?.trim()).toBe(EN.home_title_manager);

    // A new browser (no cookies): the login page is Vietnamese ...
    const second = await get().newTab();
    await second.page.goto('/login');
    expect(await lang(second)).toBe('vi');
    await second.page.getByRole('heading', { level: 1, name: VI.login_title }).waitFor();
    // ... another user there sees Vietnamese ...
    await login(second, 'doctor');
    expect(await lang(second)).toBe('vi');
    expect((await second.page.locator('h1[data-role-home="doctor"]').textContent())?.trim()).toBe(VI.home_title_doctor);
    await logout(second);
    expect(await lang(second)).toBe('vi');

    // ... and the same user there gets English: the choice is kept with the account, not only in a cookie.
    await login(second, user);
    expect(await lang(second)).toBe('en');
    expect((await second.page.locator(`h1[data-role-home="${user}"]`).textContent())?.trim()).toBe(EN.home_title_manager);

    // Back to Vietnamese for the account (and the test leaves it as it found it).
    await switchTo(second, 'vi');
    expect((await second.page.locator(`h1[data-role-home="${user}"]`).textContent())?.trim()).toBe(VI.home_title_manager);
  });

  it('the login page itself can be switched to English before logging in', async () => {
    const tab = await get().newTab();
    const { page } = tab;
    await page.goto('/login');
    expect(await lang(tab)).toBe('vi');
    await switchTo(tab, 'en');
    expect(tab.pathname()).toBe('/login');
    await page.getByRole('heading', { level: 1, name: EN.login_title }).waitFor();
    await page.getByLabel(EN.login_username, { exact: true }).waitFor();
  });

  it('the page watcher reports a CSP violation (self-check of the console/CSP checks)', async () => {
    const tab = await get().newTab();
    const { page } = tab;
    await page.goto('/login');
    await page.waitForLoadState('load');
    expect(tab.problems).toEqual([]);
    // An inline script, as an injected one would be: the CSP must refuse it, and the watcher must see that.
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true;';
      document.body.append(s);
    });
    await expect.poll(() => tab.problems.length, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan ?? false)).toBe(false);
    const seen = tab.takeProblems();
    expect(seen.some((p) => p.startsWith('CSP violation: script-src'))).toBe(true);
  });

  it('the favicon does not fail (Chromium logs its 404 as a console error on the first page of every browser)', async () => {
    const tab = await get().newTab();
    const { page } = tab;
    await page.goto('/login');
    await page.waitForLoadState('load');
    // The icon the page names (a data: URL needs no request), or the browser's default guess /favicon.ico.
    const declared = await page.locator('link[rel~="icon"]').first().getAttribute('href', { timeout: 1_000 }).catch(() => null);
    if (!declared?.startsWith('data:')) {
      const href = declared ?? '/favicon.ico';
      const res = await page.request.get(new URL(href, page.url()).toString());
      expect(res.status(), `GET ${href}`).toBeLessThan(400);
    }
    expect(tab.ignoredConsoleErrors).toEqual([]);
  });
});
