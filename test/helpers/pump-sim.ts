// The pump simulator as a separate process on a socat PTY pair, for tests
// that drive the real serial path: start it, tell it how to behave, ask what
// it delivered, unplug it, stop it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

export interface SimReport {
  transactions: { txn: string; requestedMl: number; deliveredMl: number; state: string; faultCode: string | null }[];
  deliveredMl: number;
  dispenseCommands: number;
  [k: string]: unknown;
}

export interface SimProcess {
  /** The host end of the line (PUMP_PATH). */
  path: string;
  command(cmd: Record<string, unknown>): Promise<Record<string, unknown>>;
  set(behaviour: Record<string, unknown>): Promise<void>;
  report(): Promise<SimReport>;
  stop(): Promise<void>;
  child: ChildProcess;
}

let ids = 0;

export async function startSimulator(opts: { serial?: string; flow?: number; args?: string[] } = {}): Promise<SimProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-sim-'));
  const link = path.join(dir, 'pump');
  const child = spawn(process.execPath, ['--import', 'tsx', 'devices/simulator/main.ts', '--link', link, '--serial', opts.serial ?? 'SIM-0001', ...(opts.flow ? ['--flow', String(opts.flow)] : []), ...(opts.args ?? [])], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const waiting = new Map<string, { lines: Record<string, unknown>[]; resolve: (l: Record<string, unknown>[]) => void }>();
  let ready: (p: string) => void;
  const readyP = new Promise<string>((r) => (ready = r));
  const rl = createInterface({ input: child.stdout! });
  const pendingData: Record<string, unknown>[] = [];
  rl.on('line', (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.event === 'ready') return ready(String(msg.path));
    if (msg.event === 'ok' || msg.event === 'error') {
      const w = waiting.get(String(msg.id));
      if (w) {
        waiting.delete(String(msg.id));
        w.resolve([...pendingData.splice(0), msg]);
      }
      return;
    }
    pendingData.push(msg);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const hostPath = await Promise.race([readyP, exited.then(() => Promise.reject(new Error('simulator exited before ready')))]);
  clearTimeout(timeout);
  const command = (cmd: Record<string, unknown>) =>
    new Promise<Record<string, unknown>[]>((resolve) => {
      const id = `c${++ids}`;
      waiting.set(id, { lines: [], resolve });
      child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    }).then((lines) => {
      const last = lines[lines.length - 1]!;
      if (last.event === 'error') throw new Error(`simulator: ${String(last.message)}`);
      return lines[0]!;
    });
  return {
    path: hostPath,
    child,
    command,
    set: async (b) => void (await command({ cmd: 'set', ...b })),
    report: async () => (await command({ cmd: 'report' })) as unknown as SimReport,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
