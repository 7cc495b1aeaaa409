// The counter: one focused scan field, the patient card with the decision of
// this moment, and the steps of a dose (check → confirm → swallow check /
// take-home), each a small form whose main button has the focus, so a
// routine patient is scan + Enter + Enter. Beside it, the queue and the
// patients expected today, refreshed every few seconds.
import type { ViewContext } from '../context.ts';
import { formatDay, formatNumber, formatTime } from '../format.ts';
import type { Messages } from '../i18n/index.ts';
import type { Readiness } from '../../server/pumps/station.ts';
import { Layout } from '../layout.tsx';
import { PumpProgress, PumpResolve, pumpNotReadyText } from './counter-pump.tsx';

export interface ReasonView {
  rule: string;
  code: string;
  values: Record<string, number | string>;
}

export type DecisionView =
  | { kind: 'give' | 'reduced'; part: number; mg: number; ml: number; orderedMg: number; checkMandatory: boolean; reasons: ReasonView[] }
  | { kind: 'doctor_review'; code: string; reasons: ReasonView[] }
  | { kind: 'already_dosed' | 'take_home_day'; at: Date; byName: string; clinicCode: string; reasons: ReasonView[] }
  | { kind: 'not_this_clinic'; reasons: ReasonView[] };

export interface CardView {
  clinicId: string;
  timeZone: string;
  patient: { id: string; code: string; fullName: string; birthDate: string; hasPhoto: boolean; homeClinicName: string };
  visible: boolean;
  guest: boolean;
  diversionDay: string | null;
  order: { dailyMg: number; splitMg: [number, number] | null; phase: 'induction' | 'titration' | 'maintenance' | 'taper'; endDate: string } | null;
  lastDoses: { serviceDay: string; outcome: Outcome; status: 'completed' | 'pending' | 'unknown'; givenMg: number; at: Date; clinicCode: string }[];
  decision: DecisionView;
  /** A new key per card shown: a retried confirmation finds its record. */
  requestId: string;
  canRefer: boolean;
  canReview: boolean;
  canPrescribe: boolean;
  /** The clinic's pump the counter offers, with whether it may dose now; null: no pump, measured by hand. */
  pump: { id: string; name: string; readiness: PumpReadiness } | null;
}

/** What the station says the pump may do now (server/pumps/station.ts decides it). */
export type PumpReadiness = Readiness;

/** A pump dose waiting for a person: after a fault (pump delivered `ml` and stopped), silence (unknown), or a restart still asking the pump. */
export interface ResolveView {
  id: string;
  status: 'fault' | 'unknown' | 'pending';
  plannedMl: number;
  ml: number;
  code: string | null;
  lateMl: number | null;
}

export type Outcome = 'given' | 'take_home' | 'supplied' | 'withheld' | 'refused' | 'vomited' | 'spilled';

/** The step the card is at. */
export type Step =
  | { kind: 'check'; errors?: Partial<Record<'breathAlcohol', 'err_breath'>> }
  | { kind: 'confirm'; intoxication: 'none'; breathAlcohol: string }
  | { kind: 'swallow'; doseId: string }
  | { kind: 'take_home'; maxDays: number }
  | { kind: 'pumping'; doseId: string; ml: number; plannedMl: number; stopping: boolean }
  | { kind: 'resolve'; dose: ResolveView }
  | { kind: 'none' };

export type Notice = { tone: 'ok' | 'warn' | 'error'; text: string };

export interface WorkView {
  clinicId: string;
  q: string;
  notice: Notice | null;
  card: (CardView & { step: Step }) | null;
  matches: { id: string; code: string; fullName: string; birthDate: string }[];
}

export interface QueueView {
  clinicId: string;
  timeZone: string;
  now: Date;
  queue: { code: string; fullName: string; at: Date }[];
  expected: { code: string; fullName: string; guest: boolean }[];
}

export function CounterPage({ ctx, clinic, others, work, queue }: { ctx: ViewContext; clinic: { id: string; name: string }; others: { id: string; code: string; name: string }[]; work: WorkView; queue: QueueView }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.ctr_title} scripts={['counter.js']}>
      <div class="page-head">
        <h1>{t.ctr_at_clinic({ name: clinic.name })}</h1>
        <ClinicSwitch ctx={ctx} others={others} href={(id) => `/counter?clinic=${id}`} />
      </div>
      <p id="offline" class="offline" role="alert" hidden>
        {t.ctr_offline}
      </p>
      <p id="server-error" class="offline" role="alert" hidden>
        {t.ctr_server_error}
      </p>
      <p id="counter-error" class="form-errors" role="alert" hidden></p>
      <div class="counter-layout">
        <CounterWork ctx={ctx} w={work} />
        <QueuePanel ctx={ctx} q={queue} />
      </div>
    </Layout>
  );
}

/** The working area: the scan field, the last notice, and the card. Every counter action swaps it whole. */
export function CounterWork({ ctx, w }: { ctx: ViewContext; w: WorkView }) {
  const { t } = ctx;
  const scanFocused = !w.card || w.card.step.kind === 'none';
  return (
    <section id="counter" class="counter-work" aria-live="polite">
      <form class="scan" method="get" action="/counter/find" hx-get="/counter/find" hx-target="#counter" hx-swap="outerHTML" hx-sync="this:replace">
        <input type="hidden" name="clinic" value={w.clinicId} />
        <label for="scan">{t.ctr_scan_label}</label>
        <div class="actions">
          <input id="scan" name="q" type="search" value={w.q} maxlength={100} autocomplete="off" spellcheck={false} autofocus={scanFocused} />
          <button type="submit">{t.ctr_scan_button}</button>
        </div>
      </form>
      {w.notice && (
        <p class={`notice ${w.notice.tone}`} role={w.notice.tone === 'error' ? 'alert' : 'status'} hx-disable>
          {w.notice.text}
        </p>
      )}
      {w.matches.length > 0 && (
        <div class="matches">
          <p>{t.ctr_matches}</p>
          <ul>
            {w.matches.map((m) => {
              const href = `/counter/card/${m.id}?clinic=${w.clinicId}`;
              return (
                <li>
                  <a href={href} class="match" hx-get={href} hx-target="#counter" hx-swap="outerHTML">
                    <code>{m.code}</code> <span hx-disable>{m.fullName}</span> · {formatDay(m.birthDate)}
                  </a>
                </li>
              );
            })}
          </ul>
        </div>
      )}
      {w.card && <PatientCard ctx={ctx} c={w.card} />}
      <p class="muted small">{t.ctr_keys_hint}</p>
    </section>
  );
}

const mgText = (ctx: ViewContext, mg: number) => formatNumber(mg, ctx.locale, 1);
const mlText = (ctx: ViewContext, ml: number) => formatNumber(ml, ctx.locale, 2);

/** The other clinics the user works at, each a link to the same page there. */
export function ClinicSwitch({ ctx, others, href }: { ctx: ViewContext; others: { id: string; code: string }[]; href: (clinicId: string) => string }) {
  if (others.length === 0) return null;
  return (
    <nav class="actions" aria-label={ctx.t.ctr_other_clinics}>
      <span class="muted">{ctx.t.ctr_other_clinics}</span>
      {others.map((o) => (
        <a href={href(o.id)}>{o.code}</a>
      ))}
    </nav>
  );
}

/** A decision's reasons, each with its rule id. */
export function Reasons({ t, reasons }: { t: Messages; reasons: ReasonView[] }) {
  return (
    <ul class="reasons" hx-disable>
      {reasons.map((r) => (
        <li>
          <span class="rule">{r.rule}</span> {reasonText(t, r)}
        </li>
      ))}
    </ul>
  );
}

/** A decision's reason in the user's language, with its rule id. */
export function reasonText(t: Messages, r: ReasonView): string {
  const key = `reason_${r.code}` as keyof Messages;
  const m = t[key] as unknown;
  return typeof m === 'function' ? (m as (v: ReasonView['values']) => string)(r.values) : r.code;
}

function PatientCard({ ctx, c }: { ctx: ViewContext; c: CardView & { step: Step } }) {
  const { t } = ctx;
  if (!c.visible) {
    return (
      <article id="card" class="pcard decision-not_this_clinic" data-kind="not_this_clinic">
        <p class="decision-title">{t.ctr_decision_not_this_clinic}</p>
        <p>{t.ctr_other_clinic_card({ code: c.patient.code })}</p>
      </article>
    );
  }
  const d = c.decision;
  return (
    <article id="card" class={`pcard decision-${d.kind}`} data-kind={d.kind} data-patient={c.patient.code}>
      <header class="pcard-head">
        {c.patient.hasPhoto ? (
          <img class="pcard-photo" src={`/patients/${c.patient.id}/photo`} alt={t.patient_photo_alt({ name: c.patient.fullName })} />
        ) : (
          <div class="pcard-photo none">{t.ctr_photo_missing}</div>
        )}
        <div hx-disable>
          <h2 class="pcard-name">{c.patient.fullName}</h2>
          <p>
            <code class="pcard-code">{c.patient.code}</code> · {formatDay(c.patient.birthDate)}
          </p>
          <p class="muted">{t.ctr_home_clinic({ name: c.patient.homeClinicName })}</p>
          {c.guest && <p class="badge">{t.ctr_guest}</p>}
        </div>
      </header>
      {c.diversionDay && (
        <p class="flag" role="alert">
          {t.ctr_diversion({ day: formatDay(c.diversionDay) })}
        </p>
      )}
      <div class="pcard-body">
        <section>
          <h3>{t.ctr_order}</h3>
          {c.order ? (
            <>
              <p>{t.ctr_order_line({ mg: mgText(ctx, c.order.dailyMg), phase: t[`phase_${c.order.phase}`], until: formatDay(c.order.endDate) })}</p>
              {c.order.splitMg && <p>{t.ctr_order_split({ first: mgText(ctx, c.order.splitMg[0]), second: mgText(ctx, c.order.splitMg[1]) })}</p>}
            </>
          ) : (
            <p>{t.ctr_no_order}</p>
          )}
        </section>
        <section>
          <h3>{t.ctr_last_doses}</h3>
          {c.lastDoses.length ? (
            <ul class="last-doses">
              {c.lastDoses.map((r) => (
                <li>
                  {formatDay(r.serviceDay)} {formatTime(r.at, c.timeZone)} · {r.status === 'completed' ? t[`dose_outcome_${r.outcome}`] : t[`pump_dose_${r.status}`]}
                  {r.status === 'completed' && r.givenMg > 0 && ` · ${mgText(ctx, r.givenMg)} mg`} · {r.clinicCode}
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">{t.ctr_no_doses}</p>
          )}
        </section>
      </div>
      {(c.step.kind === 'check' || c.step.kind === 'confirm' || c.step.kind === 'none') && <DecisionBox ctx={ctx} c={c} />}
      <StepForm ctx={ctx} c={c} />
    </article>
  );
}

function DecisionBox({ ctx, c }: { ctx: ViewContext; c: CardView }) {
  const { t } = ctx;
  const d = c.decision;
  const title = {
    give: t.ctr_decision_give,
    reduced: t.ctr_decision_reduced,
    doctor_review: t.ctr_decision_doctor_review,
    already_dosed: t.ctr_decision_already_dosed,
    take_home_day: t.ctr_decision_take_home_day,
    not_this_clinic: t.ctr_decision_not_this_clinic,
  }[d.kind];
  return (
    <section class="decision" aria-label={title}>
      <p class="decision-title">{title}</p>
      {(d.kind === 'give' || d.kind === 'reduced') && (
        <p class="dose-amount">
          {t.ctr_dose_amount({ mg: mgText(ctx, d.mg), ml: mlText(ctx, d.ml) })}
          {c.order?.splitMg && <span class="muted"> · {t.ctr_part({ part: d.part })}</span>}
        </p>
      )}
      {(d.kind === 'give' || d.kind === 'reduced') && d.checkMandatory && <p class="warn">{t.ctr_check_mandatory}</p>}
      {(d.kind === 'already_dosed' || d.kind === 'take_home_day') && <p hx-disable>{t.ctr_blocked_by({ time: formatTime(d.at, c.timeZone), name: d.byName, clinic: d.clinicCode })}</p>}
      <Reasons t={t} reasons={d.reasons} />
      {d.kind === 'doctor_review' && (
        <div class="actions">
          {c.canRefer && (
            <form method="post" action="/counter/refer" hx-post="/counter/refer" hx-target="#counter" hx-swap="outerHTML" hx-disabled-elt="find button">
              <Hidden name="clinic" value={c.clinicId} />
              <Hidden name="patient" value={c.patient.id} />
              <button type="submit" class="primary" autofocus>
                {t.ctr_refer}
              </button>
            </form>
          )}
          {c.canReview && (
            <a class="button" href={`/review?clinic=${c.clinicId}`}>
              {t.ctr_review_link}
            </a>
          )}
          {c.canPrescribe && (
            <a class="button" href={`/patients/${c.patient.id}/orders/new`}>
              {t.ctr_order_link}
            </a>
          )}
        </div>
      )}
    </section>
  );
}

export const Hidden = ({ name, value }: { name: string; value: string | number }) => <input type="hidden" name={name} value={String(value)} />;

/** The hidden fields that tie a step to the card it was shown on. */
function CardFields({ c, d }: { c: CardView; d: { part: number; mg: number } }) {
  return (
    <>
      <Hidden name="clinic" value={c.clinicId} />
      <Hidden name="patient" value={c.patient.id} />
      <Hidden name="requestId" value={c.requestId} />
      <Hidden name="part" value={d.part} />
      <Hidden name="mg" value={d.mg} />
    </>
  );
}

function StepForm({ ctx, c }: { ctx: ViewContext; c: CardView & { step: Step } }) {
  const { t } = ctx;
  const d = c.decision;
  const swap = { 'hx-target': '#counter', 'hx-swap': 'outerHTML', 'hx-disabled-elt': 'find button' };
  const step = c.step;
  if (step.kind === 'swallow') {
    // Two forms, so Enter in the note can only ever record the diversion it describes.
    return (
      <div class="step">
        <h3>{t.ctr_swallow_title}</h3>
        <p>{t.ctr_swallow_question}</p>
        <form method="post" action="/counter/swallow" hx-post="/counter/swallow" {...swap}>
          <Hidden name="clinic" value={c.clinicId} />
          <Hidden name="dose" value={step.doseId} />
          <Hidden name="outcome" value="swallowed" />
          <div class="actions">
            <button type="submit" name="outcome" value="swallowed" class="primary big" autofocus>
              {t.ctr_swallow_yes}
            </button>
          </div>
        </form>
        <details>
          <summary>{t.ctr_swallow_diversion}</summary>
          <form method="post" action="/counter/swallow" hx-post="/counter/swallow" {...swap}>
            <Hidden name="clinic" value={c.clinicId} />
            <Hidden name="dose" value={step.doseId} />
            <Hidden name="outcome" value="diversion" />
            <label for="swallow-note">{t.ctr_swallow_note}</label>
            <input id="swallow-note" name="note" maxlength={500} />
            <button type="submit" name="outcome" value="diversion" class="danger">
              {t.ctr_swallow_diversion}
            </button>
          </form>
        </details>
      </div>
    );
  }
  if (step.kind === 'pumping') return <PumpProgress ctx={ctx} clinicId={c.clinicId} step={step} />;
  if (step.kind === 'resolve') return <PumpResolve ctx={ctx} clinicId={c.clinicId} patientId={c.patient.id} dose={step.dose} />;
  if (step.kind === 'take_home') {
    return (
      <div class="step">
        <h3>{t.ctr_take_home_title}</h3>
        <form method="post" action="/counter/take-home" hx-post="/counter/take-home" {...swap} class="actions">
          <Hidden name="clinic" value={c.clinicId} />
          <Hidden name="patient" value={c.patient.id} />
          <Hidden name="requestId" value={c.requestId} />
          <label for="take-home-days">{t.ctr_take_home_days}</label>
          <select id="take-home-days" name="days">
            {Array.from({ length: step.maxDays }, (_, i) => (
              <option value={String(i + 1)}>{i + 1}</option>
            ))}
          </select>
          <button type="submit">{t.ctr_take_home_give}</button>
        </form>
        <NextPatient ctx={ctx} clinicId={c.clinicId} />
      </div>
    );
  }
  if (d.kind !== 'give' && d.kind !== 'reduced') return <NextPatient ctx={ctx} clinicId={c.clinicId} focus={!(d.kind === 'doctor_review' && c.canRefer)} />;
  if (step.kind === 'check') {
    const err = step.errors?.breathAlcohol;
    // Two forms: Enter in the breath-alcohol field submits the withholding it
    // belongs to, never "no signs" (the first button of a shared form).
    return (
      <div class="step">
        <h3>{t.ctr_check_title}</h3>
        <p>{t.ctr_check_question}</p>
        <form method="post" action="/counter/check" hx-post="/counter/check" {...swap}>
          <CardFields c={c} d={d} />
          <Hidden name="intoxication" value="none" />
          <div class="actions">
            <button type="submit" name="intoxication" value="none" class="primary big" autofocus={!err}>
              {t.ctr_check_none}
            </button>
          </div>
        </form>
        <details open={!!err}>
          <summary>{t.ctr_check_signs}</summary>
          <form method="post" action="/counter/check" hx-post="/counter/check" {...swap}>
            <CardFields c={c} d={d} />
            <Hidden name="intoxication" value="signs" />
            <fieldset>
              <legend>{t.ctr_intoxication}</legend>
              <label>
                <input type="radio" name="finding" value="suspected" checked /> {t.intoxication_suspected}
              </label>
              <label>
                <input type="radio" name="finding" value="intoxicated" /> {t.intoxication_intoxicated}
              </label>
            </fieldset>
            <label for="breath">{t.ctr_breath}</label>
            <input id="breath" name="breathAlcohol" inputmode="decimal" maxlength={8} autofocus={!!err} aria-invalid={err ? 'true' : undefined} aria-describedby={err ? 'breath-error' : undefined} />
            {err && (
              <small id="breath-error" class="error" role="alert">
                {t[err]}
              </small>
            )}
            <button type="submit" name="intoxication" value="signs" class="danger">
              {t.ctr_withhold}
            </button>
          </form>
        </details>
      </div>
    );
  }
  if (step.kind === 'confirm') {
    return (
      <>
      <form class="step" method="post" action="/counter/dose" hx-post="/counter/dose" {...swap}>
        <h3>{t.ctr_confirm_title}</h3>
        <CardFields c={c} d={d} />
        <Hidden name="intoxication" value={step.intoxication} />
        <Hidden name="breathAlcohol" value={step.breathAlcohol} />
        {c.pump && c.pump.readiness.state !== 'ready' && (
          <p class="notice warn pump-state" role="status">
            {pumpNotReadyText(t, c.pump.name, c.pump.readiness)}
          </p>
        )}
        <div class="actions">
          {c.pump?.readiness.state === 'ready' ? (
            <>
              <input type="hidden" name="pump" value={c.pump.id} />
              <button type="submit" name="outcome" value="given" class="primary big" autofocus>
                {t.pump_button({ name: c.pump.name, ml: mlText(ctx, d.ml) })}
              </button>
            </>
          ) : (
            <button type="submit" name="outcome" value="given" class="primary big" autofocus>
              {t.ctr_confirm_given({ mg: mgText(ctx, d.mg), ml: mlText(ctx, d.ml) })}
            </button>
          )}
        </div>
        <details>
          <summary>{t.ctr_confirm_other}</summary>
          <div class="actions">
            <button type="submit" name="outcome" value="refused">
              {t.ctr_confirm_refused}
            </button>
            <button type="submit" name="outcome" value="spilled">
              {t.ctr_confirm_spilled}
            </button>
            <button type="submit" name="outcome" value="vomited">
              {t.ctr_confirm_vomited}
            </button>
          </div>
          <p class="muted small">{t.ctr_vomited_hint}</p>
        </details>
      </form>
      {c.pump?.readiness.state === 'ready' && (
        // Measured by hand even though the pump is ready (a pump the nurse does not trust today): a form of its own, with no pump in it.
        <form class="step pump-manual" method="post" action="/counter/dose" hx-post="/counter/dose" {...swap}>
          <CardFields c={c} d={d} />
          <Hidden name="intoxication" value={step.intoxication} />
          <Hidden name="breathAlcohol" value={step.breathAlcohol} />
          <button type="submit" name="outcome" value="given" class="link">
            {t.pump_manual}: {t.ctr_confirm_given({ mg: mgText(ctx, d.mg), ml: mlText(ctx, d.ml) })}
          </button>
        </form>
      )}
      </>
    );
  }
  return null;
}

export function NextPatient({ ctx, clinicId, focus = true }: { ctx: ViewContext; clinicId: string; focus?: boolean }) {
  return (
    <form class="step" method="get" action="/counter/find" hx-get="/counter/find" hx-target="#counter" hx-swap="outerHTML">
      <Hidden name="clinic" value={clinicId} />
      <button type="submit" autofocus={focus}>
        {ctx.t.ctr_next_patient}
      </button>
    </form>
  );
}

/** The queue and the expected list: polled every few seconds, so they stay current without a reload. */
export function QueuePanel({ ctx, q }: { ctx: ViewContext; q: QueueView }) {
  const { t } = ctx;
  return (
    <aside id="queue-panel" class="queue" hx-get={`/counter/queue?clinic=${q.clinicId}`} hx-trigger="every 5s" hx-swap="outerHTML">
      <h2>{t.ctr_queue_title}</h2>
      <form method="post" action="/counter/call-next" hx-post="/counter/call-next" hx-target="#counter" hx-swap="outerHTML" hx-disabled-elt="find button">
        <Hidden name="clinic" value={q.clinicId} />
        <button type="submit" disabled={q.queue.length === 0}>
          {t.ctr_call_next}
        </button>
      </form>
      {q.queue.length ? (
        <ol class="queue-list" hx-disable>
          {q.queue.map((r) => (
            <li>
              <code>{r.code}</code> {r.fullName} <span class="muted">· {t.ctr_queue_wait({ min: Math.max(0, Math.floor((q.now.getTime() - r.at.getTime()) / 60_000)) })}</span>
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">{t.ctr_queue_empty}</p>
      )}
      <details class="expected" open={q.expected.length > 0 && q.expected.length <= 30}>
        <summary>{t.ctr_expected_title({ n: q.expected.length })}</summary>
        {q.expected.length ? (
          <ul hx-disable>
            {q.expected.map((r) => (
              <li>
                <code>{r.code}</code> {r.fullName}
                {r.guest && <span class="badge small">{t.ctr_guest}</span>}
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">{t.ctr_expected_none}</p>
        )}
      </details>
      <p class="muted small">{t.ctr_updated({ time: formatTime(q.now, q.timeZone) })}</p>
    </aside>
  );
}
