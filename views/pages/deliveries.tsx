// One's own alert channels, and the admin's delivery log of the outbox (no
// patient data: the alert, its clinic, the recipient's account, the channel,
// the state and the receivers' answers).
import type { DeliveryRow } from '../../server/jobs/outbox.ts';
import { Csrf, Field, FormErrors, describedBy, type Errors } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { formatDateTime } from '../format.ts';
import { Layout } from '../layout.tsx';

export interface AlertSettingsValues {
  email: string;
  notifyEmail: boolean;
  notifyWebhook: boolean;
  webhookTo: string;
}

export function AlertSettingsPage({ ctx, values, errors, channels }: { ctx: ViewContext; values: AlertSettingsValues; errors: Errors; channels: { email: boolean; webhook: boolean } }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.settings_title}>
      <h1>{t.settings_title}</h1>
      <p class="hint">{t.settings_intro}</p>
      <form method="post" action="/account/alerts" class="stack narrow">
        <Csrf token={ctx.csrfToken} />
        <FormErrors errors={errors} t={t} />
        <Field id="email" label={t.settings_email} error={errors.email} t={t}>
          <input id="email" name="email" type="email" value={values.email} maxlength={200} {...describedBy('email', errors.email)} />
        </Field>
        <label>
          <input type="checkbox" name="notifyEmail" checked={values.notifyEmail} /> {t.settings_notify_email}
        </label>
        {!channels.email && <p class="hint">{t.settings_email_off}</p>}
        <Field id="webhookTo" label={t.settings_webhook_to} error={errors.webhookTo} t={t} hint={t.settings_webhook_hint}>
          <input id="webhookTo" name="webhookTo" value={values.webhookTo} maxlength={100} {...describedBy('webhookTo', errors.webhookTo, true)} />
        </Field>
        <label>
          <input type="checkbox" name="notifyWebhook" checked={values.notifyWebhook} /> {t.settings_notify_webhook}
        </label>
        {!channels.webhook && <p class="hint">{t.settings_webhook_off}</p>}
        <button type="submit">{t.save}</button>
      </form>
    </Layout>
  );
}

/** A row of the delivery log, with its times as Dates. */
export type DeliveryRowView = Omit<DeliveryRow, 'next_attempt_at' | 'delivered_at' | 'created_at'> & { next_attempt_at: Date; delivered_at: Date | null; created_at: Date };

const STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const;

export function DeliveriesPage(props: {
  ctx: ViewContext;
  status: string;
  rows: DeliveryRowView[];
  shown: { id: string; attempts: { at: Date; ok: boolean; detail: string }[] } | null;
  timeZone: string;
  channels: { email: boolean; webhook: boolean };
}) {
  const { ctx, rows, timeZone } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.deliveries_title}>
      <h1>{t.deliveries_title}</h1>
      <p class="hint">
        {t.deliveries_channels({ email: props.channels.email ? t.deliveries_on : t.deliveries_off, webhook: props.channels.webhook ? t.deliveries_on : t.deliveries_off })}
      </p>
      <nav class="buckets">
        <a href="/admin/deliveries" aria-current={props.status === '' ? 'page' : undefined}>
          {t.deliveries_all}
        </a>
        {STATUSES.map((s) => (
          <a href={`/admin/deliveries?status=${s}`} aria-current={props.status === s ? 'page' : undefined}>
            {t[`delivery_status_${s}`]}
          </a>
        ))}
      </nav>
      {rows.length === 0 ? (
        <p>{t.deliveries_empty}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.deliveries_created}</th>
                <th scope="col">{t.deliveries_alert}</th>
                <th scope="col">{t.deliveries_recipient}</th>
                <th scope="col">{t.deliveries_channel}</th>
                <th scope="col">{t.deliveries_status}</th>
                <th scope="col" class="num">
                  {t.deliveries_attempts}
                </th>
                <th scope="col">{t.deliveries_last_answer}</th>
                <th scope="col"></th>
              </tr>
            </thead>
            <tbody hx-disable>
              {rows.map((r) => (
                <>
                  <tr data-status={r.status}>
                    <td>{formatDateTime(r.created_at, timeZone)}</td>
                    <td>
                      {t[`alert_level_${r.level}`]} · {r.clinic_code}
                    </td>
                    <td>{r.username}</td>
                    <td>{t[`delivery_channel_${r.channel}`]}</td>
                    <td>
                      {t[`delivery_status_${r.status as (typeof STATUSES)[number]}`]}
                      {r.status === 'delivered' && r.delivered_at && ` · ${formatDateTime(r.delivered_at, timeZone)}`}
                      {r.status === 'pending' && r.attempts > 0 && ` · ${t.deliveries_next({ at: formatDateTime(r.next_attempt_at, timeZone) })}`}
                    </td>
                    <td class="num">{r.attempts}</td>
                    <td>{r.last_error}</td>
                    <td>
                      <a href={`/admin/deliveries?show=${r.id}${props.status ? `&status=${props.status}` : ''}`}>{t.deliveries_show_attempts}</a>
                      {r.status === 'failed' && (
                        <form method="post" action={`/admin/deliveries/${r.id}/retry`} class="inline">
                          <Csrf token={ctx.csrfToken} />
                          <button type="submit">{t.deliveries_retry}</button>
                        </form>
                      )}
                    </td>
                  </tr>
                  {props.shown?.id === r.id && (
                    <tr class="attempts">
                      <td colspan={8}>
                        <ol>
                          {props.shown.attempts.map((a) => (
                            <li>
                              {formatDateTime(a.at, timeZone)} — {a.ok ? t.deliveries_ok : t.deliveries_failed_attempt}: {a.detail}
                            </li>
                          ))}
                        </ol>
                      </td>
                    </tr>
                  )}
                </>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
