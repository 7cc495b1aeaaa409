// The manager's reports over HTTP: dashboard, retention, adherence, the
// programme report (page, CSV, Excel workbook) and the patients behind a
// figure. Every query is scoped to the viewer's clinics; a clinic asked for
// that is not one of them is simply not chosen.
import { asc, inArray } from 'drizzle-orm';
import { Hono } from 'hono';
import writeXlsxFile from 'write-excel-file/node';
import { z } from 'zod';
import { clinics, END_REASONS, SEXES } from '../../db/schema.ts';
import { messages } from '../../views/i18n/index.ts';
import { AdherencePage, DashboardPage, DrillPage, periodLabel, PROGRAMME_ROWS, ProgrammePage, RetentionPage, type ClinicOption, type DrillView, type RetentionFilterView } from '../../views/pages/reports.tsx';
import { formatDateTime, formatDay } from '../../views/format.ts';
import { can } from '../auth/permissions.ts';
import { serviceDay } from '../clock.ts';
import { toCsv } from '../csv.ts';
import { addDays } from '../dosing/days.ts';
import { NotFound } from '../errors.ts';
import { parsePeriod, periodOf, previousPeriod, type Period, type PeriodKind } from '../reports/periods.ts';
import { ADHERENCE_BANDS, clinicAdherence, patientAdherence } from '../services/adherence.ts';
import { dashboard, indicatorPatients, PATIENT_INDICATORS, programmeReport, type ProgrammeReport } from '../services/reports.ts';
import { AGE_BANDS, cohortRuns, crossSectional, referralSources, RETENTION_MONTHS, retentionReport, RUN_KINDS, type RunFilter } from '../services/retention.ts';
import { render, scopeOf, viewContext, type AppEnv, type Ctx } from './support.ts';

interface Scope {
  mine: (ClinicOption & { timeZone: string })[];
  /** The chosen clinic's id, or '' for all of them. */
  clinic: string;
  ids: string[];
  /** The last whole day and today, in the first chosen clinic's zone. */
  today: string;
  yesterday: string;
  timeZone: string;
}

async function scopeFor(c: Ctx): Promise<Scope> {
  const scope = scopeOf(c);
  const { db, clock, config } = c.var.deps;
  const mine = await db
    .select({ id: clinics.id, code: clinics.code, name: clinics.name, kind: clinics.kind, timeZone: clinics.timeZone })
    .from(clinics)
    .where(scope ? inArray(clinics.id, scope.length ? scope : ['00000000-0000-0000-0000-000000000000']) : undefined)
    .orderBy(asc(clinics.code));
  const asked = c.req.query('clinic');
  const clinic = asked && mine.some((m) => m.id === asked) ? asked : '';
  const ids = clinic ? [clinic] : mine.map((m) => m.id);
  const timeZone = mine.find((m) => m.id === (clinic || ids[0]))?.timeZone ?? config.DEFAULT_TIME_ZONE;
  const today = serviceDay(clock.now(), timeZone);
  return { mine, clinic, ids, today, yesterday: addDays(today, -1), timeZone };
}

/** The periods offered: the last 24 months, 8 reporting quarters and 3 reporting years, newest first. */
function periodChoices(today: string): Period[] {
  const out: Period[] = [];
  for (const [kind, n] of [['month', 24], ['quarter', 8], ['year', 3]] as [PeriodKind, number][]) {
    let p = periodOf(kind, today);
    for (let i = 0; i < n; i++, p = previousPeriod(p)) out.push(p);
  }
  return out;
}

/** The period asked for, else the last whole month (the one being reported). */
function chosenPeriod(c: Ctx, today: string): Period {
  const asked = parsePeriod(c.req.query('period') ?? '');
  return asked && asked.from <= today ? asked : previousPeriod(periodOf('month', today));
}

const RetentionQuery = z.object({
  grouping: z.enum(['month', 'quarter']).catch('month'),
  sex: z.enum(SEXES).optional().catch(undefined),
  age: z.enum(AGE_BANDS).optional().catch(undefined),
  referral: z.string().max(200).optional().catch(undefined),
  kind: z.enum(['all', ...RUN_KINDS]).catch('all'),
});

function retentionFilter(c: Ctx, s: Scope): { filter: RunFilter; view: RetentionFilterView } {
  const q = RetentionQuery.parse(c.req.query());
  const referral = q.referral ? q.referral : undefined;
  return {
    filter: { clinicIds: s.ids, sex: q.sex, ageBand: q.age, referral },
    view: { clinic: s.clinic, grouping: q.grouping, sex: q.sex ?? '', age: q.age ?? '', referral: referral ?? '', kind: q.kind },
  };
}

function programmeTable(c: Ctx, s: Scope, period: Period, r: ProgrammeReport): (string | number)[][] {
  const t = messages(c.var.locale);
  const cols = r.rows.length > 1 ? r.rows : [];
  return [
    [t.prog_title, periodLabel(t, period), formatDay(period.from), formatDay(period.to)],
    [t.prog_indicator, ...cols.map((x) => `${x.code} ${x.name}`), cols.length ? t.rep_total : (r.rows[0] ? `${r.rows[0].code} ${r.rows[0].name}` : t.rep_total)],
    ...PROGRAMME_ROWS.map((ind) => [t[`prog_ind_${ind}`], ...cols.map((x) => x.ind[ind]), r.total[ind]]),
  ];
}

const DrillQuery = z.discriminatedUnion('fig', [
  z.object({
    fig: z.literal('cohort'),
    grouping: z.enum(['month', 'quarter']),
    cohort: z.string().regex(/^\d{4}-(\d{2}|Q[1-4])$/),
    kind: z.enum(RUN_KINDS),
    month: z.coerce
      .number()
      .pipe(z.union(RETENTION_MONTHS.map((n) => z.literal(n)) as unknown as [z.ZodLiteral<3>, z.ZodLiteral<6>, z.ZodLiteral<12>, z.ZodLiteral<24>]))
      .optional(),
    outcome: z.enum(['all', 'retained', 'lost', 'censored']),
  }),
  z.object({
    fig: z.literal('indicator').default('indicator'),
    ind: z.enum(PATIENT_INDICATORS),
    from: z.iso.date(),
    to: z.iso.date(),
    together: z.literal('1').optional(),
    reason: z.enum(END_REASONS).optional(),
  }),
]);

export const reportRoutes = new Hono<AppEnv>()
  .get('/reports', async (c) => {
    const s = await scopeFor(c);
    const { db, clock } = c.var.deps;
    const dash = await dashboard(db, clock.now(), s.mine.map((m) => m.id));
    return render(c, DashboardPage({ ctx: viewContext(c), v: { clinics: s.mine, clinic: s.clinic, dash, canDrill: can(c.var.session!.user.role, 'report.patients') } }));
  })
  .get('/reports/retention', async (c) => {
    const s = await scopeFor(c);
    const { db } = c.var.deps;
    const { filter, view } = retentionFilter(c, s);
    const asOf = s.yesterday;
    const kind = view.kind;
    const { cohorts, all: curveAll, censored: curveCensored, truncated } = await retentionReport(db, asOf, filter, view.grouping, kind);
    const cross = await crossSectional(db, asOf, filter);
    const referrals = await referralSources(db, s.ids);
    return render(c, RetentionPage({ ctx: viewContext(c), v: { clinics: s.mine, referrals, filter: view, asOf, cohorts, curveAll, curveCensored, truncated, cross, canDrill: can(c.var.session!.user.role, 'report.patients') } }));
  })
  .get('/reports/adherence', async (c) => {
    const s = await scopeFor(c);
    const { db } = c.var.deps;
    const period = chosenPeriod(c, s.today);
    const upTo = period.to < s.yesterday ? period.to : s.yesterday;
    const perClinic = await clinicAdherence(db, s.ids, period.from, upTo);
    const lowest = can(c.var.session!.user.role, 'report.patients') ? await patientAdherence(db, s.ids, period.from, upTo, 50) : null;
    return render(c, AdherencePage({ ctx: viewContext(c), v: { clinics: s.mine, clinic: s.clinic, period, choices: periodChoices(s.today), upTo, perClinic, lowest, bands: ADHERENCE_BANDS } }));
  })
  .get('/reports/programme', async (c) => {
    const s = await scopeFor(c);
    const period = chosenPeriod(c, s.today);
    const report = await programmeReport(c.var.deps.db, s.ids, period.from, period.to);
    const generatedAt = formatDateTime(c.var.deps.clock.now(), s.timeZone);
    return render(c, ProgrammePage({ ctx: viewContext(c), v: { clinics: s.mine, clinic: s.clinic, period, choices: periodChoices(s.today), report, generatedAt, canDrill: can(c.var.session!.user.role, 'report.patients') } }));
  })
  .get('/reports/programme.csv', async (c) => {
    const s = await scopeFor(c);
    const period = chosenPeriod(c, s.today);
    const report = await programmeReport(c.var.deps.db, s.ids, period.from, period.to);
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', `attachment; filename="programme-${period.key}.csv"`);
    return c.body(toCsv(programmeTable(c, s, period, report)));
  })
  .get('/reports/programme.xlsx', async (c) => {
    const s = await scopeFor(c);
    const period = chosenPeriod(c, s.today);
    const report = await programmeReport(c.var.deps.db, s.ids, period.from, period.to);
    const table = programmeTable(c, s, period, report);
    const t = messages(c.var.locale);
    const data = table.map((row, i) => row.map((v) => (typeof v === 'number' ? { value: v, type: Number, format: Number.isInteger(v) ? '#,##0' : '#,##0.0' } : { value: v, type: String, fontWeight: i < 2 ? ('bold' as const) : undefined })));
    const buffer = await writeXlsxFile([{ sheet: t.prog_title.slice(0, 31), data, columns: [{ width: 40 }, ...table[1]!.slice(1).map(() => ({ width: 16 }))], stickyRowsCount: 2 }]).toBuffer();
    c.header('Content-Type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    c.header('Content-Disposition', `attachment; filename="programme-${period.key}.xlsx"`);
    return c.body(new Uint8Array(buffer));
  })
  .get('/reports/patients', async (c) => {
    const s = await scopeFor(c);
    const t = messages(c.var.locale);
    const { db } = c.var.deps;
    const parsed = DrillQuery.safeParse({ fig: 'indicator', ...c.req.query() });
    if (!parsed.success) throw new NotFound('report');
    const q = parsed.data;
    let v: DrillView;
    if (q.fig === 'cohort') {
      const { filter, view } = retentionFilter(c, s);
      const rows = await cohortRuns(db, s.yesterday, filter, { grouping: q.grouping, cohort: q.cohort, kind: q.kind, month: q.month, outcome: q.outcome });
      const back = `/reports/retention?${new URLSearchParams(Object.entries({ ...view, kind: view.kind }).filter(([, x]) => x !== '')).toString()}`;
      v = { kind: 'runs', rows, limit: 500, back, title: t.drill_cohort({ cohort: q.cohort, kind: t[`episode_kind_${q.kind}`], outcome: t[`drill_outcome_${q.outcome}`], n: q.month ?? null }) };
    } else {
      const rows = await indicatorPatients(db, s.ids, q.from, q.to, q.ind, q.together === '1' && !s.clinic, q.reason);
      const what = q.ind === 'endedAs' && q.reason ? t[`end_reason_${q.reason}`] : t[`prog_ind_${q.ind}`];
      v = { kind: 'episodes', rows, limit: 1000, back: s.clinic ? `/reports?clinic=${s.clinic}` : '/reports', title: `${what} · ${formatDay(q.from)}${q.to !== q.from ? ` – ${formatDay(q.to)}` : ''}` };
    }
    return render(c, DrillPage({ ctx: viewContext(c), v }));
  });

