import type { ViewContext } from '../context.ts';
import { formatDay } from '../format.ts';
import { Layout } from '../layout.tsx';

export interface PatientRowView {
  id: string;
  code: string;
  fullName: string;
  birthDate: string;
  sex: 'male' | 'female' | 'other';
  phone: string;
  clinicName: string;
}

export interface SearchView {
  q: string;
  page: number;
  /** Counted up to the cap (SEARCH_COUNT_CAP)… */
  total: number;
  /** …and more match than that: the pager goes on while pages are full. */
  capped: boolean;
  pageSize: number;
  rows: PatientRowView[];
  canRegister: boolean;
  canImport: boolean;
}

export function PatientSearchPage({ ctx, s }: { ctx: ViewContext; s: SearchView }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.patients_title}>
      <div class="page-head">
        <h1>{t.patients_title}</h1>
        <div class="actions">
          {s.canRegister && (
            <a class="button primary" href="/patients/new">
              {t.patients_new}
            </a>
          )}
          {s.canImport && (
            <a class="button" href="/patients/import">
              {t.patients_import}
            </a>
          )}
        </div>
      </div>
      <form method="get" action="/patients" class="search" role="search" hx-get="/patients" hx-target="#results" hx-trigger="input changed delay:250ms from:#q, submit" hx-push-url="true">
        <label for="q">{t.patients_search_label}</label>
        <div class="actions">
          <input id="q" name="q" type="search" value={s.q} maxlength={100} autocomplete="off" autofocus />
          <button type="submit">{t.patients_search_button}</button>
        </div>
      </form>
      <SearchResults ctx={ctx} s={s} />
    </Layout>
  );
}

/** The results region: the htmx fragment of a search. */
export function SearchResults({ ctx, s }: { ctx: ViewContext; s: SearchView }) {
  const { t } = ctx;
  const counted = Math.max(1, Math.ceil(s.total / s.pageSize));
  const hasNext = s.capped ? s.rows.length === s.pageSize : s.page < counted;
  const pages = s.capped ? null : counted;
  const link = (page: number) => `/patients?q=${encodeURIComponent(s.q)}&page=${page}`;
  return (
    <section id="results" aria-live="polite">
      <p class="muted">{s.capped ? t.patients_count_more({ n: s.total }) : t.patients_count({ n: s.total })}</p>
      {s.rows.length === 0 ? (
        <p>{t.patients_none}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.patient_code}</th>
                <th scope="col">{t.patient_full_name}</th>
                <th scope="col">{t.patient_birth_date}</th>
                <th scope="col">{t.patient_sex}</th>
                <th scope="col">{t.patient_phone}</th>
                <th scope="col">{t.patient_home_clinic}</th>
              </tr>
            </thead>
            <tbody hx-disable>
              {s.rows.map((r) => (
                <tr>
                  <td>
                    <code>{r.code}</code>
                  </td>
                  <td>
                    <a href={`/patients/${r.id}`}>{r.fullName}</a>
                  </td>
                  <td>{formatDay(r.birthDate)}</td>
                  <td>{t[`sex_${r.sex}`]}</td>
                  <td>{r.phone}</td>
                  <td>{r.clinicName}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(s.page > 1 || hasNext) && (
        <nav class="pager" aria-label={t.page_of({ page: s.page })}>
          {s.page > 1 && <a href={link(s.page - 1)}>← {t.previous_page}</a>}
          <span>
            {t.page_of({ page: s.page })}
            {pages !== null && ` / ${pages}`}
          </span>
          {hasNext && <a href={link(s.page + 1)}>{t.next_page} →</a>}
        </nav>
      )}
    </section>
  );
}
