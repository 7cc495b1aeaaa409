import type { EndReason, HivStatus, Sex } from '../../db/schema.ts';
import { Csrf, Field, Findings, describedBy, type Errors, type FindingView } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { formatDateTime, formatDay, formatNumber, formatTime } from '../format.ts';
import type { TextKey } from '../i18n/index.ts';
import { Layout } from '../layout.tsx';
import { PatientFollowup, type PatientFollowupView } from './patient-followup.tsx';
import { AuditTable, type AuditRowView } from './audit.tsx';
import type { Option } from './clinics.tsx';
import { PhotoCapture } from './patient-form.tsx';

export type DayState = 'dosed' | 'missed' | 'take_home' | 'withheld' | 'due' | 'no_order' | 'not_in_treatment';

export interface PatientView {
  id: string;
  code: string;
  fullName: string;
  birthDate: string;
  age: number;
  sex: Sex;
  nationalId: string | null | undefined;
  hivStatus: HivStatus | undefined;
  phone: string;
  phone2: string;
  address: string;
  formerAddress: string;
  nextOfKinName: string;
  nextOfKinPhone: string;
  clinicName: string;
  counsellorName: string | null;
  hasPhoto: boolean;
}

export interface EpisodeView {
  id: string;
  kind: 'first' | 're_enrolment' | 'transfer_in';
  clinicName: string;
  startDate: string;
  endDate: string | null;
  endReason: EndReason | null;
  referralSource: string;
}

export interface OrderView {
  phase: 'induction' | 'titration' | 'maintenance' | 'taper';
  startDate: string;
  endDate: string;
  dailyMg: number;
  splitMg: [number, number] | null;
  takeHomeDays: number;
  reason: string;
  prescriber: string;
  confirmedBy: string | null;
  overrides: string[];
  createdAt: Date;
}

export interface UrineView {
  testDate: string;
  results: Record<string, 'positive' | 'negative'>;
}

export interface PatientPageData {
  patient: PatientView;
  today: string;
  timeZone: string;
  episode: EpisodeView | null;
  episodes: EpisodeView[];
  orderToday: (OrderView & { ml: number; concentration: number }) | null;
  orders: OrderView[];
  guests: { hostName: string; fromDate: string; toDate: string; reason: string }[];
  calendar: { day: string; state: DayState }[];
  /** The last dose records, voids included (a void stays visible beside what it cancels). */
  doses: { id: string; serviceDay: string; at: Date; outcome: 'given' | 'take_home' | 'supplied' | 'withheld' | 'refused' | 'vomited' | 'spilled'; part: number; givenMg: number; ml: number; clinicCode: string; byName: string; voidsId: string | null; voidReason: string | null; voided: boolean }[];
  urine: UrineView[];
  audit: AuditRowView[];
  clinicsForTransfer: Option[];
  substances: readonly string[];
  can: { edit: boolean; episodes: boolean; guests: boolean; prescribe: boolean; urine: boolean };
  errors: Errors;
  /** Which form an error belongs to, so it opens. */
  openForm: string | null;
  formValues: Record<string, string>;
  /** Rule findings that refused the last act (with rule ids). */
  findings: FindingView[];
  /** Missed-dose alerts and contacts, for roles who follow up. */
  followup: PatientFollowupView | null;
}

const END_REASONS: EndReason[] = ['completed_taper', 'dropped_out', 'incarcerated', 'hospitalised', 'deceased', 'withdrew', 'discharged_violations'];

export function PatientPage({ ctx, d }: { ctx: ViewContext; d: PatientPageData }) {
  const { t, locale } = ctx;
  const p = d.patient;
  const e = d.errors;
  const fv = (k: string, dflt = '') => d.formValues[k] ?? dflt;
  return (
    <Layout ctx={ctx} title={`${p.code} · ${p.fullName}`} scripts={d.can.edit ? ['camera.js'] : []}>
      {e._ && (
        <p class="form-errors" role="alert">
          {t[e._]}
        </p>
      )}
      <Findings ctx={ctx} findings={d.findings} title={t.order_refused} />
      <div class="patient-head" hx-disable>
        {p.hasPhoto ? <img class="photo" src={`/patients/${p.id}/photo`} alt={t.patient_photo_alt({ name: p.fullName })} /> : <div class="photo-none">{t.patient_photo_none}</div>}
        <div>
          <h1>{p.fullName}</h1>
          <p>
            <code class="big">{p.code}</code> · {formatDay(p.birthDate)} ({t.patient_age({ years: p.age })}) · {t[`sex_${p.sex}`]}
          </p>
          <p>
            {p.clinicName}
            {p.counsellorName ? ` · ${t.patient_counsellor}: ${p.counsellorName}` : ''}
          </p>
          <p class="actions wrap">
            {d.can.edit && <a href={`/patients/${p.id}/edit`}>{t.patient_edit}</a>}
            <a href={`/patients/${p.id}/card`}>{t.patient_card}</a>
            {d.can.prescribe && d.episode && <a href={`/patients/${p.id}/orders/new`}>{t.order_new}</a>}
          </p>
        </div>
      </div>

      <section class="card" aria-labelledby="order-h">
        <h2 id="order-h">{t.order_current}</h2>
        {d.orderToday ? (
          <p class="dose-line">
            <strong>{t[`phase_${d.orderToday.phase}`]}</strong> ·{' '}
            {t.order_volume({ mg: formatNumber(d.orderToday.dailyMg, locale), ml: formatNumber(d.orderToday.ml, locale, 2), conc: formatNumber(d.orderToday.concentration, locale) })}
            {d.orderToday.splitMg && ` · ${formatNumber(d.orderToday.splitMg[0], locale)} + ${formatNumber(d.orderToday.splitMg[1], locale)} mg`} · {formatDay(d.orderToday.startDate)} – {formatDay(d.orderToday.endDate)}
          </p>
        ) : (
          <p class="badge danger">{t.order_none_today}</p>
        )}
      </section>

      <section class="card" aria-labelledby="cal-h">
        <h2 id="cal-h">{t.calendar_title}</h2>
        <Calendar ctx={ctx} days={d.calendar} today={d.today} />
        <h3>{t.patient_dose_records}</h3>
        {d.doses.length === 0 ? (
          <p class="muted">{t.ctr_no_doses}</p>
        ) : (
          <div class="table-wrap">
            <table class="register-table">
              <thead>
                <tr>
                  <th scope="col">{t.register_day}</th>
                  <th scope="col">{t.register_time}</th>
                  <th scope="col">{t.register_outcome}</th>
                  <th scope="col" class="num">
                    {t.register_given}
                  </th>
                  <th scope="col" class="num">
                    {t.register_ml}
                  </th>
                  <th scope="col">{t.register_staff}</th>
                </tr>
              </thead>
              <tbody hx-disable>
                {d.doses.map((r) =>
                  r.voidsId ? (
                    <tr class="void-row">
                      <td>{formatDay(r.serviceDay)}</td>
                      <td>{formatTime(r.at, d.timeZone)}</td>
                      <td colspan={3}>{t.register_void_row({ reason: r.voidReason ?? '' })}</td>
                      <td>
                        {r.byName} · {r.clinicCode}
                      </td>
                    </tr>
                  ) : (
                    <tr class={r.voided ? 'voided' : undefined}>
                      <td>{formatDay(r.serviceDay)}</td>
                      <td>{formatTime(r.at, d.timeZone)}</td>
                      <td>
                        {t[`dose_outcome_${r.outcome}`]}
                        {r.part === 2 ? ` (${r.part})` : ''}
                      </td>
                      <td class="num">{formatNumber(r.givenMg, locale)}</td>
                      <td class="num">{formatNumber(r.ml, locale, 2)}</td>
                      <td>
                        {r.byName} · {r.clinicCode}
                      </td>
                    </tr>
                  ),
                )}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {d.followup && <PatientFollowup ctx={ctx} f={d.followup} timeZone={d.timeZone} />}

      <section class="card" aria-labelledby="id-h">
        <h2 id="id-h">{t.patient_identity}</h2>
        <dl class="facts" hx-disable>
          {p.nationalId !== undefined && (
            <>
              <dt>{t.patient_national_id}</dt>
              <dd>{p.nationalId ?? '—'}</dd>
            </>
          )}
          {p.hivStatus !== undefined && (
            <>
              <dt>{t.patient_hiv_status}</dt>
              <dd>{t[`hiv_${p.hivStatus}`]}</dd>
            </>
          )}
          <dt>{t.patient_phone}</dt>
          <dd>{[p.phone, p.phone2].filter(Boolean).join(' · ') || '—'}</dd>
          <dt>{t.patient_address}</dt>
          <dd>{p.address || '—'}</dd>
          {p.formerAddress && (
            <>
              <dt>{t.patient_former_address}</dt>
              <dd>{p.formerAddress}</dd>
            </>
          )}
          <dt>{t.patient_next_of_kin}</dt>
          <dd>{[p.nextOfKinName, p.nextOfKinPhone].filter(Boolean).join(' · ') || '—'}</dd>
        </dl>
        {d.can.edit && (
          <details class="card" open={d.openForm === 'photo'}>
            <summary>{t.patient_photo_save}</summary>
            <form method="post" action={`/patients/${p.id}/photo`} class="stack">
              <Csrf token={ctx.csrfToken} />
              <PhotoCapture ctx={ctx} value="" error={e.photo} />
              <button type="submit">{t.patient_photo_save}</button>
            </form>
          </details>
        )}
      </section>

      <section class="card" aria-labelledby="ep-h">
        <h2 id="ep-h">{t.episode_current}</h2>
        {d.episode ? (
          <p>
            {t[`episode_kind_${d.episode.kind}`]} · {d.episode.clinicName} · {t.episode_start}: {formatDay(d.episode.startDate)}
            {d.episode.referralSource && ` · ${t.episode_referral}: ${d.episode.referralSource}`}
          </p>
        ) : (
          <p class="badge danger">{t.episode_none}</p>
        )}
        {d.can.episodes && !d.episode && (
          <details class="card" open={d.openForm === 'enrol'}>
            <summary>{d.episodes.length ? t.episode_reenrol : t.episode_enrol}</summary>
            <form method="post" action={`/patients/${p.id}/episodes`} class="stack" novalidate>
              <Csrf token={ctx.csrfToken} />
              <DateField ctx={ctx} id="startDate" label={t.episode_start} value={fv('startDate', d.today)} error={e.startDate} />
              <Field id="referralSource" label={t.episode_referral} error={e.referralSource} t={t} hint={t.episode_referral_hint}>
                <input id="referralSource" name="referralSource" value={fv('referralSource')} maxlength={200} {...describedBy('referralSource', e.referralSource, true)} />
              </Field>
              <button type="submit" class="primary">
                {d.episodes.length ? t.episode_reenrol : t.episode_enrol}
              </button>
            </form>
          </details>
        )}
        {d.can.episodes && d.episode && (
          <>
            <details class="card" open={d.openForm === 'end'}>
              <summary>{t.episode_end_action}</summary>
              <form method="post" action={`/patients/${p.id}/episodes/end`} class="stack" novalidate>
                <Csrf token={ctx.csrfToken} />
                <DateField ctx={ctx} id="endDate" label={t.episode_end} value={fv('endDate', d.today)} error={e.endDate} />
                <Field id="reason" label={t.episode_end_reason} error={e.reason} t={t}>
                  <select id="reason" name="reason" {...describedBy('reason', e.reason)}>
                    {END_REASONS.map((r) => (
                      <option value={r} selected={fv('reason') === r}>
                        {t[`end_reason_${r}`]}
                      </option>
                    ))}
                  </select>
                </Field>
                <Field id="note" label={t.episode_end_note} error={e.note} t={t}>
                  <input id="note" name="note" value={fv('note')} maxlength={500} {...describedBy('note', e.note)} />
                </Field>
                <button type="submit" class="danger">
                  {t.episode_end_action}
                </button>
              </form>
            </details>
            <details class="card" open={d.openForm === 'transfer'}>
              <summary>{t.episode_transfer}</summary>
              <form method="post" action={`/patients/${p.id}/transfer`} class="stack" novalidate>
                <Csrf token={ctx.csrfToken} />
                <Field id="toClinicId" label={t.episode_transfer_to} error={e.toClinicId} t={t}>
                  <select id="toClinicId" name="toClinicId" {...describedBy('toClinicId', e.toClinicId)}>
                    {d.clinicsForTransfer.map((o) => (
                      <option value={o.value} selected={fv('toClinicId') === o.value}>
                        {o.label}
                      </option>
                    ))}
                  </select>
                </Field>
                <DateField ctx={ctx} id="date" label={t.episode_transfer_date} value={fv('date', d.today)} error={e.date} />
                <Field id="transferNote" label={t.episode_end_note} error={e.note} t={t}>
                  <input id="transferNote" name="note" value={fv('note')} maxlength={500} />
                </Field>
                <button type="submit">{t.episode_transfer}</button>
              </form>
            </details>
          </>
        )}
        {d.episodes.length > 0 && (
          <div class="table-wrap">
            <table>
              <caption>{t.episode_history}</caption>
              <thead>
                <tr>
                  <th scope="col">{t.episode_clinic}</th>
                  <th scope="col">{t.episode_start}</th>
                  <th scope="col">{t.episode_end}</th>
                  <th scope="col">{t.episode_end_reason}</th>
                </tr>
              </thead>
              <tbody hx-disable>
                {d.episodes.map((ep) => (
                  <tr>
                    <td>
                      {ep.clinicName} <span class="muted">({t[`episode_kind_${ep.kind}`]})</span>
                    </td>
                    <td>{formatDay(ep.startDate)}</td>
                    <td>{ep.endDate ? formatDay(ep.endDate) : '—'}</td>
                    <td>{ep.endReason ? t[`end_reason_${ep.endReason}`] : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section class="card" aria-labelledby="orders-h">
        <h2 id="orders-h">{t.order_history}</h2>
        {d.orders.length === 0 ? (
          <p>—</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.order_phase}</th>
                  <th scope="col">{t.order_start}</th>
                  <th scope="col">{t.order_end}</th>
                  <th scope="col">{t.order_daily_mg}</th>
                  <th scope="col">{t.order_prescriber}</th>
                  <th scope="col">{t.order_reason}</th>
                </tr>
              </thead>
              <tbody hx-disable>
                {d.orders.map((o) => (
                  <tr>
                    <td>{t[`phase_${o.phase}`]}</td>
                    <td>{formatDay(o.startDate)}</td>
                    <td>{formatDay(o.endDate)}</td>
                    <td>
                      {formatNumber(o.dailyMg, locale)}
                      {o.splitMg && ` (${formatNumber(o.splitMg[0], locale)} + ${formatNumber(o.splitMg[1], locale)})`}
                      {o.takeHomeDays > 0 && ` · ${t.calendar_take_home}: ${o.takeHomeDays}`}
                    </td>
                    <td>
                      {o.prescriber}
                      {o.confirmedBy && <div class="muted">{`${t.order_confirmed_by}: ${o.confirmedBy}`}</div>}
                      <div class="muted">{formatDateTime(o.createdAt, d.timeZone)}</div>
                    </td>
                    <td>
                      {o.reason}
                      {o.overrides.length > 0 && <div class="muted">{`${t.order_overrides}: ${o.overrides.join(', ')}`}</div>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section class="card" aria-labelledby="guest-h">
        <h2 id="guest-h">{t.guest_title}</h2>
        {d.guests.length === 0 ? (
          <p>{t.guest_none}</p>
        ) : (
          <ul hx-disable>
            {d.guests.map((g) => (
              <li>
                {g.hostName}: {formatDay(g.fromDate)} – {formatDay(g.toDate)} {g.reason && `· ${g.reason}`}
              </li>
            ))}
          </ul>
        )}
        {d.can.guests && d.episode && (
          <details class="card" open={d.openForm === 'guest'}>
            <summary>{t.guest_authorise}</summary>
            <form method="post" action={`/patients/${p.id}/guests`} class="stack" novalidate>
              <Csrf token={ctx.csrfToken} />
              <Field id="hostClinicId" label={t.guest_host} error={e.hostClinicId} t={t}>
                <select id="hostClinicId" name="hostClinicId" {...describedBy('hostClinicId', e.hostClinicId)}>
                  {d.clinicsForTransfer.map((o) => (
                    <option value={o.value} selected={fv('hostClinicId') === o.value}>
                      {o.label}
                    </option>
                  ))}
                </select>
              </Field>
              <DateField ctx={ctx} id="fromDate" label={t.guest_from} value={fv('fromDate', d.today)} error={e.fromDate} />
              <DateField ctx={ctx} id="toDate" label={t.guest_to} value={fv('toDate')} error={e.toDate} />
              <Field id="guestReason" label={t.guest_reason} error={e.reason} t={t}>
                <input id="guestReason" name="reason" value={fv('guestReason')} maxlength={300} />
              </Field>
              <button type="submit">{t.guest_authorise}</button>
            </form>
          </details>
        )}
      </section>

      <section class="card" aria-labelledby="urine-h">
        <h2 id="urine-h">{t.urine_title}</h2>
        {d.urine.length === 0 ? (
          <p>{t.urine_none}</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.urine_date}</th>
                  {d.substances.map((s) => (
                    <th scope="col">{t[`substance_${s}` as TextKey]}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {d.urine.map((u) => (
                  <tr>
                    <td>{formatDay(u.testDate)}</td>
                    {d.substances.map((s) => (
                      <td>{u.results[s] ? <span class={u.results[s] === 'positive' ? 'badge danger' : 'badge ok'}>{u.results[s] === 'positive' ? t.urine_positive : t.urine_negative}</span> : '—'}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {d.can.urine && (
          <details class="card" open={d.openForm === 'urine'}>
            <summary>{t.urine_record}</summary>
            <form method="post" action={`/patients/${p.id}/urine-tests`} class="stack" novalidate>
              <Csrf token={ctx.csrfToken} />
              <DateField ctx={ctx} id="testDate" label={t.urine_date} value={fv('testDate', d.today)} error={e.testDate} />
              {e.results && (
                <p class="error" role="alert">
                  {t[e.results]}
                </p>
              )}
              <div class="grid-2">
                {d.substances.map((s) => (
                  <Field id={`r_${s}`} label={t[`substance_${s}` as TextKey] as string} t={t}>
                    <select id={`r_${s}`} name={`r_${s}`}>
                      <option value="">{t.urine_not_tested}</option>
                      <option value="negative" selected={fv(`r_${s}`) === 'negative'}>
                        {t.urine_negative}
                      </option>
                      <option value="positive" selected={fv(`r_${s}`) === 'positive'}>
                        {t.urine_positive}
                      </option>
                    </select>
                  </Field>
                ))}
              </div>
              <button type="submit">{t.urine_record}</button>
            </form>
          </details>
        )}
      </section>

      <section class="card" aria-labelledby="audit-h">
        <h2 id="audit-h">{t.patient_audit}</h2>
        <AuditTable ctx={ctx} rows={d.audit} />
      </section>
    </Layout>
  );
}

export function DateField({ ctx, id, label, value, error }: { ctx: ViewContext; id: string; label: string; value: string; error?: Errors[string] | undefined }) {
  const shown = /^\d{4}-\d{2}-\d{2}$/.test(value) ? formatDay(value) : value;
  return (
    <Field id={id} label={label} error={error} t={ctx.t} hint={ctx.t.patient_birth_date_hint}>
      <input id={id} name={id} value={shown} maxlength={10} inputmode="numeric" placeholder="dd/mm/yyyy" autocomplete="off" {...describedBy(id, error, true)} />
    </Field>
  );
}

function Calendar({ ctx, days, today }: { ctx: ViewContext; days: { day: string; state: DayState }[]; today: string }) {
  const { t } = ctx;
  const label: Record<DayState, string> = {
    dosed: t.calendar_dosed,
    missed: t.calendar_missed,
    take_home: t.calendar_take_home,
    withheld: t.calendar_withheld,
    due: t.calendar_due,
    no_order: t.calendar_no_order,
    not_in_treatment: t.calendar_not_in_treatment,
  };
  return (
    <>
      <div class="calendar" role="list">
        {days.map(({ day, state }) => (
          <span role="listitem" class={`day ${state}${day === today ? ' today' : ''}`} title={`${formatDay(day)}: ${label[state]}`} aria-label={`${formatDay(day)}: ${label[state]}`}>
            {day.slice(8)}
          </span>
        ))}
      </div>
      <ul class="legend">
        {(Object.keys(label) as DayState[]).map((s) => (
          <li>
            <span class={`day ${s}`}></span>
            {label[s]}
          </li>
        ))}
      </ul>
    </>
  );
}
