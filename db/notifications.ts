// LISTEN on a channel, on either driver, with the listener's state: what is
// kept in memory because of it (server/auth/session-cache.ts) must know not
// only each notification but also every moment one may have been missed.
//
// PGlite is one backend in this process: a notification is handed over with
// the answer of the statement whose commit sent it, and it is never down.
// PostgreSQL: a connection of its own, which can drop or go silent (a server
// restart, a network cut). `down` is said as soon as that is known (the
// connection closed, or a heartbeat left unanswered); `up` only once LISTEN
// is in place again, so nothing sent before `up` is known to have arrived.
import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';

export interface ListenEvents {
  notify(payload: string): void;
  /** Listening: every notification sent from now on arrives. */
  up(): void;
  /** Not listening (or not known to be): notifications may be lost until the next `up`. */
  down(): void;
}

export type StopListening = () => Promise<void>;

export async function listenPglite(client: PGlite, channel: string, events: ListenEvents): Promise<StopListening> {
  const unlisten = await client.listen(channel, (payload) => events.notify(payload));
  events.up();
  return async () => {
    events.down();
    await unlisten();
  };
}

export interface PostgresListenOptions {
  /** How often the connection is asked whether it still answers (ms). */
  heartbeatMs?: number;
  /** How long an answer may take before the connection counts as gone (ms). */
  heartbeatTimeoutMs?: number;
  /** The wait before listening again after a failure (ms). */
  retryMs?: number;
}

/** The payload's prefix of a heartbeat (db/notifications.ts listenPostgres), never a change. */
const HEARTBEAT = 'heartbeat:';

/** The name the listening connection goes by in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'methadone-point-listen';

export async function listenPostgres(url: string, channel: string, events: ListenEvents, opts: PostgresListenOptions = {}): Promise<StopListening> {
  const heartbeatMs = opts.heartbeatMs ?? 5_000;
  const heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 3_000;
  const retryMs = opts.retryMs ?? 1_000;
  let stopped = false;
  let live = false;
  let client: postgres.Sql | null = null;
  let timer: NodeJS.Timeout | null = null;
  /** The heartbeat on its way, resolved when it arrives. */
  let awaited: { payload: string; arrived: () => void } | null = null;

  const schedule = (fn: () => void, ms: number) => {
    if (timer) clearTimeout(timer);
    timer = stopped ? null : setTimeout(fn, ms);
    timer?.unref();
  };
  /** This connection is gone or deaf: down now, a new one in a moment. */
  const fail = (c: postgres.Sql) => {
    if (client !== c) return;
    client = null;
    if (live) {
      live = false;
      events.down();
    }
    void c.end({ timeout: 0 }).catch(() => {});
    schedule(() => void connect(), retryMs);
  };
  // The heartbeat is a notification the connection sends itself: its arrival
  // shows that LISTEN is in force on it (a pooler in transaction mode would
  // answer the query and deliver nothing). Heartbeats, this server's or
  // another's, are not passed on.
  const beat = async (c: postgres.Sql): Promise<boolean> => {
    const payload = `${HEARTBEAT}${randomUUID()}`;
    let timeout: NodeJS.Timeout | undefined;
    const arrived = await Promise.race([
      new Promise<true>((resolve) => {
        awaited = { payload, arrived: () => resolve(true) };
        c`select pg_notify(${channel}, ${payload})`.catch(() => {});
      }),
      new Promise<false>((resolve) => {
        timeout = setTimeout(() => resolve(false), heartbeatTimeoutMs);
        timeout.unref();
      }),
    ]);
    clearTimeout(timeout);
    awaited = null;
    return arrived;
  };
  const heartbeat = async (): Promise<void> => {
    const c = client;
    if (!c || stopped) return;
    if (!(await beat(c))) return fail(c);
    if (client === c) schedule(heartbeat, heartbeatMs);
  };
  const connect = async (): Promise<void> => {
    if (stopped) return;
    // onnotify is read by postgres.js (its own listen() uses it) but not in its types.
    const onnotify = (ch: string, payload: string) => {
      if (ch !== channel || client !== c) return;
      if (!payload.startsWith(HEARTBEAT)) events.notify(payload);
      else if (awaited?.payload === payload) awaited.arrived();
    };
    const c: postgres.Sql = postgres(url, {
      onnotify,
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      connect_timeout: 10,
      onnotice: () => {},
      // Any close of this connection: what arrives on a new one starts from its LISTEN.
      onclose: () => fail(c),
      connection: { application_name: LISTENER_APPLICATION_NAME },
    } as postgres.Options<{}>);
    client = c;
    try {
      await c.unsafe(`listen "${channel.replace(/"/g, '""')}"`);
    } catch {
      return fail(c);
    }
    // Up only once a heartbeat has come back through it.
    if (client !== c || !(await beat(c))) return fail(c);
    if (client !== c || stopped) return;
    live = true;
    events.up();
    schedule(heartbeat, heartbeatMs);
  };

  await connect();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    const c = client;
    client = null;
    if (live) {
      live = false;
      events.down();
    }
    if (c) await c.end({ timeout: 1 }).catch(() => {});
  };
}
