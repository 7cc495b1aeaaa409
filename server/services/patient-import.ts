// Importing a clinic's spreadsheet of patients. The preview reads and checks
// every row and writes nothing; the commit reads and checks the same text
// again (the preview is never trusted: the text comes back from the browser)
// and, only when nothing is wrong, registers every patient in one transaction
// with one audit row. Problems name the spreadsheet row (the header is row 1)
// and the column as written in the file.
import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { fold } from '../../db/fold.ts';
import { clinics, communes, patients, provinces } from '../../db/schema.ts';
import { isTextKey, type TextKey } from '../../views/i18n/index.ts';
import { parseCsv } from '../csv.ts';
import { NotFound, isUniqueViolation } from '../errors.ts';
import { audit } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';
import { patientSchema, type PatientFields } from './patient-schema.ts';
import { allocatePatientCodes, patientRow, type PatientInput } from './patients.ts';

/** The file's columns (folded names) and the patient field each fills. HIV status is never imported. */
export const IMPORT_COLUMNS = {
  ho_ten: 'fullName',
  ngay_sinh: 'birthDate',
  gioi_tinh: 'sex',
  cccd: 'nationalId',
  dien_thoai: 'phone',
  dien_thoai_2: 'phone2',
  dia_chi: 'street',
  tinh: 'provinceCode',
  xa: 'communeCode',
  dia_chi_cu: 'formerAddress',
  nguoi_than: 'nextOfKinName',
  dien_thoai_nguoi_than: 'nextOfKinPhone',
} as const satisfies Record<string, Exclude<keyof PatientFields, 'hivStatus'>>;
export type ImportColumn = keyof typeof IMPORT_COLUMNS;
type Field = (typeof IMPORT_COLUMNS)[ImportColumn];

/** Without these a row cannot make a patient record (sex is required by the record too). */
export const REQUIRED_COLUMNS: readonly ImportColumn[] = ['ho_ten', 'ngay_sinh', 'gioi_tinh'];
export const MAX_IMPORT_ROWS = 5000;

/** A problem's message: a catalogue text, or the missing-header message (its column is the parameter). */
export type ImportMessage = TextKey | 'import_bad_header';

export interface ImportProblem {
  /** Spreadsheet row, 1-based, the header being row 1; 0 for the file as a whole. */
  row: number;
  /** The column's header as written in the file (or its letter when the cell has no header); '' for the file as a whole. */
  column: string;
  message: ImportMessage;
}

export interface ParsedRow {
  row: number;
  fields: PatientFields;
  provinceName: string;
  communeName: string;
}

export interface ImportPreview {
  rows: ParsedRow[];
  problems: ImportProblem[];
  /** Headers of the file that are not imported (as written), e.g. a row number or an HIV column. */
  ignoredColumns: string[];
}

export type ImportOutcome = { ok: true; count: number; codes: string[] } | { ok: false; preview: ImportPreview };

/** "Họ tên", "HO_TEN", "ho-ten" → "ho_ten". */
export function headerKey(header: string): string {
  return fold(header)
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Excel-style column letters: 0 → A, 25 → Z, 26 → AA. */
export function columnLetter(index: number): string {
  let s = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

const SEX_WORDS: Record<string, PatientFields['sex']> = { nam: 'male', male: 'male', m: 'male', nu: 'female', female: 'female', f: 'female', khac: 'other', other: 'other' };

// ---------------------------------------------------------------------------
// Places: a province by code or name, a commune by name (or code) within it.

interface Place {
  code: number;
  name: string;
}
interface Places {
  provinces: Place[];
  communesOf: Map<number, Place[]>;
  /** The readings of each place's name (see matchPlace), computed once per file. */
  readings: WeakMap<Place, string[]>;
  /** Answers already given: a spreadsheet names the same few places again and again. */
  answers: Map<string, PlaceResult<Place | null>>;
}

async function loadPlaces(db: Db): Promise<Places> {
  const ps = await db.select({ code: provinces.code, name: provinces.name }).from(provinces);
  const cs = await db.select({ code: communes.code, name: communes.name, provinceCode: communes.provinceCode }).from(communes);
  const communesOf = new Map<number, Place[]>();
  for (const c of cs) {
    const list = communesOf.get(c.provinceCode) ?? [];
    list.push({ code: c.code, name: c.name });
    communesOf.set(c.provinceCode, list);
  }
  return { provinces: ps, communesOf, readings: new WeakMap(), answers: new Map() };
}

const PROVINCE_KINDS = ['thanh pho', 'tinh', 'tp'];
const COMMUNE_KINDS = ['phuong', 'xa', 'dac khu', 'p', 'x'];
/** Names people write for Hồ Chí Minh City. */
const PROVINCE_ALIASES: Record<string, number> = { hcm: 79, tphcm: 79, 'sai gon': 79 };

/** Drops a leading kind word ("Phường", "Tỉnh", "TP.") as written, keeping the accents of the rest. */
function stripKind(name: string, kinds: readonly string[]): string {
  const words = name
    .normalize('NFC')
    .trim()
    .replace(/^(tp|p|x)\.\s*/i, '$1 ')
    .split(/\s+/);
  for (const kind of kinds) {
    const n = kind.split(' ').length;
    if (words.length > n && fold(words.slice(0, n).join(' ')) === kind) return words.slice(n).join(' ');
  }
  return words.join(' ');
}

const lower = (s: string) => s.normalize('NFC').toLocaleLowerCase('vi').replace(/\s+/g, ' ').trim();

/** A name read four ways, strictest first: as written (case aside), without its kind word, then without accents. */
function readingsOf(name: string, kinds: readonly string[]): string[] {
  const stripped = stripKind(name, kinds);
  return [lower(name), lower(stripped), fold(name), fold(stripped)];
}

/**
 * The places a written name means, trying the strictest reading first. The
 * first reading that finds anything decides, so "Cẩm Giàng" picks one commune
 * where "cam giang" finds two.
 */
function matchPlace(value: string, list: readonly Place[], kinds: readonly string[], places: Places): Place[] {
  const want = readingsOf(value, kinds);
  const of = (p: Place) => {
    let r = places.readings.get(p);
    if (!r) places.readings.set(p, (r = readingsOf(p.name, kinds)));
    return r;
  };
  for (let i = 0; i < want.length; i++) {
    const found = list.filter((p) => of(p)[i] === want[i]);
    if (found.length) return found;
  }
  return [];
}

type PlaceResult<T> = { ok: true; value: T } | { ok: false; message: TextKey };

function remembered<T extends Place | null>(places: Places, key: string, find: () => PlaceResult<T>): PlaceResult<T> {
  const known = places.answers.get(key);
  if (known) return known as PlaceResult<T>;
  const answer = find();
  places.answers.set(key, answer);
  return answer;
}

function resolveProvince(raw: string, places: Places): PlaceResult<Place | null> {
  const v = raw.trim();
  if (v === '') return { ok: true, value: null };
  return remembered(places, `p|${v}`, () => findProvince(v, places));
}

function findProvince(v: string, places: Places): PlaceResult<Place | null> {
  if (/^\d{1,3}$/.test(v)) {
    const p = places.provinces.find((x) => x.code === Number(v));
    return p ? { ok: true, value: p } : { ok: false, message: 'import_unknown_province' };
  }
  const alias = PROVINCE_ALIASES[fold(stripKind(v, PROVINCE_KINDS))];
  if (alias !== undefined) {
    const p = places.provinces.find((x) => x.code === alias);
    if (p) return { ok: true, value: p };
  }
  const found = matchPlace(v, places.provinces, PROVINCE_KINDS, places);
  return found.length === 1 ? { ok: true, value: found[0]! } : { ok: false, message: 'import_unknown_province' };
}

function resolveCommune(raw: string, province: Place, places: Places): PlaceResult<Place> {
  const v = raw.trim();
  return remembered(places, `c|${province.code}|${v}`, () => findCommune(v, province, places));
}

function findCommune(v: string, province: Place, places: Places): PlaceResult<Place> {
  const list = places.communesOf.get(province.code) ?? [];
  if (/^\d{1,6}$/.test(v)) {
    const c = list.find((x) => x.code === Number(v));
    return c ? { ok: true, value: c } : { ok: false, message: 'import_unknown_commune' };
  }
  const found = matchPlace(v, list, COMMUNE_KINDS, places);
  if (found.length === 1) return { ok: true, value: found[0]! };
  return { ok: false, message: found.length ? 'import_ambiguous_commune' : 'import_unknown_commune' };
}

// ---------------------------------------------------------------------------
// Reading and checking the file.

const blank = (record: string[]) => record.every((cell) => cell.trim() === '');

/**
 * Reads and checks every row; writes nothing. The clinic must be one of the
 * user's (scope null: all), else NotFound, as for any clinic not one's own.
 */
export async function previewImport(db: Db, csvText: string, clinicId: string, scope: string[] | null, today: string): Promise<ImportPreview> {
  if (scope && !scope.includes(clinicId)) throw new NotFound('clinic');
  const [clinic] = await db.select({ id: clinics.id, active: clinics.active }).from(clinics).where(eq(clinics.id, clinicId));
  if (!clinic || !clinic.active) throw new NotFound('clinic');

  const fileProblem = (message: TextKey): ImportPreview => ({ rows: [], problems: [{ row: 0, column: '', message }], ignoredColumns: [] });
  // NUL cannot be stored in PostgreSQL text; a text file has none (a browser would have replaced it).
  const { records } = parseCsv(csvText.replace(/\u0000/g, ''));
  const headerIndex = records.findIndex((r) => !blank(r));
  if (headerIndex < 0) return fileProblem('import_empty');
  const header = records[headerIndex]!.map((h) => h.trim());
  const headerRow = headerIndex + 1;

  // Which file column fills which field.
  const columnOf = new Map<ImportColumn, number>();
  const ignoredColumns: string[] = [];
  const problems: ImportProblem[] = [];
  header.forEach((h, i) => {
    if (h === '') return;
    const key = headerKey(h);
    if (!(key in IMPORT_COLUMNS)) {
      ignoredColumns.push(h);
      return;
    }
    if (columnOf.has(key as ImportColumn)) problems.push({ row: headerRow, column: h, message: 'import_duplicate_header' });
    else columnOf.set(key as ImportColumn, i);
  });
  for (const col of REQUIRED_COLUMNS) if (!columnOf.has(col)) problems.push({ row: headerRow, column: col, message: 'import_bad_header' });
  if (problems.length) return { rows: [], problems, ignoredColumns };

  const data = records.map((cells, i) => ({ row: i + 1, cells })).filter((r, i) => i > headerIndex && !blank(r.cells));
  if (data.length === 0) return fileProblem('import_empty');
  if (data.length > MAX_IMPORT_ROWS) return fileProblem('import_too_many');

  const places = await loadPlaces(db);
  const schema = patientSchema(today);
  const labelOf = (col: ImportColumn) => header[columnOf.get(col)!] ?? col;
  const fieldColumn = new Map<Field, ImportColumn>(Object.entries(IMPORT_COLUMNS).map(([col, field]) => [field, col as ImportColumn]));
  const rows: ParsedRow[] = [];

  for (const { row, cells } of data) {
    const cell = (col: ImportColumn) => {
      const i = columnOf.get(col);
      return i === undefined ? '' : (cells[i] ?? '');
    };
    const rowProblems = new Map<ImportColumn, ImportMessage>();
    const report = (col: ImportColumn, message: ImportMessage) => {
      if (!rowProblems.has(col)) rowProblems.set(col, message);
    };

    // A cell beyond the header: often an address with an unquoted comma that shifted the row.
    const extra = cells.findIndex((c, i) => i >= header.length && c.trim() !== '');
    if (extra >= 0) problems.push({ row, column: columnLetter(extra), message: 'import_extra_cells' });

    const sexRaw = fold(cell('gioi_tinh'));
    const sex = SEX_WORDS[sexRaw];
    if (sexRaw === '') report('gioi_tinh', 'err_required');
    else if (!sex) report('gioi_tinh', 'import_bad_sex');

    let province: Place | null = null;
    let commune: Place | null = null;
    const p = resolveProvince(cell('tinh'), places);
    if (!p.ok) report('tinh', p.message);
    else province = p.value;
    if (cell('xa').trim() !== '') {
      if (province) {
        const c = resolveCommune(cell('xa'), province, places);
        if (!c.ok) report('xa', c.message);
        else commune = c.value;
      } else if (p.ok) report('xa', 'import_commune_needs_province');
    }

    const nationalIdRaw = cell('cccd').trim();
    const parsed = schema.safeParse({
      fullName: cell('ho_ten'),
      birthDate: cell('ngay_sinh'),
      sex: sex ?? 'other',
      nationalId: nationalIdRaw,
      phone: cell('dien_thoai'),
      phone2: cell('dien_thoai_2'),
      street: cell('dia_chi'),
      provinceCode: province ? String(province.code) : '',
      communeCode: commune ? String(commune.code) : '',
      formerAddress: cell('dia_chi_cu'),
      nextOfKinName: cell('nguoi_than'),
      nextOfKinPhone: cell('dien_thoai_nguoi_than'),
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const col = fieldColumn.get(issue.path[0] as Field);
        if (!col) continue;
        let message: ImportMessage = isTextKey(issue.message) ? issue.message : 'err_invalid';
        // Excel shows a CCCD as a number: the leading 0 goes, or it turns into 1.08501E+11.
        if (col === 'cccd' && (/^\d{9,11}$/.test(nationalIdRaw.replace(/[\s.]/g, '')) || /^\d([.,]\d+)?e\+?\d+$/i.test(nationalIdRaw))) message = 'import_national_id_zeros';
        report(col, message);
      }
    }
    for (const [col, message] of rowProblems) problems.push({ row, column: labelOf(col), message });
    if (parsed.success && rowProblems.size === 0) rows.push({ row, fields: parsed.data, provinceName: province?.name ?? '', communeName: commune?.name ?? '' });
  }

  // The same person twice in the file, or already registered (here or at another clinic).
  // Importing the same file twice is caught here too.
  const sameId = groupBy(rows, (r) => r.fields.nationalId);
  const samePerson = groupBy(rows, (r) => `${fold(r.fields.fullName)}|${r.fields.birthDate}`);
  const flagged = new Set<number>();
  const flag = (r: ParsedRow, col: ImportColumn, message: ImportMessage) => {
    problems.push({ row: r.row, column: labelOf(col), message });
    flagged.add(r.row);
  };
  for (const [id, group] of sameId) if (id !== null && group.length > 1) for (const r of group) flag(r, 'cccd', 'import_duplicate_in_file');
  for (const group of samePerson.values()) if (group.length > 1) for (const r of group) flag(r, 'ho_ten', 'import_duplicate_in_file');

  const ids = [...sameId.keys()].filter((k): k is string => k !== null);
  for (const chunk of chunks(ids, 1000)) {
    const taken = await db.select({ nationalId: patients.nationalId }).from(patients).where(inArray(patients.nationalId, chunk));
    const takenSet = new Set(taken.map((t) => t.nationalId));
    for (const id of chunk) if (takenSet.has(id)) for (const r of sameId.get(id)!) flag(r, 'cccd', 'err_national_id_taken');
  }
  const names = [...new Set(rows.map((r) => fold(r.fields.fullName)))];
  for (const chunk of chunks(names, 1000)) {
    const found = await db
      .select({ searchName: patients.searchName, birthDate: patients.birthDate })
      .from(patients)
      .where(inArray(patients.searchName, chunk));
    for (const f of found) for (const r of samePerson.get(`${f.searchName}|${f.birthDate}`) ?? []) flag(r, 'ho_ten', 'import_name_birth_taken');
  }

  const order = new Map(header.map((h, i) => [h, i]));
  problems.sort((a, b) => a.row - b.row || (order.get(a.column) ?? 999) - (order.get(b.column) ?? 999));
  return { rows: rows.filter((r) => !flagged.has(r.row)), problems: dedupe(problems), ignoredColumns };
}

/**
 * Checks the text again inside a transaction and, only when there is no
 * problem, registers every row: a code each from the clinic's counter, one
 * audit row with the codes (no names). All or nothing: a row that fails at
 * insert time (e.g. a national ID registered meanwhile by someone else) undoes
 * the whole file, counters included, and answers with the problems found.
 */
export async function commitImport({ db, clock }: ServiceDeps, actor: Actor, csvText: string, clinicId: string, scope: string[] | null, today: string): Promise<ImportOutcome> {
  try {
    return await db.transaction(async (tx): Promise<ImportOutcome> => {
      const preview = await previewImport(tx, csvText, clinicId, scope, today);
      if (preview.problems.length || preview.rows.length === 0) return { ok: false, preview };
      const at = clock.now();
      const values = [];
      // One move of the clinic's counter for the whole file, not one per row.
      const newCodes = await allocatePatientCodes(tx, clinicId, preview.rows.length);
      for (const [i, r] of preview.rows.entries()) {
        const input: PatientInput = { ...r.fields, hivStatus: 'unknown', homeClinicId: clinicId, counsellorId: null };
        values.push({ ...patientRow(input), code: newCodes[i]!, createdBy: actor.userId, createdAt: at });
      }
      const codes: string[] = [];
      for (const chunk of chunks(values, 500)) {
        const inserted = await tx.insert(patients).values(chunk).returning({ code: patients.code });
        codes.push(...inserted.map((p) => p.code));
      }
      await audit(tx, { action: 'patient_import', actorId: actor.userId, clinicId, entityType: 'clinic', entityId: clinicId, details: { clinicId, count: codes.length, codes }, address: actor.address, at });
      return { ok: true, count: codes.length, codes };
    });
  } catch (e) {
    // Someone registered one of these national IDs between the check and the insert:
    // everything was rolled back; read the file again to say which row.
    if (isUniqueViolation(e, 'patients_national_id_uq')) {
      const preview = await previewImport(db, csvText, clinicId, scope, today);
      if (preview.problems.length) return { ok: false, preview };
    }
    throw e;
  }
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = m.get(k);
    if (list) list.push(item);
    else m.set(k, [item]);
  }
  return m;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function dedupe(problems: ImportProblem[]): ImportProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.row}\u0000${p.column}\u0000${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
