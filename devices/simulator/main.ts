// The pump simulator as a process (npm run pump:sim): a socat PTY pair, the
// simulator on one end, the host's driver free to open the other as a real
// serial port. Tests drive it with JSON lines on stdin and read JSON lines on
// stdout; people read the one line on stderr.
//
//   node --import tsx devices/simulator/main.ts [--link PATH] [--flow ML_PER_S]
//     [--serial TEXT] [--model TEXT] [--reservoir ML] [--state FILE]
//     [--no-socat --port PATH]
//
// stdin, one JSON object a line (an optional "id" is echoed in the answer):
//   {"cmd":"set", ...behaviour}       merge into the behaviour (core.ts Behaviour)
//   {"cmd":"report"}                  → {"event":"report", ...SimReport}
//   {"cmd":"alarm","code":"DOOR_OPEN"}
//   {"cmd":"powerCycle","offMs":2000}
//   {"cmd":"speak"}
//   {"cmd":"refill","ml":1000}
//   {"cmd":"unplug"}                  kill socat: the host's port closes
//   {"cmd":"replug"}                  socat again on the same links
// stdout: {"event":"ready","path":HOST_LINK|null,"simPath":...} first, then for
// each command {"event":"ok","cmd":...} or {"event":"error","cmd":...,"message":...}
// (a report's data comes first, as its own line).
import { existsSync, fstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SerialPort } from 'serialport';
import { z } from 'zod';
import { PumpSimulator } from './core.ts';
import { startSocat, type SocatPair } from './socat.ts';
import { jsonFileMemory } from './state-file.ts';

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    link: { type: 'string', default: './data/pump' },
    flow: { type: 'string' },
    serial: { type: 'string', default: 'SIM-0001' },
    model: { type: 'string' },
    reservoir: { type: 'string', default: '1000' },
    state: { type: 'string' },
    socat: { type: 'boolean', default: true },
    port: { type: 'string' },
  },
});

const options = z
  .object({
    flow: z.coerce.number().positive().max(1000).optional(),
    reservoir: z.coerce.number().min(0),
  })
  .parse(args);

const stdinCommand = z.discriminatedUnion('cmd', [
  z.looseObject({ cmd: z.literal('set') }), // the rest is checked by the simulator's own schema
  z.object({ cmd: z.literal('report') }),
  z.object({ cmd: z.literal('alarm'), code: z.string() }),
  z.object({ cmd: z.literal('powerCycle'), offMs: z.number().int().min(0).max(600_000) }),
  z.object({ cmd: z.literal('speak') }),
  z.object({ cmd: z.literal('refill'), ml: z.number().finite().min(0) }),
  z.object({ cmd: z.literal('unplug') }),
  z.object({ cmd: z.literal('replug') }),
]);

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const hostPath = args.socat ? resolve(args.link) : null;
const simPath = args.socat ? `${hostPath}-sim` : args.port ? resolve(args.port) : null;
if (!simPath) {
  process.stderr.write('--no-socat needs --port PATH (the simulator end of an existing serial line)\n');
  process.exit(2);
}

let socat: SocatPair | null = null;
let port: SerialPort | null = null;

/** MPP/1's line: 9600 8N1, no flow control (specification). */
function openPort(path: string): Promise<SerialPort> {
  return new Promise((ok, fail) => {
    const p = new SerialPort({ path, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, rtscts: false, xon: false, xoff: false, autoOpen: false });
    p.open((err) => (err ? fail(err) : ok(p)));
  });
}

function closePort(p: SerialPort | null): Promise<void> {
  return new Promise((done) => (p?.isOpen ? p.close(() => done()) : done()));
}

async function plug(sim: () => PumpSimulator): Promise<void> {
  if (hostPath) socat = await startSocat(hostPath, simPath!);
  const p = await openPort(simPath!);
  p.on('data', (chunk: Buffer) => sim().consume(chunk));
  p.on('error', (e) => process.stderr.write(`pump simulator: port error: ${e.message}\n`));
  p.on('close', () => {
    if (port !== p) return; // our own unplug
    // socat died or the device went away: count it as unplugged, so replug can bring the line back.
    process.stderr.write('pump simulator: the line closed under it\n');
    port = null;
    void socat?.stop();
    socat = null;
  });
  port = p;
}

async function unplug(): Promise<void> {
  const p = port;
  port = null;
  await closePort(p);
  await socat?.stop();
  socat = null;
}

let simulator: PumpSimulator | null = null;
const sim = () => simulator!;

async function run(c: z.infer<typeof stdinCommand>): Promise<void> {
  switch (c.cmd) {
    case 'set': {
      const { cmd: _cmd, id: _id, ...patch } = c;
      return sim().set(patch);
    }
    case 'report':
      return emit({ event: 'report', ...sim().report() });
    case 'alarm':
      return sim().alarm(c.code);
    case 'powerCycle':
      return sim().powerCycle(c.offMs);
    case 'speak':
      return sim().speak();
    case 'refill':
      return sim().refill(c.ml);
    case 'unplug':
      if (!hostPath) throw new Error('no socat here (--no-socat): nothing to unplug');
      if (!port) throw new Error('already unplugged');
      return unplug();
    case 'replug':
      if (!hostPath) throw new Error('no socat here (--no-socat): nothing to replug');
      if (port) throw new Error('already plugged in');
      return plug(sim);
    default:
      return c satisfies never;
  }
}

let shuttingDown: Promise<void> | null = null;
function shutdown(code: number): Promise<void> {
  shuttingDown ??= (async () => {
    simulator?.dispose();
    await unplug();
    process.exit(code);
  })();
  return shuttingDown;
}

async function main(): Promise<void> {
  process.once('SIGTERM', () => void shutdown(0));
  process.once('SIGINT', () => void shutdown(0));
  if (!hostPath && !existsSync(simPath!)) throw new Error(`no such port: ${simPath}`);
  await plug(sim);
  simulator = new PumpSimulator((bytes) => port?.write(bytes), {
    serial: args.serial,
    ...(args.model !== undefined && { model: args.model }),
    reservoirMl: options.reservoir,
    ...(options.flow !== undefined && { behaviour: { flowMlPerS: options.flow } }),
    ...(args.state !== undefined && { memory: jsonFileMemory(resolve(args.state)) }),
  });
  const flow = simulator.behaviour.flowMlPerS;
  process.stderr.write(`Pump simulator on PUMP_PATH=${hostPath ?? '(the other end of the port)'} — simulator end ${simPath}, serial ${args.serial}, ${flow} ml/s\n`);
  emit({ event: 'ready', path: hostPath, simPath });

  // One command at a time, so the answers come in the order of the commands.
  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    queue = queue.then(async () => {
      let json: unknown;
      let id: unknown;
      let cmd: unknown;
      try {
        json = JSON.parse(line);
        ({ id, cmd } = (json ?? {}) as { id?: unknown; cmd?: unknown });
        await run(stdinCommand.parse(json));
        emit({ event: 'ok', cmd, ...(id !== undefined && { id }) });
      } catch (e) {
        const message = e instanceof z.ZodError ? z.prettifyError(e) : e instanceof Error ? e.message : String(e);
        emit({ event: 'error', cmd: cmd ?? null, ...(id !== undefined && { id }), message });
      }
    });
  });
  // A parent that drives it through a pipe (a test) and goes away takes the simulator with it;
  // started in the background from a shell (stdin /dev/null) it keeps running until a signal.
  const piped = (() => {
    try {
      const st = fstatSync(0);
      return st.isFIFO() || st.isSocket();
    } catch {
      return false;
    }
  })();
  lines.on('close', () => {
    if (piped) void queue.then(() => shutdown(0));
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`pump simulator: ${e instanceof Error ? e.message : String(e)}\n`);
  emit({ event: 'error', cmd: null, message: e instanceof Error ? e.message : String(e) });
  void shutdown(1);
});
