// The load generator, run in a worker thread so that it does not share the
// server's event loop: `connections` loops, each sending one request at a
// time (a GET, or a POST with job.bodies) over its own keep-alive socket,
// first for the warm-up (not recorded) and then for the measured window.
// Requests cycle over job.paths (one turn shared by all loops), and over
// job.bodies likewise; with job.bodiesOnce each body is sent once, across both
// phases. With job.expectBody, every body is checked too. Every loop stops by
// itself: at the deadline, at the request cap, or when bodies sent once run
// out; a request that hangs is abandoned after timeoutMs.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadJob, LoadReply, PhaseResult } from './load.ts';

const job = workerData as LoadJob;

const agent = new http.Agent({ keepAlive: true, maxSockets: job.connections, maxFreeSockets: job.connections });

type Outcome = { ok: true } | { ok: false; kind: string };

let nextPath = 0;
let nextBody = 0;
const bodiesLeft = () => !job.bodiesOnce || job.bodies === undefined || nextBody < job.bodies.length;

function once(): Promise<Outcome> {
  const path = job.paths[nextPath++ % job.paths.length]!;
  const payload = job.bodies?.[nextBody++ % job.bodies.length];
  const headers = payload === undefined ? job.headers : { ...job.headers, 'content-length': String(Buffer.byteLength(payload)) };
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: Outcome) => {
      if (!settled) {
        settled = true;
        resolve(o);
      }
    };
    const req = http.request({ agent, host: job.host, port: job.port, path, method: job.method, headers }, (res) => {
      const status = res.statusCode ?? 0;
      // The whole body is read: the latency is to the last byte.
      const expect = job.expectBody;
      let body = '';
      if (expect === undefined) res.on('data', () => {});
      else {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
      }
      res.on('end', () => {
        if (status !== 200) settle({ ok: false, kind: `status ${status}` });
        else if (expect !== undefined && !body.includes(expect)) settle({ ok: false, kind: `body without ${JSON.stringify(expect)}` });
        else settle({ ok: true });
      });
      res.on('error', (e: NodeJS.ErrnoException) => settle({ ok: false, kind: e.code ?? e.name }));
      res.on('aborted', () => settle({ ok: false, kind: 'aborted' }));
    });
    req.setTimeout(job.timeoutMs, () => req.destroy(Object.assign(new Error('request timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => settle({ ok: false, kind: e.code ?? e.name }));
    req.end(payload);
  });
}

async function phase(durationMs: number, record: boolean): Promise<PhaseResult> {
  let latencies = new Float64Array(record ? 65_536 : 0);
  let completed = 0;
  let issued = 0;
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  const start = performance.now();
  const deadline = start + durationMs;

  const loop = async () => {
    while (issued < job.maxRequests && performance.now() < deadline && bodiesLeft()) {
      issued++;
      const t0 = performance.now();
      const outcome = await once();
      const ms = performance.now() - t0;
      if (!outcome.ok) {
        errors++;
        errorKinds[outcome.kind] = (errorKinds[outcome.kind] ?? 0) + 1;
      }
      if (record) {
        if (completed === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[completed] = ms;
      }
      completed++;
    }
  };
  await Promise.all(Array.from({ length: job.connections }, loop));
  const elapsedMs = performance.now() - start;
  return {
    completed,
    errors,
    errorKinds,
    elapsedMs,
    capped: issued >= job.maxRequests,
    exhausted: !bodiesLeft(),
    latencies: record ? latencies.slice(0, completed) : new Float64Array(0),
  };
}

const warmup = await phase(job.warmupMs, false);
const measured = await phase(job.durationMs, true);
agent.destroy();
const reply: LoadReply = { warmup, measured };
parentPort!.postMessage(reply, [measured.latencies.buffer as ArrayBuffer]);
