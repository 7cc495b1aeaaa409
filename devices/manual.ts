// Manual mode: no pump on the line, the nurse measures the dose by hand. The
// counter records such a dose as completed at once (method 'manual'), exactly
// as before pumps existed; this implementation answers the interface for the
// places that ask a clinic's pump what it can do.
import { PumpError, type DispenseHandle, type DispenseOutcome, type Pump, type PumpEvent, type PumpIdentity, type PumpStatus } from './pump.ts';

export class ManualPump implements Pump {
  readonly kind = 'manual';
  readonly online = true;

  async identify(): Promise<PumpIdentity> {
    return { model: 'manual', serial: '', firmware: '' };
  }

  /** Always idle: a measuring cylinder has no reservoir to report and no calibration to drift. */
  async status(): Promise<PumpStatus> {
    return { state: 'IDLE', reservoirMl: 0, calFactor: 1 };
  }

  /** The nurse measured `ml` by hand: delivered as asked, at once. */
  dispense(txn: string, ml: number): DispenseHandle {
    const outcome: DispenseOutcome = { kind: 'done', ml };
    return { txn, started: Promise.resolve({ acked: true }), outcome: Promise.resolve(outcome) };
  }

  async query(): Promise<never> {
    throw new PumpError('unsupported', 'manual mode keeps no transactions');
  }

  async watch(): Promise<never> {
    throw new PumpError('unsupported', 'manual mode keeps no transactions');
  }

  async stop(): Promise<void> {}

  async prime(): Promise<never> {
    throw new PumpError('unsupported', 'manual mode has no line to prime');
  }

  async calibrate(): Promise<never> {
    throw new PumpError('unsupported', 'manual mode has no calibration');
  }

  /** A measuring cylinder says nothing unprompted: the listener is never called. */
  onEvent(_listener: (e: PumpEvent) => void): () => void {
    return () => {};
  }

  async close(): Promise<void> {}
}
