// Serves an app over real HTTP on 127.0.0.1 (an ephemeral port), checks each
// path answers as expected, then drives it from a worker thread
// (load-worker.ts) with keep-alive connections and turns the latencies into
// figures.
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Server } from 'node:http';
import { Worker } from 'node:worker_threads';
import { serve } from '@hono/node-server';
import { percentile, round, type BenchResult } from './report.ts';

/** Sent to the worker. */
export interface LoadJob {
  host: string;
  port: number;
  /** Requests cycle over these, in order (one path: always the same). */
  paths: string[];
  /** GET unless said. */
  method: 'GET' | 'POST';
  /** When set, every request sends the next of these as its body, cycling like paths. */
  bodies?: string[];
  /** Each body once (warm-up and measured window share the list); the loops stop when none is left. */
  bodiesOnce?: boolean;
  /** When set, every response's body must contain it (else counted as an error). */
  expectBody?: string;
  headers: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Per phase: a loop also stops after this many requests. */
  maxRequests: number;
  timeoutMs: number;
}

export interface PhaseResult {
  completed: number;
  errors: number;
  errorKinds: Record<string, number>;
  elapsedMs: number;
  capped: boolean;
  /** Per request, in ms (empty for the warm-up). */
  latencies: Float64Array;
  /** The loops stopped because job.bodies sent once ran out (before the deadline). */
  exhausted: boolean;
}

/** Sent back by the worker. */
export interface LoadReply {
  warmup: PhaseResult;
  measured: PhaseResult;
}

export interface LoadSettings {
  connections: number;
  warmupSeconds: number;
  seconds: number;
  log: (line: string) => void;
}

export interface HttpTarget {
  /** The app's fetch handler (`app.fetch` of a Hono app). */
  fetch: (request: Request) => Response | Promise<Response>;
  /** One path, or several that the load cycles over (each is checked before the load). */
  path: string | readonly string[];
  headers?: Record<string, string>;
  /** A string the body of a correct answer contains, checked once per path before the load. */
  expectBody?: string;
  /** Check expectBody in every response of the load too, not only before it. */
  expectBodyEveryTime?: boolean;
  /** GET unless said. A POST needs `bodies`. */
  method?: 'GET' | 'POST';
  /** Request bodies, cycled over like paths (a POST needs at least one). */
  bodies?: readonly string[];
  /**
   * Send each body once (writes that may not repeat, e.g. a dose per patient
   * per day): the checks before the load take the first ones (one per path),
   * the load the rest in order. Should they run out, the load stops there and
   * the figures cover the shorter window (with a note).
   */
  eachBodyOnce?: boolean;
}

const MAX_REQUESTS_PER_PHASE = 5_000_000;
const REQUEST_TIMEOUT_MS = 10_000;

/** Serves `target`, checks it, loads it for warm-up + seconds, and returns the figures. */
export async function measureHttp(name: string, settings: LoadSettings, target: HttpTarget): Promise<BenchResult> {
  const { server, port } = await listen(target.fetch);
  try {
    const paths = typeof target.path === 'string' ? [target.path] : [...target.path];
    if (paths.length === 0) throw new Error(`${name}: no path to load`);
    const method = target.method ?? 'GET';
    if (method !== 'GET' && !target.bodies) throw new Error(`${name}: a ${method} load needs bodies`);
    const bodies = target.bodies ? [...target.bodies] : undefined;
    if (bodies && bodies.length === 0) throw new Error(`${name}: no body to send`);
    const once = bodies !== undefined && target.eachBodyOnce === true;
    const distinct = [...new Set(paths)];
    if (once && bodies.length <= distinct.length) throw new Error(`${name}: more bodies than paths are needed (one per path for the check, the rest for the load)`);
    for (const path of distinct) await preflight(port, path, target, once ? bodies.shift() : bodies?.[0]);
    const loopBefore = performance.eventLoopUtilization();
    const dbBefore = localDatabaseCpuMs();
    const reply = await runWorker({
      host: '127.0.0.1',
      port,
      paths,
      method,
      ...(bodies ? { bodies, bodiesOnce: once } : {}),
      ...(target.expectBodyEveryTime && target.expectBody !== undefined ? { expectBody: target.expectBody } : {}),
      headers: target.headers ?? {},
      connections: settings.connections,
      warmupMs: settings.warmupSeconds * 1000,
      durationMs: settings.seconds * 1000,
      maxRequests: MAX_REQUESTS_PER_PHASE,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    const loop = performance.eventLoopUtilization(loopBefore);
    const dbAfter = localDatabaseCpuMs();
    const m = reply.measured;
    const served = reply.warmup.completed + m.completed;
    if (m.capped) settings.log(`${name}: stopped at the cap of ${MAX_REQUESTS_PER_PHASE} requests`);
    if (once && (reply.warmup.exhausted || m.completed === 0)) throw new Error(`${name}: the ${bodies?.length ?? 0} request bodies ran out during the warm-up`);
    const notes: string[] = [];
    if (m.exhausted) {
      const note = `the request bodies ran out after ${(m.elapsedMs / 1000).toFixed(1)} s of the ${settings.seconds} s window: figures over that shorter window`;
      settings.log(`${name}: ${note}`);
      notes.push(note);
    }
    const sorted = m.latencies.sort();
    const errors = reply.warmup.errors + m.errors;
    const errorKinds: Record<string, number> = { ...reply.warmup.errorKinds };
    for (const [k, n] of Object.entries(m.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + n;
    return {
      bench: name,
      requests: m.completed,
      per_s: Math.round(m.completed / (m.elapsedMs / 1000)),
      ...(sorted.length > 0 ? { p50_ms: round(percentile(sorted, 0.5), 2), p99_ms: round(percentile(sorted, 0.99), 2) } : {}),
      ...(served > 0 ? { node_ms: round(loop.active / served, 3) } : {}),
      ...(served > 0 && dbBefore !== null && dbAfter !== null ? { db_cpu_ms: round((dbAfter - dbBefore) / served, 3) } : {}),
      ...(errors > 0 ? { errors, errorKinds } : {}),
      ...(notes.length > 0 ? { notes } : {}),
    };
  } finally {
    await close(server);
  }
}

/**
 * CPU so far of every PostgreSQL process on this machine (user + system, in
 * ms from /proc), when the bench's server is this machine's
 * (BENCH_DATABASE_URL on localhost); null otherwise. Processes that end
 * between two readings take their time with them: the server's backends
 * live as long as the pool's connections, longer than a measure.
 */
function localDatabaseCpuMs(): number | null {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url || !['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) return null;
  let ticks = 0;
  let found = false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const close = stat.lastIndexOf(')');
    if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
    // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(close + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
    found = true;
  }
  // USER_HZ is 100 on Linux.
  return found ? ticks * 10 : null;
}

function listen(fetch: HttpTarget['fetch']): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve({ server: server as Server, port: info.port }));
    server.once('error', reject);
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** One request before the load: a wrong answer (a redirect to /login, a 500) stops the measure early and clearly. */
async function preflight(port: number, path: string, target: HttpTarget, requestBody: string | undefined): Promise<void> {
  const method = target.method ?? 'GET';
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: target.headers ?? {},
    ...(requestBody !== undefined ? { body: requestBody } : {}),
    redirect: 'manual',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await res.text();
  if (res.status !== 200) {
    const where = res.headers.get('location');
    throw new Error(`${method} ${path} answered ${res.status}${where ? ` (Location: ${where})` : ''} before the load: ${body.replace(/\s+/g, ' ').slice(0, 300)}`);
  }
  if (target.expectBody !== undefined && !body.includes(target.expectBody)) {
    throw new Error(`${method} ${path} answered 200 but without ${JSON.stringify(target.expectBody)}`);
  }
}

// Node 20 does not apply `--import tsx` to worker threads: the worker starts
// as a small script that loads the TypeScript file through tsx's API.
const WORKER_URL = new URL('./load-worker.ts', import.meta.url).href;
const TSX_API_URL = import.meta.resolve('tsx/esm/api');

function runWorker(job: LoadJob): Promise<LoadReply> {
  const boot = `import(${JSON.stringify(TSX_API_URL)}).then(({ tsImport }) => tsImport(${JSON.stringify(WORKER_URL)}, ${JSON.stringify(import.meta.url)}));`;
  const worker = new Worker(boot, { eval: true, workerData: job });
  // Every loop in the worker ends by its deadline plus one request timeout; this is the backstop.
  const limitMs = job.warmupMs + job.durationMs + 2 * job.timeoutMs + 30_000;
  return new Promise<LoadReply>((resolve, reject) => {
    let done = false;
    const settle = (outcome: { reply: LoadReply } | { error: Error }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void worker.terminate();
      if ('reply' in outcome) resolve(outcome.reply);
      else reject(outcome.error);
    };
    const timer = setTimeout(() => settle({ error: new Error(`the load worker did not finish within ${Math.round(limitMs / 1000)} s`) }), limitMs);
    worker.once('message', (reply: LoadReply) => settle({ reply }));
    worker.once('error', (error) => settle({ error }));
    worker.once('exit', (code) => settle({ error: new Error(`the load worker exited (code ${code}) without a result`) }));
  });
}
