// Live sessions kept in memory, so that a request does not ask the database
// for its session every time (server/auth/sessions.ts loadSession). Kept only
// while this server is sure to hear of every change a session's check rests
// on, so a revoked session, a disabled account or a changed role or clinic
// list ends at once, on every server:
//
// - the database notifies `mp_auth` at the commit of any such change
//   (migration 0023), and every server listening drops all it kept;
// - the server that made the change drops it too, right after its commit
//   (sessionsChanged), without waiting for its own notification;
// - while the listening connection is down, or not known to be up, nothing is
//   kept or served: every request asks the database, as without the cache;
// - an answer read from the database is kept only if nothing was dropped while
//   it was being read (the generation), so an answer read before a change
//   cannot be kept after hearing of it.
//
// The expiries are checked on every use; an entry that fails them is not
// taken as an answer, the database is asked.
import type { Database, Db } from '../../db/client.ts';

/** The channel of migration 0023's triggers. */
export const AUTH_CHANNEL = 'mp_auth';

/** A bound on memory: more live sessions than this on one server is more than any clinic has. */
const MAX_ENTRIES = 10_000;

export interface CachedSession<U> {
  csrfToken: string;
  lastSeenAt: Date;
  expiresAt: Date;
  user: U;
}

export class SessionCache<U> {
  #entries = new Map<string, CachedSession<U>>();
  #generation = 0;
  #live = false;

  /** Changes each time what was kept is dropped: read it before asking the database. */
  get generation(): number {
    return this.#generation;
  }

  get live(): boolean {
    return this.#live;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(idHash: string): CachedSession<U> | undefined {
    return this.#live ? this.#entries.get(idHash) : undefined;
  }

  /** Keeps an answer read from the database, unless something was dropped since `generation` was read. */
  put(idHash: string, entry: CachedSession<U>, generation: number): void {
    if (!this.#live || generation !== this.#generation) return;
    if (this.#entries.size >= MAX_ENTRIES && !this.#entries.has(idHash)) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(idHash, entry);
  }

  /** One session no longer to be answered from memory (it failed its expiries). */
  delete(idHash: string): void {
    this.#entries.delete(idHash);
  }

  /** Everything dropped: something a session's check rests on changed. */
  forget(): void {
    this.#generation++;
    this.#entries.clear();
  }

  up(): void {
    this.forget();
    this.#live = true;
  }

  down(): void {
    this.#live = false;
    this.forget();
  }
}

const caches = new WeakMap<Db, SessionCache<unknown>>();

/** The cache of this database handle, if one was started (startSessionCache). */
export function sessionCacheOf<U>(db: Db): SessionCache<U> | undefined {
  return caches.get(db) as SessionCache<U> | undefined;
}

/**
 * Starts keeping this database's sessions in memory for as long as its
 * listener is up. Returns the stop; the database's close stops it too.
 */
export async function startSessionCache(database: Pick<Database, 'db' | 'listen'>): Promise<() => Promise<void>> {
  const cache = new SessionCache<unknown>();
  caches.set(database.db, cache);
  const stop = await database.listen(AUTH_CHANNEL, { notify: () => cache.forget(), up: () => cache.up(), down: () => cache.down() });
  return async () => {
    if (caches.get(database.db) === cache) caches.delete(database.db);
    cache.down();
    await stop();
  };
}

/**
 * Runs a change of sessions or accounts (a transaction), then drops what this
 * server kept: its own next request must not wait for the notification.
 */
export async function changingSessions<T>(db: Db, change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } finally {
    caches.get(db)?.forget();
  }
}
