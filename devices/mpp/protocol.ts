// MPP/1, the pump's line protocol (../shared/design/pump-protocol.md), without
// any transport: bytes go in through FrameReader.consume(), whole frame bodies
// come out through a callback, and typed messages are parsed from them. Both
// directions live here so the driver and the simulator share one reading of
// the specification and cannot drift apart.

/** Longest frame either side accepts, CR LF included. The longest legitimate one (HELLO's answer with long texts) is far shorter; a line past this is noise, not a frame. */
export const MAX_FRAME_BYTES = 256;

/** Sequence numbers run 1–9999 and wrap (the specification's range). */
export const SEQ_MAX = 9999;

/** The volume a DISPENSE may ask for, in ml, one decimal (specification). */
export const DISPENSE_ML = { min: 0.1, max: 200 } as const;
/** The calibration factor a CAL may set (specification). */
export const CAL_FACTOR = { min: 0.5, max: 1.5 } as const;

export const PUMP_STATES = ['IDLE', 'DISPENSING', 'PRIMING', 'FAULT'] as const;
export type PumpState = (typeof PUMP_STATES)[number];

export const TXN_STATES = ['PENDING', 'RUNNING', 'DONE', 'FAULT', 'UNKNOWN'] as const;
export type TxnState = (typeof TXN_STATES)[number];

export const FAULT_CODES = ['RESERVOIR_EMPTY', 'AIR_IN_LINE', 'OCCLUSION', 'DOOR_OPEN', 'STOPPED', 'POWER'] as const;
export type FaultCode = (typeof FAULT_CODES)[number];

export const ERROR_CODES = ['BUSY', 'RANGE', 'SYNTAX', 'CHECKSUM'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** A transaction id: 1–32 characters of A-Za-z0-9- (specification). */
const TXN_RE = /^[A-Za-z0-9-]{1,32}$/;
/** A volume as either side writes it: digits with an optional decimal part. */
const ML_RE = /^\d{1,4}(\.\d{1,3})?$/;
const FACTOR_RE = /^\d\.\d{1,3}$/;
const SEQ_RE = /^[1-9]\d{0,3}$/;

export function isTxnId(s: string): boolean {
  return TXN_RE.test(s);
}

/** XOR of every byte of the body, as two upper-case hex digits (as in NMEA 0183). */
export function checksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i) & 0xff;
  return x.toString(16).toUpperCase().padStart(2, '0');
}

/** One frame on the wire: body, `*`, checksum, CR LF. */
export function encodeFrame(body: string): Buffer {
  if (!isPrintableAscii(body) || body.includes('*')) throw new RangeError('frame body must be printable ASCII without *');
  return Buffer.from(`${body}*${checksum(body)}\r\n`, 'ascii');
}

function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Why a line was not a frame (for counting and logging; the line itself may be noise). */
export type Rejection = 'checksum' | 'no_checksum' | 'too_long' | 'not_ascii' | 'no_cr';

/**
 * Splits a byte stream into frame bodies. Bytes may arrive in any pieces
 * (one at a time, several frames at once, a frame torn across reads): the
 * result is the same. A line that is not a valid frame is dropped whole and
 * reported to `onReject`; reading goes on at the next LF, so one burst of
 * noise costs at most the frame it touched.
 */
export class FrameReader {
  private buf: number[] = [];
  /** Set once the current line ran past MAX_FRAME_BYTES: the rest of it is skipped. */
  private overflow = false;

  constructor(
    private readonly onFrame: (body: string) => void,
    private readonly onReject: (why: Rejection) => void = () => {},
  ) {}

  consume(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (byte === 0x0a) {
        this.endLine();
        continue;
      }
      if (this.overflow) continue;
      // The LF is never stored, so a frame of MAX_FRAME_BYTES leaves at most MAX_FRAME_BYTES - 1 here.
      if (this.buf.length >= MAX_FRAME_BYTES - 1) {
        this.overflow = true;
        this.buf = [];
        continue;
      }
      this.buf.push(byte);
    }
  }

  /** Forgets a partial line (the port was reopened: what came before is from another life). */
  reset(): void {
    this.buf = [];
    this.overflow = false;
  }

  private endLine(): void {
    const line = this.buf;
    const overflow = this.overflow;
    this.reset();
    if (overflow) return this.onReject('too_long');
    // An empty line (a lone LF, or CR LF) is line noise between frames, not a frame.
    if (line.length === 0 || (line.length === 1 && line[0] === 0x0d)) return;
    if (line[line.length - 1] !== 0x0d) return this.onReject('no_cr');
    line.pop();
    if (line.some((b) => b < 0x20 || b > 0x7e)) return this.onReject('not_ascii');
    const text = String.fromCharCode(...line);
    const star = text.lastIndexOf('*');
    if (star < 0 || text.length - star !== 3) return this.onReject('no_checksum');
    const body = text.slice(0, star);
    if (text.slice(star + 1) !== checksum(body) || body.length === 0) return this.onReject('checksum');
    this.onFrame(body);
  }
}

// ---------------------------------------------------------------------------
// Host → pump

export type Command =
  | { cmd: 'HELLO' }
  | { cmd: 'STATUS' }
  | { cmd: 'DISPENSE'; txn: string; ml: number }
  | { cmd: 'QUERY'; txn: string }
  | { cmd: 'STOP' }
  | { cmd: 'PRIME'; ml: number }
  | { cmd: 'CAL'; factor: number };

/** A volume as MPP/1 writes it: one decimal. */
export function formatMl(ml: number): string {
  return (Math.round(ml * 10) / 10).toFixed(1);
}

export function formatFactor(factor: number): string {
  return factor.toFixed(3);
}

/** Whether a volume may be sent in a DISPENSE or PRIME (0.1–200.0 after rounding to one decimal). */
export function isDispensableMl(ml: number): boolean {
  const r = Math.round(ml * 10) / 10;
  return Number.isFinite(ml) && r >= DISPENSE_ML.min && r <= DISPENSE_ML.max;
}

export function isCalFactor(f: number): boolean {
  return Number.isFinite(f) && f >= CAL_FACTOR.min && f <= CAL_FACTOR.max;
}

/** The body of a command. Throws on values the specification does not allow: the driver validates before it sends. */
export function commandBody(seq: number, c: Command): string {
  if (!Number.isInteger(seq) || seq < 1 || seq > SEQ_MAX) throw new RangeError(`seq ${seq}`);
  switch (c.cmd) {
    case 'HELLO':
    case 'STATUS':
    case 'STOP':
      return `${seq} ${c.cmd}`;
    case 'DISPENSE':
      if (!isTxnId(c.txn)) throw new RangeError('txn');
      if (!isDispensableMl(c.ml)) throw new RangeError('ml');
      return `${seq} DISPENSE ${c.txn} ${formatMl(c.ml)}`;
    case 'QUERY':
      if (!isTxnId(c.txn)) throw new RangeError('txn');
      return `${seq} QUERY ${c.txn}`;
    case 'PRIME':
      if (!isDispensableMl(c.ml)) throw new RangeError('ml');
      return `${seq} PRIME ${formatMl(c.ml)}`;
    case 'CAL':
      if (!isCalFactor(c.factor)) throw new RangeError('factor');
      return `${seq} CAL ${formatFactor(c.factor)}`;
    default:
      return c satisfies never;
  }
}

/** The sequence number after `seq`: 9999 wraps to 1 (0 is never used). */
export function nextSeq(seq: number): number {
  return seq >= SEQ_MAX ? 1 : seq + 1;
}

/** What the pump makes of a frame body: a command, or the error it answers. */
export type ParsedCommand = { ok: true; seq: number; command: Command } | { ok: false; seq: number | null; error: 'SYNTAX' | 'RANGE' };

/** The pump's reading of a host frame (the simulator uses it; any pump must read the same way). */
export function parseCommand(body: string): ParsedCommand {
  const parts = body.split(' ');
  const seqText = parts[0] ?? '';
  if (!SEQ_RE.test(seqText)) return { ok: false, seq: null, error: 'SYNTAX' };
  const seq = Number(seqText);
  const syntax = { ok: false, seq, error: 'SYNTAX' } as const;
  const range = { ok: false, seq, error: 'RANGE' } as const;
  const name = parts[1];
  const args = parts.slice(2);
  switch (name) {
    case 'HELLO':
    case 'STATUS':
    case 'STOP':
      return args.length === 0 ? { ok: true, seq, command: { cmd: name } } : syntax;
    case 'DISPENSE': {
      const [txn, ml] = args;
      if (args.length !== 2 || !isTxnId(txn!) || !/^\d{1,4}(\.\d)?$/.test(ml!)) return syntax;
      const v = Number(ml);
      return v >= DISPENSE_ML.min && v <= DISPENSE_ML.max ? { ok: true, seq, command: { cmd: 'DISPENSE', txn: txn!, ml: v } } : range;
    }
    case 'QUERY':
      return args.length === 1 && isTxnId(args[0]!) ? { ok: true, seq, command: { cmd: 'QUERY', txn: args[0]! } } : syntax;
    case 'PRIME': {
      if (args.length !== 1 || !/^\d{1,4}(\.\d)?$/.test(args[0]!)) return syntax;
      const v = Number(args[0]);
      return v >= DISPENSE_ML.min && v <= DISPENSE_ML.max ? { ok: true, seq, command: { cmd: 'PRIME', ml: v } } : range;
    }
    case 'CAL': {
      if (args.length !== 1 || !FACTOR_RE.test(args[0]!)) return syntax;
      const f = Number(args[0]);
      return isCalFactor(f) ? { ok: true, seq, command: { cmd: 'CAL', factor: f } } : range;
    }
    default:
      return syntax;
  }
}

// ---------------------------------------------------------------------------
// Pump → host

export type PumpMessage =
  /** A direct answer; `fields` holds HELLO's MODEL/SERIAL/FW or STATUS's STATE/RESERVOIR/CAL (empty for STOP, PRIME, CAL). */
  | { type: 'OK'; seq: number; fields: Record<string, string> }
  | { type: 'ACK'; seq: number; txn: string }
  | { type: 'TXN'; seq: number; txn: string; state: TxnState; ml: number }
  /** `seq` is null for CHECKSUM, which the pump sends with `-` (it could not trust the frame's seq). */
  | { type: 'ERR'; seq: number | null; code: string }
  | { type: 'PRIMED'; ml: number }
  | { type: 'PROGRESS'; txn: string; ml: number }
  | { type: 'DONE'; txn: string; ml: number }
  | { type: 'FAULT'; txn: string; code: string; ml: number }
  | { type: 'ALARM'; code: string };

const CODE_RE = /^[A-Z][A-Z0-9_]{0,31}$/;

function seqOf(s: string | undefined): number | null {
  return s !== undefined && SEQ_RE.test(s) ? Number(s) : null;
}

function mlOf(s: string | undefined): number | null {
  return s !== undefined && ML_RE.test(s) ? Number(s) : null;
}

/**
 * `KEY=value` pairs, where a value runs to the next ` KEY=`: a model name
 * may hold spaces ("MODEL=MethaDose 200"), and the specification does not
 * forbid them.
 */
function fieldsOf(rest: string): Record<string, string> | null {
  if (rest === '') return {};
  const out: Record<string, string> = {};
  const re = /(?:^| )([A-Z][A-Z0-9_]*)=/g;
  const keys: { key: string; start: number; valueStart: number }[] = [];
  for (let m = re.exec(rest); m; m = re.exec(rest)) keys.push({ key: m[1]!, start: m.index, valueStart: m.index + m[0].length });
  if (keys.length === 0 || keys[0]!.start !== 0) return null;
  keys.forEach((k, i) => {
    out[k.key] = rest.slice(k.valueStart, i + 1 < keys.length ? keys[i + 1]!.start : rest.length);
  });
  return out;
}

/** A pump frame's body as a typed message; null for anything MPP/1 does not define (the host ignores it). */
export function parsePumpMessage(body: string): PumpMessage | null {
  const sp = body.indexOf(' ');
  const word = sp < 0 ? body : body.slice(0, sp);
  const rest = sp < 0 ? '' : body.slice(sp + 1);
  const a = rest === '' ? [] : rest.split(' ');
  switch (word) {
    case 'OK': {
      const seq = seqOf(a[0]);
      if (seq === null) return null;
      const fields = fieldsOf(a.length > 1 ? rest.slice(a[0]!.length + 1) : '');
      return fields ? { type: 'OK', seq, fields } : null;
    }
    case 'ACK': {
      const seq = seqOf(a[0]);
      return seq !== null && a.length === 2 && isTxnId(a[1]!) ? { type: 'ACK', seq, txn: a[1]! } : null;
    }
    case 'TXN': {
      const seq = seqOf(a[0]);
      const ml = mlOf(a[3]);
      const state = a[2] as TxnState;
      if (seq === null || a.length !== 4 || !isTxnId(a[1]!) || !TXN_STATES.includes(state) || ml === null) return null;
      return { type: 'TXN', seq, txn: a[1]!, state, ml };
    }
    case 'ERR': {
      if (a.length !== 2 || !CODE_RE.test(a[1]!)) return null;
      if (a[0] === '-') return { type: 'ERR', seq: null, code: a[1]! };
      const seq = seqOf(a[0]);
      return seq === null ? null : { type: 'ERR', seq, code: a[1]! };
    }
    case 'PRIMED': {
      const ml = mlOf(a[0]);
      return a.length === 1 && ml !== null ? { type: 'PRIMED', ml } : null;
    }
    case 'PROGRESS':
    case 'DONE': {
      const ml = mlOf(a[1]);
      return a.length === 2 && isTxnId(a[0]!) && ml !== null ? { type: word, txn: a[0]!, ml } : null;
    }
    case 'FAULT': {
      const ml = mlOf(a[2]);
      return a.length === 3 && isTxnId(a[0]!) && CODE_RE.test(a[1]!) && ml !== null ? { type: 'FAULT', txn: a[0]!, code: a[1]!, ml } : null;
    }
    case 'ALARM':
      return a.length === 1 && CODE_RE.test(a[0]!) ? { type: 'ALARM', code: a[0]! } : null;
    default:
      return null;
  }
}

/** The body of a pump frame (the simulator writes these; tests build expected frames with it). */
export function messageBody(m: PumpMessage): string {
  switch (m.type) {
    case 'OK': {
      const f = Object.entries(m.fields).map(([k, v]) => `${k}=${v}`);
      return [`OK ${m.seq}`, ...f].join(' ');
    }
    case 'ACK':
      return `ACK ${m.seq} ${m.txn}`;
    case 'TXN':
      return `TXN ${m.seq} ${m.txn} ${m.state} ${formatMl(m.ml)}`;
    case 'ERR':
      return `ERR ${m.seq ?? '-'} ${m.code}`;
    case 'PRIMED':
      return `PRIMED ${formatMl(m.ml)}`;
    case 'PROGRESS':
    case 'DONE':
      return `${m.type} ${m.txn} ${formatMl(m.ml)}`;
    case 'FAULT':
      return `FAULT ${m.txn} ${m.code} ${formatMl(m.ml)}`;
    case 'ALARM':
      return `ALARM ${m.code}`;
    default:
      return m satisfies never;
  }
}

/** The transaction id of a dose: its uuid without hyphens (32 hex digits, inside the 32-character limit). */
export function txnOfDose(doseId: string): string {
  return doseId.replace(/-/g, '');
}

/** The dose id back from a transaction id made by txnOfDose; null for others (a calibration check's). */
export function doseOfTxn(txn: string): string | null {
  if (!/^[0-9a-f]{32}$/.test(txn)) return null;
  return `${txn.slice(0, 8)}-${txn.slice(8, 12)}-${txn.slice(12, 16)}-${txn.slice(16, 20)}-${txn.slice(20)}`;
}
