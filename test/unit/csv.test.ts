import { describe, expect, it } from 'vitest';
import { decodeCsv, detectDelimiter, parseCsv, toCsv } from '../../server/csv.ts';

describe('CSV reader (RFC 4180, as spreadsheets write it)', () => {
  it.each<[string, string, string[][]]>([
    ['plain fields, LF', 'a,b,c\n1,2,3\n', [['a', 'b', 'c'], ['1', '2', '3']]],
    ['CRLF', 'a,b\r\n1,2\r\n', [['a', 'b'], ['1', '2']]],
    ['lone CR (old Mac exports)', 'a,b\r1,2', [['a', 'b'], ['1', '2']]],
    ['no final line break', 'a,b\n1,2', [['a', 'b'], ['1', '2']]],
    ['empty fields', 'a,,c\n,,\n', [['a', '', 'c'], ['', '', '']]],
    ['quoted field with the delimiter', '"Số 5, ngõ 12",x', [['Số 5, ngõ 12', 'x']]],
    ['doubled quotes inside quotes', '"Nguyễn ""Tí"" Văn",x', [['Nguyễn "Tí" Văn', 'x']]],
    ['line break inside quotes (LF)', '"dòng 1\ndòng 2",x\ny,z', [['dòng 1\ndòng 2', 'x'], ['y', 'z']]],
    ['line break inside quotes (CRLF)', '"a\r\nb",c\r\nd,e\r\n', [['a\r\nb', 'c'], ['d', 'e']]],
    ['an empty quoted field', '"",b', [['', 'b']]],
    ['only a pair of doubled quotes', '""""', [['"']]],
    ['a quote inside an unquoted field is a character', 'ab"c,d', [['ab"c', 'd']]],
    ['text after a closing quote is kept', '"ab"c,d', [['abc', 'd']]],
    ['an unclosed quote runs to the end', '"abc\ndef', [['abc\ndef']]],
    ['blank lines stay records, so indexes are spreadsheet rows', 'h\n\nx\n', [['h'], [''], ['x']]],
    ['UTF-8 byte order mark dropped', '\uFEFFho_ten,ngay_sinh\nAn,1/1/1990', [['ho_ten', 'ngay_sinh'], ['An', '1/1/1990']]],
    ['semicolons when the header has more of them', 'ho_ten;dia_chi\nAn;"Số 5, ngõ 12"\n', [['ho_ten', 'dia_chi'], ['An', 'Số 5, ngõ 12']]],
    ['commas stay the delimiter when the header has more of them', 'a,b;c\n1,2;3', [['a', 'b;c'], ['1', '2;3']]],
    ['a tie keeps the comma', 'a;b,c\n1;2,3', [['a;b', 'c'], ['1;2', '3']]],
    ['quoted semicolons in the header do not count', '"a;b;c",d,e\n1,2,3', [['a;b;c', 'd', 'e'], ['1', '2', '3']]],
    ['empty text', '', []],
    ['a single line break is one blank record', '\n', [['']]],
    ['Chinese and emoji pass through', '阮文安,😀\n', [['阮文安', '😀']]],
    ['spaces are kept as written', ' a , b ', [[' a ', ' b ']]],
  ])('%s', (_name, input, expected) => {
    expect(parseCsv(input).records).toEqual(expected);
  });

  it.each<[string, ',' | ';']>([
    ['a,b,c', ','],
    ['a;b;c', ';'],
    ['a;b,c', ','],
    ['"x,y";b;c\n1,2,3,4,5', ';'],
    ['', ','],
  ])('header %j → delimiter %j', (text, d) => {
    expect(detectDelimiter(text)).toBe(d);
    expect(parseCsv(text).delimiter).toBe(d);
  });

  it('an explicit delimiter wins over detection', () => {
    expect(parseCsv('a;b\n1;2', ',').records).toEqual([['a;b'], ['1;2']]);
  });
});

describe('decoding an uploaded file', () => {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  it.each<[string, Uint8Array, string | null]>([
    ['UTF-8', utf8('ho_ten\nNguyễn'), 'ho_ten\nNguyễn'],
    ['UTF-8 with BOM: the BOM is dropped', new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('a')]), 'a'],
    ['UTF-16 LE with BOM (Excel "Unicode text")', new Uint8Array([0xff, 0xfe, 0x41, 0x00, 0xb0, 0x01]), 'Aư'],
    ['Windows-1258 bytes are refused', new Uint8Array([0x4e, 0x67, 0x75, 0x79, 0xd2, 0x6e]), null],
    ['UTF-16 without a BOM (NUL bytes) is refused', new Uint8Array([0x61, 0x00, 0x2c, 0x00]), null],
  ])('%s', (_name, bytes, expected) => {
    expect(decodeCsv(bytes)).toBe(expected);
  });
});

describe('CSV writer (the daily register export)', () => {
  it.each<[string, (string | number)[][], string]>([
    ['plain cells, CRLF lines, a byte order mark', [['a', 'b'], [1, 2.5]], '\uFEFFa,b\r\n1,2.5\r\n'],
    ['quotes a comma, a semicolon, a quote and a line break', [['x,y', 'a;b', 'say "hi"', 'two\nlines']], '\uFEFF"x,y","a;b","say ""hi""","two\nlines"\r\n'],
    ['keeps Vietnamese as it is', [['Nguyễn Văn An']], '\uFEFFNguyễn Văn An\r\n'],
    ['a cell that starts like a formula gets an apostrophe', [['=1+1', '+84', '-x', '@SUM(A1)']], "\uFEFF'=1+1,'+84,'-x,'@SUM(A1)\r\n"],
    ['numbers are numbers, negative ones included', [[-5, 0]], '\uFEFF-5,0\r\n'],
  ])('%s', (_name, rows, expected) => expect(toCsv(rows)).toBe(expected));

  it('reads back what it wrote', () => {
    const rows = [['Mã', 'Họ và tên', 'Ghi chú'], ['HP01-00001', 'Trần "Bé" Hai', 'a,b\r\nc']];
    expect(parseCsv(toCsv(rows)).records.slice(0, 2)).toEqual(rows);
  });
});
