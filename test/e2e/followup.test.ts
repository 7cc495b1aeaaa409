// The missed-dose list on a counsellor's phone (390×844, touch), on the demo's
// data with the real clock: the manager first closes today at HP01 ("close
// now"), so every HP01 patient not dosed today is on the list (nobody is dosed
// on this test's server). The counsellor filters to HP01, opens the first
// card's "log contact", records "unreachable" with a next action date, and the
// card moves below those still to act on. A hospital outcome without a date
// comes back with the catalogue's message and the note still typed; with a
// date the patient is on hold, at the end of the list.
import type { Locator, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { DEMO_PATIENTS } from '../../db/seed.ts';
import { serviceDay } from '../../server/clock.ts';
import { addDays } from '../../server/dosing/days.ts';
import { formatDay } from '../../views/format.ts';
import { artifactPath, describeE2E, horizontalOverflow, login, postExpectingRedirect, VI, type Tab } from './helpers.ts';

const CLINIC = 'HP01 — Cơ sở điều trị Methadone Ngô Quyền';
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } as const;
/** The bound of every expect.poll here (its default, 1 s, is too short on a loaded machine). */
const POLL = { timeout: 15_000 };
/** The clinic's service day today (the browser and the demo clinics are at UTC+7). */
const today = () => serviceDay(new Date(), 'Asia/Ho_Chi_Minh');

interface Shown {
  code: string;
  state: string;
}
/** The list as the page shows it: each card's patient code and its state (needs-action, contacted, on-hold). */
const listed = (page: Page): Promise<Shown[]> =>
  page.locator('li.missed').evaluateAll((lis) =>
    lis.map((li) => ({ code: li.id.replace(/^missed-/, ''), state: ['needs-action', 'contacted', 'on-hold'].find((c) => li.classList.contains(c)) ?? '' })),
  );

describeE2E('e2e: the missed-dose list on a phone', (get) => {
  const closed = new Set<string>();

  /** Once per server: the manager closes today at HP01 from the day-closes page. */
  async function closeToday(): Promise<void> {
    const { baseUrl, driver } = get();
    if (closed.has(baseUrl)) return;
    const tab = await get().newTab({ viewport: { width: 1024, height: 768 } });
    const { page } = tab;
    await login(tab, 'manager');
    await page.getByRole('navigation', { name: VI.nav_label }).getByRole('link', { name: VI.nav_followup, exact: true }).click();
    await page.getByRole('link', { name: VI.fu_closes_link, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: VI.closes_title }).waitFor();
    await page.getByLabel(VI.closes_clinic, { exact: true }).selectOption({ label: CLINIC });
    await postExpectingRedirect(page, '/followup/closes', () => page.getByRole('button', { name: VI.closes_run, exact: true }).click());
    // The scheduler may have closed today already (after 17:00 there): then there is nothing left to close.
    const flash = (await page.locator('.flash').innerText()).trim();
    expect([VI.fu_closed_now({ n: 1 }), VI.fu_nothing_to_close]).toContain(flash);
    await expect.poll(() => page.locator('tbody tr').first().innerText(), POLL).toContain(formatDay(today()));
    await page.screenshot({ path: artifactPath(`followup-closes-${driver}.png`), fullPage: true });
    await tab.context.close();
    closed.add(baseUrl);
  }

  /** The counsellor on a phone, on the missed-dose list filtered to HP01 by the filter form. */
  async function counsellorList(): Promise<Tab> {
    await closeToday();
    const tab = await get().newTab(PHONE);
    const { page } = tab;
    await login(tab, 'counsellor');
    await page.getByRole('navigation', { name: VI.nav_label }).getByRole('link', { name: VI.nav_followup, exact: true }).tap();
    await page.getByRole('heading', { level: 1, name: VI.fu_title }).waitFor();
    await page.getByLabel(VI.fu_filter_clinic).selectOption({ label: CLINIC });
    await Promise.all([page.waitForURL((u) => u.pathname === '/followup' && u.search.includes('clinic=')), page.getByRole('button', { name: VI.fu_filter_apply, exact: true }).tap()]);
    await page.locator('li.missed').first().waitFor();
    return tab;
  }

  /** The contact form of a card once open: its fields by their labels. */
  function formOf(page: Page, code: string) {
    const form = page.locator(`li#missed-${code} details.contact[open] form`);
    const field = (label: string) => form.getByLabel(label, { exact: true });
    return {
      form,
      method: field(VI.fu_method),
      outcome: field(VI.fu_outcome),
      holdUntil: field(VI.fu_hold_until),
      nextAction: field(VI.fu_next_action_date),
      note: field(VI.fu_note),
      save: form.getByRole('button', { name: VI.fu_save_contact, exact: true }),
    };
  }

  /** Opens a card's "log contact" with a tap; returns the form's fields. */
  async function openContact(page: Page, code: string) {
    await page.locator(`li#missed-${code} details.contact > summary`, { hasText: VI.fu_log_contact }).tap();
    const f = formOf(page, code);
    await f.form.waitFor({ state: 'visible' });
    return f;
  }

  /** Types like a person: a tap in the field, then the keys. */
  async function typeInto(page: Page, field: Locator, text: string): Promise<void> {
    await field.tap();
    await page.keyboard.type(text, { delay: 10 });
  }

  it('a counsellor logs "unreachable" with a next action date: the patient moves below those still to call; screenshots saved', async () => {
    const tab = await counsellorList();
    const { page } = tab;
    const { driver } = get();
    const before = await listed(page);
    // After the close every HP01 patient (half the demo) missed today; none has been contacted yet.
    expect(before).toHaveLength(DEMO_PATIENTS / 2);
    expect(before.every((c) => c.state === 'needs-action')).toBe(true);
    const { scrollWidth, clientWidth } = await horizontalOverflow(page);
    expect(scrollWidth, `the list is ${scrollWidth}px wide on a ${clientWidth}px phone`).toBeLessThanOrEqual(clientWidth);
    await page.screenshot({ path: artifactPath(`followup-phone-list-${driver}.png`), fullPage: false });

    const code = before[0]!.code;
    const card = page.locator(`li#missed-${code}`);
    // The card gives what a counsellor needs to call: a phone link, the days missed.
    expect(await card.locator('a[href^="tel:"]').count()).toBeGreaterThan(0);
    await expect.poll(() => card.locator('.missed-days').innerText(), POLL).toBe(VI.fu_missed_days({ n: Number(await card.getAttribute('data-missed')) }));
    const f = await openContact(page, code);
    await f.outcome.selectOption('unreachable');
    const next = addDays(today(), 2);
    await f.nextAction.fill(next);
    await typeInto(page, f.note, 'Gọi 2 lần, máy bận');
    await page.screenshot({ path: artifactPath(`followup-phone-contact-form-${driver}.png`), fullPage: false });
    await postExpectingRedirect(page, '/followup/contact', () => f.save.tap());

    await page.locator('.flash', { hasText: VI.fu_contact_saved }).waitFor();
    expect(new URL(page.url()).hash).toBe('#missed-list');
    const after = await listed(page);
    expect(after.map((c) => c.code).sort()).toEqual(before.map((c) => c.code).sort());
    const at = after.findIndex((c) => c.code === code);
    expect(after[at]!.state).toBe('contacted');
    expect(at, 'the contacted patient is no longer first').toBeGreaterThan(0);
    // Everyone above is still to be called; nobody below is.
    expect(after.slice(0, at).every((c) => c.state === 'needs-action')).toBe(true);
    expect(after.slice(at + 1).some((c) => c.state === 'needs-action')).toBe(false);
    const moved = page.locator(`li#missed-${code}`);
    expect(await moved.innerText()).toContain(VI.contact_outcome_unreachable);
    expect(await moved.innerText()).toContain(VI.fu_next_action({ day: formatDay(next) }));
    await moved.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath(`followup-phone-after-contact-${driver}.png`), fullPage: false });
  });

  it('hospital without a date shows the error with the note kept; with a date the patient is on hold, last; screenshots saved', async () => {
    const tab = await counsellorList();
    const { page } = tab;
    const { driver } = get();
    const before = await listed(page);
    const first = before.find((c) => c.state === 'needs-action')!;
    let f = await openContact(page, first.code);
    await f.method.selectOption('home_visit');
    await f.outcome.selectOption('hospital');
    const note = 'Vợ báo đang nằm viện Việt Tiệp';
    await typeInto(page, f.note, note);

    tab.expectHttpError('/followup/contact', 422);
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/followup/contact');
    await f.save.tap();
    expect((await answered).status()).toBe(422);
    await page.waitForLoadState('load');
    // The same card, its form open, the message from the catalogue beside the date, and what was typed.
    const open = page.locator(`li#missed-${first.code} details.contact[open]`);
    await open.waitFor({ state: 'visible' });
    await open.getByText(VI.fu_err_hold_required, { exact: true }).waitFor({ state: 'visible' });
    f = formOf(page, first.code);
    expect(await f.note.inputValue()).toBe(note);
    expect(await f.outcome.inputValue()).toBe('hospital');
    expect(await f.method.inputValue()).toBe('home_visit');
    expect(await f.holdUntil.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('details.contact[open]').count()).toBe(1);
    await open.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath(`followup-phone-hospital-error-${driver}.png`), fullPage: false });

    const until = addDays(today(), 3);
    await f.holdUntil.fill(until);
    await postExpectingRedirect(page, '/followup/contact', () => f.save.tap());
    await page.locator('.flash', { hasText: VI.fu_contact_saved }).waitFor();
    const after = await listed(page);
    expect(after.at(-1)).toEqual({ code: first.code, state: 'on-hold' });
    const held = page.locator(`li#missed-${first.code}`);
    expect((await held.locator('.badge.hold').innerText()).trim()).toBe(VI.fu_on_hold({ day: formatDay(until) }));
    await held.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath(`followup-phone-on-hold-${driver}.png`), fullPage: false });
  });
});
