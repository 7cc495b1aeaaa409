import type { ViewContext } from '../context.ts';
import { formatDateTime } from '../format.ts';
import type { TextKey } from '../i18n/index.ts';
import { Layout } from '../layout.tsx';

export interface AuditRowView {
  id: number;
  at: Date;
  actor: string | null;
  action: string;
  clinic: string | null;
  entity: string | null;
  /** The clinic's time zone, or the programme default for rows without a clinic. */
  timeZone: string;
}

export function AuditTable({ ctx, rows }: { ctx: ViewContext; rows: AuditRowView[] }) {
  const { t } = ctx;
  if (rows.length === 0) return <p>{t.audit_empty}</p>;
  const actionLabel = (a: string) => {
    const key = `audit_action_${a}`;
    return key in t ? (t[key as TextKey] as string) : a;
  };
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t.audit_at}</th>
            <th scope="col">{t.audit_actor}</th>
            <th scope="col">{t.audit_action}</th>
            <th scope="col">{t.audit_clinic}</th>
            <th scope="col">{t.audit_record}</th>
          </tr>
        </thead>
        <tbody hx-disable>
          {rows.map((r) => (
            <tr>
              <td>{r.id}</td>
              <td>{formatDateTime(r.at, r.timeZone)}</td>
              <td>{r.actor ?? t.audit_system}</td>
              <td>{actionLabel(r.action)}</td>
              <td>{r.clinic ?? ''}</td>
              <td>
                <code>{r.entity ?? ''}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AuditPage(props: { ctx: ViewContext; rows: AuditRowView[]; chain: { ok: boolean; rows: number; brokenAt?: number } | null; page: number; hasNext: boolean }) {
  const { ctx, chain, page } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.audit_title}>
      <h1>{t.audit_title}</h1>
      {chain &&
        (chain.ok ? (
          <p class="ok">{t.audit_chain_ok({ n: chain.rows })}</p>
        ) : (
          <p class="form-errors" role="alert">
            {t.audit_chain_broken({ id: chain.brokenAt ?? 0 })}
          </p>
        ))}
      <AuditTable ctx={ctx} rows={props.rows} />
      <nav class="pager" aria-label={t.page_of({ page })}>
        {page > 1 && <a href={`/audit?page=${page - 1}`}>← {t.previous_page}</a>}
        <span>{t.page_of({ page })}</span>
        {props.hasNext && <a href={`/audit?page=${page + 1}`}>{t.next_page} →</a>}
      </nav>
    </Layout>
  );
}
