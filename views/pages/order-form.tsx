import { Csrf, Field, Findings, FormErrors, describedBy, type Errors, type FindingView } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { formatDay, formatNumber } from '../format.ts';
import { Layout } from '../layout.tsx';
import { DateField } from './patient.tsx';

export interface OrderFormData {
  patient: { id: string; code: string; fullName: string };
  current: { dailyMg: number; phase: string; endDate: string } | null;
  concentration: number;
  values: Record<string, string>;
  errors: Errors;
  findings: FindingView[];
  takeHomeEnabled: boolean;
}

export function OrderFormPage({ ctx, d }: { ctx: ViewContext; d: OrderFormData }) {
  const { t, locale } = ctx;
  const v = d.values;
  const e = d.errors;
  const PHASES = ['induction', 'titration', 'maintenance', 'taper'] as const;
  return (
    <Layout ctx={ctx} title={t.order_new}>
      <h1>
        {t.order_new}: <code>{d.patient.code}</code> {d.patient.fullName}
      </h1>
      {d.current && (
        <p>
          {t.order_current}: <strong>{formatNumber(d.current.dailyMg, locale)} mg</strong> ({t[`phase_${d.current.phase as (typeof PHASES)[number]}`]}, → {formatDay(d.current.endDate)})
        </p>
      )}
      <FormErrors errors={e} t={t} />
      <Findings ctx={ctx} findings={d.findings} title={t.order_refused} />
      <form method="post" action={`/patients/${d.patient.id}/orders`} class="stack card" novalidate>
        <Csrf token={ctx.csrfToken} />
        <div class="grid-2">
          <Field id="phase" label={t.order_phase} error={e.phase} t={t}>
            <select id="phase" name="phase" {...describedBy('phase', e.phase)}>
              {PHASES.map((p) => (
                <option value={p} selected={v.phase === p}>
                  {t[`phase_${p}`]}
                </option>
              ))}
            </select>
          </Field>
          <Field id="dailyMg" label={t.order_daily_mg} error={e.dailyMg} t={t} hint={t.order_volume({ mg: '10', ml: formatNumber(10 / d.concentration, locale, 2), conc: formatNumber(d.concentration, locale) })}>
            <input id="dailyMg" name="dailyMg" value={v.dailyMg ?? ''} inputmode="decimal" maxlength={8} required {...describedBy('dailyMg', e.dailyMg, true)} />
          </Field>
          <DateField ctx={ctx} id="startDate" label={t.order_start} value={v.startDate ?? ''} error={e.startDate} />
          <DateField ctx={ctx} id="endDate" label={t.order_end} value={v.endDate ?? ''} error={e.endDate} />
        </div>
        <fieldset class="field">
          <legend>{t.order_split}</legend>
          <div class="checkbox">
            <input type="checkbox" id="split" name="split" value="1" checked={v.split === '1'} />
            <label for="split">{t.order_split}</label>
          </div>
          <div class="grid-2">
            <Field id="splitFirstMg" label={t.order_split_first} error={e.splitFirstMg} t={t}>
              <input id="splitFirstMg" name="splitFirstMg" value={v.splitFirstMg ?? ''} inputmode="decimal" maxlength={8} {...describedBy('splitFirstMg', e.splitFirstMg)} />
            </Field>
            <Field id="splitSecondMg" label={t.order_split_second} error={e.splitSecondMg} t={t}>
              <input id="splitSecondMg" name="splitSecondMg" value={v.splitSecondMg ?? ''} inputmode="decimal" maxlength={8} {...describedBy('splitSecondMg', e.splitSecondMg)} />
            </Field>
          </div>
        </fieldset>
        {d.takeHomeEnabled && (
          <fieldset class="field">
            <legend>{t.calendar_take_home}</legend>
            <Field id="takeHomeDays" label={t.order_take_home_days} error={e.takeHomeDays} t={t}>
              <input id="takeHomeDays" name="takeHomeDays" value={v.takeHomeDays ?? '0'} inputmode="numeric" maxlength={2} {...describedBy('takeHomeDays', e.takeHomeDays)} />
            </Field>
            <div class="checkbox">
              <input type="checkbox" id="takeHomeChecklist" name="takeHomeChecklist" value="1" checked={v.takeHomeChecklist === '1'} />
              <label for="takeHomeChecklist">{t.order_take_home_checklist}</label>
            </div>
          </fieldset>
        )}
        <Field id="reason" label={t.order_reason} error={e.reason} t={t}>
          <textarea id="reason" name="reason" rows={3} maxlength={1000} {...describedBy('reason', e.reason)}>
            {v.reason ?? ''}
          </textarea>
        </Field>
        <fieldset class="field">
          <legend>{t.order_second_doctor}</legend>
          <div class="grid-2">
            <Field id="secondDoctorUsername" label={t.order_second_doctor_username} error={e.secondDoctorUsername} t={t}>
              <input id="secondDoctorUsername" name="secondDoctorUsername" value={v.secondDoctorUsername ?? ''} autocomplete="off" maxlength={64} {...describedBy('secondDoctorUsername', e.secondDoctorUsername)} />
            </Field>
            <Field id="secondDoctorPassword" label={t.order_second_doctor_password} t={t}>
              <input id="secondDoctorPassword" name="secondDoctorPassword" type="password" autocomplete="off" maxlength={1024} />
            </Field>
          </div>
        </fieldset>
        <div class="actions">
          <button type="submit" class="primary">
            {t.order_prescribe}
          </button>
          <a href={`/patients/${d.patient.id}`}>{t.cancel}</a>
        </div>
      </form>
    </Layout>
  );
}
