// One configured pump, as this server instance sees it: its line, the
// heartbeat (STATUS every statusIntervalMs, so an unplugged or switched-off
// pump is noticed within 5 s), the identity check at each connection, and the
// doses it is delivering now. What it may do is decided from these facts by
// readiness() below, the one place that says whether the counter may dose.
import type { Line } from '../../devices/mpp/line.ts';
import { MppDriver } from '../../devices/mpp/driver.ts';
import type { PumpOptions } from '../../devices/options.ts';
import type { Pump, PumpIdentity, PumpStatus } from '../../devices/pump.ts';
import type { Logger } from '../log.ts';

export interface PumpConfig {
  id: string;
  clinicId: string;
  name: string;
  path: string;
  baudRate: number;
  expectedSerial: string | null;
  /** The clinic's limit on the age of the last calibration (hours). */
  calibrationMaxHours: number;
  lastCalibrationAt: Date | null;
}

export const BLOCK_REASONS = ['unconfirmed', 'serial_mismatch', 'calibration_due', 'fault'] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

export type Readiness = { state: 'ready' } | { state: 'offline' } | { state: 'busy' } | { state: 'blocked'; reason: BlockReason };

export interface ActiveDose {
  doseId: string;
  txn: string;
  plannedMl: number;
  ml: number;
  stopping: boolean;
}

/** How a pump's dialect is spoken on its line: MPP/1 today; a vendor's dialect is another implementation of Pump. */
export type DriverFactory = (line: Line, opts: PumpOptions) => Pump;
export const mppDriver: DriverFactory = (line, opts) => new MppDriver(line, opts);

export class Station {
  /** Everything above this line sees only the Pump interface. */
  readonly driver: Pump;
  identity: PumpIdentity | null = null;
  status: PumpStatus | null = null;
  /** STATUS answered on the last beat: a pump switched off with its line still open stops answering. */
  answering = false;
  readonly active = new Map<string, ActiveDose>();
  private beat: NodeJS.Timeout | null = null;
  private beating = false;
  private closed = false;

  constructor(
    public config: PumpConfig,
    readonly line: Line,
    private readonly opts: PumpOptions,
    private readonly logger: Logger,
    /** Called when the line (re)opens and the pump answered HELLO: the runtime then asks after pending doses. */
    private readonly onConnected: (s: Station) => void,
    makeDriver: DriverFactory = mppDriver,
  ) {
    this.driver = makeDriver(line, opts);
    this.driver.onEvent((e) => {
      if (e.type === 'line') {
        this.answering = false;
        this.identity = null;
        if (e.open) void this.tick();
        else this.logger.warn('pump_line_closed', { pumpId: config.id });
      }
      if (e.type === 'alarm') this.logger.warn('pump_alarm', { pumpId: config.id, code: e.code });
    });
    this.beat = setInterval(() => void this.tick(), opts.statusIntervalMs);
    if (line.open) void this.tick();
  }

  get online(): boolean {
    return this.line.open && this.answering && this.identity !== null;
  }

  /** Whether the counter may start a dose on this pump now, and if not, why. */
  readiness(now: Date): Readiness {
    if (!this.online) return { state: 'offline' };
    if (!this.config.expectedSerial) return { state: 'blocked', reason: 'unconfirmed' };
    if (this.identity!.serial !== this.config.expectedSerial) return { state: 'blocked', reason: 'serial_mismatch' };
    const cal = this.config.lastCalibrationAt;
    if (!cal || now.getTime() - cal.getTime() > this.config.calibrationMaxHours * 3_600_000) return { state: 'blocked', reason: 'calibration_due' };
    if (this.status?.state === 'FAULT') return { state: 'blocked', reason: 'fault' };
    if (this.active.size > 0 || this.status?.state === 'DISPENSING' || this.status?.state === 'PRIMING') return { state: 'busy' };
    return { state: 'ready' };
  }

  /** One heartbeat: HELLO when the pump is not yet known on this connection, then STATUS. */
  async tick(): Promise<void> {
    if (this.beating || this.closed) return;
    this.beating = true;
    try {
      if (!this.line.open) {
        this.answering = false;
        return;
      }
      const fresh = this.identity === null;
      if (fresh) this.identity = await this.driver.identify();
      this.status = await this.driver.status();
      this.answering = true;
      if (fresh) {
        this.logger.info('pump_connected', { pumpId: this.config.id, matches: this.identity?.serial === this.config.expectedSerial });
        this.onConnected(this);
      }
    } catch {
      // Silent or gone: offline until it answers again, and identified again then (it may be another pump).
      if (this.answering) this.logger.warn('pump_not_answering', { pumpId: this.config.id });
      this.answering = false;
      this.identity = null;
    } finally {
      this.beating = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.beat) clearInterval(this.beat);
    await this.driver.close();
  }
}
