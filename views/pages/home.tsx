import type { Role } from '../../db/schema.ts';
import type { ViewContext } from '../context.ts';
import { formatDay, formatTime } from '../format.ts';
import { Layout } from '../layout.tsx';
import { AuditTable, type AuditRowView } from './audit.tsx';

export interface HomeClinic {
  id: string;
  code: string;
  name: string;
  kind: 'facility' | 'satellite';
  timeZone: string;
  serviceDay: string;
  staffCount?: number;
}

export interface HomeData {
  role: Role;
  now: Date;
  clinics: HomeClinic[];
  counts?: { clinics: number; staff: number };
  recentAudit?: AuditRowView[];
  /** The day's work places the role may open, per clinic. */
  links?: { counter: boolean; checkin: boolean; register: boolean; review: boolean; followup: boolean; dropouts: boolean };
}

export function HomePage({ ctx, data }: { ctx: ViewContext; data: HomeData }) {
  const { t } = ctx;
  const title = t[`home_title_${data.role}`];
  return (
    <Layout ctx={ctx} title={title}>
      <h1 data-role-home={data.role}>{title}</h1>
      <p>{t.home_greeting({ name: ctx.user?.fullName ?? '' })}</p>
      {data.counts && (
        <section class="card" aria-labelledby="counts-h">
          <h2 id="counts-h">{t.home_admin_counts}</h2>
          <dl class="stats">
            <div>
              <dt>{t.home_clinic_count}</dt>
              <dd>{data.counts.clinics}</dd>
            </div>
            <div>
              <dt>{t.home_staff_count}</dt>
              <dd>{data.counts.staff}</dd>
            </div>
          </dl>
        </section>
      )}
      {data.role !== 'admin' && (
        <section class="card" aria-labelledby="clinics-h">
          <h2 id="clinics-h">{t.home_your_clinics}</h2>
          {data.clinics.length === 0 ? (
            <p>{t.home_no_clinics}</p>
          ) : (
            <ul class="tiles">
              {data.clinics.map((c) => (
                <li class="tile">
                  <a href={`/clinics/${c.id}`}>
                    <strong>{c.name}</strong>
                  </a>
                  <span class="muted">
                    {c.code} · {t[`clinic_kind_${c.kind}`]}
                  </span>
                  <span>
                    {t.home_service_day}: <strong>{formatDay(c.serviceDay)}</strong>
                  </span>
                  <span>
                    {t.home_local_time}: {formatTime(data.now, c.timeZone)}
                  </span>
                  {data.links && (
                    <span class="actions">
                      {data.links.counter && <a href={`/counter?clinic=${c.id}`}>{t.nav_counter}</a>}
                      {data.links.checkin && <a href={`/checkin?clinic=${c.id}`}>{t.nav_checkin}</a>}
                      {data.links.review && <a href={`/review?clinic=${c.id}`}>{t.nav_review}</a>}
                      {data.links.register && <a href={`/register?clinic=${c.id}`}>{t.nav_register}</a>}
                      {data.links.followup && <a href={`/followup?clinic=${c.id}`}>{t.nav_followup}</a>}
                      {data.links.dropouts && <a href="/followup/dropouts">{t.dropouts_title}</a>}
                    </span>
                  )}
                  {c.staffCount !== undefined && (
                    <span>
                      {t.home_staff_at_clinics}: {c.staffCount}
                    </span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      {data.recentAudit && (
        <section class="card" aria-labelledby="audit-h">
          <h2 id="audit-h">{t.home_recent_audit}</h2>
          <AuditTable ctx={ctx} rows={data.recentAudit} />
          <p>
            <a href="/audit">{t.nav_audit} →</a>
          </p>
        </section>
      )}
    </Layout>
  );
}
