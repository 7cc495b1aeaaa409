// The patient page's follow-up section: alerts raised for missed days (open
// and closed, with how they closed) and the history of contacts. Notes are
// absent from the HTML for roles that may not read them.
import type { AlertLevel, ContactMethod, ContactOutcome } from '../../db/schema.ts';
import type { ReviewGround } from '../../server/dosing/follow-up.ts';
import { Csrf } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { formatDateTime, formatDay } from '../format.ts';


export interface PatientFollowupView {
  alerts: { id: string; level: AlertLevel; since: string; raisedDay: string; missedDays: number; grounds: ReviewGround[]; closedAs: string | null; closedNote: string }[];
  /** The doctor may mark an R19 review done. */
  canReview: boolean;
  /** The review form that failed, with what was typed. */
  reviewError?: { alertId: string; note: string } | undefined;
  contacts: { id: string; at: Date; method: ContactMethod; outcome: ContactOutcome; returnDate: string | null; holdUntil: string | null; nextActionDate: string | null; note: string | null; byName: string }[];
}

const CLOSED_KEYS = {
  returned: 'alert_closed_returned',
  episode_ended: 'alert_closed_episode_ended',
  dropout_confirmed: 'alert_closed_dropout_confirmed',
  dropout_rejected: 'alert_closed_dropout_rejected',
  reviewed: 'alert_closed_reviewed',
} as const;

export function PatientFollowup({ ctx, f, timeZone }: { ctx: ViewContext; f: PatientFollowupView; timeZone: string }) {
  const { t } = ctx;
  return (
    <section class="card" aria-labelledby="fu-h" id="follow-up">
      <h2 id="fu-h">{t.pfu_title}</h2>
      <h3>{t.pfu_alerts}</h3>
      {f.alerts.length === 0 ? (
        <p>{t.pfu_no_alerts}</p>
      ) : (
        <ul>
          {f.alerts.map((a) => (
            <li data-level={a.level} data-open={a.closedAs ? 'false' : 'true'}>
              <span class={`badge level-${a.level}`}>{t[`alert_level_${a.level}`]}</span>{' '}
              {a.level === 'review'
                ? `${t.review_grounds_line({ grounds: a.grounds.map((g) => t[`review_ground_${g}`]).join('; ') })} (${formatDay(a.raisedDay)})`
                : t.pfu_alert_line({ n: a.missedDays, since: formatDay(a.since), day: formatDay(a.raisedDay) })}{' '}
              <span class="muted">{a.closedAs ? t[CLOSED_KEYS[a.closedAs as keyof typeof CLOSED_KEYS] ?? 'alert_closed_returned'] : t.pfu_open}</span>
              {a.closedNote && (
                <span class="muted" hx-disable>
                  {' '}
                  — {a.closedNote}
                </span>
              )}
              {a.level === 'review' && !a.closedAs && f.canReview && (
                <form method="post" action={`/followup/reviews/${a.id}`} class="stack">
                  <Csrf token={ctx.csrfToken} />
                  {f.reviewError?.alertId === a.id && (
                    <p class="error" role="alert">
                      {t.err_review_done_note}
                    </p>
                  )}
                  <label for={`review-note-${a.id}`}>{t.review_done_note}</label>
                  <textarea id={`review-note-${a.id}`} name="note" rows={2} maxlength={1000} required>
                    {f.reviewError?.alertId === a.id ? f.reviewError.note : ''}
                  </textarea>
                  <p class="hint">{t.review_done_hint}</p>
                  <button type="submit">{t.review_done}</button>
                </form>
              )}
            </li>
          ))}
        </ul>
      )}
      <h3>{t.pfu_contacts}</h3>
      {f.contacts.length === 0 ? (
        <p>{t.fu_no_contact}</p>
      ) : (
        <ul hx-disable>
          {f.contacts.map((c) => (
            <li>
              {t.fu_contact_line({ at: formatDateTime(c.at, timeZone), method: t[`contact_method_${c.method}`], outcome: t[`contact_outcome_${c.outcome}`], by: c.byName })}
              {c.returnDate && ` ${t.fu_will_return({ day: formatDay(c.returnDate) })}`}
              {c.holdUntil && ` ${t.fu_on_hold({ day: formatDay(c.holdUntil) })}.`}
              {c.nextActionDate && ` ${t.fu_next_action({ day: formatDay(c.nextActionDate) })}`}
              {c.note !== null && c.note !== '' && <p class="note">{c.note}</p>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
