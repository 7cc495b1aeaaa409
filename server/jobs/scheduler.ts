// The scheduled jobs of one server process: the day close (every clinic past
// its closing time), the delivery worker and the audit sealer. Each pass is
// guarded against overlapping itself; a failing pass (the database
// restarting) is logged by its error code and tried again at the next tick.
// Several instances may run these at once: the day close is once-only by its
// advisory lock and its rows, the worker by SKIP LOCKED claims, the sealer by
// its advisory lock (an instance that finds another sealing leaves it).
import type { Db } from '../../db/client.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { ServiceDeps } from '../services/context.ts';
import { sealAudit } from '../services/audit.ts';
import { closeDueDays, DayCloseError, type ChannelsOn, type CloseResult } from '../services/day-close.ts';
import { configuredChannels } from './channels.ts';
import { deliverDue, type Channels, type OutboxPolicy } from './outbox.ts';

export function channelsOn(config: Config): ChannelsOn {
  return { email: Boolean(config.SMTP_URL), webhook: Boolean(config.WEBHOOK_URL && config.WEBHOOK_SECRET) };
}

export function outboxPolicy(config: Config): OutboxPolicy {
  return {
    batch: 50,
    retryBaseMs: config.OUTBOX_RETRY_BASE_SECONDS * 1000,
    retryMaxMs: config.OUTBOX_RETRY_MAX_SECONDS * 1000,
    maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
    claimMs: 120_000,
  };
}

const errorFields = (e: unknown) => ({ name: (e as Error)?.name ?? 'Error', code: (e as { code?: string })?.code ?? null });

/** Runs a pass every `seconds` (never two at once); 0 turns it off. */
function every(seconds: number, pass: () => Promise<void>): () => void {
  if (seconds <= 0) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    pass().finally(() => (running = false));
  }, seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** The audit sealer: a pass every `seconds`, leaving the work to another instance that is at it. Returns its stop. */
export function startAuditSealer(db: Db, seconds: number, onError: (e: unknown) => void): () => void {
  return every(seconds, async () => {
    try {
      await sealAudit(db, { wait: false });
    } catch (e) {
      onError(e);
    }
  });
}

export function startJobs(deps: ServiceDeps, config: Config, logger: Logger, channels: Channels & { close?(): void } = configuredChannels(config)): { stop(): void } {
  const on = channelsOn(config);
  const policy = outboxPolicy(config);
  const stopClose = every(config.DAY_CLOSE_CHECK_SECONDS, async () => {
    const logClosed = (r: CloseResult) =>
      logger.info('day_closed', { clinic: r.clinicId, day: r.serviceDay, patients: r.patients, raised: Object.values(r.raised).reduce((a, b) => a + b, 0), closed: r.closed });
    try {
      for (const r of await closeDueDays(deps, on)) logClosed(r);
    } catch (e) {
      if (!(e instanceof DayCloseError)) return logger.error('day_close_failed', errorFields(e));
      e.closed.forEach(logClosed);
      for (const f of e.failures) logger.error('day_close_failed', errorFields(f));
    }
  });
  const stopOutbox = every(config.OUTBOX_CHECK_SECONDS, async () => {
    try {
      for (;;) {
        const n = await deliverDue(deps, channels, policy);
        if (n.delivered + n.retried + n.failed + n.cancelled > 0) logger.info('outbox_pass', n);
        if (n.delivered + n.retried + n.failed + n.cancelled < policy.batch) break;
      }
    } catch (e) {
      logger.error('outbox_failed', errorFields(e));
    }
  });
  const stopSeal = startAuditSealer(deps.db, config.AUDIT_SEAL_SECONDS, (e) => logger.error('audit_seal_failed', errorFields(e)));
  return {
    stop() {
      stopClose();
      stopOutbox();
      stopSeal();
      channels.close?.();
    },
  };
}
