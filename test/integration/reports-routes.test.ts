// The reports over HTTP (issue 6): who may see them, scoping to one's own
// clinics (a clinic of someone else's asked for is not chosen), the patients
// behind a figure, the programme report's CSV and Excel workbook carrying the
// page's numbers, the English UI, and bad parameters answered without a fault.
// The figures themselves are checked against a hand-computed programme in
// reports-fixture.test.ts.
import readXlsxFile from 'read-excel-file/node';
import { expect, it } from 'vitest';
import { parseCsv } from '../../server/csv.ts';
import { users } from '../../db/schema.ts';
import { eq } from 'drizzle-orm';
import { messages } from '../../views/i18n/index.ts';
import { transfer } from '../../server/services/episodes.ts';
import { programmeReport } from '../../server/services/reports.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { followupWorld, TODAY } from '../helpers/followup-world.ts';

const t = messages('vi');
const en = messages('en');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const figure = (html: string, name: string) =>
  new RegExp(`<dd data-figure="${name}">([\\s\\S]*?)</dd>`)
    .exec(html)?.[1]
    ?.replace(/<[^>]+>/g, '')
    .trim();
const patientCodes = (html: string) => [...html.matchAll(/<tr data-patient="([^"]+)"/g)].map((m) => m[1]!).sort();

describeEachDatabase('reports over HTTP', (get) => {
  // Six patients in treatment at a facility and its satellite point since 90 days ago, one of them dosed today; one more at another clinic.
  const setup = () => followupWorld(get().db);

  it('shows a manager the dashboard of their own clinics, links each figure to its patients, and ignores a clinic that is not theirs', async () => {
    const w = await setup();
    const m = await w.client(w.manager);
    const { res, html } = await m.get('/reports');
    expect(res.status).toBe(200);
    expect(html).toContain(esc(t.dash_active_today));
    // Six in treatment at the facility and its satellite point; the other clinic's patient is not theirs.
    expect(figure(html, 'activeToday')).toBe('6');
    expect(figure(html, 'dosesToday')).toBe('1');
    const link = /<dd data-figure="activeToday">\s*<a href="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    expect(link).toMatch(/^\/reports\/patients\?/);
    const list = await m.get(link!);
    expect(list.res.status).toBe(200);
    expect(patientCodes(list.html)).toEqual([w.a, w.b, w.c, w.d, w.s, w.came].map((p) => p.code).sort());
    expect(list.html).not.toContain(w.elsewhere.code);

    // Asking for another's clinic chooses none of it: the page stays on one's own.
    const other = await m.get(`/reports?clinic=${w.other.id}`);
    expect(figure(other.html, 'activeToday')).toBe('6');
    const otherList = await m.get(`/reports/patients?ind=activeEnd&from=${TODAY}&to=${TODAY}&clinic=${w.other.id}`);
    expect(patientCodes(otherList.html)).not.toContain(w.elsewhere.code);
    // One clinic of one's own: only its patients.
    const sat = await m.get(`/reports/patients?ind=activeEnd&from=${TODAY}&to=${TODAY}&clinic=${w.satellite.id}`);
    expect(patientCodes(sat.html)).toEqual([w.s.code]);
  });

  it('lets managers and doctors in, and no one else (nurse, counsellor, admin: 403)', async () => {
    const w = await setup();
    const paths = ['/reports', '/reports/retention', '/reports/adherence', '/reports/programme', '/reports/programme.csv', '/reports/programme.xlsx', `/reports/patients?ind=activeEnd&from=${TODAY}&to=${TODAY}`];
    for (const u of [w.manager, w.doctor]) {
      const cl = await w.client(u);
      for (const p of paths) expect((await cl.request(p)).status, `${p}`).toBe(200);
    }
    for (const u of [w.nurse, w.lan, w.admin]) {
      const cl = await w.client(u);
      for (const p of paths) expect((await cl.request(p)).status, `${p}`).toBe(403);
    }
  });

  it('R22 the retention page states its definitions, keeps the Circular 05 counts apart, and draws its curve as SVG with the figures in a table', async () => {
    const w = await setup();
    const m = await w.client(w.manager);
    const { res, html } = await m.get('/reports/retention?grouping=quarter&sex=male&age=40_49');
    expect(res.status).toBe(200);
    for (const s of [t.ret_defs_title, t.ret_def_cohort, t.ret_def_retained, t.ret_def_transfer, t.ret_def_outcomes, t.ret_c05_title, t.ret_c05_note, t.ret_at_risk, t.rep_table_of_chart]) expect(html).toContain(esc(s));
    expect(html).toMatch(/<svg class="chart km"[^>]*role="img"/);
    expect(html).toContain('<table class="report-table km-table">');
    expect(html).not.toContain('<script>');
    // The filters' values are kept.
    expect(html).toMatch(/<option value="quarter" selected/);
    expect(html).toMatch(/<option value="40_49" selected/);
  });

  it('R21 the programme report of a month or a reporting quarter: the page, its CSV and its Excel workbook carry the same numbers', async () => {
    const w = await setup();
    const m = await w.client(w.manager);
    const quarter = '2026-Q3'; // 15/06/2026 – 14/09/2026
    const page = await m.get(`/reports/programme?period=${quarter}`);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain(esc(t.prog_heading({ period: t.prog_period_quarter({ q: 3, year: 2026 }), from: '15/06/2026', to: '14/09/2026' })));
    const totalOf = (ind: string) => new RegExp(`<tr data-indicator="${ind}">[\\s\\S]*?<td class="num" data-total[^>]*>([\\s\\S]*?)</td>`).exec(page.html)?.[1]?.replace(/<[^>]+>/g, '').trim();
    // The world's patients started 90 days before 23/11/2026 (25/08/2026), inside the quarter, and are still in treatment.
    expect(totalOf('newlyEnrolled')).toBe('6');
    expect(totalOf('activeEnd')).toBe('6');

    const csvRes = await m.request(`/reports/programme.csv?period=${quarter}`);
    expect(csvRes.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csvRes.headers.get('content-disposition')).toContain(`programme-${quarter}.csv`);
    const csv = parseCsv(await csvRes.text()).records;
    const row = (records: unknown[][], label: string) => records.find((r) => r[0] === label)?.slice(-1)[0];
    expect(csv[0]?.[0]).toBe(t.prog_title);
    expect(row(csv, t.prog_ind_newlyEnrolled)).toBe('6');

    const xlsxRes = await m.request(`/reports/programme.xlsx?period=${quarter}`);
    expect(xlsxRes.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const sheets = await readXlsxFile(Buffer.from(await xlsxRes.arrayBuffer()));
    const data = sheets[0]!.data as unknown[][];
    expect(data.length).toBe(csv.filter((r) => r.some((x) => x !== '')).length);
    for (const ind of ['activeStart', 'newlyEnrolled', 'activeEnd', 'doses', 'mg'] as const) {
      const label = t[`prog_ind_${ind}`];
      expect(Number(row(data, label)), label).toBe(Number(row(csv, label)));
    }
  });

  it('a transfer as the app writes it (the old episode ends the day before the new one starts): the patient is in treatment every day, once, and per clinic the move out and in fall in the same period', async () => {
    const w = await setup();
    // D moves from the facility to the satellite point on 2026-11-10: the facility's episode ends on 11-09.
    await transfer({ db: w.db, clock: w.clock }, { userId: w.manager.id, address: null }, { patientId: w.d.id, toClinicId: w.satellite.id, date: '2026-11-10', note: '' }, null);
    const both = [w.facility.id, w.satellite.id];
    for (const day of ['2026-11-08', '2026-11-09', '2026-11-10', '2026-11-11']) {
      const r = await programmeReport(w.db, both, day, day);
      expect(r.total.activeEnd, `in treatment at the end of ${day}`).toBe(6);
      expect(r.rows.reduce((n, x) => n + x.ind.activeEnd, 0), `per clinic on ${day}`).toBe(6);
    }
    // November 1–9 at the facility: D still there at the end; the move is in the period from the 10th, out and in together.
    const early = await programmeReport(w.db, both, '2026-11-01', '2026-11-09');
    expect(early.rows.map((x) => [x.ind.transferredOut, x.ind.transferredIn])).toEqual([[0, 0], [0, 0]]);
    const late = await programmeReport(w.db, both, '2026-11-10', '2026-11-20');
    expect(late.rows.map((x) => [x.ind.transferredOut, x.ind.transferredIn])).toEqual([[1, 0], [0, 1]]);
    expect([late.total.transferredOut, late.total.transferredIn]).toEqual([0, 0]);
    for (const r of [early, late])
      for (const ind of [...r.rows.map((x) => x.ind), r.total])
        expect(ind.activeEnd).toBe(ind.activeStart + ind.newlyEnrolled + ind.reEnrolled + ind.transferredIn - ind.transferredOut - ind.droppedOut - ind.deceased - ind.completed - ind.otherEnded);
  });

  it('speaks English to a user who chose it', async () => {
    const w = await setup();
    await w.db.update(users).set({ locale: 'en' }).where(eq(users.id, w.manager.id));
    const m = await w.client(w.manager);
    for (const [p, s] of [
      ['/reports', en.dash_active_today],
      ['/reports/retention', en.ret_def_retained],
      ['/reports/adherence', en.adh_defs],
      ['/reports/programme', en.prog_defs],
    ] as const) {
      const { html } = await m.get(p);
      expect(html, p).toContain(esc(s));
    }
  });

  it('answers bad parameters without a fault: an unknown period falls back to last month, an unknown figure is 404', async () => {
    const w = await setup();
    const m = await w.client(w.manager);
    expect((await m.get('/reports/programme?period=2026-13')).res.status).toBe(200);
    expect((await m.get('/reports/adherence?period=<script>')).res.status).toBe(200);
    expect((await m.get('/reports/retention?grouping=year&sex=x&age=99&kind=z')).res.status).toBe(200);
    expect((await m.get('/reports/patients?ind=everyone&from=2026-01-01&to=2026-01-31')).res.status).toBe(404);
    expect((await m.get('/reports/patients?fig=cohort&grouping=month&cohort=2026-1&kind=first&outcome=all')).res.status).toBe(404);
  });
});
