import type { Db } from '../../db/client.ts';
import { createApp } from '../../server/app.ts';
import { FixedClock, type Clock } from '../../server/clock.ts';
import { testConfig, type Config } from '../../server/config.ts';
import { createLogger, type Logger } from '../../server/log.ts';
import type { PumpRuntime } from '../../server/pumps/runtime.ts';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  clock: FixedClock;
  logs: string[];
  logger: Logger;
  config: Config;
}

/** The real app on a test database, a fixed clock, and a log captured in memory. */
export function makeTestApp(db: Db, overrides: Partial<Record<keyof Config, string>> = {}, clock: Clock = new FixedClock(new Date()), pumps?: PumpRuntime): TestApp {
  const config = testConfig({ TRUST_PROXY: 'true', ...overrides });
  const logs: string[] = [];
  const logger = createLogger('debug', (l) => logs.push(l));
  const app = createApp({ db, clock, config, logger, ...(pumps ? { pumps } : {}) });
  return { app, clock: clock as FixedClock, logs, logger, config };
}
