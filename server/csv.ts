// A small RFC 4180 CSV reader for spreadsheets that clinics export: quoted
// fields with doubled quotes, delimiters and line breaks inside quotes, CRLF
// or LF (or a lone CR), a UTF-8 byte order mark dropped. Excel in a
// Vietnamese locale writes `;` between fields: the header line decides.
// Pure; no I/O.

export type Delimiter = ',' | ';';

export interface CsvResult {
  /** One array of fields per record, blank lines included (as ['']), so an index is a spreadsheet row. */
  records: string[][];
  delimiter: Delimiter;
}

const BOM = '\uFEFF';

/**
 * `;` when the first line holds more `;` than `,` (counted outside quotes),
 * else `,`.
 */
export function detectDelimiter(text: string): Delimiter {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && ch === ',') commas++;
    else if (!quoted && ch === ';') semicolons++;
  }
  return semicolons > commas ? ';' : ',';
}

/**
 * Parses CSV text into records. Lenient where spreadsheets are sloppy: a
 * quote inside an unquoted field is kept as a character, text after a closing
 * quote is appended, and an unclosed quote runs to the end of the text.
 * The line break that ends the text adds no empty record.
 */
export function parseCsv(input: string, delimiter?: Delimiter): CsvResult {
  const text = input.startsWith(BOM) ? input.slice(1) : input;
  const delim = delimiter ?? detectDelimiter(text);
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  /** Whether the current record has begun (a character or delimiter was read since the last line break). */
  let started = false;
  /** Nothing of the current field read yet: only there does a quote open a quoted field. */
  let atFieldStart = true;
  let i = 0;
  const n = text.length;

  const endField = () => {
    record.push(field);
    field = '';
    atFieldStart = true;
  };
  const endRecord = () => {
    endField();
    records.push(record);
    record = [];
    started = false;
  };

  while (i < n) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && atFieldStart) {
      quoted = true;
      started = true;
      atFieldStart = false;
      i++;
      continue;
    }
    if (ch === delim) {
      endField();
      started = true;
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += ch;
    started = true;
    atFieldStart = false;
    i++;
  }
  if (started || field !== '' || quoted) endRecord();
  return { records, delimiter: delim };
}

/**
 * Decodes an uploaded file: UTF-8 (with or without BOM), or UTF-16 with its
 * BOM (Excel's "Unicode text"). Null when the bytes are not valid UTF-8, e.g.
 * a file saved in a legacy code page such as Windows-1258, or when they
 * hold NUL (UTF-16 without a BOM, or not text at all).
 */
export function decodeCsv(bytes: Uint8Array): string | null {
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le', { fatal: true }).decode(bytes.subarray(2));
    if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be', { fatal: true }).decode(bytes.subarray(2));
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    // NUL bytes: UTF-16 without its BOM, or not a text file at all.
    return text.includes('\u0000') ? null : text;
  } catch {
    return null;
  }
}

/**
 * Rows to CSV for spreadsheets: RFC 4180 quoting, CRLF lines, a UTF-8 byte
 * order mark (so Excel reads Vietnamese correctly), and a cell that starts
 * like a formula (= + - @, tab, CR) prefixed with an apostrophe so a
 * spreadsheet never runs it.
 */
export function toCsv(rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number): string => {
    let s = typeof v === 'number' ? String(v) : v;
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `\uFEFF${rows.map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}
