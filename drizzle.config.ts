import { defineConfig } from 'drizzle-kit';

// Migrations are generated (`npm run db:generate`), committed, never edited,
// and applied by the server at start-up on PGlite and PostgreSQL alike.
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema.ts',
  out: './db/migrations',
});
