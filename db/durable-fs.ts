// PGlite, durable. By default PGlite starts PostgreSQL with -F (fsync off) and
// its Node file system ignores fsync: a committed row reaches the operating
// system's cache but not the disk, and a power cut can lose acknowledged doses
// or damage the folder. Here fsync is on and reaches the disk (fdatasync).
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

type EmscriptenStream = { nfd?: number };
type PreRun = (mod: { NODEFS: { stream_ops: Record<string, unknown> } }) => void;

export class DurableNodeFS extends NodeFS {
  override async init(pg: Parameters<NodeFS['init']>[0], opts: Parameters<NodeFS['init']>[1]) {
    const result = await super.init(pg, opts);
    const options = result.emscriptenOpts as { preRun?: PreRun[] };
    options.preRun = [
      ...(options.preRun ?? []),
      (mod) => {
        mod.NODEFS.stream_ops.fsync = (stream: EmscriptenStream) => {
          if (typeof stream.nfd === 'number') fs.fdatasyncSync(stream.nfd);
          return 0;
        };
      },
    ];
    return result;
  }
}

/** PostgreSQL's start parameters in PGlite, without -F: fsync on. */
export const DURABLE_START_PARAMS: string[] = PGlite.defaultStartParams.filter((p) => p !== '-F');
