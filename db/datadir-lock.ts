// PGlite takes no lock of its own: two processes on one data folder corrupt it,
// and a process killed hard leaves PGlite's `postmaster.pid` behind. So the
// server holds its own lock file naming its pid (and that process's start time,
// so a recycled pid is not mistaken for a live owner).
import fs from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'methadone-point.lock';

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`The data folder ${dir} is in use by another Methadone Point server (process ${pid}). Stop it first, or set DATA_DIR to another folder.`);
  }
}

interface Owner {
  pid: number;
  startTime: string | null;
}

/** The kernel's start time of a process (Linux), to tell a live owner from a recycled pid. */
function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may hold spaces, so count from the closing paren.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
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
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Owner>;
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, startTime: parsed.startTime ?? null } : null;
  } catch {
    return null; // unreadable or half-written: its writer died before finishing
  }
}

/**
 * Takes the lock on `dir`, clearing a stale one (and PGlite's stale
 * postmaster.pid) when its owner is gone. Returns the release function.
 */
export function acquireDataDirLock(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const me: Owner = { pid: process.pid, startTime: processStartTime(process.pid) };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, JSON.stringify(me));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const owner = readOwner(file);
        if (owner?.pid === me.pid) fs.rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = readOwner(file);
    if (owner && owner.pid !== me.pid && isAlive(owner)) throw new DataDirLockedError(dir, owner.pid);
    // The owner is gone (killed, power cut): its locks are stale.
    fs.rmSync(file, { force: true });
    fs.rmSync(path.join(dir, 'postmaster.pid'), { force: true });
  }
  throw new Error(`Could not take the lock on the data folder ${dir}`);
}
