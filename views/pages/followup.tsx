// The counsellor's missed-dose list: one card per patient who did not come,
// most urgent first, with what a counsellor in the field needs (phones to
// call, address, next of kin, last dose, days missed, the open alert, the
// last contact) and a form to log the contact. Made for a phone's width.
import { CONTACT_METHODS, CONTACT_OUTCOMES } from '../../db/schema.ts';
import type { MissedRow } from '../../server/services/follow-up.ts';
import { Csrf, FormErrors, describedBy, type Errors } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { formatDateTime, formatDay } from '../format.ts';
import { Layout } from '../layout.tsx';

export const BUCKETS = ['today', 'd2_4', 'd5_13', 'd14'] as const;
/** Cards per page of the list. */
export const MISSED_PAGE_SIZE = 50;
export type Bucket = (typeof BUCKETS)[number];

/** A row of the service's list, with its dates as the page shows them. */
export type MissedRowView = Omit<MissedRow, 'clinicId' | 'counsellorId' | 'bucket' | 'asOf' | 'lastContact'> & {
  /** The first missed day. */
  since: string;
  lastContact: (Omit<NonNullable<MissedRow['lastContact']>, 'at' | 'holdUntil'> & { at: Date }) | null;
};

export interface ContactFormValues {
  method: string;
  outcome: string;
  returnDate: string;
  holdUntil: string;
  nextActionDate: string;
  note: string;
}

export interface FollowupView {
  clinics: { id: string; code: string; name: string; kind: 'facility' | 'satellite' }[];
  counsellors: { id: string; fullName: string }[];
  filter: { clinic: string; counsellor: string; bucket: string };
  counts: Record<Bucket, number>;
  rows: MissedRowView[];
  /** Paging: the most urgent first, a page at a time. */
  page: number;
  pages: number;
  timeZone: string;
  canContact: boolean;
  /** The contact form that failed, kept open with what was typed. */
  failed?: { patientId: string; values: ContactFormValues; errors: Errors };
}

const tel = (phone: string) => `tel:${phone.replace(/[^\d+]/g, '')}`;

export function FollowupPage({ ctx, v }: { ctx: ViewContext; v: FollowupView }) {
  const { t } = ctx;
  const query = (over: Partial<FollowupView['filter']>) => {
    const f = { ...v.filter, ...over };
    return `/followup?${new URLSearchParams(Object.entries(f).filter(([, x]) => x !== '')).toString()}`;
  };
  return (
    <Layout ctx={ctx} title={t.fu_title}>
      <div class="page-head">
        <h1>{t.fu_title}</h1>
        <a href="/followup/closes">{t.fu_closes_link}</a>
      </div>
      <form method="get" action="/followup" class="filters">
        <label>
          {t.fu_filter_clinic}
          <select name="clinic">
            <option value="">{t.fu_all_clinics}</option>
            {v.clinics.map((c) => (
              <option value={c.id} selected={v.filter.clinic === c.id}>
                {c.code} — {c.name}
                {c.kind === 'satellite' ? ` (${t.fu_satellite})` : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.fu_filter_counsellor}
          <select name="counsellor">
            <option value="all" selected={v.filter.counsellor === 'all'}>
              {t.fu_counsellor_all}
            </option>
            <option value="none" selected={v.filter.counsellor === 'none'}>
              {t.fu_counsellor_none}
            </option>
            {v.counsellors.map((c) => (
              <option value={c.id} selected={v.filter.counsellor === c.id}>
                {c.fullName}
              </option>
            ))}
          </select>
        </label>
        <input type="hidden" name="bucket" value={v.filter.bucket} />
        <button type="submit">{t.fu_filter_apply}</button>
      </form>
      <nav class="buckets" aria-label={t.fu_buckets}>
        <a href={query({ bucket: '' })} aria-current={v.filter.bucket === '' ? 'page' : undefined}>
          {t.fu_bucket_all} ({BUCKETS.reduce((n, b) => n + v.counts[b], 0)})
        </a>
        {BUCKETS.map((b) => (
          <a href={query({ bucket: b })} aria-current={v.filter.bucket === b ? 'page' : undefined}>
            {t[`fu_bucket_${b}`]} ({v.counts[b]})
          </a>
        ))}
      </nav>
      {v.rows.length === 0 && <p>{t.fu_empty}</p>}
      <ol class="missed-list" start={(v.page - 1) * MISSED_PAGE_SIZE + 1}>
        {v.rows.map((r) => (
          <MissedCard ctx={ctx} r={r} v={v} />
        ))}
      </ol>
      {v.pages > 1 && (
        <nav class="pager" aria-label={t.fu_pages}>
          {v.page > 1 && <a href={`${query({})}&page=${v.page - 1}`}>{t.fu_page_previous}</a>}
          <span>{t.fu_page_of({ page: v.page, pages: v.pages })}</span>
          {v.page < v.pages && <a href={`${query({})}&page=${v.page + 1}`}>{t.fu_page_next}</a>}
        </nav>
      )}
    </Layout>
  );
}

function MissedCard({ ctx, r, v }: { ctx: ViewContext; r: MissedRowView; v: FollowupView }) {
  const { t } = ctx;
  const failed = v.failed?.patientId === r.patientId ? v.failed : null;
  const cls = ['card', 'missed', r.onHoldUntil ? 'on-hold' : r.needsAction ? 'needs-action' : 'contacted'].join(' ');
  return (
    <li class={cls} id={`missed-${r.code}`} data-patient={r.patientId} data-missed={String(r.missed)}>
      <div class="missed-head" hx-disable>
        <a href={`/patients/${r.patientId}`}>
          <code>{r.code}</code> {r.fullName}
        </a>
        <strong class="missed-days">{t.fu_missed_days({ n: r.missed })}</strong>
      </div>
      <p class="missed-since">
        {t.fu_since({ day: formatDay(r.since) })}
        {r.alertLevel && <span class={`badge level-${r.alertLevel}`}>{t[`alert_level_${r.alertLevel}`]}</span>}
        {r.onHoldUntil && <span class="badge hold">{t.fu_on_hold({ day: formatDay(r.onHoldUntil) })}</span>}
      </p>
      <dl class="facts" hx-disable>
        <dt>{t.fu_phone}</dt>
        <dd>
          {r.phone ? <a href={tel(r.phone)}>{r.phone}</a> : '—'}
          {r.phone2 && (
            <>
              {' · '}
              <a href={tel(r.phone2)}>{r.phone2}</a>
            </>
          )}
        </dd>
        <dt>{t.fu_address}</dt>
        <dd>{r.address || '—'}</dd>
        <dt>{t.fu_next_of_kin}</dt>
        <dd>
          {r.nextOfKin || '—'} {r.nextOfKinPhone && <a href={tel(r.nextOfKinPhone)}>{r.nextOfKinPhone}</a>}
        </dd>
        <dt>{t.fu_last_dose}</dt>
        <dd>{r.lastCovered ? formatDay(r.lastCovered) : t.fu_never_dosed}</dd>
        <dt>{t.fu_clinic_counsellor}</dt>
        <dd>
          {r.clinicCode} · {r.counsellorName ?? t.fu_counsellor_none}
        </dd>
        <dt>{t.fu_last_contact}</dt>
        <dd>
          {r.lastContact
            ? t.fu_contact_line({
                at: formatDateTime(r.lastContact.at, v.timeZone),
                method: t[`contact_method_${r.lastContact.method}`],
                outcome: t[`contact_outcome_${r.lastContact.outcome}`],
                by: r.lastContact.byName,
              })
            : t.fu_no_contact}
          {r.lastContact?.returnDate && ` ${t.fu_will_return({ day: formatDay(r.lastContact.returnDate) })}`}
          {r.lastContact?.nextActionDate && ` ${t.fu_next_action({ day: formatDay(r.lastContact.nextActionDate) })}`}
        </dd>
      </dl>
      {v.canContact && (
        <details
          class="contact"
          open={failed ? true : undefined}
          // The form is fetched when the card is opened: a list of a few hundred patients stays light on a phone.
          hx-get={failed ? undefined : contactFormUrl(r.patientId, v.filter)}
          hx-trigger={failed ? undefined : 'toggle once'}
          hx-target={failed ? undefined : 'find .contact-body'}
        >
          <summary>{t.fu_log_contact}</summary>
          <div class="contact-body">{failed ? <ContactForm ctx={ctx} patientId={r.patientId} filter={v.filter} failed={failed} /> : <a href={contactFormUrl(r.patientId, v.filter)}>{t.fu_open_form}</a>}</div>
        </details>
      )}
    </li>
  );
}

export function contactFormUrl(patientId: string, filter: FollowupView['filter']): string {
  return `/followup/contact-form?${new URLSearchParams({ patient: patientId, ...filter }).toString()}`;
}

/** The contact form of one patient: inside their card (fetched on opening, or kept open after an error), or on a page of its own without script. */
export function ContactForm({ ctx, patientId, filter, failed }: { ctx: ViewContext; patientId: string; filter: FollowupView['filter']; failed: FollowupView['failed'] | null }) {
  const { t } = ctx;
  const val = failed?.values ?? { method: 'phone', outcome: 'reached', returnDate: '', holdUntil: '', nextActionDate: '', note: '' };
  const err = failed?.errors ?? {};
  const id = (name: string) => `${name}-${patientId}`;
  return (
      <form method="post" action="/followup/contact" class="stack">
        <Csrf token={ctx.csrfToken} />
        <input type="hidden" name="patient" value={patientId} />
        <input type="hidden" name="clinic" value={filter.clinic} />
        <input type="hidden" name="counsellor" value={filter.counsellor} />
        <input type="hidden" name="bucket" value={filter.bucket} />
        {failed && <FormErrors errors={err} t={t} />}
        <label for={id('method')}>{t.fu_method}</label>
        <select id={id('method')} name="method" {...describedBy(id('method'), err.method)}>
          {CONTACT_METHODS.map((m) => (
            <option value={m} selected={val.method === m}>
              {t[`contact_method_${m}`]}
            </option>
          ))}
        </select>
        <FieldError id={id('method')} error={err.method} t={t} />
        <label for={id('outcome')}>{t.fu_outcome}</label>
        <select id={id('outcome')} name="outcome" {...describedBy(id('outcome'), err.outcome)}>
          {CONTACT_OUTCOMES.map((o) => (
            <option value={o} selected={val.outcome === o}>
              {t[`contact_outcome_${o}`]}
            </option>
          ))}
        </select>
        <FieldError id={id('outcome')} error={err.outcome} t={t} />
        <label for={id('returnDate')}>{t.fu_return_date}</label>
        <input id={id('returnDate')} name="returnDate" type="date" value={val.returnDate} {...describedBy(id('returnDate'), err.returnDate)} />
        <FieldError id={id('returnDate')} error={err.returnDate} t={t} />
        <label for={id('holdUntil')}>{t.fu_hold_until}</label>
        <input id={id('holdUntil')} name="holdUntil" type="date" value={val.holdUntil} {...describedBy(id('holdUntil'), err.holdUntil)} />
        <FieldError id={id('holdUntil')} error={err.holdUntil} t={t} />
        <p class="hint">{t.fu_hold_hint}</p>
        <label for={id('nextActionDate')}>{t.fu_next_action_date}</label>
        <input id={id('nextActionDate')} name="nextActionDate" type="date" value={val.nextActionDate} {...describedBy(id('nextActionDate'), err.nextActionDate)} />
        <FieldError id={id('nextActionDate')} error={err.nextActionDate} t={t} />
        <label for={id('note')}>{t.fu_note}</label>
        <textarea id={id('note')} name="note" rows={3} maxlength={2000} {...describedBy(id('note'), err.note)}>
          {val.note}
        </textarea>
        <FieldError id={id('note')} error={err.note} t={t} />
        <button type="submit">
          {t.fu_save_contact}
        </button>
      </form>
  );
}

/** The contact form on a page of its own (a browser without script follows the card's link). */
export function ContactFormPage({ ctx, patient, filter }: { ctx: ViewContext; patient: { id: string; code: string; fullName: string }; filter: FollowupView['filter'] }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.fu_log_contact}>
      <h1 hx-disable>
        {t.fu_log_contact}: <code>{patient.code}</code> {patient.fullName}
      </h1>
      <ContactForm ctx={ctx} patientId={patient.id} filter={filter} failed={null} />
    </Layout>
  );
}

/** The message of one field of the contact form, tied to its input by aria-describedby (the summary above only says something is wrong). */
function FieldError({ id, error, t }: { id: string; error: Errors[string] | undefined; t: ViewContext['t'] }) {
  return error ? (
    <small id={`${id}-error`} class="error" role="alert">
      {t[error]}
    </small>
  ) : null;
}
