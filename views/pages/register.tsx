// The daily dispensing register of a clinic, laid out like the paper register
// (one numbered line per record, a signature column), printable on A4
// landscape; voided records stay on their line, struck through, with the void
// line beneath them.
import type { ViewContext } from '../context.ts';
import { formatDay, formatNumber, formatTime } from '../format.ts';
import { Layout } from '../layout.tsx';
import { ClinicSwitch, type Outcome } from './counter.tsx';

export interface RegisterRowView {
  id: string;
  at: Date;
  code: string;
  fullName: string;
  part: number;
  outcome: Outcome;
  prescribedMg: number;
  givenMg: number;
  ml: number;
  method: 'manual' | 'pump';
  intoxication: 'none' | 'suspected' | 'intoxicated' | null;
  byName: string;
  voidsId: string | null;
  voidReason: string | null;
  voidedBy: string | null;
}

export interface RegisterView {
  clinic: { id: string; code: string; name: string; timeZone: string };
  others: { id: string; code: string }[];
  day: string;
  rows: RegisterRowView[];
  totals: { givenMg: number; ml: number; patients: number; byOutcome: Record<string, number> };
  notSeen: { code: string; fullName: string }[];
  canVoid: boolean;
}

export function RegisterPage({ ctx, r }: { ctx: ViewContext; r: RegisterView }) {
  const { t } = ctx;
  const byId = new Map(r.rows.map((row) => [row.id, row]));
  let n = 0;
  return (
    <Layout ctx={ctx} title={t.register_title}>
      <div class="page-head no-print">
        <h1>{t.register_title}</h1>
        <form method="get" action="/register" class="actions">
          <input type="hidden" name="clinic" value={r.clinic.id} />
          <label for="day">{t.register_day}</label>
          <input id="day" name="day" type="date" value={r.day} />
          <button type="submit">{t.register_show}</button>
          <button type="button" data-print>
            {t.register_print}
          </button>
          <a class="button" href={`/register.csv?clinic=${r.clinic.id}&day=${r.day}`}>
            {t.register_csv}
          </a>
        </form>
        <ClinicSwitch ctx={ctx} others={r.others} href={(id) => `/register?clinic=${id}&day=${r.day}`} />
      </div>
      <section class="register">
        <h2>{t.register_heading({ clinic: `${r.clinic.name} (${r.clinic.code})`, day: formatDay(r.day) })}</h2>
        {r.rows.length === 0 ? (
          <p>{t.register_empty}</p>
        ) : (
          <div class="table-wrap">
            <table class="register-table">
              <thead>
                <tr>
                  <th scope="col">{t.register_no}</th>
                  <th scope="col">{t.register_time}</th>
                  <th scope="col">{t.patient_code}</th>
                  <th scope="col">{t.patient_full_name}</th>
                  <th scope="col">{t.register_part}</th>
                  <th scope="col">{t.register_outcome}</th>
                  <th scope="col" class="num">
                    {t.register_prescribed}
                  </th>
                  <th scope="col" class="num">
                    {t.register_given}
                  </th>
                  <th scope="col" class="num">
                    {t.register_ml}
                  </th>
                  <th scope="col">{t.register_check}</th>
                  <th scope="col">{t.register_staff}</th>
                  <th scope="col" class="print-only">
                    {t.register_signature}
                  </th>
                  {r.canVoid && <th scope="col" class="no-print"></th>}
                </tr>
              </thead>
              <tbody hx-disable>
                {r.rows.map((row) => {
                  if (row.voidsId) {
                    const orig = byId.get(row.voidsId);
                    return (
                      <tr class="void-row">
                        <td></td>
                        <td>{formatTime(row.at, r.clinic.timeZone)}</td>
                        <td>
                          <code>{orig?.code ?? row.code}</code>
                        </td>
                        <td colspan={8}>{t.register_void_row({ reason: row.voidReason ?? '' })} — {row.byName}</td>
                        <td class="print-only"></td>
                        {r.canVoid && <td class="no-print"></td>}
                      </tr>
                    );
                  }
                  n += 1;
                  return (
                    <tr class={row.voidedBy ? 'voided' : undefined} data-outcome={row.outcome}>
                      <td>{n}</td>
                      <td>{formatTime(row.at, r.clinic.timeZone)}</td>
                      <td>
                        <code>{row.code}</code>
                      </td>
                      <td>{row.fullName}</td>
                      <td>{row.part}</td>
                      <td>{t[`dose_outcome_${row.outcome}`]}</td>
                      <td class="num">{formatNumber(row.prescribedMg, ctx.locale)}</td>
                      <td class="num">{formatNumber(row.givenMg, ctx.locale)}</td>
                      <td class="num">{formatNumber(row.ml, ctx.locale, 2)}</td>
                      <td>{row.intoxication ? t[`intoxication_${row.intoxication}`] : ''}</td>
                      <td>{row.byName}</td>
                      <td class="print-only"></td>
                      {r.canVoid && (
                        <td class="no-print">
                          {!row.voidedBy && (
                            <details>
                              <summary>{t.void_button}</summary>
                              <form method="post" action={`/doses/${row.id}/void`}>
                                <input type="hidden" name="_csrf" value={ctx.csrfToken} />
                                <label for={`void-${row.id}`}>{t.void_reason}</label>
                                <input id={`void-${row.id}`} name="reason" required minlength={5} maxlength={500} />
                                <button type="submit" class="danger">
                                  {t.void_button}
                                </button>
                              </form>
                            </details>
                          )}
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <p class="totals">
          <strong>{t.register_totals({ mg: formatNumber(r.totals.givenMg, ctx.locale), ml: formatNumber(r.totals.ml, ctx.locale, 2), n: r.totals.patients })}</strong>
        </p>
        {Object.keys(r.totals.byOutcome).length > 0 && (
          <p>
            {t.register_counts}:{' '}
            {Object.entries(r.totals.byOutcome)
              .map(([k, v]) => `${t[`dose_outcome_${k as Outcome}`]} ${v}`)
              .join(' · ')}
          </p>
        )}
        <h3>{t.register_not_seen({ n: r.notSeen.length })}</h3>
        {r.notSeen.length > 0 && (
          <ul class="columns" hx-disable>
            {r.notSeen.map((p) => (
              <li>
                <code>{p.code}</code> {p.fullName}
              </li>
            ))}
          </ul>
        )}
      </section>
    </Layout>
  );
}
