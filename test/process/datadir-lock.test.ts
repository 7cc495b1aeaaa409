// PGlite takes no lock of its own: two servers on one data folder would corrupt
// it. The server's lock file keeps a second one out, names the first, and is
// cleared when its owner is gone.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirLockedError, LOCK_FILE, STALE_AFTER_MS } from '../../db/datadir-lock.ts';
import { freePort, ROOT, runServerExpectingExit } from '../helpers/server-process.ts';
import { Cleanup, hasStackTrace } from './helpers.ts';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

function readLock(dir: string): { pid: number; startTime: string | null } {
  return JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as { pid: number; startTime: string | null };
}

describe('one server per data folder', () => {
  it('refuses a second server on the same DATA_DIR, naming the first one’s process, and starts once the first has stopped', async () => {
    const dataDir = cleanup.dir('mp-lock-');
    const first = await cleanup.start({ DATA_DIR: dataDir, SEED_DEMO: 'false' });
    const pid = first.child.pid!;
    expect(readLock(dataDir).pid).toBe(pid);

    const second = await runServerExpectingExit({ DATA_DIR: dataDir, SEED_DEMO: 'false', PORT: String(await freePort()), LOG_LEVEL: 'warn' }, 30_000);
    expect(second.code).not.toBe(0);
    expect(second.code).not.toBeNull(); // it exited by itself, not killed by the timeout
    expect(second.output).toContain(`process ${pid}`);
    expect(second.output).toContain(dataDir);
    expect(hasStackTrace(second.output)).toBe(false);

    // The refused server touched nothing: the first still owns the folder and answers.
    expect(readLock(dataDir).pid).toBe(pid);
    expect(fs.existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(true);
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);

    await first.stop('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(fs.existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);

    const third = await cleanup.start({ DATA_DIR: dataDir, SEED_DEMO: 'false' });
    expect(readLock(dataDir).pid).toBe(third.child.pid);
    expect((await fetch(`${third.url}/healthz`)).status).toBe(200);
    await third.stop('SIGTERM');
    expect((await third.exited).code).toBe(0);
  }, 180_000);
});

describe('acquireDataDirLock()', () => {
  /** A process that is running (and not this one). */
  const live: ChildProcess[] = [];
  afterAll(() => {
    for (const c of live) c.kill('SIGKILL');
  });
  function spawnSleeper(): ChildProcess {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    live.push(child);
    return child;
  }
  /** The pid of a process that has ended. */
  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((resolve) => child.on('exit', resolve));
    const pid = child.pid!;
    expect(() => process.kill(pid, 0)).toThrow();
    return pid;
  }

  it('takes a free folder, and its release removes the lock file', () => {
    const dir = path.join(cleanup.dir('mp-lock-unit-'), 'data');
    const release = acquireDataDirLock(dir);
    expect(readLock(dir).pid).toBe(process.pid);
    release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    release(); // twice is harmless
  });

  it('clears a stale lock whose process is dead, and PGlite’s stale postmaster.pid with it', async () => {
    const dir = cleanup.dir('mp-lock-unit-');
    const pid = await deadPid();
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid, startTime: '12345' }));
    fs.writeFileSync(path.join(dir, 'postmaster.pid'), `${pid}\n${dir}\n`);
    const release = acquireDataDirLock(dir);
    try {
      expect(readLock(dir).pid).toBe(process.pid);
      expect(fs.existsSync(path.join(dir, 'postmaster.pid'))).toBe(false);
    } finally {
      release();
    }
  });

  it('clears a lock left half-written (empty) by a process that died while writing it', () => {
    const dir = cleanup.dir('mp-lock-unit-');
    fs.writeFileSync(path.join(dir, LOCK_FILE), '');
    const release = acquireDataDirLock(dir);
    expect(readLock(dir).pid).toBe(process.pid);
    release();
  });

  it('refuses a lock held by a live process, naming it, and leaves its files alone', async () => {
    const dir = cleanup.dir('mp-lock-unit-');
    const owner = spawnSleeper();
    await new Promise((resolve) => owner.once('spawn', resolve));
    const lock = JSON.stringify({ pid: owner.pid, startTime: null });
    fs.writeFileSync(path.join(dir, LOCK_FILE), lock);
    fs.writeFileSync(path.join(dir, 'postmaster.pid'), 'in use');

    let error: unknown = null;
    try {
      acquireDataDirLock(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as DataDirLockedError).pid).toBe(owner.pid);
    expect((error as Error).message).toContain(`process ${owner.pid}`);
    expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).toBe(lock);
    expect(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8')).toBe('in use');
  });

  it('treats a live pid with another start time as a recycled pid: the lock is stale', async () => {
    const dir = cleanup.dir('mp-lock-unit-');
    const other = spawnSleeper();
    await new Promise((resolve) => other.once('spawn', resolve));
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: other.pid, startTime: '1' }));
    const release = acquireDataDirLock(dir);
    expect(readLock(dir).pid).toBe(process.pid);
    release();
  });

  // After a crash, two starts may meet on the stale lock (a service manager's
  // restart and an operator's `npm start`): only one may win, or both run
  // PGlite on the same files. Each racer is a process of its own (see
  // lock-racer.ts); they take the locks of FOLDERS folders in lockstep. The
  // race is timing-dependent: a broken lock fails this on most runs, not all;
  // a correct one always passes.
  it('a lock from another container (pid namespace) holds while its heartbeat is fresh, and is stale once it stops', () => {
    const dir = cleanup.dir('mp-lock-ns-');
    const file = path.join(dir, LOCK_FILE);
    // Pid 1 of another pid namespace: the kernel here cannot say whether it lives.
    fs.writeFileSync(file, JSON.stringify({ pid: 1, startTime: '42', host: 'other-container', place: 'another-boot/pid:[4026531836]' }));
    expect(() => acquireDataDirLock(dir)).toThrow(/process 1 on other-container/);
    // Its owner stopped touching the file STALE_AFTER_MS ago: taken over.
    const old = new Date(Date.now() - STALE_AFTER_MS - 1_000);
    fs.utimesSync(file, old, old);
    const release = acquireDataDirLock(dir);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(process.pid);
    release();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('lets exactly one of several processes starting together take over a stale lock', async () => {
    const RACERS = 6;
    const FOLDERS = 40;
    const STEP_MS = 50;
    const root = cleanup.dir('mp-lock-race-');
    const pid = await deadPid();
    const dirs = Array.from({ length: FOLDERS }, (_, i) => {
      const dir = path.join(root, `d${i}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid, startTime: '1' }));
      return dir;
    });
    const racers = Array.from({ length: RACERS }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/process/lock-racer.ts'), String(STEP_MS), ...dirs], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      live.push(child);
      let out = '';
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      const waitFor = (re: RegExp) =>
        new Promise<RegExpExecArray>((resolve, reject) => {
          const check = () => {
            const m = re.exec(out);
            if (m) resolve(m);
          };
          child.stdout!.on('data', check);
          void exited.then(() => reject(new Error(`racer ended early:\n${out}`)));
          check();
        });
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      return { child, exited, ready: waitFor(/^ready\n/), result: waitFor(/^(\[.*\])$/m) };
    });
    await Promise.all(racers.map((r) => r.ready));
    const startAt = Date.now() + 300;
    for (const r of racers) r.child.stdin!.write(`${startAt}\n`);
    // Every racer holds its locks until all have finished: then they may go.
    const results = (await Promise.all(racers.map((r) => r.result))).map((m) => JSON.parse(m[1]!) as string[]);
    for (const r of racers) r.child.stdin!.end();
    await Promise.all(racers.map((r) => r.exited));
    // A loser must be told who holds the folder (DataDirLockedError), not fail with another error.
    expect(results.flat().filter((r) => r !== 'owner' && r !== 'refused').join('\n'), 'racers that neither took nor were refused the lock').toBe('');
    const ownersPerFolder = dirs.map((_, i) => results.filter((r) => r[i] === 'owner').length);
    expect(ownersPerFolder, 'number of processes that took each folder’s lock').toEqual(dirs.map(() => 1));
  }, 120_000);
});
