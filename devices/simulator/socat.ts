// A virtual null-modem cable: socat joins two pseudo-terminals, one for the
// host (the driver opens it as PUMP_PATH) and one for the simulator. Killing
// socat is pulling the cable: the host's port closes as a USB adapter's would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

/** socat needs a moment to make both terminals; far longer than this means it failed. */
const START_TIMEOUT_MS = 5000;
/** A socat that ignores SIGTERM this long is killed outright. */
const STOP_TIMEOUT_MS = 2000;

export interface SocatPair {
  readonly child: ChildProcess;
  /** Settles when socat has exited, for whatever reason. */
  readonly exited: Promise<void>;
  readonly running: boolean;
  stop(): Promise<void>;
}

/** Removes a link left by a socat that was killed outright; anything that is not a symbolic link is someone else's and stays. */
function clearStaleLink(path: string): void {
  try {
    if (!lstatSync(path).isSymbolicLink()) throw new Error(`${path} exists and is not a link: not overwriting it`);
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export async function startSocat(hostLink: string, simLink: string): Promise<SocatPair> {
  // socat splits its addresses at commas and colons: such a path would be read as options.
  for (const p of [hostLink, simLink]) if (/[,:!]/.test(p)) throw new Error(`socat cannot take a link path with , : or ! (${p})`);
  mkdirSync(dirname(hostLink), { recursive: true });
  mkdirSync(dirname(simLink), { recursive: true });
  clearStaleLink(hostLink);
  clearStaleLink(simLink);
  const child = spawn('socat', ['-d', `pty,raw,echo=0,link=${hostLink}`, `pty,raw,echo=0,link=${simLink}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  let running = true;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve()); // not installed: spawn fails without an exit
  });
  void exited.then(() => (running = false));
  const pair: SocatPair = {
    child,
    exited,
    get running() {
      return running;
    },
    async stop() {
      if (!running) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(existsSync(hostLink) && existsSync(simLink))) {
    if (!running) throw new Error('socat exited before making the terminals (is it installed? see test/setup/ensure-tools.sh)');
    if (Date.now() > deadline) {
      await pair.stop();
      throw new Error(`socat made no terminals within ${START_TIMEOUT_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return pair;
}
