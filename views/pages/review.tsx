// The doctor's review list: patients the counter could not dose today
// (withheld for intoxication, missed days, no order), with the decision of
// this moment, the withholding's finding, and a form to rule on today's dose.
import { Csrf, FormErrors, type Errors } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { formatNumber, formatTime } from '../format.ts';
import { Layout } from '../layout.tsx';
import { ClinicSwitch, Reasons, type ReasonView } from './counter.tsx';

export interface ReviewRowView {
  patientId: string;
  code: string;
  fullName: string;
  decisionKind: string;
  reasons: ReasonView[];
  withheld: { at: Date; intoxication: 'none' | 'suspected' | 'intoxicated' | null; breathAlcohol: number | null; byName: string } | null;
  reviews: { kind: 'resume' | 'reduced' | 'no_dose'; maxMg: number | null; note: string; at: Date; doctorName: string }[];
}

export interface ReviewPageData {
  clinic: { id: string; name: string; timeZone: string };
  others: { id: string; code: string }[];
  rows: ReviewRowView[];
  /** The form that failed, kept with what was typed. */
  failed?: { patientId: string; kind: string; maxMg: string; note: string; errors: Errors };
}

export function ReviewPage({ ctx, d }: { ctx: ViewContext; d: ReviewPageData }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.review_title}>
      <div class="page-head">
        <h1>
          {t.review_title} — {d.clinic.name}
        </h1>
        <ClinicSwitch ctx={ctx} others={d.others} href={(id) => `/review?clinic=${id}`} />
      </div>
      {d.rows.length === 0 && <p>{t.review_empty}</p>}
      {d.rows.map((r) => {
        const failed = d.failed?.patientId === r.patientId ? d.failed : null;
        const kind = failed?.kind ?? (r.decisionKind === 'doctor_review' && !r.withheld ? 'reduced' : 'resume');
        return (
          <section class="card review" id={`review-${r.code}`}>
            <h2 hx-disable>
              <code>{r.code}</code> {r.fullName}
            </h2>
            {r.withheld && (
              <p class="warn">
                {t.review_withheld({ time: formatTime(r.withheld.at, d.clinic.timeZone), name: r.withheld.byName, finding: t[`intoxication_${r.withheld.intoxication ?? 'suspected'}`] })}{' '}
                {r.withheld.breathAlcohol !== null && t.review_breath({ value: formatNumber(r.withheld.breathAlcohol, ctx.locale, 3) })}
              </p>
            )}
            <Reasons t={t} reasons={r.reasons} />
            {r.reviews.length > 0 && (
              <ul class="muted" hx-disable>
                {r.reviews.map((v) => (
                  <li>
                    {t.review_previous({
                      time: formatTime(v.at, d.clinic.timeZone),
                      name: v.doctorName,
                      kind: `${t[`review_kind_${v.kind}`]}${v.maxMg !== null ? ` ${formatNumber(v.maxMg, ctx.locale)} mg` : ''}`,
                      note: v.note,
                    })}
                  </li>
                ))}
              </ul>
            )}
            <form method="post" action="/review" class="review-form">
              <Csrf token={ctx.csrfToken} />
              <input type="hidden" name="clinic" value={d.clinic.id} />
              <input type="hidden" name="patient" value={r.patientId} />
              {failed && <FormErrors errors={failed.errors} t={t} />}
              <fieldset>
                <legend>{t.review_kind}</legend>
                {(['resume', 'reduced', 'no_dose'] as const).map((k) => (
                  <label>
                    <input type="radio" name="kind" value={k} checked={kind === k} /> {t[`review_kind_${k}`]}
                  </label>
                ))}
              </fieldset>
              <label for={`max-${r.code}`}>{t.review_max_mg}</label>
              <input id={`max-${r.code}`} name="maxMg" inputmode="decimal" maxlength={8} value={failed?.maxMg ?? ''} aria-invalid={failed?.errors.maxMg ? 'true' : undefined} />
              {failed?.errors.maxMg && <small class="error">{t[failed.errors.maxMg]}</small>}
              <label for={`note-${r.code}`}>{t.review_note}</label>
              <textarea id={`note-${r.code}`} name="note" maxlength={1000} aria-invalid={failed?.errors.note ? 'true' : undefined}>
                {failed?.note ?? ''}
              </textarea>
              {failed?.errors.note && <small class="error">{t[failed.errors.note]}</small>}
              <div class="actions">
                <button type="submit" class="primary">
                  {t.review_save}
                </button>
                <a href={`/patients/${r.patientId}`}>{t.review_open_patient}</a>
              </div>
            </form>
          </section>
        );
      })}
    </Layout>
  );
}
