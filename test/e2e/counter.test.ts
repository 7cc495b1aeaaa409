// The counter in a real browser, by keyboard as a nurse works it: the scan
// field has the focus, a patient code typed (or scanned) + Enter shows the
// card, Enter answers "no signs", Enter confirms the dose, and the focus is
// back in the scan field for the next patient: three keyboard actions, no
// mouse. A patient with signs of intoxication has the dose withheld (R10); a
// second scan of a dosed patient shows "already dosed" (R9); the day's
// register lists the three records with their totals. Last, with the server
// out of reach, the offline banner shows and the open card is kept, and the
// retry, once back, records the dose once.
//
// The patients are the demo's (db/synthetic.ts): the clinic HP01's patients
// HP01-00001..00004 were dosed yesterday and have an order in force, so the
// decision is "give" (every tenth synthetic patient has a gap and is not
// routine: HP01-00005 is one). Each test checks the decision before relying on it.
import type { Locator, Page, Route } from 'playwright-core';
import { expect, it } from 'vitest';
import { DEMO_USERS } from '../../db/seed.ts';
import { artifactPath, describeE2E, login, VI, type Tab } from './helpers.ts';

/** Three routine patients, one to withhold, and one for the offline test. */
const FIRST = 'HP01-00001';
const WITHHELD = 'HP01-00002';
const THIRD = 'HP01-00003';
const OFFLINE = 'HP01-00004';
const CLINIC_CODE = 'HP01';
const CLINIC_NAME = 'Cơ sở điều trị Methadone Ngô Quyền';
const NURSE = DEMO_USERS.find((u) => u.username === 'nurse')!.fullName;
/** The bound of every expect.poll here (its default, 1 s, is too short on a loaded machine). */
const POLL = { timeout: 15_000 };
const VIEWPORT = { viewport: { width: 1280, height: 900 } };

const SEL = {
  scan: '#scan',
  card: 'article#card',
  noSigns: 'button[name="intoxication"][value="none"]',
  withhold: 'button[name="intoxication"][value="signs"]',
  given: 'button[name="outcome"][value="given"]',
  nextPatient: 'form[action="/counter/find"].step button[type="submit"]',
} as const;

const squash = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
const pathOf = (url: string) => new URL(url).pathname;

/** The counter page's parts. */
function counter(page: Page) {
  return {
    scan: page.locator(SEL.scan),
    card: page.locator(SEL.card),
    notice: page.locator('#counter .notice'),
    offline: page.locator('#offline'),
    decisionTitle: page.locator(`${SEL.card} .decision-title`),
    doseAmount: page.locator(`${SEL.card} .dose-amount`),
    name: page.locator(`${SEL.card} .pcard-name`),
  };
}

/** Waits until the element matching `selector` has the keyboard focus. */
async function expectFocus(page: Page, selector: string, what: string): Promise<void> {
  await expect
    .poll(
      () =>
        page.evaluate((sel) => {
          const a = document.activeElement;
          return a && a.matches(sel) ? 'ok' : `focus on ${a ? `${a.tagName.toLowerCase()}${a.id ? `#${a.id}` : ''}${a.getAttribute('name') ? `[name=${a.getAttribute('name')}]` : ''} "${(a.textContent ?? '').trim().slice(0, 40)}"` : 'nothing'}`;
        }, selector),
      { ...POLL, message: `${what} has the focus` },
    )
    .toBe('ok');
}

/** Presses of the mouse (or a finger) on the page since the last reset: a routine dose needs none. */
const pointerPresses = (page: Page) => page.evaluate(() => (window as unknown as { __pointerPresses: number }).__pointerPresses);
const resetPointerPresses = (page: Page) => page.evaluate(() => ((window as unknown as { __pointerPresses: number }).__pointerPresses = 0));

async function countPointerPresses(tab: Tab): Promise<void> {
  await tab.context.addInitScript(() => {
    const w = window as unknown as { __pointerPresses: number };
    w.__pointerPresses = 0;
    for (const type of ['pointerdown', 'mousedown', 'touchstart']) document.addEventListener(type, () => (w.__pointerPresses += 1), true);
  });
}

/**
 * The nurse's keyboard, counting what she does: "type the code + Enter" is one
 * action (a scanner does it in one go), each further Enter one more.
 */
class Keys {
  actions = 0;
  constructor(private readonly page: Page) {}

  /** Types `text` and presses Enter; resolves with the answer to the request that Enter sends. */
  async typeAndEnter(text: string, path: string): Promise<number> {
    this.actions += 1;
    await this.page.keyboard.type(text, { delay: 15 });
    return this.enterFor(path);
  }

  /** Presses Enter, which must send a request to `path`; resolves with its status. */
  async enter(path: string): Promise<number> {
    this.actions += 1;
    return this.enterFor(path);
  }

  private async enterFor(path: string): Promise<number> {
    const answered = this.page.waitForResponse((r) => pathOf(r.url()) === path && r.request().headers()['hx-request'] === 'true');
    await this.page.keyboard.press('Enter');
    return (await answered).status();
  }
}

/** The /counter page of the nurse's first clinic (HP01), with the scan field focused. */
async function openCounter(tab: Tab): Promise<void> {
  const { page } = tab;
  await page.getByRole('navigation', { name: VI.nav_label }).getByRole('link', { name: VI.nav_counter, exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/counter');
  await page.getByRole('heading', { level: 1, name: VI.ctr_at_clinic({ name: CLINIC_NAME }) }).waitFor();
  await expectFocus(page, SEL.scan, 'the scan field, on opening the counter');
  expect(await counter(page).card.count()).toBe(0);
  expect(await counter(page).offline.isVisible()).toBe(false);
}

/** The card shown for `code`: waits for it and returns its decision's kind. */
async function cardFor(page: Page, code: string): Promise<string> {
  const card = counter(page).card;
  await expect.poll(() => card.getAttribute('data-patient', { timeout: 2_000 }).catch(() => null), { ...POLL, message: `the card of ${code}` }).toBe(code);
  return (await card.getAttribute('data-kind')) ?? '';
}

interface Dosed {
  code: string;
  name: string;
  /** As shown: "60" mg, "6" ml (Vietnamese number format). */
  mg: string;
  ml: string;
}

/** "60 mg = 6 ml" → the numbers as shown. */
async function shownDose(page: Page): Promise<{ mg: string; ml: string }> {
  const text = squash(await counter(page).doseAmount.textContent());
  const m = /^(\S+) mg = (\S+) ml/.exec(text);
  expect(m, `the dose shown on the card: "${text}"`).not.toBeNull();
  return { mg: m![1]!, ml: m![2]! };
}

/** A number as the register shows it in Vietnamese ("6", "12,5") → a number. */
const viNumber = (s: string) => Number(s.replace(/\./g, '').replace(',', '.'));
const viFormat = (n: number, digits: number) => new Intl.NumberFormat('vi-VN', { maximumFractionDigits: digits }).format(n);

/**
 * One routine dose by keyboard alone: code + Enter, Enter ("no signs"),
 * Enter (confirm). Checks the focus at every step, that no more than three
 * keyboard actions and no pointer press were needed, and that the card clears
 * with a notice of what was recorded and the focus back in the scan field.
 */
async function routineDose(page: Page, code: string, shots: { card?: string; confirm?: string } = {}): Promise<Dosed> {
  const c = counter(page);
  const keys = new Keys(page);
  await resetPointerPresses(page);

  expect(await keys.typeAndEnter(code, '/counter/find')).toBe(200);
  expect(await cardFor(page, code), `the decision for ${code} (a routine patient of the demo)`).toBe('give');
  expect(squash(await c.decisionTitle.textContent())).toBe(VI.ctr_decision_give);
  const name = squash(await c.name.textContent());
  const { mg, ml } = await shownDose(page);
  await page.getByRole('heading', { level: 3, name: VI.ctr_check_title }).waitFor();
  await expectFocus(page, SEL.noSigns, `"${VI.ctr_check_none}" on ${code}'s card`);
  if (shots.card) await page.screenshot({ path: artifactPath(shots.card), fullPage: true });

  expect(await keys.enter('/counter/check')).toBe(200);
  await page.getByRole('heading', { level: 3, name: VI.ctr_confirm_title }).waitFor();
  expect(await c.card.getAttribute('data-patient')).toBe(code);
  const confirm = page.locator(SEL.given);
  expect(squash(await confirm.textContent())).toBe(VI.ctr_confirm_given({ mg, ml }));
  await expectFocus(page, SEL.given, `"${VI.ctr_confirm_given({ mg, ml })}" on ${code}'s card`);
  if (shots.confirm) await page.screenshot({ path: artifactPath(shots.confirm), fullPage: true });

  expect(await keys.enter('/counter/dose')).toBe(200);
  await c.card.waitFor({ state: 'detached' });
  await c.notice.waitFor({ state: 'visible' });
  expect(squash(await c.notice.textContent())).toBe(VI.ctr_result_given({ name, mg, ml }));
  expect(await c.notice.getAttribute('class')).toContain('ok');
  await expectFocus(page, SEL.scan, `the scan field, after ${code}'s dose`);
  expect(await c.scan.inputValue()).toBe('');

  expect(keys.actions, `keyboard actions for ${code}'s dose`).toBeLessThanOrEqual(3);
  expect(await pointerPresses(page), `mouse or touch presses during ${code}'s dose`).toBe(0);
  return { code, name, mg, ml };
}

/** The register's rows as shown: only what the tests compare. */
async function registerRows(page: Page) {
  return page.locator('table.register-table tbody tr').evaluateAll((trs) =>
    trs.map((tr) => {
      const td = Array.from(tr.querySelectorAll('td')).map((c) => (c.textContent ?? '').replace(/\s+/g, ' ').trim());
      return { no: td[0], code: td[2], name: td[3], part: td[4], outcome: td[5], prescribed: td[6], given: td[7], ml: td[8], check: td[9], staff: td[10], dataOutcome: tr.getAttribute('data-outcome') };
    }),
  );
}

/**
 * The console errors a failed request leaves on purpose (Chromium's network
 * error, htmx's logged error events); what is left is a real problem.
 */
function unreachableNoise(problems: string[]): string[] {
  return problems.filter((p) => !/Failed to load resource: net::ERR_(INTERNET_DISCONNECTED|CONNECTION_REFUSED)|: htmx:(sendError|afterRequest), \[object HTMLElement\]/.test(p));
}

async function textOf(l: Locator): Promise<string> {
  return squash(await l.textContent());
}

describeE2E('e2e: the counter (scan, keyboard dosing, withholding, register, offline)', (get) => {
  it('a nurse scans three patients by typing code + Enter, doses two by keyboard alone, withholds one for intoxication, and sees the register', { timeout: 150_000 }, async () => {
    const tab = await get().newTab(VIEWPORT);
    const { page } = tab;
    const { driver } = get();
    await countPointerPresses(tab);
    await login(tab, 'nurse');
    await openCounter(tab);
    const c = counter(page);

    // 1. A routine dose: three keyboard actions, the focus back in the scan field.
    const first = await routineDose(page, FIRST, { card: `counter-card-${driver}.png`, confirm: `counter-confirm-${driver}.png` });

    // 2. Signs of intoxication: the dose is withheld (R10), with the finding and the breath alcohol.
    const keys = new Keys(page);
    expect(await keys.typeAndEnter(WITHHELD, '/counter/find')).toBe(200);
    expect(await cardFor(page, WITHHELD), `the decision for ${WITHHELD}`).toBe('give');
    const withheldName = squash(await c.name.textContent());
    const withheldDose = await shownDose(page);
    await expectFocus(page, SEL.noSigns, `"${VI.ctr_check_none}" on ${WITHHELD}'s card`);
    const signs = c.card.locator('details').filter({ has: page.locator('summary', { hasText: VI.ctr_check_signs }) });
    expect(await signs.evaluate((d: HTMLDetailsElement) => d.open)).toBe(false);
    await signs.locator('summary').click();
    await expect.poll(() => signs.evaluate((d: HTMLDetailsElement) => d.open), POLL).toBe(true);
    const intoxicated = signs.getByRole('radio', { name: VI.intoxication_intoxicated });
    // Each finding is a small radio beside its text (not a full-width box with the text under it).
    const radioBox = (await intoxicated.boundingBox())!;
    const labelBox = (await intoxicated.locator('xpath=ancestor::label[1]').boundingBox())!;
    expect(radioBox.width).toBeLessThanOrEqual(32);
    expect(labelBox.height).toBeLessThan(radioBox.height * 2);
    await intoxicated.check();
    await page.getByLabel(VI.ctr_breath, { exact: true }).fill('0,25');
    const withhold = page.locator(SEL.withhold);
    expect(await textOf(withhold)).toBe(VI.ctr_withhold);
    await page.screenshot({ path: artifactPath(`counter-signs-${driver}.png`), fullPage: true });
    const withheldAnswer = page.waitForResponse((r) => pathOf(r.url()) === '/counter/check' && r.request().method() === 'POST');
    await withhold.click();
    const res = await withheldAnswer;
    expect(res.status()).toBe(200);
    const sent = new URLSearchParams(res.request().postData() ?? '');
    expect([sent.get('intoxication'), sent.get('finding'), sent.get('breathAlcohol')]).toEqual(['signs', 'intoxicated', '0,25']);
    await c.card.waitFor({ state: 'detached' });
    await c.notice.waitFor({ state: 'visible' });
    expect(await textOf(c.notice)).toBe(VI.ctr_result_withheld({ name: withheldName }));
    expect(await c.notice.getAttribute('class')).toContain('warn');
    await expectFocus(page, SEL.scan, `the scan field, after ${WITHHELD}'s dose was withheld`);
    await page.screenshot({ path: artifactPath(`counter-withheld-${driver}.png`), fullPage: true });

    // 3. The first patient again: already dosed today (R9), no dose step, recorded by this nurse.
    await resetPointerPresses(page);
    const again = new Keys(page);
    expect(await again.typeAndEnter(FIRST, '/counter/find')).toBe(200);
    expect(await cardFor(page, FIRST)).toBe('already_dosed');
    expect(await textOf(c.decisionTitle)).toBe(VI.ctr_decision_already_dosed);
    expect(await textOf(c.card.locator('.decision'))).toContain(`${NURSE} (${CLINIC_CODE})`);
    expect(await c.card.locator(`${SEL.noSigns}, ${SEL.given}, ${SEL.withhold}`).count()).toBe(0);
    await expectFocus(page, SEL.nextPatient, `"${VI.ctr_next_patient}" on the already-dosed card`);
    await page.screenshot({ path: artifactPath(`counter-already-dosed-${driver}.png`), fullPage: true });

    // 4. The next card scanned while the focus is on that button: the scanner's
    // first character moves the focus to the scan field, so its Enter scans
    // (and never presses a button). Then the third routine dose, three actions.
    const third = await routineDose(page, THIRD);
    expect(await pointerPresses(page)).toBe(0);

    // 5. The register of the day: the two doses and the withheld one, in order, with the totals.
    await page.getByRole('navigation', { name: VI.nav_label }).getByRole('link', { name: VI.nav_register, exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/register');
    await page.getByRole('heading', { level: 1, name: VI.register_title }).waitFor();
    const table = page.locator('table.register-table');
    await table.waitFor({ state: 'visible' });
    const rows = await registerRows(page);
    const given = (d: Dosed, no: number) => ({
      no: String(no),
      code: d.code,
      name: d.name,
      part: '1',
      outcome: VI.dose_outcome_given,
      prescribed: d.mg,
      given: d.mg,
      ml: d.ml,
      check: VI.intoxication_none,
      staff: NURSE,
      dataOutcome: 'given',
    });
    expect(rows).toEqual([
      given(first, 1),
      {
        no: '2',
        code: WITHHELD,
        name: withheldName,
        part: '1',
        outcome: VI.dose_outcome_withheld,
        prescribed: withheldDose.mg,
        given: '0',
        ml: '0',
        check: VI.intoxication_intoxicated,
        staff: NURSE,
        dataOutcome: 'withheld',
      },
      given(third, 3),
    ]);
    const totalMg = viNumber(first.mg) + viNumber(third.mg);
    const totalMl = viNumber(first.ml) + viNumber(third.ml);
    expect(await textOf(page.locator('.register .totals'))).toBe(VI.register_totals({ mg: viFormat(totalMg, 1), ml: viFormat(totalMl, 2), n: 2 }));
    expect(await textOf(page.locator('.register p').filter({ hasText: VI.register_counts }))).toBe(`${VI.register_counts}: ${VI.dose_outcome_given} 2 · ${VI.dose_outcome_withheld} 1`);
    // The three seen today are not among those expected but not seen.
    const notSeen = await page.locator('.register ul.columns code').allTextContents();
    for (const code of [FIRST, WITHHELD, THIRD]) expect(notSeen).not.toContain(code);
    await page.screenshot({ path: artifactPath(`counter-register-${driver}.png`), fullPage: true });
  });

  it('with the server out of reach the offline banner shows and the card is kept; back online, Enter retries and records the dose once', { timeout: 120_000 }, async () => {
    const tab = await get().newTab(VIEWPORT);
    const { page, context } = tab;
    const { driver } = get();
    await login(tab, 'nurse');
    await openCounter(tab);
    const c = counter(page);
    const keys = new Keys(page);

    expect(await keys.typeAndEnter(OFFLINE, '/counter/find')).toBe(200);
    expect(await cardFor(page, OFFLINE), `the decision for ${OFFLINE}`).toBe('give');
    const name = squash(await c.name.textContent());
    const { mg, ml } = await shownDose(page);
    await expectFocus(page, SEL.noSigns, `"${VI.ctr_check_none}" on ${OFFLINE}'s card`);

    // The server cannot be reached (the network drops every request to it): Enter sends nothing through.
    const unreachable = (route: Route) => route.abort('connectionrefused');
    const toCounter = (u: URL) => u.pathname.startsWith('/counter');
    await page.route(toCounter, unreachable);
    // The queue's poll (every 5 s) may be on its way meanwhile: Enter goes once nothing is in flight and the button still has the focus.
    await page.waitForFunction(() => document.querySelector('.htmx-request') === null, undefined, POLL);
    await expectFocus(page, SEL.noSigns, `"${VI.ctr_check_none}" before Enter, with the network down`);
    const failed = page.waitForEvent('requestfailed', { predicate: (r) => pathOf(r.url()) === '/counter/check', timeout: 20_000 });
    await page.keyboard.press('Enter');
    await failed;
    await c.offline.waitFor({ state: 'visible' });
    expect(await textOf(c.offline)).toBe(VI.ctr_offline);
    // In sight, wherever the page is scrolled to.
    const banner = (await c.offline.boundingBox())!;
    expect(banner.y).toBeGreaterThanOrEqual(0);
    expect(banner.y + banner.height).toBeLessThanOrEqual(VIEWPORT.viewport.height);
    // The card is kept as it was, at the same step, and nothing else was shown.
    expect(await c.card.getAttribute('data-patient')).toBe(OFFLINE);
    expect(await c.card.getAttribute('data-kind')).toBe('give');
    await expect.poll(() => c.card.locator(SEL.noSigns).isVisible(), POLL).toBe(true);
    expect(await c.card.locator(SEL.given).count()).toBe(0);
    expect(await c.notice.count()).toBe(0);
    // The button the nurse pressed is usable again, and keeps the focus, so Enter retries.
    await expect.poll(() => page.locator(SEL.noSigns).isEnabled(), POLL).toBe(true);
    await expectFocus(page, SEL.noSigns, `"${VI.ctr_check_none}" after the failed request`);
    await page.screenshot({ path: artifactPath(`counter-offline-${driver}.png`), fullPage: true });
    expect(unreachableNoise(tab.takeProblems()), 'console errors other than the failed request').toEqual([]);

    // Back: Enter again goes on to the confirmation; the banner goes.
    await page.unroute(toCounter, unreachable);
    expect(await keys.enter('/counter/check')).toBe(200);
    await page.getByRole('heading', { level: 3, name: VI.ctr_confirm_title }).waitFor();
    await c.offline.waitFor({ state: 'hidden' });
    await expectFocus(page, SEL.given, 'the confirm button');

    // The browser loses the network (Chromium's offline mode): the banner shows at once.
    await context.setOffline(true);
    await c.offline.waitFor({ state: 'visible' });
    const failedDose = page.waitForEvent('requestfailed', (r) => pathOf(r.url()) === '/counter/dose');
    await page.keyboard.press('Enter');
    await failedDose;
    await expect.poll(() => page.locator(SEL.given).isEnabled(), POLL).toBe(true);
    expect(await c.card.getAttribute('data-patient')).toBe(OFFLINE);
    expect(await c.notice.count()).toBe(0);
    await expectFocus(page, SEL.given, 'the confirm button after the failed request');
    await page.screenshot({ path: artifactPath(`counter-offline-confirm-${driver}.png`), fullPage: true });
    expect(unreachableNoise(tab.takeProblems()), 'console errors other than the failed request').toEqual([]);

    // Online again: Enter records the dose, once.
    await context.setOffline(false);
    expect(await keys.enter('/counter/dose')).toBe(200);
    await c.card.waitFor({ state: 'detached' });
    expect(await textOf(c.notice)).toBe(VI.ctr_result_given({ name, mg, ml }));
    await c.offline.waitFor({ state: 'hidden' });
    await expectFocus(page, SEL.scan, `the scan field, after ${OFFLINE}'s dose`);

    await page.goto('/register');
    const rows = (await registerRows(page)).filter((r) => r.code === OFFLINE);
    expect(rows.map((r) => [r.outcome, r.given, r.ml])).toEqual([[VI.dose_outcome_given, mg, ml]]);
    // A queue refresh may have failed while offline, after the last look.
    expect(unreachableNoise(tab.takeProblems()), 'console errors other than failed requests').toEqual([]);
  });
});
