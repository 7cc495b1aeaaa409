// Manual mode: no pump on the line, the nurse measures. It answers the Pump
// interface so code that asks a clinic's pump gets a truthful answer: always
// idle, a dispense is what the nurse measured, and no device actions.
import { describe, expect, it } from 'vitest';
import { ManualPump } from '../../devices/manual.ts';
import { PumpError } from '../../devices/pump.ts';

describe('manual mode', () => {
  const pump = new ManualPump();

  it('is always online and idle, with nothing to report of a reservoir or a calibration', async () => {
    expect(pump.kind).toBe('manual');
    expect(pump.online).toBe(true);
    expect(await pump.identify()).toEqual({ model: 'manual', serial: '', firmware: '' });
    expect(await pump.status()).toEqual({ state: 'IDLE', reservoirMl: 0, calFactor: 1 });
  });

  it.each([0.1, 8, 12.5, 200])('a dispense of %d ml is delivered as measured, at once', async (ml) => {
    const h = pump.dispense('txn-1', ml);
    expect(await h.started).toEqual({ acked: true });
    expect(await h.outcome).toEqual({ kind: 'done', ml });
  });

  it.each([
    ['query', () => pump.query()],
    ['watch', () => pump.watch()],
    ['prime', () => pump.prime()],
    ['calibrate', () => pump.calibrate()],
  ] as const)('%s is refused as unsupported (a cylinder keeps no transactions)', async (_name, call) => {
    await expect(call()).rejects.toBeInstanceOf(PumpError);
    await expect(call()).rejects.toMatchObject({ code: 'unsupported' });
  });

  it('stop and close do nothing and succeed; events never come', async () => {
    await expect(pump.stop()).resolves.toBeUndefined();
    const off = pump.onEvent(() => {
      throw new Error('no events in manual mode');
    });
    off();
    await expect(pump.close()).resolves.toBeUndefined();
  });
});
