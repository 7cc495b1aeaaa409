import type { Db } from '../../db/client.ts';
import type { Clock } from '../clock.ts';

/** What every service is given: the database (or a transaction) and the clock. */
export interface ServiceDeps {
  db: Db;
  clock: Clock;
}

/** Who is acting, for the audit log. */
export interface Actor {
  userId: string;
  address: string | null;
}
