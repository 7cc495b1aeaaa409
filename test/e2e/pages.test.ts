// Each role's home page after login and what its navigation offers; the home
// page's layout on a counter tablet (1024×768) and a phone (390×844); and the
// administrator adding a satellite dispensing point with the htmx commune search.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Role } from '../../db/schema.ts';
import { DEMO_USERS } from '../../db/seed.ts';
import { can, PUBLIC, ROUTE_ACCESS } from '../../server/auth/permissions.ts';
import { artifactPath, describeE2E, horizontalOverflow, login, navHrefs, postExpectingRedirect, ROLES, VI } from './helpers.ts';

/**
 * What each role's navigation must show, and must not. The app grows (more
 * links may appear); every link shown is also checked against the permission
 * table and must open for the role.
 */
const MUST_SHOW: Record<Role, string[]> = {
  admin: ['/home', '/admin/clinics', '/admin/staff', '/audit', '/account/password'],
  manager: ['/home', '/audit', '/account/password'],
  nurse: ['/home', '/account/password'],
  doctor: ['/home', '/account/password'],
  counsellor: ['/home', '/account/password'],
};
const ADMIN_ONLY = ['/admin/clinics', '/admin/staff'];
const MUST_NOT_SHOW: Record<Role, string[]> = {
  admin: [],
  manager: ADMIN_ONLY,
  nurse: [...ADMIN_ONLY, '/audit'],
  doctor: [...ADMIN_ONLY, '/audit'],
  counsellor: [...ADMIN_ONLY, '/audit'],
};

const NAV_LABEL: Record<string, string> = {
  '/home': VI.nav_home,
  '/admin/clinics': VI.nav_clinics,
  '/admin/staff': VI.nav_staff,
  '/audit': VI.nav_audit,
  '/account/password': VI.nav_account,
};

const VIEWPORTS = [
  { name: 'tablet', options: { viewport: { width: 1024, height: 768 } } },
  { name: 'phone', options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
] as const;

const PARENT = 'Cơ sở điều trị Methadone Ngô Quyền';
const PROVINCE = 'Thành phố Hải Phòng';
const COMMUNE = 'Phường Lê Chân';

describeE2E('e2e: home pages and clinics', (get) => {
  for (const role of ROLES) {
    it(`${role}: login lands on the ${role} home page, and the navigation offers only what the role may do`, async () => {
      const tab = await get().newTab();
      const { page } = tab;
      await login(tab, role);
      expect(tab.pathname()).toBe('/home');

      const h1 = page.locator(`h1[data-role-home="${role}"]`);
      await h1.waitFor({ state: 'visible' });
      expect((await h1.textContent())?.trim()).toBe(VI[`home_title_${role}`]);
      expect(await page.locator('h1[data-role-home]').count()).toBe(1);
      expect(await page.title()).toBe(`${VI[`home_title_${role}`]} · ${VI.app_name}`);

      // Who is logged in, in the header.
      const fullName = DEMO_USERS.find((u) => u.username === role)!.fullName;
      await page.getByText(VI.signed_in_as({ name: fullName, role: VI[`role_${role}`] }), { exact: true }).waitFor({ state: 'visible' });

      // The navigation: the role's links, each with its Vietnamese label, and none it may not use.
      const hrefs = await navHrefs(page);
      for (const href of MUST_SHOW[role]) expect(hrefs, `${role} navigation`).toContain(href);
      for (const href of MUST_NOT_SHOW[role]) expect(hrefs, `${role} navigation`).not.toContain(href);
      const nav = page.getByRole('navigation', { name: VI.nav_label });
      for (const href of MUST_SHOW[role]) {
        expect(await nav.getByRole('link', { name: NAV_LABEL[href], exact: true }).getAttribute('href')).toBe(href);
      }
      expect(await nav.getByRole('link', { name: VI.nav_home, exact: true }).getAttribute('aria-current')).toBe('page');
      for (const href of hrefs) {
        const access = ROUTE_ACCESS[`GET ${href}`];
        expect(access, `GET ${href} in the permission table`).toBeDefined();
        expect(access === PUBLIC || can(role, access!), `${role} may open ${href}`).toBe(true);
        const res = await page.request.get(href, { maxRedirects: 0 });
        expect(res.status(), `GET ${href} as ${role}`).toBe(200);
      }
      // Hidden links are not the only guard: the admin pages refuse the other roles.
      if (role !== 'admin') {
        for (const href of ADMIN_ONLY) {
          expect(await page.locator(`a[href="${href}"]`).count(), `a link to ${href} on the ${role} home page`).toBe(0);
          expect((await page.request.get(href, { maxRedirects: 0 })).status(), `GET ${href} as ${role}`).toBe(403);
        }
      }
    });
  }

  for (const role of ['nurse', 'admin'] as const) {
    for (const vp of VIEWPORTS) {
      const { width, height } = vp.options.viewport;
      it(`${role} home at ${width}×${height} (${vp.name}): no horizontal scrollbar; screenshot saved`, async () => {
        const tab = await get().newTab(vp.options);
        const { page } = tab;
        await login(tab, role);
        await page.waitForLoadState('load');
        const { scrollWidth, clientWidth } = await horizontalOverflow(page);
        expect(clientWidth).toBe(width);
        expect(scrollWidth, `home page of ${role} is ${scrollWidth}px wide in a ${clientWidth}px viewport`).toBeLessThanOrEqual(clientWidth);
        // Everything in the header (navigation, language, logout) stays inside the viewport.
        const outside = await page.locator('header a, header button').evaluateAll(
          (els, w) =>
            els
              .filter((e) => {
                const r = e.getBoundingClientRect();
                return r.width > 0 && (r.right > w + 0.5 || r.left < -0.5);
              })
              .map((e) => (e.textContent ?? '').trim()),
          width,
        );
        expect(outside).toEqual([]);
        const file = artifactPath(`home-${role}-${width}x${height}-${get().driver}.png`);
        await page.screenshot({ path: file, fullPage: true });
      });
    }
  }

  it('the admin creates a satellite dispensing point: kind, parent, province, commune search "le chan", save, listed', async () => {
    const tab = await get().newTab({ viewport: { width: 1024, height: 768 } });
    const { page } = tab;
    const code = `E2E${randomBytes(3).toString('hex').toUpperCase()}`;
    const name = `Điểm cấp phát thử nghiệm ${code}`;

    await login(tab, 'admin');
    await page.getByRole('navigation', { name: VI.nav_label }).getByRole('link', { name: VI.nav_clinics, exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/admin/clinics');
    await page.getByRole('heading', { level: 1, name: VI.clinics_title }).waitFor();
    await page.getByRole('link', { name: VI.clinics_new, exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/admin/clinics/new');
    await page.getByRole('heading', { level: 1, name: VI.clinics_new }).waitFor();

    await page.getByLabel(VI.clinic_code, { exact: true }).fill(code);
    await page.getByLabel(VI.clinic_name, { exact: true }).fill(name);
    await page.getByLabel(VI.clinic_kind, { exact: true }).selectOption({ label: VI.clinic_kind_satellite });
    await page.getByLabel(VI.clinic_parent, { exact: true }).selectOption({ label: `${PARENT} (HP01)` });

    // Choosing the province loads its communes (htmx swaps the options).
    const commune = page.locator('select#communeCode');
    const communeOptions = () => commune.locator('option').evaluateAll((os) => os.map((o) => (o.textContent ?? '').trim()));
    expect(await communeOptions()).toEqual([VI.clinic_commune_choose]);
    // The commune options come from the endpoint the province select names for htmx.
    const province = page.getByLabel(VI.clinic_province, { exact: true });
    const endpoint = await province.getAttribute('hx-get');
    expect(endpoint).toMatch(/^\/[a-z/]+$/);
    const provinceLoaded = page.waitForResponse((r) => new URL(r.url()).pathname === endpoint);
    await province.selectOption({ label: PROVINCE });
    expect((await provinceLoaded).status()).toBe(200);
    await expect.poll(async () => (await communeOptions()).length, { timeout: 10_000 }).toBeGreaterThan(50);
    expect(await communeOptions()).toContain(COMMUNE);

    // Search without diacritics: the list narrows to the matching commune.
    const search = page.getByRole('searchbox', { name: VI.clinic_commune_search });
    const searched = page.waitForResponse((r) => {
      const u = new URL(r.url());
      return u.pathname === endpoint && u.searchParams.get('q') === 'le chan';
    });
    await search.click();
    await search.pressSequentially('le chan', { delay: 20 });
    const res = await searched;
    expect(res.status()).toBe(200);
    expect(new URL(res.url()).searchParams.get('provinceCode')).toBe('31');
    await expect.poll(communeOptions, { timeout: 10_000 }).toEqual([VI.clinic_commune_choose, COMMUNE]);
    await commune.selectOption({ label: COMMUNE });
    expect(await commune.evaluate((s: HTMLSelectElement) => s.selectedOptions[0]?.textContent?.trim())).toBe(COMMUNE);

    await page.getByLabel(VI.clinic_address).fill('Trạm Y tế phường Lê Chân, tầng 1');
    await postExpectingRedirect(page, '/admin/clinics', () => page.getByRole('button', { name: VI.save, exact: true }).click());
    await page.waitForURL((u) => u.pathname === '/admin/clinics');
    await page.getByRole('status').filter({ hasText: VI.clinic_created({ name }) }).waitFor({ state: 'visible' });

    // In the list: code, name, kind, parent, place.
    const row = page.getByRole('row').filter({ hasText: code });
    await row.waitFor({ state: 'visible' });
    expect(await row.count()).toBe(1);
    const cells = (await row.getByRole('cell').allTextContents()).map((x) => x.replace(/\s+/g, ' ').trim());
    expect(cells).toContain(code);
    expect(cells).toContain(`${name}↳ ${PARENT}`);
    expect(cells).toContain(VI.clinic_kind_satellite);
    expect(cells).toContain(`${COMMUNE}, ${PROVINCE}`);
    expect(cells).toContain(VI.clinic_active);

    // Its own page names the parent facility.
    await row.getByRole('link', { name, exact: true }).click();
    await page.waitForURL((u) => /^\/clinics\/[0-9a-f-]{36}$/.test(u.pathname));
    await page.getByRole('heading', { level: 1, name }).waitFor();
    await page.getByText(PARENT, { exact: true }).waitFor({ state: 'visible' });
  });
});
