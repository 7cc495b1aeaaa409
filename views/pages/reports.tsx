// The manager's reports: today's dashboard, retention by cohort with the
// Kaplan–Meier curve (R22), adherence, and the programme report of a month
// or an R21 quarter or year (printable on one page). Every chart has its
// figures in a table beside it; every figure made of patients links to the
// list of them for those allowed to see patients.
import type { Child } from 'hono/jsx';
import { END_REASONS, SEXES, type EndReason } from '../../db/schema.ts';
import type { ClinicAdherence, PatientAdherence } from '../../server/services/adherence.ts';
import type { Dashboard, DashboardFigures, IndicatorPatient, Indicators, PatientIndicator, ProgrammeReport } from '../../server/services/reports.ts';
import type { AgeBand, CohortOutcome, CohortRow, CrossSectional, KmCurve, RetentionMonth, RunListRow } from '../../server/services/retention.ts';
import type { Period } from '../../server/reports/periods.ts';
import { BarChart, KmChart, Legend, survivalAt, type Curve } from '../charts.tsx';
import type { ViewContext } from '../context.ts';
import { formatDay, formatNumber } from '../format.ts';
import type { Messages } from '../i18n/index.ts';
import { Layout } from '../layout.tsx';

export interface ClinicOption {
  id: string;
  code: string;
  name: string;
  kind: 'facility' | 'satellite';
}

const TABS = [
  ['/reports', 'rep_tab_dashboard'],
  ['/reports/retention', 'rep_tab_retention'],
  ['/reports/adherence', 'rep_tab_adherence'],
  ['/reports/programme', 'rep_tab_programme'],
] as const;

const qs = (o: Record<string, string | number | undefined | null>) =>
  new URLSearchParams(Object.entries(o).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== null && e[1] !== '').map(([k, v]) => [k, String(v)])).toString();

function Tabs({ ctx, clinic }: { ctx: ViewContext; clinic: string }) {
  return (
    <nav class="tabs no-print" aria-label={ctx.t.rep_tabs}>
      {TABS.map(([href, key]) => (
        <a href={clinic ? `${href}?clinic=${clinic}` : href} aria-current={ctx.path === href ? 'page' : undefined}>
          {ctx.t[key]}
        </a>
      ))}
    </nav>
  );
}

function ClinicSelect({ ctx, clinics, value }: { ctx: ViewContext; clinics: ClinicOption[]; value: string }) {
  return (
    <p>
      <label for="clinic">{ctx.t.rep_clinic}</label>
      <select id="clinic" name="clinic">
        <option value="">{ctx.t.rep_all_clinics}</option>
        {clinics.map((c) => (
          <option value={c.id} selected={c.id === value}>
            {c.code} · {c.name}
            {c.kind === 'satellite' ? ` (${ctx.t.fu_satellite})` : ''}
          </option>
        ))}
      </select>
    </p>
  );
}

const pctText = (ctx: ViewContext, share: number | null) => (share === null ? '—' : `${formatNumber(share * 100, ctx.locale, 1)}%`);

/** A figure, linked to its patients when the viewer may see them. */
function Figure({ value, href, ctx }: { value: string | number; href: string | null; ctx: ViewContext }) {
  const text = typeof value === 'number' ? formatNumber(value, ctx.locale, 1) : value;
  return href ? (
    <a href={href} title={ctx.t.rep_drill}>
      {text}
    </a>
  ) : (
    <>{text}</>
  );
}

// ---------------------------------------------------------------------------

export interface DashboardView {
  clinics: ClinicOption[];
  clinic: string;
  dash: Dashboard;
  canDrill: boolean;
}

export function DashboardPage({ ctx, v }: { ctx: ViewContext; v: DashboardView }) {
  const { t } = ctx;
  const first = v.dash.rows[0];
  if (!first) {
    return (
      <Layout ctx={ctx} title={t.rep_title}>
        <h1>{t.rep_title}</h1>
        <p>{t.rep_no_clinic}</p>
      </Layout>
    );
  }
  const fig: DashboardFigures = v.clinic ? v.dash.rows.find((r) => r.clinicId === v.clinic)! : v.dash.total;
  const drill = (ind: PatientIndicator, from: string, to: string, reason?: EndReason) =>
    v.canDrill ? `/reports/patients?${qs({ ind, from, to, clinic: v.clinic, together: v.clinic ? undefined : 1, reason })}` : null;
  const { today, monthFrom } = first;
  const ended = END_REASONS.filter((r) => fig.ended[r] > 0);
  return (
    <Layout ctx={ctx} title={t.rep_title}>
      <h1>{t.rep_title}</h1>
      <Tabs ctx={ctx} clinic={v.clinic} />
      <form method="get" action="/reports" class="filters no-print">
        <ClinicSelect ctx={ctx} clinics={v.clinics} value={v.clinic} />
        <button type="submit">{t.rep_show}</button>
      </form>
      <p class="muted">
        {t.rep_today({ day: formatDay(today) })} · {t.rep_month_to_date({ from: formatDay(monthFrom), to: formatDay(today) })}
      </p>
      <dl class="figures">
        {(
          [
            ['activeToday', t.dash_active_today, fig.activeToday, drill('activeEnd', today, today)],
            ['dosesToday', t.dash_doses_today, fig.dosesToday, null],
            ['dosesMonth', t.dash_doses_month, fig.dosesMonth, null],
            ['newMonth', t.dash_new_month, fig.newMonth, drill('newlyEnrolled', monthFrom, today)],
            ['reEnrolMonth', t.dash_re_month, fig.reEnrolMonth, drill('reEnrolled', monthFrom, today)],
            ['openAlertPatients', t.dash_alert_patients, fig.openAlertPatients, drill('openAlerts', today, today)],
            ['avgDailyMg', t.dash_avg_dose, fig.avgDailyMg ?? '—', null],
            ['mgMonth', t.dash_mg_month, fig.mgMonth, null],
          ] as const
        ).map(([key, label, value, href]) => (
          <div>
            <dt>{label}</dt>
            <dd data-figure={key}>
              <Figure ctx={ctx} value={value} href={href} />
            </dd>
          </div>
        ))}
      </dl>
      <section>
        <h2>{t.dash_ended_month}</h2>
        {ended.length === 0 ? (
          <p>{t.dash_ended_none}</p>
        ) : (
          <div class="chart-and-table">
            <BarChart title={t.dash_ended_month} bars={ended.map((r) => ({ label: t[`end_reason_${r}`], value: fig.ended[r], text: String(fig.ended[r]) }))} />
            <table>
              <tbody>
                {ended.map((r) => (
                  <tr>
                    <th scope="row">{t[`end_reason_${r}`]}</th>
                    <td class="num" data-ended={r}>
                      <Figure ctx={ctx} value={fig.ended[r]} href={drill('endedAs', monthFrom, today, r)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {v.dash.rows.length > 1 && !v.clinic && (
        <section>
          <h2>{t.dash_per_clinic}</h2>
          <div class="table-wrap">
            <table class="report-table">
              <thead>
                <tr>
                  <th scope="col">{t.rep_clinic}</th>
                  <th scope="col" class="num">{t.dash_active_today}</th>
                  <th scope="col" class="num">{t.dash_doses_today}</th>
                  <th scope="col" class="num">{t.dash_doses_month}</th>
                  <th scope="col" class="num">{t.dash_new_month}</th>
                  <th scope="col" class="num">{t.dash_re_month}</th>
                  <th scope="col" class="num">{t.dash_alert_patients}</th>
                  <th scope="col" class="num">{t.dash_avg_dose}</th>
                </tr>
              </thead>
              <tbody>
                {v.dash.rows.map((r) => (
                  <tr data-clinic={r.code}>
                    <th scope="row">
                      <a href={`/reports?clinic=${r.clinicId}`}>{r.code}</a> {r.name}
                    </th>
                    {[r.activeToday, r.dosesToday, r.dosesMonth, r.newMonth, r.reEnrolMonth, r.openAlertPatients].map((n) => (
                      <td class="num">{formatNumber(n, ctx.locale, 0)}</td>
                    ))}
                    <td class="num">{r.avgDailyMg === null ? '—' : formatNumber(r.avgDailyMg, ctx.locale)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">{t.rep_total}</th>
                  {[v.dash.total.activeToday, v.dash.total.dosesToday, v.dash.total.dosesMonth, v.dash.total.newMonth, v.dash.total.reEnrolMonth, v.dash.total.openAlertPatients].map((n) => (
                    <td class="num">{formatNumber(n, ctx.locale, 0)}</td>
                  ))}
                  <td class="num">{v.dash.total.avgDailyMg === null ? '—' : formatNumber(v.dash.total.avgDailyMg, ctx.locale)}</td>
                </tr>
              </tfoot>
            </table>
          </div>
        </section>
      )}
      <p class="muted defs">{t.dash_defs}</p>
    </Layout>
  );
}

// ---------------------------------------------------------------------------

export interface RetentionFilterView {
  clinic: string;
  grouping: 'month' | 'quarter';
  sex: string;
  age: string;
  referral: string;
  kind: 'all' | 'first' | 're_enrolment';
}

export interface RetentionView {
  clinics: ClinicOption[];
  referrals: string[];
  filter: RetentionFilterView;
  asOf: string;
  cohorts: CohortRow[];
  curveAll: KmCurve;
  curveCensored: KmCurve;
  /** Runs in no cohort because their induction is not in the records (RetentionReport.truncated). */
  truncated: number;
  cross: CrossSectional;
  canDrill: boolean;
}

export const RETENTION_MONTHS_SHOWN: RetentionMonth[] = [3, 6, 12, 24];
const AGE_KEYS: Record<AgeBand, 'ret_age_u30' | 'ret_age_30_39' | 'ret_age_40_49' | 'ret_age_50p'> = { u30: 'ret_age_u30', '30_39': 'ret_age_30_39', '40_49': 'ret_age_40_49', '50p': 'ret_age_50p' };

export function RetentionPage({ ctx, v }: { ctx: ViewContext; v: RetentionView }) {
  const { t } = ctx;
  const f = v.filter;
  const base = { clinic: f.clinic, grouping: f.grouping, sex: f.sex, age: f.age, referral: f.referral };
  const drill = (cohort: string, kind: string, month: number | null, outcome: CohortOutcome) =>
    v.canDrill ? `/reports/patients?${qs({ ...base, fig: 'cohort', cohort, kind, month: month ?? undefined, outcome })}` : null;
  const maxDay = Math.floor(24 * 30.44);
  const lastDay = (c: KmCurve) => Math.max(0, ...c.steps.map((s) => s.day), ...c.atRisk.filter((a) => a.n > 0).map((a) => Math.floor(a.month * 30.44)));
  const curves: Curve[] = [
    { label: t.ret_curve_all, steps: v.curveAll.steps, lastDay: lastDay(v.curveAll) },
    { label: t.ret_curve_censored, steps: v.curveCensored.steps, lastDay: lastDay(v.curveCensored), dashed: true },
  ];
  const ticks = v.curveAll.atRisk.map((a) => ({ day: Math.floor(a.month * 30.44), label: t.ret_month_short({ n: a.month }), atRisk: a.n }));
  return (
    <Layout ctx={ctx} title={t.ret_title}>
      <h1>{t.ret_title}</h1>
      <Tabs ctx={ctx} clinic={f.clinic} />
      <form method="get" action="/reports/retention" class="filters no-print">
        <ClinicSelect ctx={ctx} clinics={v.clinics} value={f.clinic} />
        <Select id="grouping" label={t.ret_grouping} value={f.grouping} options={[['month', t.ret_by_month], ['quarter', t.ret_by_quarter]]} />
        <Select id="sex" label={t.ret_sex} value={f.sex} options={[['', t.ret_any], ...SEXES.map((s) => [s, t[`sex_${s}`]] as [string, string])]} />
        <Select id="age" label={t.ret_age} value={f.age} options={[['', t.ret_any], ...(Object.keys(AGE_KEYS) as AgeBand[]).map((a) => [a, t[AGE_KEYS[a]]] as [string, string])]} />
        <Select id="referral" label={t.ret_referral} value={f.referral} options={[['', t.ret_any], ...v.referrals.map((r) => [r, r] as [string, string])]} />
        <Select id="kind" label={t.ret_curve_kind} value={f.kind} options={[['all', t.ret_curve_kind_all], ['first', t.episode_kind_first], ['re_enrolment', t.episode_kind_re_enrolment]]} />
        <button type="submit">{t.rep_show}</button>
      </form>
      <p class="muted">{t.ret_as_of({ day: formatDay(v.asOf) })}</p>
      {v.truncated > 0 && <p class="notice warn" data-truncated={v.truncated}>{t.ret_truncated({ n: v.truncated })}</p>}
      {v.cohorts.length === 0 ? (
        <p>{t.ret_empty}</p>
      ) : (
        <div class="table-wrap">
          <table class="report-table retention">
            <thead>
              <tr>
                <th scope="col">{t.ret_cohort}</th>
                <th scope="col">{t.ret_kind}</th>
                <th scope="col" class="num">{t.ret_size}</th>
                {RETENTION_MONTHS_SHOWN.map((n) => (
                  <th scope="col" class="num">
                    {t.ret_at({ n })}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {v.cohorts
                .filter((c) => f.kind === 'all' || c.kind === f.kind)
                .map((c) => (
                  <tr data-cohort={c.cohort} data-kind={c.kind}>
                    <th scope="row">{c.cohort}</th>
                    <td>{t[`episode_kind_${c.kind}`]}</td>
                    <td class="num">
                      <Figure ctx={ctx} value={c.size} href={drill(c.cohort, c.kind, null, 'all')} />
                    </td>
                    {RETENTION_MONTHS_SHOWN.map((n) => {
                      const cell = c.at[n];
                      if (cell.eligible === 0) return <td class="num muted">{t.ret_not_yet}</td>;
                      const rest = cell.eligible - cell.censored;
                      return (
                        <td class="num" data-month={n}>
                          <strong>{pctText(ctx, cell.retained / cell.eligible)}</strong>{' '}
                          <Figure ctx={ctx} value={t.ret_cell({ retained: cell.retained, eligible: cell.eligible })} href={drill(c.cohort, c.kind, n, 'retained')} />
                          {cell.censored > 0 && (
                            <small class="censored">
                              <br />
                              {t.ret_censored_note({ pct: pctText(ctx, rest > 0 ? cell.retained / rest : null), n: cell.censored })}
                            </small>
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      )}
      <section>
        <h2>{t.ret_curve_title}</h2>
        <div class="chart-and-table">
          <figure>
            <KmChart title={t.ret_curve_title} xLabel={t.ret_axis_months} yLabel={t.ret_axis_share} atRiskLabel={t.ret_at_risk} curves={curves} maxDay={maxDay} ticks={ticks} />
            <Legend curves={curves} />
          </figure>
          <table class="report-table km-table">
            <caption>{t.rep_table_of_chart}</caption>
            <thead>
              <tr>
                <th scope="col">{t.ret_axis_months}</th>
                <th scope="col" class="num">{t.ret_at_risk}</th>
                <th scope="col" class="num">{t.ret_curve_all}</th>
                <th scope="col" class="num">{t.ret_curve_censored}</th>
              </tr>
            </thead>
            <tbody>
              {ticks.map((tk) => (
                <tr data-month={tk.label}>
                  <th scope="row">{tk.label}</th>
                  <td class="num">{tk.atRisk}</td>
                  <td class="num">{tk.atRisk > 0 ? pctText(ctx, survivalAt(v.curveAll.steps, tk.day - 1)) : '—'}</td>
                  <td class="num">{tk.atRisk > 0 ? pctText(ctx, survivalAt(v.curveCensored.steps, tk.day - 1)) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section class="c05">
        <h2>{t.ret_c05_title}</h2>
        <p class="muted">{t.ret_c05_note}</p>
        <table class="report-table">
          <caption>{formatDay(v.cross.day)}</caption>
          <tbody>
            <tr>
              <th scope="row">{t.ret_c05_in}</th>
              <td class="num">{v.cross.inTreatment}</td>
            </tr>
            <tr>
              <th scope="row">{t.ret_c05_over6}</th>
              <td class="num">{v.cross.over6}</td>
            </tr>
            <tr>
              <th scope="row">{t.ret_c05_over12}</th>
              <td class="num">{v.cross.over12}</td>
            </tr>
          </tbody>
        </table>
      </section>
      <section class="defs">
        <h2>{t.ret_defs_title}</h2>
        <ul>
          <li>{t.ret_def_cohort}</li>
          <li>{t.ret_def_retained}</li>
          <li>{t.ret_def_transfer}</li>
          <li>{t.ret_def_outcomes}</li>
          <li>{t.ret_def_truncated}</li>
          <li>{t.ret_def_source}</li>
        </ul>
      </section>
    </Layout>
  );
}

function Select({ id, label, value, options }: { id: string; label: string; value: string; options: [string, string][] }) {
  return (
    <p>
      <label for={id}>{label}</label>
      <select id={id} name={id}>
        {options.map(([v, l]) => (
          <option value={v} selected={v === value}>
            {l}
          </option>
        ))}
      </select>
    </p>
  );
}

// ---------------------------------------------------------------------------

export function periodLabel(t: Messages, p: Period): string {
  if (p.kind === 'month') return t.prog_period_month({ month: p.index, year: p.year });
  if (p.kind === 'quarter') return t.prog_period_quarter({ q: p.index, year: p.year });
  return t.prog_period_year({ year: p.year });
}

function PeriodForm({ ctx, action, clinics, clinic, period, choices }: { ctx: ViewContext; action: string; clinics: ClinicOption[]; clinic: string; period: Period; choices: Period[] }) {
  const { t } = ctx;
  return (
    <form method="get" action={action} class="filters no-print">
      <ClinicSelect ctx={ctx} clinics={clinics} value={clinic} />
      <p>
        <label for="period">{t.prog_period}</label>
        <select id="period" name="period">
          {(['month', 'quarter', 'year'] as const).map((k) => (
            <optgroup label={t[`prog_kind_${k}`]}>
              {choices
                .filter((c) => c.kind === k)
                .map((c) => (
                  <option value={c.key} selected={c.key === period.key}>
                    {periodLabel(t, c)}
                  </option>
                ))}
            </optgroup>
          ))}
        </select>
      </p>
      <button type="submit">{t.rep_show}</button>
    </form>
  );
}

export interface AdherenceView {
  clinics: ClinicOption[];
  clinic: string;
  period: Period;
  choices: Period[];
  upTo: string;
  perClinic: ClinicAdherence[];
  lowest: PatientAdherence[] | null;
  bands: readonly number[];
}

export function AdherencePage({ ctx, v }: { ctx: ViewContext; v: AdherenceView }) {
  const { t } = ctx;
  const total = v.perClinic.reduce((s, c) => ({ days: s.days + c.days, covered: s.covered + c.covered, bands: s.bands.map((b, i) => b + (c.bands[i] ?? 0)) }), { days: 0, covered: 0, bands: v.bands.map(() => 0) });
  const bandLabel = (i: number) => t.adh_band({ from: v.bands[i]!, to: v.bands[i + 1] ?? null });
  return (
    <Layout ctx={ctx} title={t.adh_title}>
      <h1>{t.adh_title}</h1>
      <Tabs ctx={ctx} clinic={v.clinic} />
      <PeriodForm ctx={ctx} action="/reports/adherence" clinics={v.clinics} clinic={v.clinic} period={v.period} choices={v.choices} />
      <p class="muted">
        {t.prog_heading({ period: periodLabel(t, v.period), from: formatDay(v.period.from), to: formatDay(v.upTo) })}
      </p>
      <p class="muted defs">{t.adh_defs}</p>
      <div class="table-wrap">
        <table class="report-table adherence">
          <thead>
            <tr>
              <th scope="col">{t.rep_clinic}</th>
              <th scope="col" class="num">{t.adh_patients}</th>
              <th scope="col" class="num">{t.adh_days}</th>
              <th scope="col" class="num">{t.adh_covered}</th>
              <th scope="col" class="num">{t.adh_pooled}</th>
              {v.bands.map((_, i) => (
                <th scope="col" class="num">
                  {bandLabel(i)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {v.perClinic.map((c) => (
              <tr data-clinic={c.code}>
                <th scope="row">
                  {c.code} {c.name}
                </th>
                <td class="num">{c.patients}</td>
                <td class="num">{c.days}</td>
                <td class="num">{c.covered}</td>
                <td class="num">{pctText(ctx, c.pooled)}</td>
                {c.bands.map((b) => (
                  <td class="num">{b}</td>
                ))}
              </tr>
            ))}
          </tbody>
          {v.perClinic.length > 1 && (
            <tfoot>
              <tr>
                <th scope="row">{t.rep_total}</th>
                <td class="num">{total.bands.reduce((a, b) => a + b, 0)}</td>
                <td class="num">{total.days}</td>
                <td class="num">{total.covered}</td>
                <td class="num">{pctText(ctx, total.days ? total.covered / total.days : null)}</td>
                {total.bands.map((b) => (
                  <td class="num">{b}</td>
                ))}
              </tr>
            </tfoot>
          )}
        </table>
      </div>
      <section>
        <h2>{t.adh_distribution}</h2>
        <BarChart title={t.adh_distribution} bars={total.bands.map((b, i) => ({ label: bandLabel(i), value: b, text: String(b) }))} />
      </section>
      {v.lowest && v.lowest.length > 0 && (
        <section>
          <h2>{t.adh_lowest}</h2>
          <PatientTable
            ctx={ctx}
            head={[t.adh_days, t.adh_covered, t.adh_share]}
            rows={v.lowest.map((p) => ({ ...p, cells: [String(p.days), String(p.covered), pctText(ctx, p.days ? p.covered / p.days : null)] }))}
          />
        </section>
      )}
    </Layout>
  );
}

// ---------------------------------------------------------------------------

export interface ProgrammeView {
  clinics: ClinicOption[];
  clinic: string;
  period: Period;
  choices: Period[];
  report: ProgrammeReport;
  generatedAt: string;
  canDrill: boolean;
}

export const PROGRAMME_ROWS: (keyof Indicators)[] = ['activeStart', 'newlyEnrolled', 'reEnrolled', 'transferredIn', 'transferredOut', 'droppedOut', 'deceased', 'completed', 'otherEnded', 'activeEnd', 'doses', 'mg'];

export function ProgrammePage({ ctx, v }: { ctx: ViewContext; v: ProgrammeView }) {
  const { t } = ctx;
  const label = periodLabel(t, v.period);
  const q = qs({ clinic: v.clinic, period: v.period.key });
  const cols = v.report.rows.length > 1 ? v.report.rows : [];
  const drill = (ind: keyof Indicators, clinicId: string | null) =>
    v.canDrill && ind !== 'doses' && ind !== 'mg' ? `/reports/patients?${qs({ ind, from: v.period.from, to: v.period.to, clinic: clinicId ?? v.clinic, together: clinicId ? undefined : v.clinic ? undefined : 1 })}` : null;
  const value = (ind: keyof Indicators, n: number) => (ind === 'mg' ? formatNumber(n, ctx.locale, 1) : formatNumber(n, ctx.locale, 0));
  return (
    <Layout ctx={ctx} title={`${t.prog_title} · ${label}`}>
      <div class="page-head no-print">
        <h1>{t.prog_title}</h1>
        <p class="actions">
          <button type="button" data-print>
            {t.rep_print}
          </button>
          <a class="button" href={`/reports/programme.csv?${q}`}>
            {t.rep_csv}
          </a>
          <a class="button" href={`/reports/programme.xlsx?${q}`}>
            {t.rep_xlsx}
          </a>
        </p>
      </div>
      <Tabs ctx={ctx} clinic={v.clinic} />
      <PeriodForm ctx={ctx} action="/reports/programme" clinics={v.clinics} clinic={v.clinic} period={v.period} choices={v.choices} />
      <section class="programme-report">
        <h2>
          {t.prog_title} · {t.prog_heading({ period: label, from: formatDay(v.period.from), to: formatDay(v.period.to) })}
        </h2>
        <p>{(v.clinic ? v.clinics.filter((c) => c.id === v.clinic) : v.clinics).map((c) => `${c.code} ${c.name}`).join(' · ')}</p>
        <table class="report-table programme">
          <thead>
            <tr>
              <th scope="col">{t.prog_indicator}</th>
              {cols.map((r) => (
                <th scope="col" class="num">
                  {r.code}
                </th>
              ))}
              <th scope="col" class="num">
                {cols.length ? t.rep_total : (v.report.rows[0]?.code ?? t.rep_total)}
              </th>
            </tr>
          </thead>
          <tbody>
            {PROGRAMME_ROWS.map((ind) => (
              <tr data-indicator={ind}>
                <th scope="row">{t[`prog_ind_${ind}`]}</th>
                {cols.map((r) => (
                  <td class="num">
                    <Figure ctx={ctx} value={value(ind, r.ind[ind])} href={drill(ind, r.clinicId)} />
                  </td>
                ))}
                <td class="num" data-total>
                  <Figure ctx={ctx} value={value(ind, v.report.total[ind])} href={drill(ind, null)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <p class="muted defs">{t.prog_defs}</p>
        <p class="muted">{t.prog_generated({ at: v.generatedAt })}</p>
        <div class="signatures">
          <p>{t.prog_signature}</p>
          <p>{t.prog_signature_head}</p>
        </div>
      </section>
    </Layout>
  );
}

// ---------------------------------------------------------------------------

interface PatientLine {
  patientId: string;
  code: string;
  fullName: string;
  clinicCode: string;
  cells: string[];
}

function PatientTable({ ctx, head, rows }: { ctx: ViewContext; head: string[]; rows: PatientLine[] }) {
  const { t } = ctx;
  return (
    <div class="table-wrap">
      <table class="report-table patients">
        <thead>
          <tr>
            <th scope="col">{t.patient_code}</th>
            <th scope="col">{t.patient_full_name}</th>
            <th scope="col">{t.rep_clinic}</th>
            {head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr data-patient={r.code}>
              <td>
                <a href={`/patients/${r.patientId}`}>{r.code}</a>
              </td>
              <td>{r.fullName}</td>
              <td>{r.clinicCode}</td>
              {r.cells.map((c) => (
                <td>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export type DrillView =
  | { kind: 'runs'; title: string; back: string; rows: RunListRow[]; limit: number }
  | { kind: 'episodes'; title: string; back: string; rows: IndicatorPatient[]; limit: number };

export function DrillPage({ ctx, v }: { ctx: ViewContext; v: DrillView }) {
  const { t } = ctx;
  const reason = (r: string | null) => (r === null ? '' : r === 'dropped_out' ? t.end_reason_dropped_out : (END_REASONS as readonly string[]).includes(r) ? t[`end_reason_${r as EndReason}`] : r);
  let body: Child;
  if (v.rows.length === 0) body = <p>{t.drill_none}</p>;
  else if (v.kind === 'runs')
    body = (
      <PatientTable
        ctx={ctx}
        head={[t.drill_first_dose, t.drill_exit]}
        rows={v.rows.map((r) => ({ ...r, cells: [formatDay(r.firstDay), r.exitDay ? `${formatDay(r.exitDay)} · ${reason(r.exitReason)}` : ''] }))}
      />
    );
  else
    body = (
      <PatientTable
        ctx={ctx}
        head={[t.drill_start, t.drill_end]}
        rows={v.rows.map((r) => ({ ...r, cells: [formatDay(r.startDate), r.endDate ? `${formatDay(r.endDate)} · ${reason(r.endReason)}` : ''] }))}
      />
    );
  return (
    <Layout ctx={ctx} title={t.drill_title}>
      <h1>{t.drill_of({ what: v.title })}</h1>
      <p class="no-print">
        <a href={v.back}>{t.drill_back}</a>
      </p>
      {body}
      {v.rows.length >= v.limit && <p class="muted">{t.drill_limited({ n: v.limit })}</p>}
    </Layout>
  );
}
