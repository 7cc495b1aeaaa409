// The driver suite over serialport's mock binding: the real SerialLine opens a
// SerialPortMock, and the simulator core runs in this process, wired to the
// mock port's two directions (what the host writes goes to sim.consume, what
// the pump says is injected with emitData).
import type { SerialPort } from 'serialport';
import { SerialPortMock } from 'serialport';
import { describe, expect, it } from 'vitest';
import { MppDriver } from '../../devices/mpp/driver.ts';
import { SerialLine } from '../../devices/mpp/line.ts';
import { PumpSimulator } from '../../devices/simulator/core.ts';
import { hostedRig, pumpDriverSuite, type PumpRig, type RigHost, type RigSetup } from '../helpers/pump-driver-suite.ts';

type MockPortBinding = NonNullable<SerialPortMock['port']>;

let ports = 0;

async function mockRig({ options, behaviour, serial }: RigSetup): Promise<PumpRig> {
  const path = `/dev/mock-pump-${process.pid}-${++ports}`;
  SerialPortMock.binding.createPort(path, { echo: false, record: true });
  /** The binding of the port open now; the pump's words go nowhere while none is. */
  let wire: MockPortBinding | null = null;
  const sim = new PumpSimulator(
    (bytes) => {
      if (wire?.isOpen) wire.emitData(bytes);
    },
    { serial, behaviour },
  );

  // SerialLine's factory: a mock port whose binding, once open, hands every write to the pump.
  const makePort = (p: string, baudRate: number): SerialPort => {
    const port = new SerialPortMock({ path: p, baudRate, autoOpen: false });
    port.on('open', () => {
      const binding = port.port!;
      const write = binding.write.bind(binding);
      binding.write = async (buffer: Buffer) => {
        await write(buffer);
        sim.consume(buffer);
      };
      wire = binding;
    });
    port.on('close', () => {
      if (wire === port.port) wire = null;
    });
    // SerialPortMock is a SerialPortStream on the mock binding: everything SerialLine uses is the same.
    return port as unknown as SerialPort;
  };

  const lines: SerialLine[] = [];
  async function host(): Promise<RigHost> {
    const line = new SerialLine(path, 9600, options.reconnectMs, makePort);
    lines.push(line);
    if (!(await line.waitOpen(2000))) throw new Error('the mock port did not open');
    return { line, driver: new MppDriver(line, options) };
  }

  return hostedRig(
    {
      set: async (patch) => sim.set(patch),
      report: async () => sim.report(),
      powerCycle: async (offMs) => sim.powerCycle(offMs),
      speak: async () => sim.speak(),
    },
    host,
    async () => {
      for (const l of lines) await l.close();
      sim.dispose();
    },
  );
}

pumpDriverSuite('the serialport mock binding', mockRig, { unplug: false });

describe('SerialLine over the mock binding', () => {
  it('a line closed while its port is still opening releases the port, so the path can be opened again', async () => {
    const path = `/dev/mock-pump-${process.pid}-${++ports}`;
    SerialPortMock.binding.createPort(path, { echo: false, record: true });
    const makePort = (p: string, baudRate: number) => new SerialPortMock({ path: p, baudRate, autoOpen: false }) as unknown as SerialPort;
    const early = new SerialLine(path, 9600, 250, makePort);
    await early.close(); // before the open has completed
    expect(early.open).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    const next = new SerialLine(path, 9600, 250, makePort);
    try {
      // The mock binding locks an open path, as a real port is locked: a port left open would keep this one out for good.
      expect(await next.waitOpen(1000)).toBe(true);
    } finally {
      await next.close();
    }
  });
});
