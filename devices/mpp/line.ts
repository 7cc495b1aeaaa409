// The byte pipe under the MPP/1 driver. The driver never opens a port: it is
// given a Line, so the same driver runs over a real serial port, the
// serialport mock binding, or a plain in-memory pipe in a test.
import { SerialPort } from 'serialport';

export interface Line {
  write(bytes: Buffer): void;
  /** Bytes from the pump, in whatever pieces the transport delivers them. */
  onData(listener: (bytes: Buffer) => void): void;
  /** The line went down (closed, unplugged) or came back up. */
  onState(listener: (open: boolean) => void): void;
  readonly open: boolean;
  close(): Promise<void>;
}

type PortFactory = (path: string, baudRate: number) => SerialPort;

const realPort: PortFactory = (path, baudRate) =>
  // MPP/1's line: 8 data bits, no parity, 1 stop bit, no flow control.
  new SerialPort({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, rtscts: false, xon: false, xoff: false, autoOpen: false });

/**
 * A serial port that reopens itself: a USB adapter pulled out and plugged
 * back, or a PTY that went away and came back, is found again every
 * `reconnectMs` without anyone restarting the server.
 */
export class SerialLine implements Line {
  private port: SerialPort | null = null;
  private dataListeners: ((b: Buffer) => void)[] = [];
  private stateListeners: ((open: boolean) => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private isOpen = false;

  constructor(
    readonly path: string,
    readonly baudRate: number,
    private readonly reconnectMs: number,
    private readonly makePort: PortFactory = realPort,
  ) {
    this.connect();
  }

  get open(): boolean {
    return this.isOpen;
  }

  write(bytes: Buffer): void {
    if (this.port && this.isOpen) this.port.write(bytes);
  }

  onData(listener: (bytes: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  onState(listener: (open: boolean) => void): void {
    this.stateListeners.push(listener);
  }

  /** Resolves once the line is open (or after `ms`, with whether it is). */
  async waitOpen(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.isOpen && Date.now() < until && !this.closed) await new Promise((r) => setTimeout(r, 20));
    return this.isOpen;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.setOpen(false);
  }

  private connect(): void {
    if (this.closed) return;
    const port = this.makePort(this.path, this.baudRate);
    this.port = port;
    port.on('data', (b: Buffer) => {
      for (const l of this.dataListeners) l(b);
    });
    port.on('close', () => this.lost(port));
    port.on('error', () => this.lost(port));
    port.open((err) => {
      if (err) return this.lost(port);
      if (this.port === port) this.setOpen(true);
      // Closed while it was opening: no one else holds this port now, and left open it would lock the path for good.
      else port.close(() => {});
    });
  }

  private lost(port: SerialPort): void {
    if (this.port !== port) return;
    this.port = null;
    port.removeAllListeners('data');
    if (port.isOpen) port.close(() => {});
    this.setOpen(false);
    if (!this.closed && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, this.reconnectMs);
    }
  }

  private setOpen(open: boolean): void {
    if (this.isOpen === open) return;
    this.isOpen = open;
    for (const l of this.stateListeners) l(open);
  }
}
