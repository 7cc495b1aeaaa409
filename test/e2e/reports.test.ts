// The manager's reports in a real browser, on the demo's data with the real
// clock: 40 patients in treatment (alternating between HP01 and its satellite
// HP01A) with 400 days of doses, and 36 past patients whose treatment ended.
// The dashboard's figures, per clinic and for one clinic, down to the list of
// patients behind a figure; the retention page (cohort table, Kaplan–Meier
// chart with its table, definitions, Circular 05 counts), by quarter, down to
// the patients retained; both on a phone; the programme report of an R21
// quarter, its identity, its CSV and Excel files, printed on one A4 page; and
// a nurse kept out.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import readXlsxFile from 'read-excel-file/node';
import { expect, it } from 'vitest';
import { DEMO_PATIENTS } from '../../db/seed.ts';
import { parseCsv } from '../../server/csv.ts';
import { parsePeriod } from '../../server/reports/periods.ts';
import { formatDay } from '../../views/format.ts';
import { PROGRAMME_ROWS } from '../../views/pages/reports.tsx';
import { artifactPath, describeE2E, horizontalOverflow, login, VI, type Tab } from './helpers.ts';

const HP01 = 'HP01 · Cơ sở điều trị Methadone Ngô Quyền';
const DESKTOP = { viewport: { width: 1280, height: 900 } } as const;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } as const;
/** The bound of every expect.poll here (its default, 1 s, is too short on a loaded machine). */
const POLL = { timeout: 15_000 };
/** A figure as the page writes it in Vietnamese ("1.234,5") as a number. */
const num = (s: string) => Number(s.trim().replace(/\./g, '').replace(',', '.'));
const text = (page: Page, selector: string) => page.locator(selector).innerText().then((s) => s.trim());

describeE2E('e2e: the manager\'s reports', (get) => {
  /** The manager, logged in, on the reports (reached by the navigation's link), then on `tab` of the reports' tabs. */
  async function managerOn(tabName: string | null, options: object = DESKTOP): Promise<Tab> {
    const tab = await get().newTab(options);
    const { page } = tab;
    await login(tab, 'manager');
    await page.getByRole('navigation', { name: VI.nav_label }).getByRole('link', { name: VI.nav_reports, exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/reports');
    await page.getByRole('heading', { level: 1, name: VI.rep_title }).waitFor();
    if (tabName) {
      const link = page.getByRole('navigation', { name: VI.rep_tabs }).getByRole('link', { name: tabName, exact: true });
      const href = (await link.getAttribute('href'))!;
      await Promise.all([page.waitForURL((u) => u.pathname === href), link.click()]);
      await page.waitForLoadState('load');
    }
    return tab;
  }

  /** Submits a report's filter form and waits for the page it asks for. */
  async function show(page: Page, param: string): Promise<void> {
    await Promise.all([page.waitForURL((u) => u.searchParams.has(param)), page.locator('form.filters').getByRole('button', { name: VI.rep_show, exact: true }).click()]);
    await page.waitForLoadState('load');
  }

  /** The programme report's figures by indicator (a column per clinic, then the total), each column checked against the identity. */
  async function programmeFigures(page: Page, what = ''): Promise<Map<string, number[]>> {
    const shown = new Map<string, number[]>();
    for (const ind of PROGRAMME_ROWS) shown.set(ind, (await page.locator(`tr[data-indicator="${ind}"] td`).allInnerTexts()).map(num));
    const v = (ind: string, col: number) => shown.get(ind)![col]!;
    for (let col = 0; col < shown.get('activeEnd')!.length; col++) {
      const computed =
        v('activeStart', col) + v('newlyEnrolled', col) + v('reEnrolled', col) + v('transferredIn', col) - v('transferredOut', col) - v('droppedOut', col) - v('deceased', col) - v('completed', col) - v('otherEnded', col);
      expect(v('activeEnd', col), `${what} end = start + in − out, column ${col + 1}`).toBe(computed);
    }
    return shown;
  }

  it('dashboard: figures for both clinics and per clinic, one clinic chosen, its patients listed; screenshot saved', async () => {
    const { page } = await managerOn(null);
    const figure = (name: string) => page.locator(`dd[data-figure="${name}"]`);
    const labels = await page.locator('.figures dt').allInnerTexts();
    for (const label of [VI.dash_active_today, VI.dash_doses_today, VI.dash_doses_month, VI.dash_avg_dose]) expect(labels).toContain(label);
    expect(num(await figure('activeToday').innerText())).toBe(DEMO_PATIENTS);

    const perClinic = page.locator('section', { has: page.getByRole('heading', { level: 2, name: VI.dash_per_clinic }) }).locator('table');
    const rows = await perClinic.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-clinic'), tr.querySelector('td')?.textContent?.trim()]));
    expect(rows).toEqual([['HP01', String(DEMO_PATIENTS / 2)], ['HP01A', String(DEMO_PATIENTS / 2)]]);
    expect((await perClinic.locator('tfoot th').innerText()).trim()).toBe(VI.rep_total);
    expect(num(await perClinic.locator('tfoot td').first().innerText())).toBe(DEMO_PATIENTS);
    await page.screenshot({ path: artifactPath(`reports-dashboard-${get().driver}.png`), fullPage: true });

    // One clinic: its figures only, and no per-clinic table.
    await page.getByLabel(VI.rep_clinic, { exact: true }).selectOption({ label: HP01 });
    await show(page, 'clinic');
    await expect.poll(() => figure('activeToday').innerText().then(num), POLL).toBe(DEMO_PATIENTS / 2);
    expect(await page.getByRole('heading', { level: 2, name: VI.dash_per_clinic }).count()).toBe(0);
    expect(await page.getByLabel(VI.rep_clinic, { exact: true }).locator('option:checked').innerText()).toBe(HP01);

    // The figure links to the patients behind it: that many rows, each a link to the patient.
    await Promise.all([page.waitForURL((u) => u.pathname === '/reports/patients'), figure('activeToday').getByRole('link').click()]);
    expect(await text(page, 'h1')).toContain(VI.prog_ind_activeEnd);
    const listed = page.locator('table.patients tbody tr');
    await expect.poll(() => listed.count(), POLL).toBe(DEMO_PATIENTS / 2);
    const lines = await listed.evaluateAll((trs) => trs.map((tr) => ({ href: tr.querySelector('a')?.getAttribute('href') ?? '', clinic: tr.children[2]?.textContent?.trim() })));
    for (const l of lines) {
      expect(l.href).toMatch(/^\/patients\/[0-9a-f-]{36}$/);
      expect(l.clinic).toBe('HP01');
    }
    expect(new Set(lines.map((l) => l.href)).size).toBe(lines.length);
    await Promise.all([page.waitForURL((u) => u.pathname === lines[0]!.href), listed.first().getByRole('link').click()]);
  });

  it('retention: cohorts, the Kaplan–Meier chart with its table, definitions, Circular 05 apart; by quarter, down to the retained; screenshot saved', async () => {
    const { page } = await managerOn(VI.rep_tab_retention);
    await page.getByRole('heading', { level: 1, name: VI.ret_title }).waitFor();
    const cohorts = () => page.locator('table.retention tbody tr[data-cohort]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-cohort')!));
    const monthly = await cohorts();
    expect(monthly.length, 'monthly cohorts over the demo\'s 400 days of history and past patients (db/seed.ts)').toBeGreaterThan(3);
    for (const k of monthly) expect(k).toMatch(/^\d{4}-\d{2}$/);

    const chart = page.locator('svg.chart.km');
    await chart.waitFor({ state: 'visible' });
    expect(await chart.locator(':scope > title').textContent()).toBe(VI.ret_curve_title);
    expect(await chart.locator('path.curve').count()).toBe(2);
    // The chart's figures in a table beside it (to its right on a wide screen), its numbers at risk the chart's.
    const table = page.locator('table.km-table');
    await table.waitFor({ state: 'visible' });
    expect((await table.locator('caption').innerText()).trim()).toBe(VI.rep_table_of_chart);
    const [c, t] = [(await chart.boundingBox())!, (await table.boundingBox())!];
    expect(t.x, 'the table is to the right of the chart').toBeGreaterThanOrEqual(c.x + c.width - 1);
    const atRiskChart = await chart.locator('text.at-risk').allTextContents();
    const atRiskTable = await table.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(atRiskTable.map((s) => s.trim())).toEqual(atRiskChart.map((s) => s.trim()));
    expect(atRiskChart.length).toBeGreaterThan(0);

    const defs = page.locator('section.defs');
    expect((await defs.getByRole('heading', { level: 2 }).innerText()).trim()).toBe(VI.ret_defs_title);
    for (const d of [VI.ret_def_cohort, VI.ret_def_retained, VI.ret_def_transfer]) expect(await defs.innerText()).toContain(d);
    const c05 = page.locator('section.c05');
    expect((await c05.getByRole('heading', { level: 2 }).innerText()).trim()).toBe(VI.ret_c05_title);
    expect(await c05.innerText()).toContain(VI.ret_c05_note);
    await page.screenshot({ path: artifactPath(`reports-retention-${get().driver}.png`), fullPage: true });

    // By R21 quarter.
    await page.getByLabel(VI.ret_grouping, { exact: true }).selectOption({ label: VI.ret_by_quarter });
    await show(page, 'grouping');
    expect(new URL(page.url()).searchParams.get('grouping')).toBe('quarter');
    const quarterly = await cohorts();
    expect(quarterly.length).toBeGreaterThan(0);
    expect(quarterly.length).toBeLessThan(monthly.length);
    for (const k of quarterly) expect(k).toMatch(/^\d{4}-Q[1-4]$/);

    // A "retained/eligible" cell at 3 months lists the retained: as many as its numerator.
    const cells = await page.locator('table.retention tbody tr td[data-month="3"] a').evaluateAll((as) =>
      as.map((a) => ({ text: a.textContent!.trim(), href: a.getAttribute('href')!, cohort: a.closest('tr')!.getAttribute('data-cohort')!, kind: a.closest('tr')!.getAttribute('data-kind')! })),
    );
    const cell = cells.find((x) => /^[1-9]\d*\/\d+$/.test(x.text));
    expect(cell, `a 3-month cell with someone retained among ${JSON.stringify(cells.map((x) => x.text))}`).toBeDefined();
    const [retained, eligible] = cell!.text.split('/').map(Number) as [number, number];
    expect(retained).toBeLessThanOrEqual(eligible);
    await Promise.all([page.waitForURL((u) => u.pathname === '/reports/patients'), page.locator(`a[href="${cell!.href.replace(/"/g, '\\"')}"]`).click()]);
    const kind = VI[`episode_kind_${cell!.kind as 'first' | 're_enrolment'}`];
    expect(await text(page, 'h1')).toBe(VI.drill_of({ what: VI.drill_cohort({ cohort: cell!.cohort, kind, outcome: VI.drill_outcome_retained, n: 3 }) }));
    await expect.poll(() => page.locator('table.patients tbody tr').count(), POLL).toBe(retained);
    // And back to the report as it was.
    await Promise.all([page.waitForURL((u) => u.pathname === '/reports/retention'), page.getByRole('link', { name: VI.drill_back, exact: true }).click()]);
    expect(new URL(page.url()).searchParams.get('grouping')).toBe('quarter');
  });

  it('on a phone, retention and the dashboard fit the width and the chart scales to it; screenshot saved', async () => {
    const { page } = await managerOn(VI.rep_tab_retention, PHONE);
    const chart = page.locator('svg.chart.km');
    await chart.waitFor({ state: 'visible' });
    const fits = async (what: string) => {
      const { scrollWidth, clientWidth } = await horizontalOverflow(page);
      expect(clientWidth).toBe(390);
      expect(scrollWidth, `${what} is ${scrollWidth}px wide on a ${clientWidth}px phone`).toBeLessThanOrEqual(clientWidth);
    };
    await fits('the retention page');
    const box = (await chart.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(box.width, 'the chart takes most of the width').toBeGreaterThan(390 * 0.75);
    // It keeps the drawing's own shape (its viewBox), scaled to the width.
    const [, , vw, vh] = ((await chart.getAttribute('viewBox')) ?? '').split(' ').map(Number) as [number, number, number, number];
    expect(box.height / box.width).toBeCloseTo(vh / vw, 1);
    await page.screenshot({ path: artifactPath(`reports-retention-phone-${get().driver}.png`), fullPage: true });
    await page.getByRole('navigation', { name: VI.rep_tabs }).getByRole('link', { name: VI.rep_tab_dashboard, exact: true }).tap();
    await page.waitForURL((u) => u.pathname === '/reports');
    await page.locator('dd[data-figure="activeToday"]').waitFor();
    await fits('the dashboard');
  });

  it('programme report of an R21 quarter: its dates, the identity, the CSV and Excel files agree; printed on one A4 page; screenshot saved', async () => {
    const { page } = await managerOn(VI.rep_tab_programme);
    const select = page.getByLabel(VI.prog_period, { exact: true });
    const quarters = await select.locator(`optgroup[label="${VI.prog_kind_quarter}"] option`).evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(quarters.length).toBeGreaterThan(1);
    // Every quarter offered holds the identity; the demo's transfer HP01 → HP01A is out and in at the
    // clinics but neither in the total (nobody came from outside the group).
    let transfersAtClinics = 0;
    for (const key of quarters) {
      await page.goto(`/reports/programme?period=${key}`);
      const figures = await programmeFigures(page, key);
      expect(figures.get('transferredIn')!.at(-1), `${key}: transfers in from outside`).toBe(0);
      transfersAtClinics += figures.get('transferredIn')![1]!;
    }
    expect(transfersAtClinics, 'the demo transfer shows at HP01A in one of the quarters').toBeGreaterThan(0);
    await page.goto('/reports/programme');
    // The last whole quarter (the first offered is the one under way).
    const period = parsePeriod(quarters[1]!)!;
    expect(period.kind).toBe('quarter');
    await select.selectOption(period.key);
    await show(page, 'period');
    expect(new URL(page.url()).searchParams.get('period')).toBe(period.key);

    // R21: from the 15th of the month before the quarter to the 14th of its last month.
    expect(period.from.slice(8)).toBe('15');
    expect(period.to.slice(8)).toBe('14');
    const months = (d: string) => Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7));
    expect(months(period.to) - months(period.from)).toBe(3);
    expect(Number(period.to.slice(5, 7)) % 3).toBe(0);
    const label = VI.prog_period_quarter({ q: period.index, year: period.year });
    expect(await text(page, 'section.programme-report h2')).toBe(`${VI.prog_title} · ${VI.prog_heading({ period: label, from: formatDay(period.from), to: formatDay(period.to) })}`);

    // The page's figures (one column per clinic, then the total) hold the identity.
    const shown = await programmeFigures(page);
    const columns = shown.get('activeEnd')!.length;
    expect(columns).toBe(3);
    expect(shown.get('activeEnd')!.at(-1)).toBe(num(await page.locator('tr[data-indicator="activeEnd"] td[data-total]').innerText()));
    expect(shown.get('activeStart')!.at(-1)).toBeGreaterThan(0);

    /** A file's table (rows of the indicators, by their label) against the page's. */
    const compare = (rows: readonly (readonly unknown[])[], what: string) => {
      expect(rows[1]!.length, `${what}: columns`).toBe(columns + 1);
      for (const ind of PROGRAMME_ROWS) {
        const row = rows.find((r) => r[0] === VI[`prog_ind_${ind}` as const]);
        expect(row, `${what}: the row of ${ind}`).toBeDefined();
        const values = row!.slice(1).map(Number);
        // The page rounds to one decimal (mg); the files keep the exact figure.
        shown.get(ind)!.forEach((n, i) => expect(Math.abs(values[i]! - n), `${what}: ${ind}, column ${i + 1}: ${values[i]} vs ${n}`).toBeLessThanOrEqual(0.05 + 1e-9));
      }
    };
    const download = async (name: string) => {
      const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name, exact: true }).click()]);
      expect(await dl.failure()).toBeNull();
      return dl;
    };
    const csv = await download(VI.rep_csv);
    expect(csv.suggestedFilename()).toBe(`programme-${period.key}.csv`);
    const records = parseCsv(readFileSync(await csv.path(), 'utf8')).records;
    expect(records[0]).toEqual([VI.prog_title, label, formatDay(period.from), formatDay(period.to)]);
    compare(records, 'CSV');
    const xlsx = await download(VI.rep_xlsx);
    expect(xlsx.suggestedFilename()).toBe(`programme-${period.key}.xlsx`);
    const sheets = await readXlsxFile(await xlsx.path());
    expect(sheets).toHaveLength(1);
    expect(sheets[0]!.data[0]!.slice(0, 2)).toEqual([VI.prog_title, label]);
    compare(sheets[0]!.data, 'Excel');

    // Printed: no tabs, filters or buttons; the signature lines; one A4 page.
    await page.emulateMedia({ media: 'print' });
    for (const hidden of ['header.topbar', 'nav.tabs', 'form.filters', 'button[data-print]', 'a.button']) {
      await expect.poll(() => page.locator(hidden).evaluateAll((els) => els.filter((e) => (e as HTMLElement).offsetParent !== null || e.getClientRects().length > 0).length), POLL).toBe(0);
    }
    const signatures = page.locator('.signatures');
    await signatures.waitFor({ state: 'visible' });
    expect(await signatures.innerText()).toContain(VI.prog_signature);
    expect(await signatures.innerText()).toContain(VI.prog_signature_head);
    await page.screenshot({ path: artifactPath(`reports-programme-print-${get().driver}.png`), fullPage: true });
    const pdf = (await page.pdf({ format: 'A4', printBackground: true })).toString('latin1');
    const pages = pdf.match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? [];
    expect(pdf.match(/\/Type\s*\/Pages\b/g)?.length, 'the PDF has its page tree').toBeGreaterThan(0);
    expect(pages.length, 'the programme report prints on one A4 page').toBe(1);
  });

  it('a nurse has no link to the reports and gets the 403 page there', async () => {
    const tab = await get().newTab(DESKTOP);
    const { page } = tab;
    await login(tab, 'nurse');
    const nav = page.getByRole('navigation', { name: VI.nav_label });
    await nav.waitFor({ state: 'visible' });
    expect(await nav.getByRole('link', { name: VI.nav_reports, exact: true }).count()).toBe(0);
    expect(await page.locator('a[href^="/reports"]').count()).toBe(0);
    tab.expectHttpError('/reports', 403);
    const res = await page.goto('/reports');
    expect(res?.status()).toBe(403);
    await page.getByText(VI.error_403, { exact: true }).waitFor({ state: 'visible' });
    expect(await page.locator('dd[data-figure]').count()).toBe(0);
    for (const href of ['/reports/retention', '/reports/programme.csv', '/reports/patients?ind=activeEnd&from=2026-01-01&to=2026-01-01']) {
      expect((await page.request.get(href, { maxRedirects: 0 })).status(), `GET ${href} as nurse`).toBe(403);
    }
  });
});
