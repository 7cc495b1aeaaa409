// The counter's pump steps: why the pump cannot dose now, the progress of a
// dose being delivered (with its stop button), and the decision a dose waits
// for when the pump could not finish (a fault, silence, a restart).
import type { ViewContext } from '../context.ts';
import { formatNumber } from '../format.ts';
import type { Messages } from '../i18n/index.ts';
import { Hidden, NextPatient, type PumpReadiness, type ResolveView, type Step } from './counter.tsx';
import { faultText } from './pumps.tsx';

const mlText = (ctx: ViewContext, ml: number) => formatNumber(ml, ctx.locale, 2);

/** Why the counter cannot dose with its pump now (the route's 409 and the confirm step say the same). */
export function pumpNotReadyText(t: Messages, name: string, r: PumpReadiness): string {
  switch (r.state) {
    case 'offline':
      return t.pump_offline({ name });
    case 'busy':
      return t.pump_busy({ name });
    case 'blocked':
      return t[`pump_blocked_${r.reason}`]({ name });
    case 'ready':
      return '';
    default:
      return r satisfies never;
  }
}

/** The pump delivering: progress polled every 300 ms (the fragment replaces itself; when the dose is done the server swaps the whole area). */
export function PumpProgress({ ctx, clinicId, step }: { ctx: ViewContext; clinicId: string; step: Extract<Step, { kind: 'pumping' }> }) {
  const { t } = ctx;
  const pct = step.plannedMl > 0 ? Math.min(100, Math.round((step.ml / step.plannedMl) * 100)) : 0;
  return (
    <div id="pump-step" class="step pump-step" hx-get={`/counter/pump/${step.doseId}?clinic=${clinicId}`} hx-trigger="every 300ms" hx-swap="outerHTML" data-dose={step.doseId}>
      <h3>{t.pump_dispensing_title}</h3>
      <progress max={String(step.plannedMl)} value={String(step.ml)} aria-label={t.pump_dispensing_title}>
        {pct}%
      </progress>
      <p class="dose-amount pump-ml">{t.pump_progress({ ml: mlText(ctx, step.ml), planned: mlText(ctx, step.plannedMl) })}</p>
      <form method="post" action={`/counter/pump/${step.doseId}/stop`} hx-post={`/counter/pump/${step.doseId}/stop`} hx-target="#counter" hx-swap="outerHTML">
        <Hidden name="clinic" value={clinicId} />
        <button type="submit" class="danger big" disabled={step.stopping} autofocus>
          {step.stopping ? t.pump_stopping : t.pump_stop}
        </button>
      </form>
    </div>
  );
}

/** A pump dose that could not finish: the nurse decides, with the cup in front of her. */
export function PumpResolve({ ctx, clinicId, patientId, dose }: { ctx: ViewContext; clinicId: string; patientId: string; dose: ResolveView }) {
  const { t } = ctx;
  const action = `/counter/pump/${dose.id}/resolve`;
  const swap = { 'hx-post': action, 'hx-target': '#counter', 'hx-swap': 'outerHTML', 'hx-disabled-elt': 'find button' };
  const button = (decision: string, label: string, cls = '', focus = false) => (
    <form method="post" action={action} {...swap}>
      <Hidden name="clinic" value={clinicId} />
      <Hidden name="decision" value={decision} />
      <button type="submit" class={cls} autofocus={focus}>
        {label}
      </button>
    </form>
  );
  if (dose.status === 'pending') {
    return (
      <div class="step pump-resolve" role="alert">
        <h3>{t.pump_pending_title}</h3>
        <p>{t.pump_pending_text}</p>
        {/* Looked at again every 2 s: the card changes by itself once the pump has answered. */}
        <div hx-get={`/counter/card/${patientId}?clinic=${clinicId}`} hx-trigger="every 2s" hx-target="#counter" hx-swap="outerHTML"></div>
        <NextPatient ctx={ctx} clinicId={clinicId} />
      </div>
    );
  }
  if (dose.status === 'fault') {
    const codeText = faultText(t, dose.code ?? 'UNREPORTED');
    const rest = Math.max(0, Math.round((dose.plannedMl - dose.ml) * 100) / 100);
    return (
      <div class="step pump-resolve" role="alert">
        <h3>{t.pump_fault_title}</h3>
        <p>{t.pump_fault_text({ code: codeText, ml: mlText(ctx, dose.ml), planned: mlText(ctx, dose.plannedMl) })}</p>
        <div class="actions">
          {button('top_up', t.pump_top_up({ ml: mlText(ctx, rest) }), 'primary', true)}
          {dose.ml > 0 && button('partial', t.pump_partial({ ml: mlText(ctx, dose.ml) }))}
          {button('withhold', t.pump_withhold, 'danger')}
        </div>
      </div>
    );
  }
  return (
    <div class="step pump-resolve" role="alert">
      <h3>{t.pump_unknown_title}</h3>
      <p>{t.pump_unknown_text({ ml: mlText(ctx, dose.ml) })}</p>
      {dose.lateMl !== null && <p class="warn">{t.pump_unknown_late({ ml: mlText(ctx, dose.lateMl) })}</p>}
      <form method="post" action={action} {...swap} class="actions">
        <Hidden name="clinic" value={clinicId} />
        <Hidden name="decision" value="given" />
        <label for="cup-ml">{t.pump_cup_ml}</label>
        <input id="cup-ml" name="ml" inputmode="decimal" maxlength={8} value={String(dose.lateMl ?? dose.plannedMl)} required />
        <button type="submit" class="primary" autofocus>
          {t.pump_given}
        </button>
      </form>
      <div class="actions">{button('not_given', t.pump_not_given, 'danger')}</div>
    </div>
  );
}

