// What the counter knows of a pump: one interface, whatever sits behind it
// (the MPP/1 serial driver, manual mode, later a vendor's dialect). The
// counter never sees frames, sequence numbers or ports.
import type { PumpState, TxnState } from './mpp/protocol.ts';

export interface PumpIdentity {
  model: string;
  serial: string;
  firmware: string;
}

export interface PumpStatus {
  state: PumpState;
  reservoirMl: number;
  calFactor: number;
}

/** What became of one dispense, as far as the host can know. */
export type DispenseOutcome =
  /** The pump finished; `ml` is what it measured, not what was asked. */
  | { kind: 'done'; ml: number }
  /** It stopped early (`code` is the pump's fault code, or UNREPORTED when only a QUERY told of it). */
  | { kind: 'fault'; code: string; ml: number }
  /** The pump stayed silent through the recovery: `ml` is the last volume it reported. A person must resolve it. */
  | { kind: 'unknown'; ml: number }
  /** The pump did not take the transaction: nothing was delivered. */
  | { kind: 'not_started'; reason: NotStartedReason };

export type NotStartedReason = 'busy' | 'range' | 'syntax' | 'refused' | 'not_received';

export interface DispenseHandle {
  readonly txn: string;
  /**
   * Resolves when the pump acknowledged the transaction, or with the outcome
   * when that came first: not started (nothing delivered), or — after a lost
   * ACK — whatever the recovery learnt (done, fault or unknown: the pump may
   * well have delivered; read the outcome, not `acked`).
   */
  readonly started: Promise<{ acked: true } | { acked: false; outcome: DispenseOutcome }>;
  /** The final outcome: exactly one, always (it never rejects). */
  readonly outcome: Promise<DispenseOutcome>;
}

export type PumpEvent =
  | { type: 'progress'; txn: string; ml: number }
  | { type: 'alarm'; code: string }
  /** The line closed (unplugged) or reopened. */
  | { type: 'line'; open: boolean };

/** A failure of a command, for the caller to show and the log to carry. */
export class PumpError extends Error {
  constructor(
    /** 'offline': the line was down, nothing was sent; 'closed': it went down while waiting for the answer. */
    readonly code: 'timeout' | 'offline' | 'closed' | 'busy' | 'range' | 'syntax' | 'checksum' | 'refused' | 'unsupported',
    message: string = code,
  ) {
    super(message);
    this.name = 'PumpError';
  }
}

export interface Pump {
  readonly kind: 'mpp' | 'manual';
  identify(): Promise<PumpIdentity>;
  status(): Promise<PumpStatus>;
  /** Starts a transaction. Never re-sent by the driver: a lost line is answered by QUERY, per the protocol. */
  dispense(txn: string, ml: number, onProgress?: (ml: number) => void): DispenseHandle;
  /** What the pump says of a transaction (after a restart, or to reconcile). */
  query(txn: string): Promise<{ state: TxnState; ml: number }>;
  /** Follows a transaction already running (found by QUERY after a restart) to its outcome. */
  watch(txn: string, onProgress?: (ml: number) => void): Promise<DispenseOutcome>;
  /** Stops at once; a running transaction ends in FAULT STOPPED. */
  stop(): Promise<void>;
  /** Runs liquid through the line (not a dose); resolves with the volume primed. */
  prime(ml: number): Promise<number>;
  calibrate(factor: number): Promise<void>;
  /** Unprompted news: progress, alarms, the line going away or coming back. */
  onEvent(listener: (e: PumpEvent) => void): () => void;
  /** Whether the line is open now (a closed line fails every command at once). */
  readonly online: boolean;
  close(): Promise<void>;
}
