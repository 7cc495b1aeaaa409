// The ways an alert leaves the building: e-mail over SMTP, and a JSON webhook
// signed with HMAC-SHA256 for an SMS gateway or a messaging service. Each
// message says who, since when, the phone and the clinic — nothing more
// sensitive — in the recipient's language.
import { createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import { messages } from '../../views/i18n/index.ts';
import type { Config } from '../config.ts';
import { DeliveryError, type AlertMessage, type Channel, type Channels } from './outbox.ts';

const LEVEL_KEYS = { missed: 'alert_level_missed', counsellor: 'alert_level_counsellor', doctor: 'alert_level_doctor', dropout: 'alert_level_dropout', review: 'alert_level_review' } as const;

/** The words of a message in its recipient's language. */
export function alertText(m: AlertMessage) {
  const t = messages(m.recipient.locale);
  const level = t[LEVEL_KEYS[m.level]];
  const p = { name: m.patient.fullName, code: m.patient.code, missed: m.missedDays, since: m.since, phone: m.patient.phone, clinic: `${m.clinic.name} (${m.clinic.code})` };
  return { subject: t.alert_msg_subject({ level, code: m.patient.code, missed: m.missedDays }), body: t.alert_msg_body({ ...p, level }), short: t.alert_msg_sms(p) };
}

export function emailChannel(smtpUrl: string, from: string): Channel & { close(): void } {
  // Every wait bounded well below the worker's claim (120 s): a stalled server is an attempt that failed, not a claim run out.
  const transport = nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000 });
  return {
    async send(m) {
      if (!m.recipient.email) throw new DeliveryError('no e-mail address');
      const text = alertText(m);
      try {
        const info = await transport.sendMail({
          from,
          to: m.recipient.email,
          subject: text.subject,
          text: text.body,
          headers: { 'X-MP-Delivery': m.deliveryId, 'X-MP-Alert': m.alertId },
        });
        return String(info.response ?? 'accepted').slice(0, 200);
      } catch (e) {
        const err = e as { responseCode?: number; code?: string; response?: string };
        throw new DeliveryError(err.responseCode ? `SMTP ${err.responseCode}` : (err.code ?? 'SMTP error'));
      }
    },
    close: () => transport.close(),
  };
}

/** The signature header's value: "sha256=" + hex HMAC-SHA256 of the exact body bytes. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}
export const SIGNATURE_HEADER = 'X-MP-Signature-256';
export const DELIVERY_HEADER = 'X-MP-Delivery';

/** The webhook's JSON body (documented in the README). */
export function webhookBody(m: AlertMessage, sentAt: Date) {
  return {
    type: 'alert',
    deliveryId: m.deliveryId,
    alertId: m.alertId,
    attempt: m.attempt,
    sentAt: sentAt.toISOString(),
    level: m.level,
    missedDays: m.missedDays,
    since: m.since,
    to: m.recipient.webhookTo,
    locale: m.recipient.locale,
    text: alertText(m).short,
    patient: { code: m.patient.code, name: m.patient.fullName, phone: m.patient.phone },
    clinic: { code: m.clinic.code, name: m.clinic.name },
  };
}

export function webhookChannel(url: string, secret: string, timeoutMs = 10_000): Channel {
  return {
    async send(m) {
      const body = JSON.stringify(webhookBody(m, new Date()));
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature(secret, body), [DELIVERY_HEADER]: m.deliveryId },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause;
        throw new DeliveryError(cause?.code ?? (e as Error).name ?? 'network error');
      }
      await res.body?.cancel();
      if (res.status < 200 || res.status >= 300) throw new DeliveryError(`HTTP ${res.status}`);
      return `HTTP ${res.status}`;
    },
  };
}

/** The channels this server's configuration turns on. */
export function configuredChannels(config: Config): Channels & { close(): void } {
  const email = config.SMTP_URL ? emailChannel(config.SMTP_URL, config.MAIL_FROM) : undefined;
  const webhook = config.WEBHOOK_URL && config.WEBHOOK_SECRET ? webhookChannel(config.WEBHOOK_URL, config.WEBHOOK_SECRET) : undefined;
  return { email, webhook, close: () => email?.close() };
}
