// The pump's memory in a JSON file (the CLI's --state), so a simulator
// restarted mid-test still knows which transactions it has delivered.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { simMemorySchema, type SimMemory, type SimMemoryStore } from './memory.ts';

export function jsonFileMemory(path: string): SimMemoryStore {
  return {
    load(): SimMemory | null {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
      return simMemorySchema.parse(JSON.parse(text));
    },
    save(m: SimMemory): void {
      // Written aside and renamed over: a simulator killed mid-write leaves the old file whole, never half of one.
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(m, null, 1)}\n`);
      renameSync(tmp, path);
    },
  };
}
