// What a patient record must look like, checked the same way for the form
// and for each row of an imported spreadsheet. Messages are catalogue keys.
import { z } from 'zod';
import { HIV_STATUSES, SEXES } from '../../db/schema.ts';
import { isDay } from '../dosing/days.ts';

/** Letters of any script (Vietnamese, Chinese, Khmer …), marks, spaces, and . ' - */
const NAME = /^[\p{L}\p{M}][\p{L}\p{M} .'\-]*$/u;

export const text = (max: number) => z.string().transform((s) => s.normalize('NFC').replace(/\s+/g, ' ').trim()).pipe(z.string().max(max, 'err_too_long'));

/** Free text of several lines (a note): line breaks kept, other control characters and trailing spaces dropped. */
export const noteText = (max: number) =>
  z
    .string()
    .transform((s) =>
      s
        .normalize('NFC')
        .replace(/\r\n?/g, '\n')
        .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '')
        .replace(/[ \t]+\n/g, '\n')
        .trim(),
    )
    .pipe(z.string().max(max, 'err_too_long'));

export const personName = text(120).pipe(z.string().min(1, 'err_required').regex(NAME, 'err_name_chars'));

/** A phone number: 8–15 digits, with spaces, dots, dashes, parentheses or a leading +. */
export const phone = text(30).refine((s) => s === '' || (/^\+?[0-9 .()\-]+$/.test(s) && digits(s).length >= 8 && digits(s).length <= 15), 'err_phone');

export const digits = (s: string): string => s.replace(/\D/g, '');

/** Accepts YYYY-MM-DD (date inputs) and dd/mm/yyyy (what people type and spreadsheets hold). */
export const dayInput = z
  .string()
  .trim()
  .min(1, 'err_required')
  .transform((s) => {
    const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s);
    return m ? `${m[3]}-${m[2]!.padStart(2, '0')}-${m[1]!.padStart(2, '0')}` : s;
  })
  .refine(isDay, 'err_date');

export const optionalCode = z
  .string()
  .trim()
  .transform((s) => (s === '' ? null : s))
  .pipe(z.union([z.null(), z.string().regex(/^\d{1,6}$/, 'err_choose').transform(Number)]));

export function patientSchema(today: string) {
  return z.object({
    fullName: personName,
    birthDate: dayInput.refine((d) => d <= today, 'err_birth_future').refine((d) => d >= '1900-01-01', 'err_date'),
    sex: z.enum(SEXES, 'err_choose'),
    nationalId: text(20)
      .transform((s) => s.replace(/[\s.]/g, ''))
      .refine((s) => s === '' || /^\d{12}$/.test(s), 'err_national_id')
      .transform((s) => (s === '' ? null : s)),
    phone,
    phone2: phone,
    street: text(200),
    provinceCode: optionalCode,
    communeCode: optionalCode,
    formerAddress: text(200),
    nextOfKinName: z.union([z.literal('').transform(() => ''), personName]),
    nextOfKinPhone: phone,
    hivStatus: z.enum(HIV_STATUSES, 'err_choose').default('unknown'),
  });
}

export type PatientFields = z.infer<ReturnType<typeof patientSchema>>;
export const PATIENT_FIELDS = ['fullName', 'birthDate', 'sex', 'nationalId', 'phone', 'phone2', 'street', 'provinceCode', 'communeCode', 'formerAddress', 'nextOfKinName', 'nextOfKinPhone', 'hivStatus'] as const;
