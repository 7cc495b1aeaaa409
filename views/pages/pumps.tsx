// The pumps of one's clinics: what each is doing now (state, reservoir,
// serial, calibration), priming, the calibration check, confirming a device,
// its log, and (admin) the configuration of serial paths.
import type { Child } from 'hono/jsx';
import type { ViewContext } from '../context.ts';
import { formatDateTime, formatNumber } from '../format.ts';
import type { Messages, TextKey } from '../i18n/index.ts';
import { Layout } from '../layout.tsx';
import type { PumpReadiness } from './counter.tsx';

export interface PumpView {
  id: string;
  clinicId: string;
  clinicName: string;
  name: string;
  path: string;
  baudRate: number;
  active: boolean;
  expectedSerial: string | null;
  /** What the pump answered on this connection (null: not connected). */
  seenSerial: string | null;
  model: string | null;
  readiness: PumpReadiness | null;
  reservoirMl: number | null;
  calFactor: number | null;
  lastCalibrationAt: Date | null;
  timeZone: string;
}

export interface PumpEventRow {
  kind: string;
  details: Record<string, unknown>;
  at: Date;
  byName: string | null;
}

export interface PumpPageView {
  pump: PumpView;
  log: PumpEventRow[];
  canOperate: boolean;
  canConfirm: boolean;
  canConfigure: boolean;
  notice: { tone: 'ok' | 'error'; text: string } | null;
  /** A calibration test waiting for the cylinder's reading. */
  calibrationTest: { reportedMl: number } | null;
  errors: Partial<Record<'prime' | 'test' | 'measured', TextKey>>;
  clinics: { id: string; name: string }[];
}

const ml = (ctx: ViewContext, v: number) => formatNumber(v, ctx.locale, 1);

export function stateText(t: Messages, r: PumpReadiness | null): string {
  if (!r) return t.pump_state_offline;
  return t[`pump_state_${r.state}`];
}

export function PumpListPage({ ctx, pumps, canConfigure, clinics, errors, values }: { ctx: ViewContext; pumps: PumpView[]; canConfigure: boolean; clinics: { id: string; name: string }[]; errors: Record<string, TextKey>; values: Record<string, string> }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.pumps_title}>
      <h1>{t.pumps_title}</h1>
      {pumps.length === 0 ? (
        <p>{t.pumps_none}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.pump_col_name}</th>
                <th scope="col">{t.pump_field_clinic}</th>
                <th scope="col">{t.pump_col_state}</th>
                <th scope="col">{t.pump_col_reservoir}</th>
                <th scope="col">{t.pump_col_calibration}</th>
              </tr>
            </thead>
            <tbody>
              {pumps.map((p) => (
                <tr data-pump={p.id}>
                  <td>
                    <a href={`/pumps/${p.id}`}>{p.name}</a> <code class="muted">{p.path}</code>
                  </td>
                  <td>{p.clinicName}</td>
                  <td class={`pump-state-${p.readiness?.state ?? 'offline'}`}>{p.active ? stateText(t, p.readiness) : '—'}</td>
                  <td>{p.reservoirMl === null ? '—' : `${ml(ctx, p.reservoirMl)} ml`}</td>
                  <td>{p.lastCalibrationAt ? formatDateTime(p.lastCalibrationAt, p.timeZone) : t.pump_never}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canConfigure && <PumpConfigForm ctx={ctx} action="/pumps" clinics={clinics} errors={errors} values={values} />}
    </Layout>
  );
}

function PumpConfigForm({ ctx, action, clinics, errors, values }: { ctx: ViewContext; action: string; clinics: { id: string; name: string }[]; errors: Record<string, TextKey>; values: Record<string, string> }) {
  const { t } = ctx;
  const field = (name: string, label: string, attrs: Record<string, string | number> = {}) => (
    <div class={errors[name] ? 'field has-error' : 'field'}>
      <label for={`pump-${name}`}>{label}</label>
      <input id={`pump-${name}`} name={name} value={values[name] ?? ''} aria-invalid={errors[name] ? 'true' : undefined} {...attrs} />
      {errors[name] && (
        <small class="error" role="alert">
          {t[errors[name]!]}
        </small>
      )}
    </div>
  );
  return (
    <section>
      <h2>{t.pump_admin_title}</h2>
      <form method="post" action={action} class="form">
        <input type="hidden" name="_csrf" value={ctx.csrfToken} />
        <div class="field">
          <label for="pump-clinic">{t.pump_field_clinic}</label>
          <select id="pump-clinic" name="clinicId">
            {clinics.map((c) => (
              <option value={c.id} selected={values.clinicId === c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        {field('name', t.pump_field_name, { maxlength: 60, required: 'required' })}
        {field('path', t.pump_field_path, { maxlength: 200, required: 'required' })}
        <div class="field">
          <label for="pump-baud">{t.pump_field_baud}</label>
          <select id="pump-baud" name="baudRate">
            {[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200].map((b) => (
              <option value={String(b)} selected={(values.baudRate ?? '9600') === String(b)}>
                {b}
              </option>
            ))}
          </select>
        </div>
        {field('expectedSerial', t.pump_field_serial, { maxlength: 64 })}
        <label>
          <input type="checkbox" name="active" value="true" checked={(values.active ?? 'true') === 'true'} /> {t.pump_field_active}
        </label>
        <div class="actions">
          <button type="submit" class="primary">
            {t.pump_save}
          </button>
        </div>
      </form>
    </section>
  );
}

export function PumpPage({ ctx, v }: { ctx: ViewContext; v: PumpPageView }) {
  const { t } = ctx;
  const p = v.pump;
  const csrf = <input type="hidden" name="_csrf" value={ctx.csrfToken} />;
  return (
    <Layout ctx={ctx} title={`${t.pumps_title} · ${p.name}`}>
      <h1>
        {p.name} <span class="muted">· {p.clinicName}</span>
      </h1>
      {v.notice && (
        <p class={`notice ${v.notice.tone}`} role={v.notice.tone === 'error' ? 'alert' : 'status'}>
          {v.notice.text}
        </p>
      )}
      <PumpFacts ctx={ctx} p={p} tools={v.canOperate ? toolsState(p) : null} />
      {v.canConfirm && p.seenSerial && p.seenSerial !== p.expectedSerial && (
        <form method="post" action={`/pumps/${p.id}/confirm`} class="step">
          {csrf}
          <p class="warn">{t.pump_serial_seen({ seen: p.seenSerial, expected: p.expectedSerial ?? '—' })}</p>
          <input type="hidden" name="serial" value={p.seenSerial} />
          <button type="submit" class="primary">
            {t.pump_confirm({ serial: p.seenSerial })}
          </button>
        </form>
      )}
      {v.canOperate && <PumpTools ctx={ctx} p={p} calibrationTest={v.calibrationTest} errors={v.errors} />}
      <PumpLog ctx={ctx} p={p} log={v.log} />
      {v.canConfigure && (
        <PumpConfigForm
          ctx={ctx}
          action={`/pumps/${p.id}`}
          clinics={v.clinics}
          errors={{}}
          values={{ clinicId: p.clinicId, name: p.name, path: p.path, baudRate: String(p.baudRate), expectedSerial: p.expectedSerial ?? '', active: String(p.active) }}
        />
      )}
    </Layout>
  );
}

/** Whether the pump answers, so that calibration and priming can be offered. */
export const toolsState = (p: PumpView): 'on' | 'off' => (p.readiness !== null && p.readiness.state !== 'offline' ? 'on' : 'off');

/**
 * Calibration and priming while the pump answers; while it does not, a line
 * that says they come back with it. The state refresh (PumpFacts) sends it
 * again, out of band (`oob`), when the pump went offline or came back since
 * the page drew it, and only then: a volume being typed is not wiped.
 */
export function PumpTools({ ctx, p, calibrationTest, errors, oob = false }: { ctx: ViewContext; p: PumpView; calibrationTest: PumpPageView['calibrationTest']; errors: PumpPageView['errors']; oob?: boolean }) {
  const { t } = ctx;
  const csrf = <input type="hidden" name="_csrf" value={ctx.csrfToken} />;
  const err = (k: 'prime' | 'test' | 'measured') =>
    errors[k] && (
      <small class="error" role="alert">
        {t[errors[k]!]}
      </small>
    );
  return (
    <div id="pump-tools" class="pump-tools" {...(oob ? { 'hx-swap-oob': 'true' } : {})}>
      {toolsState(p) === 'off' ? (
        <p class="muted" data-tools="off">
          {t.pump_tools_offline}
        </p>
      ) : (
        <>
          <section class="step">
            <h2>{t.pump_cal_title}</h2>
            <p class="muted">{t.pump_cal_help}</p>
            {calibrationTest ? (
              <form method="post" action={`/pumps/${p.id}/calibration`}>
                {csrf}
                <p>{t.pump_cal_reported({ ml: ml(ctx, calibrationTest.reportedMl) })}</p>
                <label for="cal-measured">{t.pump_cal_measured}</label>
                <input id="cal-measured" name="measured" inputmode="decimal" maxlength={8} required autofocus />
                {err('measured')}
                <button type="submit" class="primary">
                  {t.pump_cal_save}
                </button>
              </form>
            ) : (
              <VolumeForm action={`/pumps/${p.id}/calibration/test`} id="cal-test" label={t.pump_cal_test_ml} value="10" button={t.pump_cal_run} csrf={csrf} error={err('test')} />
            )}
          </section>
          <section class="step">
            <h2>{t.pump_prime_title}</h2>
            <VolumeForm action={`/pumps/${p.id}/prime`} id="prime-ml" label={t.pump_prime_ml} value="5" button={t.pump_prime_run} csrf={csrf} error={err('prime')} />
          </section>
        </>
      )}
    </div>
  );
}

/**
 * The pump's state as the station knows it now. The page asks for it again
 * every 5 s (GET /pumps/:id/state, which does not keep the session alive),
 * with the log beside it out of band. `tools`: what the page's calibration and
 * priming part shows (null: the user has none), sent with the refresh so the
 * answer redraws that part only when the pump went offline or came back.
 */
export function PumpFacts({ ctx, p, tools }: { ctx: ViewContext; p: PumpView; tools: 'on' | 'off' | null }) {
  const { t } = ctx;
  return (
    <dl class="facts" id="pump-facts" hx-get={`/pumps/${p.id}/state${tools ? `?tools=${tools}` : ''}`} hx-trigger="every 5s" hx-swap="outerHTML">
      <dt>{t.pump_col_state}</dt>
      <dd id="pump-state" class={`pump-state-${p.readiness?.state ?? 'offline'}`}>
        {stateText(t, p.readiness)}
        {p.readiness?.state === 'blocked' && ` — ${t[`pump_blocked_${p.readiness.reason}`]({ name: p.name })}`}
      </dd>
      <dt>{t.pump_field_path}</dt>
      <dd>
        <code>{p.path}</code> · {p.baudRate} baud
      </dd>
      <dt>{t.pump_col_serial}</dt>
      <dd>
        {p.seenSerial ?? '—'} {p.model && <span class="muted">({p.model})</span>}
      </dd>
      <dt>{t.pump_col_reservoir}</dt>
      <dd>{p.reservoirMl === null ? '—' : `${ml(ctx, p.reservoirMl)} ml`}</dd>
      <dt>{t.pump_col_factor}</dt>
      <dd>{p.calFactor === null ? '—' : formatNumber(p.calFactor, ctx.locale, 3)}</dd>
      <dt>{t.pump_col_calibration}</dt>
      <dd>{p.lastCalibrationAt ? formatDateTime(p.lastCalibrationAt, p.timeZone) : t.pump_never}</dd>
    </dl>
  );
}

/** The pump's log; `oob`: sent beside PumpFacts, in place of the one on the page. */
export function PumpLog({ ctx, p, log, oob = false }: { ctx: ViewContext; p: PumpView; log: PumpEventRow[]; oob?: boolean }) {
  const { t } = ctx;
  return (
    <section id="pump-log" {...(oob ? { 'hx-swap-oob': 'true' } : {})}>
      <h2>{t.pump_events_title}</h2>
      <ul class="pump-log">
        {log.map((e) => (
          <li data-kind={e.kind} class={e.kind === 'day_volume' && e.details.differs ? 'warn' : undefined}>
            {formatDateTime(e.at, p.timeZone)} · {eventText(ctx, e)}
            {e.byName && <span class="muted" hx-disable> · {e.byName}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A pump action that takes one volume (the calibration's test volume, priming). */
function VolumeForm(p: { action: string; id: string; label: string; value: string; button: string; csrf: Child; error: Child }) {
  return (
    <form method="post" action={p.action}>
      {p.csrf}
      <label for={p.id}>{p.label}</label>
      <input id={p.id} name="ml" inputmode="decimal" maxlength={8} value={p.value} required />
      {p.error}
      <button type="submit">{p.button}</button>
    </form>
  );
}

/** One line of the pump log: device facts in words (volumes, codes, factors), never a patient. */
function eventText(ctx: ViewContext, e: PumpEventRow): string {
  const { t } = ctx;
  const d = e.details as Record<string, number | string | boolean | undefined>;
  const v = (k: string) => ml(ctx, Number(d[k] ?? 0));
  switch (e.kind) {
    case 'day_volume':
      return `${t.pump_day_volume({ day: String(d.day), pump: v('pumpMl'), records: v('recordMl') })}${d.differs ? ` ${t.pump_day_volume_differs}` : ''}`;
    case 'calibration':
      return d.step === 'set' ? t.pump_cal_done({ old: formatNumber(Number(d.old), ctx.locale, 3), factor: formatNumber(Number(d.factor), ctx.locale, 3) }) : t.pump_event_cal_test({ ml: v('reportedMl') });
    case 'prime':
      return t.pump_primed({ ml: v('ml') });
    case 'confirm':
      return t.pump_confirmed({ serial: String(d.serial) });
    case 'dispense':
      return t.pump_event_dispense({ ml: v('ml') });
    case 'done':
      return t.pump_event_done({ ml: v('ml') });
    case 'fault':
      return t.pump_event_fault({ ml: v('ml'), code: faultText(t, String(d.code ?? 'UNREPORTED')) });
    case 'unknown':
      return t.pump_event_unknown({ ml: v('ml') });
    case 'not_started':
      return t.pump_event_not_started({ reason: reasonText(t, String(d.reason)) });
    case 'stop':
      return t.pump_event_stop;
    case 'resolve':
      return t.pump_event_resolve({ decision: decisionText(t, String(d.decision)), ml: v('ml') });
    case 'alarm':
      return t.pump_event_alarm({ code: String(d.code ?? '') });
    default:
      return '';
  }
}

/** A code in words from the catalogue (`prefix` + code); a code it does not know (a vendor's own) is shown as sent. */
function labelOf(t: Messages, prefix: 'pump_fault_' | 'pump_reason_' | 'pump_decision_', code: string): string {
  const key = `${prefix}${code}`;
  return key in t ? (t[key as TextKey] as string) : code;
}

export const faultText = (t: Messages, code: string): string => labelOf(t, 'pump_fault_', code);
const reasonText = (t: Messages, reason: string): string => labelOf(t, 'pump_reason_', reason);
const decisionText = (t: Messages, decision: string): string => labelOf(t, 'pump_decision_', decision);
