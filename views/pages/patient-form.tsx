import { Csrf, Field, FormErrors, PlacePicker, SelectField, describedBy, type Errors, type Option } from '../components.tsx';
import type { Duplicate } from '../../server/services/patients.ts';
import type { ViewContext } from '../context.ts';
import { formatDay } from '../format.ts';
import { Layout } from '../layout.tsx';

/** What the user typed, as typed: shown back unchanged on a 422. */
export type PatientFormValues = Record<
  | 'fullName'
  | 'birthDate'
  | 'sex'
  | 'nationalId'
  | 'phone'
  | 'phone2'
  | 'street'
  | 'provinceCode'
  | 'communeCode'
  | 'formerAddress'
  | 'nextOfKinName'
  | 'nextOfKinPhone'
  | 'homeClinicId'
  | 'counsellorId'
  | 'hivStatus'
  | 'photoData',
  string
>;

/** A possible duplicate, as the service finds it. */
export type DuplicateView = Duplicate;

export interface PatientFormProps {
  ctx: ViewContext;
  mode: 'new' | 'edit';
  action: string;
  values: PatientFormValues;
  errors: Errors;
  clinics: Option[];
  counsellors: Option[];
  provinces: Option[];
  communes: Option[];
  duplicates: DuplicateView[];
  showNationalId: boolean;
  showHiv: boolean;
}

export function PatientFormPage(props: PatientFormProps) {
  const { ctx, values: v, errors: e, mode } = props;
  const { t } = ctx;
  const title = mode === 'new' ? t.patients_new : t.patient_edit_title;
  return (
    <Layout ctx={ctx} title={title} scripts={mode === 'new' ? ['camera.js'] : []}>
      <h1>{title}</h1>
      <FormErrors errors={e} t={t} />
      {props.duplicates.length > 0 && <Duplicates ctx={ctx} duplicates={props.duplicates} />}
      <form method="post" action={props.action} class="stack card" novalidate hx-history="false">
        <Csrf token={ctx.csrfToken} />
        <div class="grid-2">
          <Field id="fullName" label={t.patient_full_name} error={e.fullName} t={t}>
            <input id="fullName" name="fullName" value={v.fullName} maxlength={120} required autocomplete="off" {...describedBy('fullName', e.fullName)} />
          </Field>
          <Field id="birthDate" label={t.patient_birth_date} error={e.birthDate} t={t} hint={t.patient_birth_date_hint}>
            <input id="birthDate" name="birthDate" value={v.birthDate} maxlength={10} required inputmode="numeric" placeholder="dd/mm/yyyy" autocomplete="off" {...describedBy('birthDate', e.birthDate, true)} />
          </Field>
          <Field id="sex" label={t.patient_sex} error={e.sex} t={t}>
            <select id="sex" name="sex" {...describedBy('sex', e.sex)}>
              {(['male', 'female', 'other'] as const).map((s) => (
                <option value={s} selected={v.sex === s}>
                  {t[`sex_${s}`]}
                </option>
              ))}
            </select>
          </Field>
          {props.showNationalId && (
            <Field id="nationalId" label={t.patient_national_id} error={e.nationalId} t={t} hint={t.patient_national_id_hint}>
              <input id="nationalId" name="nationalId" value={v.nationalId} maxlength={20} inputmode="numeric" autocomplete="off" {...describedBy('nationalId', e.nationalId, true)} />
            </Field>
          )}
          <Field id="phone" label={t.patient_phone} error={e.phone} t={t}>
            <input id="phone" name="phone" value={v.phone} maxlength={30} inputmode="tel" autocomplete="off" {...describedBy('phone', e.phone)} />
          </Field>
          <Field id="phone2" label={t.patient_phone2} error={e.phone2} t={t}>
            <input id="phone2" name="phone2" value={v.phone2} maxlength={30} inputmode="tel" autocomplete="off" {...describedBy('phone2', e.phone2)} />
          </Field>
          <PlacePicker ctx={ctx} labels={{ province: t.patient_province, commune: t.patient_commune }} values={v} errors={e} provinces={props.provinces} communes={props.communes} />
          <Field id="street" label={t.patient_street} error={e.street} t={t}>
            <input id="street" name="street" value={v.street} maxlength={200} autocomplete="off" {...describedBy('street', e.street)} />
          </Field>
          <Field id="formerAddress" label={t.patient_former_address} error={e.formerAddress} t={t}>
            <input id="formerAddress" name="formerAddress" value={v.formerAddress} maxlength={200} autocomplete="off" {...describedBy('formerAddress', e.formerAddress)} />
          </Field>
          <Field id="nextOfKinName" label={t.patient_next_of_kin} error={e.nextOfKinName} t={t}>
            <input id="nextOfKinName" name="nextOfKinName" value={v.nextOfKinName} maxlength={120} autocomplete="off" {...describedBy('nextOfKinName', e.nextOfKinName)} />
          </Field>
          <Field id="nextOfKinPhone" label={t.patient_next_of_kin_phone} error={e.nextOfKinPhone} t={t}>
            <input id="nextOfKinPhone" name="nextOfKinPhone" value={v.nextOfKinPhone} maxlength={30} inputmode="tel" autocomplete="off" {...describedBy('nextOfKinPhone', e.nextOfKinPhone)} />
          </Field>
          <SelectField id="homeClinicId" label={t.patient_home_clinic} error={e.homeClinicId} t={t} value={v.homeClinicId} options={props.clinics} disabled={mode === 'edit'} />
          <SelectField id="counsellorId" label={t.patient_counsellor} error={e.counsellorId} t={t} value={v.counsellorId} options={props.counsellors} empty={t.patient_counsellor_none} />
          {props.showHiv && (
            <Field id="hivStatus" label={t.patient_hiv_status} error={e.hivStatus} t={t}>
              <select id="hivStatus" name="hivStatus" {...describedBy('hivStatus', e.hivStatus)}>
                {(['unknown', 'negative', 'positive'] as const).map((s) => (
                  <option value={s} selected={v.hivStatus === s}>
                    {t[`hiv_${s}`]}
                  </option>
                ))}
              </select>
            </Field>
          )}
        </div>
        {mode === 'new' && <PhotoCapture ctx={ctx} value={v.photoData} error={e.photo} />}
        {props.duplicates.length > 0 && (
          <div class="field checkbox">
            <input type="checkbox" id="confirmNew" name="confirmNew" value="1" />
            <label for="confirmNew">{t.patient_duplicates_confirm}</label>
          </div>
        )}
        <div class="actions">
          <button type="submit" class="primary">
            {t.save}
          </button>
          <a href="/patients">{t.cancel}</a>
        </div>
      </form>
    </Layout>
  );
}

/** Camera (getUserMedia) with an upload fallback; views/static/camera.js shrinks the picture to a small JPEG. */
export function PhotoCapture({ ctx, value, error }: { ctx: ViewContext; value: string; error?: Errors[string] | undefined }) {
  const { t } = ctx;
  return (
    <fieldset class={error ? 'field photo has-error' : 'field photo'} data-camera>
      <legend>{t.patient_photo}</legend>
      <div class="photo-box">
        <video data-camera-video playsinline muted hidden aria-label={t.patient_photo}></video>
        <img data-camera-preview alt={t.patient_photo} src={value || undefined} hidden={!value} />
      </div>
      <div class="actions wrap">
        <button type="button" data-camera-start>
          {t.patient_photo_start}
        </button>
        <button type="button" data-camera-take hidden>
          {t.patient_photo_take}
        </button>
        <label for="photoFile" class="button">
          {t.patient_photo_upload}
        </label>
        <input id="photoFile" type="file" accept="image/jpeg,image/png,image/webp" data-camera-file class="visually-hidden" />
      </div>
      <input type="hidden" name="photoData" value={value} data-camera-data />
      {error && (
        <small class="error" role="alert">
          {t[error]}
        </small>
      )}
    </fieldset>
  );
}

function Duplicates({ ctx, duplicates }: { ctx: ViewContext; duplicates: DuplicateView[] }) {
  const { t } = ctx;
  return (
    <section class="card warn" role="alert" aria-labelledby="dup-h">
      <h2 id="dup-h">{t.patient_duplicates_title}</h2>
      <p>{t.patient_duplicates_intro}</p>
      <ul hx-disable>
        {duplicates.map((d) => (
          <li>
            <strong>{d.code}</strong> — {d.inScope ? <a href={`/patients/${d.id}`}>{d.fullName}</a> : t.patient_duplicate_elsewhere}
            {d.inScope && d.birthDate ? `, ${formatDay(d.birthDate)}` : ''} · {d.clinicName} · {d.reason === 'national_id' ? t.patient_duplicate_national_id : t.patient_duplicate_name_birth}
          </li>
        ))}
      </ul>
    </section>
  );
}
