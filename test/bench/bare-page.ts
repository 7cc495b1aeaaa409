// The floor: a bare Hono app answering a constant HTML page, served and loaded
// exactly as the real pages are. Other measures' `ratio` is taken over it, so
// their figures compare across machines.
import { Hono } from 'hono';
import { measureHttp } from './load.ts';
import type { Measure } from './measure.ts';

const PAGE = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Bare page</title></head><body><h1>Bare page</h1><p>A constant page, the floor of the benchmarks.</p></body></html>';

export const barePage: Measure = {
  name: 'bare-page',
  async run(ctx) {
    const app = new Hono();
    app.get('/', (c) => c.html(PAGE));
    return [await measureHttp('bare-page', ctx, { fetch: app.fetch, path: '/', expectBody: '<h1>Bare page</h1>' })];
  },
};
