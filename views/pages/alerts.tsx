// The in-app alerts of one person (list and badge), the manager's proposed
// dropouts (R18) and the record of day closes.
import type { InboxRow } from '../../server/services/follow-up.ts';
import type { ReviewGround } from '../../server/dosing/follow-up.ts';
import { Csrf } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { formatDateTime, formatDay } from '../format.ts';
import { Layout } from '../layout.tsx';

/** A row of the person's inbox, with its time as a Date, the first missed day and R19's grounds. */
export type InboxRowView = Omit<InboxRow, 'created_at' | 'anchor_day' | 'reasons'> & {
  created_at: Date;
  /** The first missed day. */
  since: string;
  /** R19's grounds, for a 'review' alert. */
  grounds: ReviewGround[];
};

export function AlertsPage({ ctx, rows }: { ctx: ViewContext; rows: InboxRowView[] }) {
  const { t } = ctx;
  const unread = rows.filter((r) => !r.read_at && r.alert_open).length;
  return (
    <Layout ctx={ctx} title={t.alerts_title}>
      <div class="page-head">
        <h1>{t.alerts_title}</h1>
        <a href="/account/alerts">{t.alerts_settings_link}</a>
        {unread > 0 && (
          <form method="post" action="/alerts/read" class="inline">
            <Csrf token={ctx.csrfToken} />
            <button type="submit">{t.alerts_mark_read}</button>
          </form>
        )}
      </div>
      {rows.length === 0 && <p>{t.alerts_empty}</p>}
      <ul class="alert-list" hx-disable>
        {rows.map((r) => (
          <li class={`card alert ${r.read_at ? 'read' : 'unread'} ${r.alert_open ? 'open' : 'closed'}`}>
            <p>
              <span class={`badge level-${r.level}`}>{t[`alert_level_${r.level}`]}</span> <a href={`/patients/${r.patient_id}`}>
                <code>{r.code}</code> {r.full_name}
              </a>
            </p>
            <p>
              {r.level === 'review' ? (
                t.review_grounds_line({ grounds: r.grounds.map((g) => t[`review_ground_${g}`]).join('; ') })
              ) : (
                <>
                  {t.alerts_line({ n: r.missed_days, since: formatDay(r.since), clinic: r.clinic_code })} {r.phone && <a href={`tel:${r.phone.replace(/[^\d+]/g, '')}`}>{r.phone}</a>}
                </>
              )}
            </p>
            <p class="muted small">
              {formatDateTime(r.created_at, r.time_zone)} {r.alert_open ? '' : `· ${t.alerts_closed}`}
            </p>
          </li>
        ))}
      </ul>
    </Layout>
  );
}

/** The number beside "Alerts" in the menu, fetched by htmx on each page and every minute. */
export function BadgeFragment({ ctx, n }: { ctx: ViewContext; n: number }) {
  return n > 0 ? (
    <span class="badge count" aria-label={ctx.t.alerts_unread({ n })}>
      {n}
    </span>
  ) : (
    <span></span>
  );
}

export interface DropoutRowView {
  alert_id: string;
  patient_id: string;
  code: string;
  full_name: string;
  clinic_code: string;
  anchor_day: string;
  raised_day: string;
  missed_days: number;
  start_date: string;
}

export function DropoutsPage({ ctx, rows, failed }: { ctx: ViewContext; rows: DropoutRowView[]; failed?: { alertId: string; note: string; error: 'err_invalid' | 'err_too_long' } | undefined }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.dropouts_title}>
      <h1>{t.dropouts_title}</h1>
      <p class="hint">{t.dropouts_intro}</p>
      {rows.length === 0 && <p>{t.dropouts_empty}</p>}
      {rows.map((r) => (
        <section class="card" id={`dropout-${r.code}`}>
          <h2 hx-disable>
            <a href={`/patients/${r.patient_id}`}>
              <code>{r.code}</code> {r.full_name}
            </a>
          </h2>
          <p>{t.dropouts_line({ clinic: r.clinic_code, start: formatDay(r.start_date), last: formatDay(r.anchor_day), n: r.missed_days, day: formatDay(r.raised_day) })}</p>
          <form method="post" action={`/followup/dropouts/${r.alert_id}`} class="stack">
            <Csrf token={ctx.csrfToken} />
            {failed?.alertId === r.alert_id && (
              <p class="error" role="alert" id={`note-${r.alert_id}-error`}>
                {t[failed.error]}
              </p>
            )}
            <label for={`note-${r.alert_id}`}>{t.dropouts_note}</label>
            <textarea id={`note-${r.alert_id}`} name="note" rows={2} maxlength={500} aria-describedby={failed?.alertId === r.alert_id ? `note-${r.alert_id}-error` : undefined}>
              {failed?.alertId === r.alert_id ? failed.note : ''}
            </textarea>
            <div class="actions">
              <button type="submit" name="decision" value="confirm">
                {t.dropouts_confirm({ day: formatDay(r.raised_day) })}
              </button>
              <button type="submit" name="decision" value="reject" class="secondary">
                {t.dropouts_reject}
              </button>
            </div>
          </form>
        </section>
      ))}
    </Layout>
  );
}

export interface CloseRowView {
  clinic_code: string;
  service_day: string;
  run_by_name: string | null;
  patients: number;
  alerts_raised: number;
  alerts_closed: number;
  at: Date;
}

export function ClosesPage({ ctx, clinics, rows, canRun, timeZone }: { ctx: ViewContext; clinics: { id: string; code: string; name: string }[]; rows: CloseRowView[]; canRun: boolean; timeZone: string }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.closes_title}>
      <h1>{t.closes_title}</h1>
      <p class="hint">{t.closes_intro}</p>
      {canRun && clinics.length > 0 && (
        <form method="post" action="/followup/closes" class="actions">
          <Csrf token={ctx.csrfToken} />
          <label for="close-clinic">{t.closes_clinic}</label>
          <select id="close-clinic" name="clinic">
            {clinics.map((c) => (
              <option value={c.id}>
                {c.code} — {c.name}
              </option>
            ))}
          </select>
          <button type="submit">{t.closes_run}</button>
        </form>
      )}
      {rows.length === 0 ? (
        <p>{t.closes_empty}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.closes_day}</th>
                <th scope="col">{t.closes_clinic}</th>
                <th scope="col" class="num">
                  {t.closes_patients}
                </th>
                <th scope="col" class="num">
                  {t.closes_raised}
                </th>
                <th scope="col" class="num">
                  {t.closes_returned}
                </th>
                <th scope="col">{t.closes_by}</th>
              </tr>
            </thead>
            <tbody hx-disable>
              {rows.map((r) => (
                <tr>
                  <td>{formatDay(r.service_day)}</td>
                  <td>{r.clinic_code}</td>
                  <td class="num">{r.patients}</td>
                  <td class="num">{r.alerts_raised}</td>
                  <td class="num">{r.alerts_closed}</td>
                  <td>
                    {r.run_by_name ?? t.closes_by_schedule} · {formatDateTime(r.at, timeZone)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
