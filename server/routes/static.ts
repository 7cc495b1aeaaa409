// Static files: htmx from the installed npm package (clinics may have no
// internet; never a CDN) and our stylesheet and script. Read once, kept in
// memory, served with a content hash so browsers may cache them for good.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { AppEnv } from './support.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const SOURCES: Record<string, { file: () => string; type: string }> = {
  'htmx.min.js': { file: () => require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  'app.js': { file: () => path.join(here, '../../views/static/app.js'), type: 'text/javascript; charset=utf-8' },
  'counter.js': { file: () => path.join(here, '../../views/static/counter.js'), type: 'text/javascript; charset=utf-8' },
  'camera.js': { file: () => path.join(here, '../../views/static/camera.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { file: () => path.join(here, '../../views/static/app.css'), type: 'text/css; charset=utf-8' },
};

export interface StaticFiles {
  version: string;
  files: Map<string, { body: Uint8Array; type: string }>;
}

export function loadStaticFiles(): StaticFiles {
  const files = new Map<string, { body: Uint8Array; type: string }>();
  const hash = createHash('sha256');
  for (const [name, src] of Object.entries(SOURCES)) {
    const body = readFileSync(src.file());
    hash.update(body);
    files.set(name, { body, type: src.type });
  }
  return { version: hash.digest('hex').slice(0, 12), files };
}

export function staticRoutes(assets: StaticFiles) {
  return new Hono<AppEnv>().get('/static/:file', (c) => {
    const file = assets.files.get(c.req.param('file'));
    if (!file) return c.notFound();
    c.header('Content-Type', file.type);
    c.header('Cache-Control', c.req.query('v') === assets.version ? 'public, max-age=31536000, immutable' : 'no-cache');
    return c.body(file.body as Uint8Array<ArrayBuffer>);
  });
}
