// The floor of a write: a bare Hono route (here, not in the app) that inserts
// one row into a small table of the bench database, through the same
// connection pool (db/client.ts's settings: 10 connections, synchronous
// commit) and served and loaded as the real pages are. No session, no
// transaction, no audit. dose-confirm's `ratio` is taken over it.
import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { measureHttp, type HttpTarget } from './load.ts';
import type { Measure } from './measure.ts';

const TABLE = sql.raw('bench_bare_insert');

/** The bare route and how it is loaded (dose-confirm also measures it right beside its own windows). */
export async function bareInsertTarget(db: Db): Promise<HttpTarget> {
  await db.execute(sql`create table if not exists ${TABLE} (
    id bigint generated always as identity primary key,
    request_id text not null,
    at timestamptz not null default now()
  )`);
  const app = new Hono();
  app.post('/insert', async (c) => {
    const form = await c.req.parseBody();
    const requestId = typeof form.requestId === 'string' ? form.requestId : '';
    await db.execute(sql`insert into ${TABLE} (request_id) values (${requestId})`);
    return c.html('<p class="notice ok">inserted</p>');
  });
  return {
    fetch: app.fetch,
    path: '/insert',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    bodies: ['requestId=bare-insert-0123456789'],
    expectBody: 'inserted',
  };
}

export const bareInsert: Measure = {
  name: 'bare-insert',
  async run(ctx) {
    const { db } = await ctx.database();
    return [await measureHttp('bare-insert', ctx, await bareInsertTarget(db))];
  },
};
