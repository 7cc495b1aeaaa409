// formBody reads url-encoded forms itself (not through Request.formData):
// the fields it finds must be the ones Hono's parseBody({ all: true }) finds.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { formBody, type AppEnv, type Ctx } from '../../server/routes/support.ts';

const app = new Hono<AppEnv>()
  .post('/ours', async (c) => c.json(Object.entries(await formBody(c as Ctx))))
  .post('/hono', async (c) => {
    const body = await c.req.parseBody({ all: true });
    const clean = (x: string) => x.replace(/\u0000/g, '');
    return c.json(Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? v.map((x) => clean(String(x))) : clean(String(v))]));
  });

const post = async (path: string, body: string, type = 'application/x-www-form-urlencoded') =>
  (await app.request(path, { method: 'POST', headers: { 'content-type': type }, body })).json();

describe('form bodies (server/routes/support.ts formBody)', () => {
  it.each([
    ['plain fields', 'clinic=abc&mg=80&note=Kh%C3%B4ng+sao'],
    ['a field sent twice is a list', 'days=1&days=2&days=3'],
    ['a field named with [] is a list even once', 'ids[]=a'],
    ['+ is a space, %2B a plus', 'q=Nguy%E1%BB%85n+V%C4%83n+%2B84'],
    ['NUL is dropped', 'note=a%00b%00'],
    ['broken percent escapes are kept as sent', 'q=100%&r=%zz&s=%E1%BB'],
    ['empty names and values', '=x&y=&&z'],
    ['unicode digits and separators', 'mg=%D9%A8%D9%A0&ml=80%2C5'],
    ['a field named __proto__ is a field', '__proto__=x&__proto__=y&constructor=z'],
    ['a charset in the content type', 'a=1', 'application/x-www-form-urlencoded; charset=UTF-8'],
  ])('%s', async (_, body, type?: string) => {
    const ours = await post('/ours', body, type);
    expect(ours).toEqual(await post('/hono', body, type));
  });

  it('a field named constructor is absent unless sent (the body has no prototype)', async () => {
    const app2 = new Hono<AppEnv>().post('/', async (c) => {
      const body = await formBody(c as Ctx);
      return c.json({ constructor: typeof body['constructor'], toString: typeof body['toString'] });
    });
    const res = await app2.request('/', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect(await res.json()).toEqual({ constructor: 'undefined', toString: 'undefined' });
  });
});
