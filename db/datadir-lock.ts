// PGlite takes no lock of its own: two processes on one data folder corrupt it,
// and a process killed hard leaves PGlite's `postmaster.pid` behind. So the
// server holds its own lock file, and clears a stale one (with PGlite's) when
// its owner is gone.
//
// Who owns a lock: the file names the owner's pid, that process's start time
// (a recycled pid is not the owner), and where it runs (host, boot, pid
// namespace). Within the same pid namespace the kernel answers whether the
// owner lives. Across namespaces (containers) it cannot, so the owner touches
// the file every few seconds and a lock untouched for STALE_AFTER_MS is stale.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'methadone-point.lock';
/** How often the owner touches the lock file. */
export const HEARTBEAT_MS = 5_000;
/** A lock from another pid namespace untouched this long is stale (six missed heartbeats). */
export const STALE_AFTER_MS = 30_000;

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
    readonly host: string,
  ) {
    super(
      `The data folder ${dir} is in use by another Methadone Point server (process ${pid}${host !== os.hostname() ? ` on ${host}` : ''}). Stop it first, or set DATA_DIR to another folder.`,
    );
  }
}

interface Owner {
  pid: number;
  startTime: string | null;
  host: string;
  place: string | null;
}

const readText = (file: string): string | null => {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
};

/** The kernel's start time of a process (Linux), to tell a live owner from a recycled pid. */
function processStartTime(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`);
  // Field 22; the command name (field 2) may hold spaces, so count from the closing paren.
  return stat ? (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null) : null;
}

/** Where pids mean the same thing: this boot and this pid namespace. */
function currentPlace(): string | null {
  let ns: string | null = null;
  try {
    ns = fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    ns = null;
  }
  const boot = readText('/proc/sys/kernel/random/boot_id');
  return ns && boot ? `${boot}/${ns}` : null;
}

function isAlive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  const now = processStartTime(owner.pid);
  return owner.startTime === null || now === null || now === owner.startTime;
}

function readOwner(file: string): Owner | null {
  try {
    const o = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Owner>;
    return typeof o.pid === 'number' ? { pid: o.pid, startTime: o.startTime ?? null, host: o.host ?? '', place: o.place ?? null } : null;
  } catch {
    return null;
  }
}

/** Whether the lock's owner may still be running. */
function holds(owner: Owner, file: string, me: Owner): boolean {
  if (owner.pid === me.pid && owner.startTime === me.startTime && owner.place === me.place) return false;
  // Same machine and pid namespace (or a lock that does not say): ask the kernel.
  if (owner.place === null || (owner.place === me.place && owner.host === me.host)) return isAlive(owner);
  // Another host, boot or container: only the heartbeat tells.
  try {
    return Date.now() - fs.statSync(file).mtimeMs < STALE_AFTER_MS;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Takes the lock on `dir`, clearing a stale one (and PGlite's stale
 * postmaster.pid) when its owner is gone. Returns the release function.
 */
export function acquireDataDirLock(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const takeover = `${file}.takeover`;
  const me: Owner = { pid: process.pid, startTime: processStartTime(process.pid), host: os.hostname(), place: currentPlace() };

  // The claim is written in full, then published with link(): it appears at
  // once or not at all (EEXIST), so no reader ever sees a half-written lock.
  const claim = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = fs.openSync(claim, 'w');
  fs.writeSync(fd, JSON.stringify(me));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const publish = (): boolean => {
    try {
      fs.linkSync(claim, file);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      return false;
    }
  };

  try {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (publish()) return heldLock(file, me);
      const owner = readOwner(file);
      if (owner && holds(owner, file, me)) throw new DataDirLockedError(dir, owner.pid, owner.host);
      // Stale. One process at a time may clear it (mkdir is atomic), and it
      // looks again once it holds that right: another may have taken over first.
      try {
        fs.mkdirSync(takeover);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        // Left by a process that died while taking over: clear it when old.
        try {
          if (Date.now() - fs.statSync(takeover).mtimeMs > 5_000) fs.rmdirSync(takeover);
        } catch {
          // gone already
        }
        sleep(20);
        continue;
      }
      try {
        const again = readOwner(file);
        if (again && holds(again, file, me)) throw new DataDirLockedError(dir, again.pid, again.host);
        fs.rmSync(file, { force: true });
        fs.rmSync(path.join(dir, 'postmaster.pid'), { force: true });
        if (publish()) return heldLock(file, me);
      } finally {
        fs.rmdirSync(takeover);
      }
    }
    throw new Error(`Could not take the lock on the data folder ${dir}`);
  } finally {
    fs.rmSync(claim, { force: true });
  }
}

/** Keeps the lock fresh while held; the returned function releases it. */
function heldLock(file: string, me: Owner): () => void {
  const beat = setInterval(() => {
    try {
      const now = new Date();
      fs.utimesSync(file, now, now);
    } catch {
      // The folder vanished: nothing left to hold.
    }
  }, HEARTBEAT_MS);
  beat.unref();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    clearInterval(beat);
    const owner = readOwner(file);
    if (owner?.pid === me.pid && owner.startTime === me.startTime) fs.rmSync(file, { force: true });
  };
}
