// A smoke test of the simulator as a process: a real socat PTY pair, the host
// end opened with serialport as the driver will open it, commands on stdin.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { SerialPort } from 'serialport';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameReader, commandBody, encodeFrame, parsePumpMessage, type PumpMessage } from '../../devices/mpp/protocol.ts';

type Event = Record<string, unknown> & { event: string };

/** Resolves with the first event (already seen or still to come) that matches; rejects after a while so a hang fails the test. */
function eventStream(child: ChildProcess) {
  const seen: Event[] = [];
  const waiting = new Set<(e: Event) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as Event;
    seen.push(e);
    for (const w of waiting) w(e);
  });
  return (match: (e: Event) => boolean, ms = 10_000): Promise<Event> =>
    new Promise((resolve, reject) => {
      const found = seen.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => (waiting.delete(w), reject(new Error('no such event in time'))), ms);
      const w = (e: Event) => {
        if (!match(e)) return;
        clearTimeout(timer);
        waiting.delete(w);
        resolve(e);
      };
      waiting.add(w);
    });
}

const MAIN = fileURLToPath(new URL('../../devices/simulator/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pump-sim-'));
let child: ChildProcess | null = null;

afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('pump simulator CLI', () => {
  it('serves MPP/1 on the host link, reports on stdin, unplugs, and exits on SIGTERM', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, '--link', join(dir, 'pump'), '--serial', 'SIM-CLI'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child = proc;
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const next = eventStream(proc);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

    const ready = await next((e) => e.event === 'ready');
    expect(ready.path).toBe(join(dir, 'pump'));
    expect(stderr).toContain(`PUMP_PATH=${join(dir, 'pump')}`);

    const port = new SerialPort({ path: String(ready.path), baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    const heard: PumpMessage[] = [];
    const answered = new Promise<void>((resolve) => {
      const reader = new FrameReader((body) => {
        const m = parsePumpMessage(body);
        if (m) heard.push(m);
        resolve();
      });
      port.on('data', (d: Buffer) => reader.consume(d));
    });
    const closed = new Promise<void>((resolve) => port.once('close', () => resolve()));

    port.write(encodeFrame(commandBody(1, { cmd: 'HELLO' })));
    await answered;
    expect(heard).toEqual([{ type: 'OK', seq: 1, fields: { MODEL: 'MPP-SIM', SERIAL: 'SIM-CLI', FW: '1.0-sim' } }]);

    proc.stdin!.write('{"cmd":"report","id":1}\n');
    expect(await next((e) => e.event === 'report')).toMatchObject({ framesIn: 1, badFramesIn: 0, reservoirMl: 1000, transactions: [] });
    expect(await next((e) => e.id === 1)).toEqual({ event: 'ok', cmd: 'report', id: 1 });

    proc.stdin!.write('{"cmd":"set","flowMlPerS":"fast","id":2}\n');
    expect(await next((e) => e.id === 2)).toMatchObject({ event: 'error', cmd: 'set' });

    proc.stdin!.write('{"cmd":"unplug","id":3}\n');
    expect(await next((e) => e.id === 3)).toEqual({ event: 'ok', cmd: 'unplug', id: 3 });
    await closed; // the host's port went away, as an unplugged USB adapter's does
    expect(port.isOpen).toBe(false);

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
