// Start-up: configuration, database (with its lock and migrations), reference
// data, the demo on first start, the HTTP listener, and a clean shutdown.
import { serve } from '@hono/node-server';
import { DataDirLockedError } from '../db/datadir-lock.ts';
import { DatabaseUnavailableError, isUnavailable, openDatabase, targetFromConfig } from '../db/client.ts';
import { ensureAdminUnits } from '../db/reference-data.ts';
import { seedDemo } from '../db/seed.ts';
import { createApp } from './app.ts';
import { startSessionCache } from './auth/session-cache.ts';
import { systemClock } from './clock.ts';
import { ConfigError, loadConfig, pumpOptionsOf, type Config } from './config.ts';
import { startJobs } from './jobs/scheduler.ts';
import { createLogger } from './log.ts';
import { PumpRuntime } from './pumps/runtime.ts';
import { ensureEnvPump } from './services/pumps.ts';
import { ensureDefaultRuleSet } from './services/rule-sets.ts';

function fail(message: string): never {
  process.stderr.write(`\nMethadone Point could not start:\n${message}\n\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const target = targetFromConfig(config);
  const where = target.kind === 'pglite' ? `embedded database in ${target.dataDir}` : 'PostgreSQL server (DATABASE_URL)';

  let database;
  try {
    database = await openDatabase(target);
    await ensureAdminUnits(database.db);
    await ensureDefaultRuleSet(database.db);
  } catch (e) {
    if (e instanceof DataDirLockedError) fail(e.message);
    if (e instanceof DatabaseUnavailableError || isUnavailable(e)) {
      fail(`The database cannot be reached (${where}): ${(e as Error).message}\nCheck DATABASE_URL and that the PostgreSQL server is running.`);
    }
    fail(`The database could not be opened (${where}): ${(e as Error).message}`);
  }

  if (config.SEED_DEMO && (await seedDemo(database.db, config.DEMO_PASSWORD, systemClock.now()))) {
    logger.warn('demo_seeded', {
      users: 'admin, nurse, doctor, counsellor, manager',
      reminder: config.DEMO_PASSWORD === 'methadone-demo' ? 'demo accounts use the default password: change them or set DEMO_PASSWORD' : 'demo accounts use DEMO_PASSWORD: change them before real use',
    });
  }

  // Sessions answered from memory while this server hears every change to them (server/auth/session-cache.ts).
  await startSessionCache(database);

  let pumps: PumpRuntime | undefined;
  if (config.PUMPS_ENABLED) {
    const deps = { db: database.db, clock: systemClock };
    if (config.PUMP_PATH) await ensureEnvPump(deps, config.PUMP_PATH, config.PUMP_BAUD, config.PUMP_SERIAL || null);
    pumps = new PumpRuntime({ ...deps, logger }, pumpOptionsOf(config));
    // Before the listener: doses left pending by the last run are asked after as each pump connects.
    await pumps.start();
  }
  const app = createApp({ db: database.db, clock: systemClock, config, logger, pumps });
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
    logger.info('listening', { url: `http://${host}:${info.port}`, database: database.kind });
    // The one line a person reads at start-up.
    process.stdout.write(`Methadone Point is running at http://${host}:${info.port} (${where})\n`);
  });
  server.on('error', (e) => fail(`The HTTP listener failed: ${(e as Error).message}`));
  const jobs = startJobs({ db: database.db, clock: systemClock }, config, logger);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info('shutting_down', { signal });
    jobs.stop();
    server.close();
    await pumps?.close();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // A dropped PostgreSQL connection must not end the process: requests answer 503 until it is back.
  process.on('unhandledRejection', (e) => logger.error('unhandled_rejection', { name: (e as Error)?.name ?? 'unknown', code: (e as { code?: string })?.code ?? null }));
}

main().catch((e: unknown) => {
  // Only the class and code: a message may quote SQL with its parameters.
  fail(`Unexpected error during start-up: ${(e as Error)?.name ?? 'Error'}${(e as { code?: string })?.code ? ` (${(e as { code?: string }).code})` : ''}`);
});
