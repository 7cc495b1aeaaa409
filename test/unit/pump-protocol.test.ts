// MPP/1, the pump's line protocol (shared/design/pump-protocol.md), without a
// transport (devices/mpp/protocol.ts): checksums, frames in and out, both
// directions' messages. Frames are built by hand with `frame()`; every stream
// the reader is given is also fed one byte at a time and split at every byte
// position, since a serial port delivers bytes in whatever pieces it likes.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checksum,
  commandBody,
  doseOfTxn,
  encodeFrame,
  ERROR_CODES,
  FAULT_CODES,
  formatMl,
  FrameReader,
  isTxnId,
  MAX_FRAME_BYTES,
  messageBody,
  nextSeq,
  parseCommand,
  parsePumpMessage,
  SEQ_MAX,
  txnOfDose,
  TXN_STATES,
  type Command,
  type ParsedCommand,
  type PumpMessage,
  type Rejection,
} from '../../devices/mpp/protocol.ts';

// ---------------------------------------------------------------------------
// Helpers

/** A frame on the wire, `<body>*<CC>\r\n`; `cc` overrides the checksum (to send a wrong one). */
const frame = (body: string, cc: string = checksum(body)): Buffer => Buffer.from(`${body}*${cc}\r\n`, 'latin1');
/** Raw bytes of a text written as-is (latin1: one byte per char, so `\xe9` is one non-ASCII byte). */
const raw = (text: string): Buffer => Buffer.from(text, 'latin1');
const cat = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

type Read = { bodies: string[]; rejected: Rejection[] };

/** Runs one FrameReader over the chunks, in order. */
function read(chunks: Iterable<Uint8Array>): Read {
  const out: Read = { bodies: [], rejected: [] };
  const reader = new FrameReader(
    (b) => out.bodies.push(b),
    (why) => out.rejected.push(why),
  );
  for (const c of chunks) reader.consume(c);
  return out;
}

const oneChunk = (bytes: Uint8Array): Read => read([bytes]);
const byteByByte = (bytes: Uint8Array): Read => read(Array.from(bytes, (b) => Uint8Array.of(b)));
/** The stream cut at the given offsets (any order, duplicates and 0/end allowed: empty chunks are fine too). */
function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [0, ...[...cuts].sort((x, y) => x - y), bytes.length];
  return at.slice(1).map((end, i) => bytes.subarray(at[i]!, end));
}

/** What `commandBody`/`parseCommand` throw or report, for tables. */
function rangeErrorOf(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(RangeError);
    return (e as RangeError).message;
  }
}

// ---------------------------------------------------------------------------

describe('checksum', () => {
  it.each<[string, string, string]>([
    // The classic NMEA 0183 examples (body between `$` and `*`), checksums as published.
    ['NMEA GPGSV sentence', 'GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00', '74'],
    ['NMEA GPGGA sentence', 'GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,', '76'],
    // '1'=31 ^ ' '=20 → 11; ^ 'H'=48 → 59; ^ 'E'=45 → 1C; ^ 'L'=4C → 50; ^ 'L'=4C → 1C; ^ 'O'=4F → 53.
    ['a HELLO command', '1 HELLO', '53'],
    // '2'=32 ^ ' '=20 → 12; ^ 'S'=53 → 41; ^ 'T'=54 → 15; ^ 'O'=4F → 5A; ^ 'P'=50 → 0A: padded, upper case.
    ['zero-padded and upper-case', '2 STOP', '0A'],
    // 'A'=41 ^ 'B'=42 → 03.
    ['a small value is zero-padded', 'AB', '03'],
    // 'z' = 7A: one byte is its own checksum.
    ['one byte', 'z', '7A'],
    // 'A' ^ 'A' → 00.
    ['equal bytes cancel', 'AA', '00'],
    ['the empty body', '', '00'],
  ])('%s: %j → %s', (_name, body, expected) => {
    expect(checksum(body)).toBe(expected);
    expect(checksum(body)).toMatch(/^[0-9A-F]{2}$/);
  });
});

describe('encodeFrame', () => {
  it('writes body, *, the checksum and CR LF', () => {
    expect(encodeFrame('1 HELLO').toString('latin1')).toBe('1 HELLO*53\r\n');
    expect(encodeFrame('2 STOP').equals(frame('2 STOP'))).toBe(true);
  });

  it.each<[string, string]>([
    ['a * inside the body', 'A*B'],
    ['a CR', '1 HELLO\r'],
    ['an LF', '1 HELLO\n'],
    ['a tab', '1\tHELLO'],
    ['a non-ASCII character', 'MODEL=Pompe à méthadone'],
    ['DEL (0x7F)', '1 HELLO\x7f'],
  ])('refuses %s', (_name, body) => {
    expect(() => encodeFrame(body)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------

describe('FrameReader', () => {
  const LONGEST_BODY = 'L'.repeat(MAX_FRAME_BYTES - 5); // body + `*CC` + CR LF = MAX_FRAME_BYTES
  const cases: [string, Buffer, string[], Rejection[]][] = [
    ['one frame', frame('1 HELLO'), ['1 HELLO'], []],
    ['several frames in one chunk', cat(frame('OK 1'), frame('ACK 2 abc'), frame('PROGRESS abc 1.5')), ['OK 1', 'ACK 2 abc', 'PROGRESS abc 1.5'], []],
    ['a frame not yet ended gives nothing', raw('1 HELLO*53\r'), [], []],
    // Noise is dropped up to its LF; the next line starts afresh.
    ['text garbage before a frame', cat(raw('garbage\n'), frame('DONE abc 12.5')), ['DONE abc 12.5'], ['no_cr']],
    ['binary garbage before a frame', cat(raw('\x00\xff\x13\x80\r\n'), frame('DONE abc 12.5')), ['DONE abc 12.5'], ['not_ascii']],
    ['garbage between frames', cat(frame('OK 1'), raw('#$%&\r\n'), frame('OK 2')), ['OK 1', 'OK 2'], ['no_checksum']],
    // Noise with no LF of its own joins the next line and costs that frame, and only it.
    ['garbage glued to a frame costs that frame only', cat(raw('xy'), frame('OK 1'), frame('OK 2')), ['OK 2'], ['checksum']],
    ['wrong checksum', cat(frame('1 HELLO', '54'), frame('OK 2')), ['OK 2'], ['checksum']],
    ['a checksum that is not hex', frame('1 HELLO', 'ZZ'), [], ['checksum']],
    // '2 STOP' is 0A: lower case is not the specification's upper-case hex.
    ['lower-case checksum', cat(frame('2 STOP', '0a'), frame('2 STOP')), ['2 STOP'], ['checksum']],
    ['missing checksum', cat(raw('1 HELLO\r\n'), frame('OK 2')), ['OK 2'], ['no_checksum']],
    ['a lone * with no digits', raw('1 HELLO*\r\n'), [], ['no_checksum']],
    ['one checksum digit', raw('1 HELLO*5\r\n'), [], ['no_checksum']],
    ['three checksum digits', raw('1 HELLO*533\r\n'), [], ['no_checksum']],
    ['LF without CR', cat(raw('1 HELLO*53\n'), frame('OK 2')), ['OK 2'], ['no_cr']],
    ['CR LF reversed', cat(raw('1 HELLO*53\n\r'), frame('OK 2')), [], ['no_cr', 'not_ascii']],
    ['a non-ASCII byte', cat(raw(`DONE \xe9 1.0*${checksum('DONE \xe9 1.0')}\r\n`), frame('OK 2')), ['OK 2'], ['not_ascii']],
    ['a control byte', raw(`1\tHELLO*${checksum('1\tHELLO')}\r\n`), [], ['not_ascii']],
    ['a CR inside the line', raw(`1 HE\rLLO*${checksum('1 HE\rLLO')}\r\n`), [], ['not_ascii']],
    ['an empty body', cat(raw('*00\r\n'), frame('OK 2')), ['OK 2'], ['checksum']],
    ['empty lines are ignored, not rejected', cat(raw('\r\n\n\r\n'), frame('OK 1'), raw('\n\r\n'), frame('OK 2'), raw('\n')), ['OK 1', 'OK 2'], []],
    // MAX_FRAME_BYTES counts CR LF: the longest frame is read, one byte more is noise.
    ['the longest frame (MAX_FRAME_BYTES)', frame(LONGEST_BODY), [LONGEST_BODY], []],
    ['a frame one byte too long', cat(frame(`${LONGEST_BODY}L`), frame('OK 2')), ['OK 2'], ['too_long']],
    ['an over-long line then a good frame', cat(raw(`${'x'.repeat(3 * MAX_FRAME_BYTES)}\r\n`), frame('OK 2')), ['OK 2'], ['too_long']],
    ['an over-long line without CR', cat(raw(`${'\x00'.repeat(MAX_FRAME_BYTES + 1)}\n`), frame('OK 2')), ['OK 2'], ['too_long']],
  ];

  describe.each(cases)('%s', (_name, stream, bodies, rejected) => {
    const expected: Read = { bodies, rejected };

    it('in one chunk', () => {
      expect(oneChunk(stream)).toEqual(expected);
    });

    it('one byte at a time', () => {
      expect(byteByByte(stream)).toEqual(expected);
    });

    it('split in two at every byte position', () => {
      for (let i = 0; i <= stream.length; i++) expect(read(cutAt(stream, [i])), `cut at ${i}`).toEqual(expected);
    });
  });

  it('split at every pair of positions of a three-frame stream', () => {
    const stream = cat(frame('OK 1'), raw('noise\n'), frame('TXN 2 abc DONE 12.5'), frame('ALARM RESERVOIR_LOW'));
    const expected: Read = { bodies: ['OK 1', 'TXN 2 abc DONE 12.5', 'ALARM RESERVOIR_LOW'], rejected: ['no_cr'] };
    for (let i = 0; i <= stream.length; i++)
      for (let j = i; j <= stream.length; j++) expect(read(cutAt(stream, [i, j])), `cuts at ${i}, ${j}`).toEqual(expected);
  });

  it('reset() forgets a partial line (the port was reopened)', () => {
    const out: Read = { bodies: [], rejected: [] };
    const reader = new FrameReader(
      (b) => out.bodies.push(b),
      (why) => out.rejected.push(why),
    );
    reader.consume(raw('DONE abc 1'));
    reader.reset();
    reader.consume(frame('OK 1'));
    reader.consume(raw('x'.repeat(MAX_FRAME_BYTES + 10)));
    reader.reset();
    reader.consume(frame('OK 2'));
    expect(out).toEqual({ bodies: ['OK 1', 'OK 2'], rejected: [] });
  });

  it('works without an onReject', () => {
    const bodies: string[] = [];
    const reader = new FrameReader((b) => bodies.push(b));
    reader.consume(cat(raw('noise\n'), frame('OK 1')));
    expect(bodies).toEqual(['OK 1']);
  });
});

describe('FrameReader properties', () => {
  const PRINTABLE_NO_STAR = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).filter((c) => c !== '*');
  const bodyChar = fc.constantFrom(...PRINTABLE_NO_STAR);
  /** Any body encodeFrame accepts that fits in MAX_FRAME_BYTES: mostly short, sometimes near the limit. */
  const bodyArb = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: bodyChar, minLength: 1, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: bodyChar, minLength: MAX_FRAME_BYTES - 20, maxLength: MAX_FRAME_BYTES - 5 }) },
  );
  /** Offsets into a stream of length n (mapped by modulo, so any n works). */
  const cutsArb = fc.array(fc.nat(), { maxLength: 20 });
  const cutsFor = (cuts: number[], n: number) => cuts.map((c) => c % (n + 1));

  const byteArb = (except: number[]) => fc.integer({ min: 0, max: 255 }).filter((b) => !except.includes(b));
  const LF = 0x0a;
  const STAR = 0x2a;
  /** A noise line: any bytes but LF and `*` (so it cannot be a frame), short or over-long, then LF. */
  const noiseLineArb = fc
    .oneof({ weight: 4, arbitrary: fc.array(byteArb([LF, STAR]), { maxLength: 30 }) }, { weight: 1, arbitrary: fc.array(byteArb([LF, STAR]), { minLength: MAX_FRAME_BYTES - 5, maxLength: MAX_FRAME_BYTES + 5 }) })
    .map((bytes) => ({ kind: 'noise' as const, bytes: Uint8Array.from([...bytes, LF]) }));
  /** Noise with no LF of its own, glued in front of a frame; a byte outside printable ASCII makes sure the joined line is not a frame. */
  const gluedArb = fc
    .tuple(fc.array(byteArb([LF]), { maxLength: 10 }), byteArb([LF, ...range(0x20, 0x7e)]), fc.array(byteArb([LF]), { maxLength: 10 }), bodyArb)
    .map(([a, bad, b, body]) => ({ kind: 'glued' as const, bytes: cat(Uint8Array.from([...a, bad, ...b]), frame(body)) }));
  const frameArb = bodyArb.map((body) => ({ kind: 'frame' as const, body, bytes: frame(body) }));
  /** Every noise item is reported once, except an empty noise line (nothing, or a lone CR, before its LF), which is ignored. */
  const isRejected = (i: { kind: 'frame' | 'noise' | 'glued'; bytes: Uint8Array }): boolean =>
    i.kind === 'glued' || (i.kind === 'noise' && !(i.bytes.length === 1 || (i.bytes.length === 2 && i.bytes[0] === 0x0d)));

  it('any valid bodies, encoded and concatenated, cut anywhere, come out exactly', () => {
    fc.assert(
      fc.property(fc.array(bodyArb, { maxLength: 12 }), cutsArb, (bodies, cuts) => {
        const stream = cat(...bodies.map((b) => encodeFrame(b)));
        expect(read(cutAt(stream, cutsFor(cuts, stream.length)))).toEqual({ bodies, rejected: [] });
      }),
    );
  });

  it('noise lines between frames are rejected, never read as a frame, and cost no frame', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(frameArb, noiseLineArb), { maxLength: 12 }), cutsArb, (items, cuts) => {
        const stream = cat(...items.map((i) => i.bytes));
        const bodies = items.flatMap((i) => (i.kind === 'frame' ? [i.body] : []));
        const got = read(cutAt(stream, cutsFor(cuts, stream.length)));
        expect(got.bodies).toEqual(bodies);
        expect(got.rejected).toHaveLength(items.filter(isRejected).length);
      }),
    );
  });

  it('noise glued to a frame costs that frame only, and never makes one up', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(frameArb, noiseLineArb, gluedArb), { maxLength: 12 }), cutsArb, (items, cuts) => {
        const stream = cat(...items.map((i) => i.bytes));
        const bodies = items.flatMap((i) => (i.kind === 'frame' ? [i.body] : []));
        const got = read(cutAt(stream, cutsFor(cuts, stream.length)));
        expect(got.bodies).toEqual(bodies);
        expect(got.rejected).toHaveLength(items.filter(isRejected).length);
      }),
    );
  });
});

// ---------------------------------------------------------------------------
// Host → pump

const TXN = '3f2c9a10b4d84e0f9a7c1e2d3b4a5968';
const TXN_32 = 'A'.repeat(32);

describe('formatMl (one decimal)', () => {
  it.each<[number, string]>([
    [7, '7.0'],
    [0, '0.0'],
    [0.1, '0.1'],
    [12.34, '12.3'],
    [12.35, '12.4'],
    [1.45, '1.5'],
    [0.05, '0.1'],
    [0.04, '0.0'],
    [3.14159, '3.1'],
    [199.95, '200.0'],
    [200, '200.0'],
    [812.5, '812.5'],
  ])('%d → %s', (ml, expected) => {
    expect(formatMl(ml)).toBe(expected);
  });
});

describe('commandBody', () => {
  it.each<[number, Command, string]>([
    [1, { cmd: 'HELLO' }, '1 HELLO'],
    [9999, { cmd: 'STATUS' }, '9999 STATUS'],
    [42, { cmd: 'DISPENSE', txn: TXN, ml: 12.5 }, `42 DISPENSE ${TXN} 12.5`],
    [42, { cmd: 'DISPENSE', txn: 'cal-check-1', ml: 7 }, '42 DISPENSE cal-check-1 7.0'],
    [42, { cmd: 'DISPENSE', txn: TXN_32, ml: 0.1 }, `42 DISPENSE ${TXN_32} 0.1`],
    [42, { cmd: 'DISPENSE', txn: 'x', ml: 200 }, '42 DISPENSE x 200.0'],
    [42, { cmd: 'DISPENSE', txn: 'x', ml: 12.34 }, '42 DISPENSE x 12.3'],
    // Rounded to one decimal first: 0.05 is 0.1, 200.04 is 200.0, both in range.
    [42, { cmd: 'DISPENSE', txn: 'x', ml: 0.05 }, '42 DISPENSE x 0.1'],
    [42, { cmd: 'DISPENSE', txn: 'x', ml: 200.04 }, '42 DISPENSE x 200.0'],
    [3, { cmd: 'QUERY', txn: TXN }, `3 QUERY ${TXN}`],
    [4, { cmd: 'STOP' }, '4 STOP'],
    [5, { cmd: 'PRIME', ml: 5 }, '5 PRIME 5.0'],
    [6, { cmd: 'CAL', factor: 1 }, '6 CAL 1.000'],
    [6, { cmd: 'CAL', factor: 0.5 }, '6 CAL 0.500'],
    [6, { cmd: 'CAL', factor: 1.5 }, '6 CAL 1.500'],
    [6, { cmd: 'CAL', factor: 0.987 }, '6 CAL 0.987'],
  ])('%d %j → %s', (seq, c, expected) => {
    expect(commandBody(seq, c)).toBe(expected);
  });

  it.each<[string, number, Command, string]>([
    ['seq 0', 0, { cmd: 'HELLO' }, 'seq'],
    ['seq 10000', 10000, { cmd: 'HELLO' }, 'seq'],
    ['seq -1', -1, { cmd: 'HELLO' }, 'seq'],
    ['a fractional seq', 1.5, { cmd: 'HELLO' }, 'seq'],
    ['seq NaN', NaN, { cmd: 'HELLO' }, 'seq'],
    ['seq checked before the command', 0, { cmd: 'DISPENSE', txn: '', ml: 0 }, 'seq'],
    ['an empty txn', 1, { cmd: 'DISPENSE', txn: '', ml: 5 }, 'txn'],
    ['a 33-character txn', 1, { cmd: 'DISPENSE', txn: 'A'.repeat(33), ml: 5 }, 'txn'],
    ['a txn with a space', 1, { cmd: 'DISPENSE', txn: 'a b', ml: 5 }, 'txn'],
    ['a txn with an underscore', 1, { cmd: 'DISPENSE', txn: 'a_b', ml: 5 }, 'txn'],
    ['a txn with a non-ASCII letter', 1, { cmd: 'DISPENSE', txn: 'liều', ml: 5 }, 'txn'],
    ['ml 0', 1, { cmd: 'DISPENSE', txn: 'x', ml: 0 }, 'ml'],
    ['ml 0.04 (rounds to 0.0)', 1, { cmd: 'DISPENSE', txn: 'x', ml: 0.04 }, 'ml'],
    ['ml 200.05 (rounds to 200.1)', 1, { cmd: 'DISPENSE', txn: 'x', ml: 200.05 }, 'ml'],
    ['ml 201', 1, { cmd: 'DISPENSE', txn: 'x', ml: 201 }, 'ml'],
    ['ml -5', 1, { cmd: 'DISPENSE', txn: 'x', ml: -5 }, 'ml'],
    ['ml NaN', 1, { cmd: 'DISPENSE', txn: 'x', ml: NaN }, 'ml'],
    ['ml Infinity', 1, { cmd: 'DISPENSE', txn: 'x', ml: Infinity }, 'ml'],
    ['a QUERY with a bad txn', 1, { cmd: 'QUERY', txn: 'a*b' }, 'txn'],
    ['a PRIME of 0 ml', 1, { cmd: 'PRIME', ml: 0 }, 'ml'],
    ['a PRIME of 250 ml', 1, { cmd: 'PRIME', ml: 250 }, 'ml'],
    ['factor 0.499', 1, { cmd: 'CAL', factor: 0.499 }, 'factor'],
    ['factor 1.501', 1, { cmd: 'CAL', factor: 1.501 }, 'factor'],
    ['factor 0', 1, { cmd: 'CAL', factor: 0 }, 'factor'],
    ['factor NaN', 1, { cmd: 'CAL', factor: NaN }, 'factor'],
  ])('throws a RangeError for %s', (_name, seq, c, what) => {
    expect(rangeErrorOf(() => commandBody(seq, c))).toMatch(new RegExp(`^${what}`));
  });
});

describe('parseCommand (the pump reading a host frame)', () => {
  it.each<[string, number, Command]>([
    ['1 HELLO', 1, { cmd: 'HELLO' }],
    ['9999 STATUS', 9999, { cmd: 'STATUS' }],
    [`42 DISPENSE ${TXN} 12.5`, 42, { cmd: 'DISPENSE', txn: TXN, ml: 12.5 }],
    ['42 DISPENSE cal-check-1 0.1', 42, { cmd: 'DISPENSE', txn: 'cal-check-1', ml: 0.1 }],
    ['42 DISPENSE x 200.0', 42, { cmd: 'DISPENSE', txn: 'x', ml: 200 }],
    ['42 DISPENSE x 5', 42, { cmd: 'DISPENSE', txn: 'x', ml: 5 }],
    [`3 QUERY ${TXN_32}`, 3, { cmd: 'QUERY', txn: TXN_32 }],
    ['4 STOP', 4, { cmd: 'STOP' }],
    ['5 PRIME 2.0', 5, { cmd: 'PRIME', ml: 2 }],
    ['6 CAL 1.000', 6, { cmd: 'CAL', factor: 1 }],
    ['6 CAL 0.5', 6, { cmd: 'CAL', factor: 0.5 }],
    ['6 CAL 1.500', 6, { cmd: 'CAL', factor: 1.5 }],
  ])('%j', (body, seq, command) => {
    expect(parseCommand(body)).toEqual({ ok: true, seq, command });
  });

  it.each<[string, number | null, 'SYNTAX' | 'RANGE']>([
    // No readable seq: the answer cannot echo one.
    ['', null, 'SYNTAX'],
    ['HELLO', null, 'SYNTAX'],
    [' 1 HELLO', null, 'SYNTAX'],
    ['-1 HELLO', null, 'SYNTAX'],
    ['x HELLO', null, 'SYNTAX'],
    // A readable seq with a bad command.
    ['1', 1, 'SYNTAX'],
    ['1 hello', 1, 'SYNTAX'],
    ['1 HELLO now', 1, 'SYNTAX'],
    ['1  HELLO', 1, 'SYNTAX'],
    ['1 HELLO ', 1, 'SYNTAX'],
    ['1 FLY', 1, 'SYNTAX'],
    ['2 STOP 1', 2, 'SYNTAX'],
    ['2 DISPENSE abc', 2, 'SYNTAX'],
    ['2 DISPENSE abc 1.0 x', 2, 'SYNTAX'],
    ['2 DISPENSE abc 1.25', 2, 'SYNTAX'],
    ['2 DISPENSE abc .5', 2, 'SYNTAX'],
    ['2 DISPENSE abc -1.0', 2, 'SYNTAX'],
    ['2 DISPENSE abc 1,5', 2, 'SYNTAX'],
    ['2 DISPENSE abc 12345', 2, 'SYNTAX'],
    ['2 DISPENSE a_b 1.0', 2, 'SYNTAX'],
    [`2 DISPENSE ${'A'.repeat(33)} 1.0`, 2, 'SYNTAX'],
    ['2 DISPENSE 1.0', 2, 'SYNTAX'],
    ['2 DISPENSE abc 0.0', 2, 'RANGE'],
    ['2 DISPENSE abc 0', 2, 'RANGE'],
    ['2 DISPENSE abc 200.1', 2, 'RANGE'],
    ['2 DISPENSE abc 9999', 2, 'RANGE'],
    ['3 QUERY', 3, 'SYNTAX'],
    ['3 QUERY a b', 3, 'SYNTAX'],
    ['3 QUERY a.b', 3, 'SYNTAX'],
    ['4 PRIME', 4, 'SYNTAX'],
    ['4 PRIME 1.25', 4, 'SYNTAX'],
    ['4 PRIME 0.0', 4, 'RANGE'],
    ['4 PRIME 250', 4, 'RANGE'],
    ['5 CAL', 5, 'SYNTAX'],
    ['5 CAL 1', 5, 'SYNTAX'],
    ['5 CAL 1.0001', 5, 'SYNTAX'],
    ['5 CAL 10.0', 5, 'SYNTAX'],
    ['5 CAL 0.499', 5, 'RANGE'],
    ['5 CAL 1.501', 5, 'RANGE'],
    ['5 CAL 2.0', 5, 'RANGE'],
  ])('%j → ERR %s %s', (body, seq, error) => {
    expect(parseCommand(body)).toEqual({ ok: false, seq, error } satisfies ParsedCommand);
  });

  describe('seq runs 1–9999', () => {
    it.each([1, 9, 10, 99, 100, 999, 1000, 9998, 9999])('%d is read', (seq) => {
      expect(parseCommand(`${seq} HELLO`)).toEqual({ ok: true, seq, command: { cmd: 'HELLO' } });
    });

    it.each(['0', '00', '01', '0001', '10000', '99999', '1.0', '+1', '1e3'])('%j is not a seq', (seq) => {
      expect(parseCommand(`${seq} HELLO`)).toEqual({ ok: false, seq: null, error: 'SYNTAX' });
    });
  });

  it('reads back every command commandBody writes (property)', () => {
    const txnArb = fc.string({ unit: fc.constantFrom(...'ABCXYZabcxyz0189-'), minLength: 1, maxLength: 32 });
    const mlArb = fc.integer({ min: 1, max: 2000 }).map((t) => t / 10);
    const commandArb: fc.Arbitrary<Command> = fc.oneof(
      fc.constantFrom<Command>({ cmd: 'HELLO' }, { cmd: 'STATUS' }, { cmd: 'STOP' }),
      fc.record({ cmd: fc.constant('DISPENSE' as const), txn: txnArb, ml: mlArb }),
      fc.record({ cmd: fc.constant('QUERY' as const), txn: txnArb }),
      fc.record({ cmd: fc.constant('PRIME' as const), ml: mlArb }),
      fc.record({ cmd: fc.constant('CAL' as const), factor: fc.integer({ min: 500, max: 1500 }).map((t) => t / 1000) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: SEQ_MAX }), commandArb, (seq, command) => {
        expect(parseCommand(commandBody(seq, command))).toEqual({ ok: true, seq, command });
      }),
    );
  });
});

describe('nextSeq', () => {
  it.each([
    [1, 2],
    [41, 42],
    [9998, 9999],
    [9999, 1],
  ])('%d → %d', (seq, next) => {
    expect(nextSeq(seq)).toBe(next);
  });

  it('visits each of 1–9999 once before it wraps back to 1', () => {
    const seen = new Set<number>();
    let s = 1;
    do {
      expect(s).toBeGreaterThanOrEqual(1);
      expect(s).toBeLessThanOrEqual(SEQ_MAX);
      seen.add(s);
      s = nextSeq(s);
    } while (s !== 1 && seen.size <= SEQ_MAX);
    expect(seen.size).toBe(SEQ_MAX);
  });
});

// ---------------------------------------------------------------------------
// Pump → host

describe('parsePumpMessage', () => {
  it.each<[string, PumpMessage]>([
    ['OK 1', { type: 'OK', seq: 1, fields: {} }],
    ['OK 12 MODEL=MethaDose 200 SERIAL=MD-0042 FW=1.4.2', { type: 'OK', seq: 12, fields: { MODEL: 'MethaDose 200', SERIAL: 'MD-0042', FW: '1.4.2' } }],
    ['OK 12 MODEL=Peri Pump Pro X SERIAL=A FW=2', { type: 'OK', seq: 12, fields: { MODEL: 'Peri Pump Pro X', SERIAL: 'A', FW: '2' } }],
    ['OK 7 STATE=IDLE RESERVOIR=812.5 CAL=1.000', { type: 'OK', seq: 7, fields: { STATE: 'IDLE', RESERVOIR: '812.5', CAL: '1.000' } }],
    ['OK 9999 STATE=DISPENSING RESERVOIR=0.0 CAL=0.950', { type: 'OK', seq: 9999, fields: { STATE: 'DISPENSING', RESERVOIR: '0.0', CAL: '0.950' } }],
    [`ACK 3 ${TXN}`, { type: 'ACK', seq: 3, txn: TXN }],
    [`TXN 4 ${TXN} DONE 12.5`, { type: 'TXN', seq: 4, txn: TXN, state: 'DONE', ml: 12.5 }],
    ['TXN 4 abc UNKNOWN 0.0', { type: 'TXN', seq: 4, txn: 'abc', state: 'UNKNOWN', ml: 0 }],
    ['TXN 4 abc RUNNING 3', { type: 'TXN', seq: 4, txn: 'abc', state: 'RUNNING', ml: 3 }],
    ['ERR 5 BUSY', { type: 'ERR', seq: 5, code: 'BUSY' }],
    ['ERR 5 RANGE', { type: 'ERR', seq: 5, code: 'RANGE' }],
    ['ERR 5 SYNTAX', { type: 'ERR', seq: 5, code: 'SYNTAX' }],
    // The pump could not trust the frame's seq, so it sends `-`.
    ['ERR - CHECKSUM', { type: 'ERR', seq: null, code: 'CHECKSUM' }],
    ['PRIMED 5.0', { type: 'PRIMED', ml: 5 }],
    [`PROGRESS ${TXN} 3.2`, { type: 'PROGRESS', txn: TXN, ml: 3.2 }],
    [`DONE ${TXN} 12.4`, { type: 'DONE', txn: TXN, ml: 12.4 }],
    ['DONE abc 12.45', { type: 'DONE', txn: 'abc', ml: 12.45 }],
    [`FAULT ${TXN} AIR_IN_LINE 3.1`, { type: 'FAULT', txn: TXN, code: 'AIR_IN_LINE', ml: 3.1 }],
    ['ALARM RESERVOIR_LOW', { type: 'ALARM', code: 'RESERVOIR_LOW' }],
  ])('%j', (body, expected) => {
    expect(parsePumpMessage(body)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['an unknown word', 'HELLO'],
    ['a lower-case word', 'ok 1'],
    ['a host command', '1 HELLO'],
    ['OK without seq', 'OK'],
    ['OK with a bad seq', 'OK x'],
    ['OK with seq 0', 'OK 0'],
    ['OK with seq 10000', 'OK 10000'],
    ['OK with text that is no field', 'OK 1 ready'],
    ['OK with a lower-case key', 'OK 1 model=x'],
    ['OK with text before the first field', 'OK 1 ready MODEL=x'],
    ['ACK without txn', 'ACK 1'],
    ['ACK with two txns', 'ACK 1 a b'],
    ['ACK with `-` for seq', 'ACK - abc'],
    ['ACK with a bad txn', 'ACK 1 a_b'],
    ['TXN without ml', 'TXN 1 abc DONE'],
    ['TXN with an unknown state', 'TXN 1 abc FINISHED 1.0'],
    ['TXN with a lower-case state', 'TXN 1 abc done 1.0'],
    ['TXN with a bad ml', 'TXN 1 abc DONE x'],
    ['TXN with a bad txn', 'TXN 1 a_b DONE 1.0'],
    ['TXN with an extra field', 'TXN 1 abc DONE 1.0 x'],
    ['ERR without code', 'ERR 1'],
    ['ERR with a lower-case code', 'ERR 1 busy'],
    ['ERR with a bad seq', 'ERR x BUSY'],
    ['ERR with seq 0', 'ERR 0 BUSY'],
    ['ERR with an extra field', 'ERR 1 BUSY now'],
    ['ERR with nothing', 'ERR'],
    ['PRIMED without ml', 'PRIMED'],
    ['PRIMED with two volumes', 'PRIMED 1.0 2.0'],
    ['PRIMED with a negative volume', 'PRIMED -1.0'],
    ['PROGRESS without ml', 'PROGRESS abc'],
    ['DONE with an extra field', 'DONE abc 1.0 2.0'],
    ['DONE with a decimal comma', 'DONE abc 1,5'],
    ['DONE with a bad txn', 'DONE a*b 1.0'],
    ['FAULT without code', 'FAULT abc 1.0'],
    ['FAULT with a lower-case code', 'FAULT abc air 1.0'],
    ['ALARM without code', 'ALARM'],
    ['ALARM with two codes', 'ALARM A B'],
    ['ALARM with a lower-case code', 'ALARM low'],
  ])('%s (%j) → null', (_name, body) => {
    expect(parsePumpMessage(body)).toBeNull();
  });

  describe('messageBody → parsePumpMessage round trip', () => {
    it.each<[PumpMessage, string]>([
      [{ type: 'OK', seq: 1, fields: {} }, 'OK 1'],
      [{ type: 'OK', seq: 12, fields: { MODEL: 'MethaDose 200', SERIAL: 'MD-0042', FW: '1.4.2' } }, 'OK 12 MODEL=MethaDose 200 SERIAL=MD-0042 FW=1.4.2'],
      [{ type: 'OK', seq: 7, fields: { STATE: 'PRIMING', RESERVOIR: '812.5', CAL: '1.000' } }, 'OK 7 STATE=PRIMING RESERVOIR=812.5 CAL=1.000'],
      [{ type: 'ACK', seq: 3, txn: TXN }, `ACK 3 ${TXN}`],
      [{ type: 'TXN', seq: 4, txn: 'abc', state: 'PENDING', ml: 0 }, 'TXN 4 abc PENDING 0.0'],
      [{ type: 'TXN', seq: 4, txn: 'abc', state: 'FAULT', ml: 7 }, 'TXN 4 abc FAULT 7.0'],
      [{ type: 'ERR', seq: 5, code: 'BUSY' }, 'ERR 5 BUSY'],
      [{ type: 'ERR', seq: null, code: 'CHECKSUM' }, 'ERR - CHECKSUM'],
      [{ type: 'PRIMED', ml: 5 }, 'PRIMED 5.0'],
      [{ type: 'PROGRESS', txn: TXN, ml: 3.2 }, `PROGRESS ${TXN} 3.2`],
      [{ type: 'DONE', txn: TXN, ml: 200 }, `DONE ${TXN} 200.0`],
      [{ type: 'FAULT', txn: TXN, code: 'OCCLUSION', ml: 0.4 }, `FAULT ${TXN} OCCLUSION 0.4`],
      [{ type: 'ALARM', code: 'RESERVOIR_LOW' }, 'ALARM RESERVOIR_LOW'],
    ])('%j ↔ %j', (m, body) => {
      expect(messageBody(m)).toBe(body);
      expect(parsePumpMessage(messageBody(m))).toEqual(m);
    });

    it.each(TXN_STATES)('TXN %s', (state) => {
      const m: PumpMessage = { type: 'TXN', seq: 9, txn: TXN, state, ml: 12.5 };
      expect(parsePumpMessage(messageBody(m))).toEqual(m);
    });

    it.each(FAULT_CODES)('FAULT %s', (code) => {
      const m: PumpMessage = { type: 'FAULT', txn: TXN, code, ml: 1.5 };
      expect(parsePumpMessage(messageBody(m))).toEqual(m);
    });

    it.each(ERROR_CODES)('ERR %s', (code) => {
      const m: PumpMessage = { type: 'ERR', seq: code === 'CHECKSUM' ? null : 9, code };
      expect(parsePumpMessage(messageBody(m))).toEqual(m);
    });

    it('through a frame on the wire', () => {
      const m: PumpMessage = { type: 'OK', seq: 12, fields: { MODEL: 'MethaDose 200', SERIAL: 'MD-0042', FW: '1.4.2' } };
      expect(oneChunk(encodeFrame(messageBody(m))).bodies.map(parsePumpMessage)).toEqual([m]);
    });
  });
});

// ---------------------------------------------------------------------------

describe('txnOfDose / doseOfTxn', () => {
  const uuids = ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-4fff-bfff-ffffffffffff', '3f2c9a10-b4d8-4e0f-9a7c-1e2d3b4a5968', ...Array.from({ length: 5 }, () => randomUUID())];

  it.each(uuids)('%s round-trips through a 32-character txn', (id) => {
    const txn = txnOfDose(id);
    expect(txn).toHaveLength(32);
    expect(txn).toMatch(/^[0-9a-f]{32}$/);
    expect(isTxnId(txn)).toBe(true);
    expect(doseOfTxn(txn)).toBe(id);
  });

  it('round-trips any uuid (property)', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        const txn = txnOfDose(id);
        expect(txn).toHaveLength(32);
        expect(isTxnId(txn)).toBe(true);
        expect(doseOfTxn(txn)).toBe(id);
      }),
    );
  });

  it.each<[string, string]>([
    ['a calibration check', 'cal-check-1'],
    ['a short id', 'abc'],
    ['31 hex digits', 'a'.repeat(31)],
    ['33 hex digits', 'a'.repeat(33)],
    ['a uuid with its hyphens', '3f2c9a10-b4d8-4e0f-9a7c-1e2d3b4a5968'],
    ['upper-case hex', '3F2C9A10B4D84E0F9A7C1E2D3B4A5968'],
    ['32 characters that are not hex', 'g'.repeat(32)],
    ['empty', ''],
  ])('%s (%j) is not a dose → null', (_name, txn) => {
    expect(doseOfTxn(txn)).toBeNull();
  });
});
