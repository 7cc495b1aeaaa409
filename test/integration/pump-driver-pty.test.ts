// The driver suite over a real serial line: the simulator CLI runs as its own
// process and makes a socat PTY pair; the driver opens the host end with the
// real serialport bindings, as it opens a USB adapter in a clinic. The
// simulator is steered through its stdin (JSON lines). Runs wherever socat is
// installed (CI installs it: test/setup/ensure-tools.sh); without socat the
// suite is reported as skipped.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { MppDriver } from '../../devices/mpp/driver.ts';
import { SerialLine } from '../../devices/mpp/line.ts';
import type { SimReport } from '../../devices/simulator/core.ts';
import { hostedRig, pumpDriverSuite, type PumpRig, type RigHost, type RigSetup } from '../helpers/pump-driver-suite.ts';
import { ROOT } from '../helpers/server-process.ts';

const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

/** The CLI makes its PTYs and prints "ready" well within this (a tsx start is about half a second). */
const READY_TIMEOUT_MS = 15_000;
/** Each stdin command is answered at once; a replug starts socat again, which takes a moment. */
const COMMAND_TIMEOUT_MS = 10_000;

type SimEvent = { event: string; cmd?: unknown; id?: unknown; message?: string; path?: string } & Record<string, unknown>;

/** The simulator process and its stdin/stdout protocol. */
class SimProcess {
  private readonly waiting = new Map<number, { ok: (e: SimEvent) => void; fail: (err: Error) => void }>();
  private nextId = 0;
  private lastReport: SimReport | null = null;
  private stderr = '';
  readonly ready: Promise<SimEvent>;
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    child.stderr!.on('data', (d) => (this.stderr += d));
    const lines = createInterface({ input: child.stdout! });
    let onReady!: (e: SimEvent) => void;
    let notReady!: (err: Error) => void;
    this.ready = new Promise((ok, fail) => ((onReady = ok), (notReady = fail)));
    lines.on('line', (text) => {
      let e: SimEvent;
      try {
        e = JSON.parse(text) as SimEvent;
      } catch {
        return; // not ours
      }
      if (e.event === 'ready') return onReady(e);
      if (e.event === 'report') {
        const { event: _, ...report } = e;
        this.lastReport = report as unknown as SimReport;
        return;
      }
      if (e.cmd === null && e.event === 'error') return notReady(new Error(`simulator failed: ${e.message}\n${this.stderr}`));
      const w = typeof e.id === 'number' ? this.waiting.get(e.id) : undefined;
      if (!w) return;
      this.waiting.delete(e.id as number);
      if (e.event === 'ok') w.ok(e);
      else w.fail(new Error(`simulator refused ${String(e.cmd)}: ${e.message}`));
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        const gone = new Error(`the simulator exited\n${this.stderr}`);
        notReady(gone);
        for (const w of this.waiting.values()) w.fail(gone);
        this.waiting.clear();
        resolve();
      }),
    );
  }

  /** Sends one command and waits for its "ok". */
  send(cmd: Record<string, unknown>): Promise<SimEvent> {
    const id = ++this.nextId;
    return new Promise<SimEvent>((ok, fail) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        fail(new Error(`no answer to ${JSON.stringify(cmd)}\n${this.stderr}`));
      }, COMMAND_TIMEOUT_MS);
      this.waiting.set(id, {
        ok: (e) => (clearTimeout(timer), ok(e)),
        fail: (err) => (clearTimeout(timer), fail(err)),
      });
      this.child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  async report(): Promise<SimReport> {
    this.lastReport = null;
    await this.send({ cmd: 'report' });
    if (!this.lastReport) throw new Error('the simulator answered report without one');
    return this.lastReport;
  }

  /** Ends stdin (the CLI then shuts down: socat stopped, links removed); the child only is signalled if it lingers. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const term = setTimeout(() => this.child.kill('SIGTERM'), 3000);
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 6000);
    await this.exited;
    clearTimeout(term);
    clearTimeout(kill);
  }
}

async function ptyRig({ options, behaviour, serial }: RigSetup): Promise<PumpRig> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mpp-pty-'));
  const link = path.join(dir, 'pump');
  const child = spawn(process.execPath, ['--import', 'tsx', 'devices/simulator/main.ts', '--link', link, '--serial', serial], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const sim = new SimProcess(child);
  const lines: SerialLine[] = [];
  const teardown = async () => {
    for (const l of lines) await l.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let timer: NodeJS.Timeout | undefined;
    const ready = await Promise.race([
      sim.ready,
      new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error('the simulator did not get ready')), READY_TIMEOUT_MS))),
    ]).finally(() => clearTimeout(timer));
    if (ready.path !== link) throw new Error(`the simulator's host link is ${String(ready.path)}, not ${link}`);
    await sim.send({ cmd: 'set', ...behaviour });

    async function host(): Promise<RigHost> {
      const line = new SerialLine(link, 9600, options.reconnectMs);
      lines.push(line);
      if (!(await line.waitOpen(5000))) throw new Error(`could not open ${link}`);
      return { line, driver: new MppDriver(line, options) };
    }

    return await hostedRig(
      {
        set: async (patch) => void (await sim.send({ cmd: 'set', ...patch })),
        report: () => sim.report(),
        powerCycle: async (offMs) => void (await sim.send({ cmd: 'powerCycle', offMs })),
        speak: async () => void (await sim.send({ cmd: 'speak' })),
        unplug: async () => void (await sim.send({ cmd: 'unplug' })),
        replug: async () => void (await sim.send({ cmd: 'replug' })),
      },
      host,
      teardown,
    );
  } catch (e) {
    await teardown();
    throw e;
  }
}

pumpDriverSuite('a socat PTY pair to the simulator process', ptyRig, { unplug: true, skip: !hasSocat && 'socat is not installed (test/setup/ensure-tools.sh)' });
