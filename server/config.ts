// The only reader of process.env. Every variable is validated at start-up and
// all problems are reported together, so an operator fixes them in one go.
import { z } from 'zod';
import { PUMP_OPTIONS, envName, optionSchema, type PumpOptions } from '../devices/options.ts';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const minutes = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** postgres://… to use a PostgreSQL server; unset means the embedded PGlite. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  /** Folder of the embedded database (PGlite). */
  DATA_DIR: z.string().min(1).default('./data'),
  SEED_DEMO: bool.default(true),
  DEMO_PASSWORD: z.string().min(8, 'at least 8 characters').max(128).default('methadone-demo'),
  /** Idle expiry of a session: a counter shift has pauses, not hours of silence. */
  SESSION_IDLE_MINUTES: minutes(30, 1, 24 * 60),
  /** Absolute expiry: a counter shift is about 8 hours; 12 covers a long day. */
  SESSION_ABSOLUTE_MINUTES: minutes(12 * 60, 5, 7 * 24 * 60),
  /** Failures (per account or per address) before logins are refused for a while. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(3).max(50).default(5),
  LOGIN_LOCK_MINUTES: minutes(15, 1, 24 * 60),
  /**
   * Secure cookies (`__Host-` prefix). `auto` turns them on for requests that
   * arrive over HTTPS (directly, or via X-Forwarded-Proto when TRUST_PROXY).
   */
  COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  TRUST_PROXY: bool.default(false),
  DEFAULT_TIME_ZONE: z
    .string()
    .default('Asia/Ho_Chi_Minh')
    .refine(isTimeZone, 'not a known IANA time zone'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** How often the scheduler looks for clinics past their closing time (0: never; a manager can still close a day). */
  DAY_CLOSE_CHECK_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  /** How often audit rows written since are sealed into the hash chain (until then an edit of them would not show). */
  AUDIT_SEAL_SECONDS: z.coerce.number().int().min(1).max(60).default(1),
  /** E-mail of alerts: smtp://user:password@host:587 or smtps://…:465; unset: no e-mail. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
    .optional(),
  MAIL_FROM: z.string().min(3).default('Methadone Point <methadone-point@localhost>'),
  /** Alerts as signed JSON to an SMS gateway or messaging service; unset: no webhook. */
  WEBHOOK_URL: z.string().url().regex(/^https?:\/\//, 'must start with http:// or https://').optional(),
  /** The HMAC-SHA256 key of the webhook's signature header; required with WEBHOOK_URL. */
  WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  /** The delivery worker: how often it looks for due messages, and its back-off. */
  OUTBOX_CHECK_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
  OUTBOX_RETRY_BASE_SECONDS: z.coerce.number().min(0.01).max(3600).default(30),
  OUTBOX_RETRY_MAX_SECONDS: z.coerce.number().min(0.01).max(86_400).default(3600),
  /** After this many failed attempts a message is marked failed (the admin can send it again). */
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(48),
  /** Open the configured pumps' serial lines (false: this instance never drives a pump; its counters measure by hand). */
  PUMPS_ENABLED: bool.default(true),
  /** A serial device attached to the demo clinic as its pump (`npm run pump:sim` prints one). */
  PUMP_PATH: z.string().min(1).max(200).optional(),
  PUMP_BAUD: z.coerce.number().int().refine((b) => [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200].includes(b), 'not a standard baud rate').default(9600),
  /** The SERIAL that pump must answer HELLO with (the simulator's default); empty: confirmed by a manager on first connection. */
  PUMP_SERIAL: z.string().max(64).default('SIM-0001'),
  ...pumpEnv(),
}).superRefine((c, ctx) => {
  if (c.WEBHOOK_URL && !c.WEBHOOK_SECRET) ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET'], message: 'required when WEBHOOK_URL is set' });
});

export type Config = z.infer<typeof EnvSchema>;

/** The driver's timeouts and retries as PUMP_* variables, with the ranges of devices/options.ts. */
function pumpEnv() {
  const keys = Object.keys(PUMP_OPTIONS) as (keyof PumpOptions)[];
  return Object.fromEntries(keys.map((k) => [envName(k), optionSchema(k)])) as { [K in keyof PumpOptions as PumpEnvName<K>]: ReturnType<typeof optionSchema> };
}
type PumpEnvName<K extends string> = `PUMP_${Uppercase<SnakeCase<K>>}`;
type SnakeCase<S extends string> = S extends `${infer H}${infer T}` ? `${H extends Uppercase<H> ? (H extends Lowercase<H> ? H : `_${Lowercase<H>}`) : H}${SnakeCase<T>}` : S;

/** The pump driver's options from a configuration. */
export function pumpOptionsOf(config: Config): PumpOptions {
  const keys = Object.keys(PUMP_OPTIONS) as (keyof PumpOptions)[];
  return Object.fromEntries(keys.map((k) => [k, (config as unknown as Record<string, number>)[envName(k)]])) as PumpOptions;
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses an environment (process.env by default); throws one ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset", as in most .env conventions.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const name = i.path.join('.');
    const value = cleaned[name];
    const shown = name.includes('PASSWORD') || name.includes('SECRET') || name === 'DATABASE_URL' || name === 'SMTP_URL' ? '' : ` (got ${JSON.stringify(value)})`;
    return `${name}: ${i.message}${shown}`;
  });
  throw new ConfigError(problems);
}

/** Configuration for tests: defaults with the given overrides. */
export function testConfig(overrides: Partial<Record<keyof Config, string>> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', SEED_DEMO: 'false', ...overrides });
}
