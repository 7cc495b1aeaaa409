// Run as a child process by datadir-lock.test.ts: servers starting at the same
// moment on a folder with a stale lock. Prints "ready", reads the start time
// (ms since the epoch) on stdin, then at startAt + i * stepMs takes the lock on
// the i-th folder, keeping every lock it got. Prints its results as JSON and
// stays alive until stdin closes (after every racer is done), so no racer sees
// another's lock as stale because its owner already ended.
import { acquireDataDirLock, DataDirLockedError } from '../../db/datadir-lock.ts';

const [stepArg, ...dirs] = process.argv.slice(2);
const step = Number(stepArg);
const nap = new Int32Array(new SharedArrayBuffer(4));

function waitUntil(at: number): void {
  const ms = at - Date.now() - 3;
  if (ms > 0) Atomics.wait(nap, 0, 0, ms);
  while (Date.now() < at) {
    // spin the last few milliseconds: the racers leave the mark together
  }
}

process.stdin.setEncoding('utf8');
let input = '';
let started = false;
process.stdin.on('data', (chunk: string) => {
  input += chunk;
  if (!input.includes('\n')) return;
  if (started) return;
  started = true;
  const startAt = Number(input.trim());
  const results: string[] = [];
  for (const [i, dir] of dirs.entries()) {
    waitUntil(startAt + i * step);
    try {
      acquireDataDirLock(dir);
      results.push('owner');
    } catch (e) {
      results.push(e instanceof DataDirLockedError ? 'refused' : `error: ${(e as Error).message}`);
    }
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write('ready\n');
