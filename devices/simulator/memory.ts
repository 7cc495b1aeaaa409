// The pump's non-volatile memory: its recent transactions (so a repeated
// DISPENSE is never delivered twice, specification "Idempotency and
// recovery"), its reservoir level and its calibration factor. It survives a
// power cycle always, and a restart of the simulator process when given a
// store (the CLI's --state file).
import { FAULT_CODES, type FaultCode, type TxnState } from '../mpp/protocol.ts';
import { z } from 'zod';

/** The specification's minimum, and no more, so tests can pin the edge the driver relies on. */
export const TXN_MEMORY = 64;

/** A transaction's state as the pump keeps it (UNKNOWN is only ever an answer, never stored). */
export type SimTxnState = Exclude<TxnState, 'UNKNOWN'>;

export interface SimTxn {
  txn: string;
  requestedMl: number;
  /** What the pump measured; while the transaction runs, as of the last progress tick. */
  deliveredMl: number;
  state: SimTxnState;
  faultCode: FaultCode | null;
}

export interface SimMemory {
  /** Oldest first, at most TXN_MEMORY. */
  transactions: SimTxn[];
  reservoirMl: number;
  calFactor: number;
}

export interface SimMemoryStore {
  /** null when there is nothing yet (a new pump). */
  load(): SimMemory | null;
  save(m: SimMemory): void;
}

const simTxnSchema = z.object({
  txn: z.string(),
  requestedMl: z.number(),
  deliveredMl: z.number(),
  state: z.enum(['PENDING', 'RUNNING', 'DONE', 'FAULT']),
  faultCode: z.enum(FAULT_CODES).nullable(),
}) satisfies z.ZodType<SimTxn>;

/** A state file as written by save(); checked on load, since a person may have edited it. */
export const simMemorySchema = z.object({
  transactions: z.array(simTxnSchema),
  reservoirMl: z.number().finite().min(0),
  calFactor: z.number().finite(),
}) satisfies z.ZodType<SimMemory>;

/** The last TXN_MEMORY transactions, looked up by id. */
export class TxnBook {
  private readonly byId = new Map<string, SimTxn>();

  constructor(initial: readonly SimTxn[] = []) {
    for (const t of initial.slice(-TXN_MEMORY)) this.byId.set(t.txn, { ...t });
  }

  get(txn: string): SimTxn | undefined {
    return this.byId.get(txn);
  }

  /** Records a new transaction; the oldest is forgotten past TXN_MEMORY (Map keeps insertion order). */
  add(t: SimTxn): SimTxn {
    this.byId.set(t.txn, t);
    while (this.byId.size > TXN_MEMORY) {
      const oldest = this.byId.keys().next().value;
      if (oldest === undefined) break;
      this.byId.delete(oldest);
    }
    return t;
  }

  list(): SimTxn[] {
    return [...this.byId.values()].map((t) => ({ ...t }));
  }
}
