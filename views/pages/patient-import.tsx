// Importing patients from a CSV file: choose the file and the clinic, see every
// problem (row, column, message) or the patients that will be registered, then
// confirm. The confirm form carries the file's text back, so the server keeps
// nothing between the two steps; every cell shown is escaped by JSX, and the
// tables of file data are closed to htmx (hx-disable).
import type { ImportMessage, ImportPreview } from '../../server/services/patient-import.ts';
import { Csrf, Field, FormErrors, describedBy, type Errors } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { formatDay } from '../format.ts';
import type { Messages } from '../i18n/index.ts';
import { Layout } from '../layout.tsx';

export interface ClinicOption {
  value: string;
  label: string;
}

/** At most this many problems are listed; the count says how many there are. */
const MAX_PROBLEMS_SHOWN = 1000;

function problemText(t: Messages, message: ImportMessage, column: string): string {
  return message === 'import_bad_header' ? t.import_bad_header({ missing: column }) : t[message];
}

/** The upload form: on its own page, and again under a preview with problems. */
function UploadForm({ ctx, clinics, clinicId, errors }: { ctx: ViewContext; clinics: ClinicOption[]; clinicId: string; errors: Errors }) {
  const { t } = ctx;
  return (
    <form method="post" action="/patients/import" enctype="multipart/form-data" class="stack card" novalidate>
      <Csrf token={ctx.csrfToken} />
      <Field id="import-file" label={t.import_file} error={errors.file} t={t} hint={t.import_file_hint}>
        <input id="import-file" type="file" name="file" accept=".csv,text/csv" required {...describedBy('import-file', errors.file, true)} />
      </Field>
      <Field id="import-clinic" label={t.import_clinic} error={errors.clinicId} t={t}>
        <select id="import-clinic" name="clinicId" required {...describedBy('import-clinic', errors.clinicId)}>
          {clinics.map((cl) => (
            <option value={cl.value} selected={cl.value === clinicId}>
              {cl.label}
            </option>
          ))}
        </select>
      </Field>
      <div class="actions">
        <button type="submit" class="primary">
          {t.import_preview}
        </button>
      </div>
    </form>
  );
}

export function ImportFormPage(props: { ctx: ViewContext; clinics: ClinicOption[]; clinicId: string; errors: Errors }) {
  const { ctx } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.import_title}>
      <h1>{t.import_title}</h1>
      <p>{t.import_intro}</p>
      <FormErrors errors={props.errors} t={t} />
      <UploadForm {...props} />
    </Layout>
  );
}

export function ImportPreviewPage(props: { ctx: ViewContext; clinics: ClinicOption[]; clinicId: string; clinicName: string; csv: string; preview: ImportPreview }) {
  const { ctx, preview, clinicId } = props;
  const { t } = ctx;
  const { problems, rows, ignoredColumns } = preview;
  return (
    <Layout ctx={ctx} title={t.import_title}>
      <h1>{t.import_title}</h1>
      <p>
        {t.import_clinic}: <strong>{props.clinicName}</strong>
      </p>
      {ignoredColumns.length > 0 && <p class="muted">{t.import_ignored_columns({ columns: ignoredColumns.join(', ') })}</p>}
      {problems.length > 0 ? (
        <>
          <p class="form-errors" role="alert">
            {t.import_problems({ n: problems.length })}
          </p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.import_row}</th>
                  <th scope="col">{t.import_column}</th>
                  <th scope="col">{t.import_message}</th>
                </tr>
              </thead>
              <tbody hx-disable>
                {problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => (
                  <tr>
                    <td>{p.row > 0 ? String(p.row) : t.import_whole_file}</td>
                    <td>{p.column}</td>
                    <td>{problemText(t, p.message, p.column)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {problems.length > MAX_PROBLEMS_SHOWN && <p>{t.import_more_problems({ n: problems.length - MAX_PROBLEMS_SHOWN })}</p>}
          <h2>{t.import_upload_again}</h2>
          <UploadForm ctx={ctx} clinics={props.clinics} clinicId={clinicId} errors={{}} />
        </>
      ) : (
        <>
          <p class="ok" role="status">
            {t.import_ok_rows({ n: rows.length })} {t.import_nothing_yet}
          </p>
          <h2>{t.import_rows_title}</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.import_row}</th>
                  <th scope="col">{t.patient_full_name}</th>
                  <th scope="col">{t.patient_birth_date}</th>
                  <th scope="col">{t.patient_sex}</th>
                  <th scope="col">{t.patient_national_id}</th>
                  <th scope="col">{t.patient_phone}</th>
                  <th scope="col">{t.patient_address}</th>
                </tr>
              </thead>
              <tbody hx-disable>
                {rows.map((r) => (
                  <tr>
                    <td>{String(r.row)}</td>
                    <td>{r.fields.fullName}</td>
                    <td>{formatDay(r.fields.birthDate)}</td>
                    <td>{t[`sex_${r.fields.sex}`]}</td>
                    <td>{r.fields.nationalId ?? ''}</td>
                    <td>{[r.fields.phone, r.fields.phone2].filter(Boolean).join(', ')}</td>
                    <td>{[r.fields.street, r.communeName, r.provinceName].filter(Boolean).join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {/* multipart: the text goes back as it is, not percent-encoded (three times longer for Vietnamese). */}
          <form method="post" action="/patients/import" enctype="multipart/form-data" class="stack card">
            <Csrf token={ctx.csrfToken} />
            <input type="hidden" name="clinicId" value={clinicId} />
            <input type="hidden" name="confirm" value="1" />
            <div hidden>
              <label for="import-csv">{t.import_csv_text}</label>
              {/* The parser drops one line break right after <textarea>: give it one, so the text comes back whole. */}
              <textarea id="import-csv" name="csv" readonly>
                {`\n${props.csv}`}
              </textarea>
            </div>
            <div class="actions">
              <button type="submit" class="primary">
                {t.import_confirm({ n: rows.length })}
              </button>
              <a href="/patients/import">{t.import_upload_again}</a>
            </div>
          </form>
        </>
      )}
    </Layout>
  );
}
