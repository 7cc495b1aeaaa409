import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';

describe('configuration from the environment', () => {
  it('has working defaults: embedded database in ./data, port 3000, Vietnam time', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 3000, DATA_DIR: './data', SEED_DEMO: true, DEFAULT_TIME_ZONE: 'Asia/Ho_Chi_Minh', SESSION_IDLE_MINUTES: 30, SESSION_ABSOLUTE_MINUTES: 720, LOGIN_MAX_FAILURES: 5 });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: '8080' }, { PORT: 8080 }],
    [{ SEED_DEMO: 'false' }, { SEED_DEMO: false }],
    [{ SEED_DEMO: '0' }, { SEED_DEMO: false }],
    [{ SEED_DEMO: 'yes' }, { SEED_DEMO: true }],
    [{ DATABASE_URL: 'postgres://u@h:5432/db' }, { DATABASE_URL: 'postgres://u@h:5432/db' }],
    [{ DATABASE_URL: '', PORT: '' }, { PORT: 3000 }], // empty means unset
    [{ SESSION_IDLE_MINUTES: '15', SESSION_ABSOLUTE_MINUTES: '540' }, { SESSION_IDLE_MINUTES: 15, SESSION_ABSOLUTE_MINUTES: 540 }],
  ])('accepts %j', (env, expected) => {
    expect(loadConfig(env)).toMatchObject(expected);
  });

  it('reports every bad variable in one error, and never echoes secrets', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', SESSION_IDLE_MINUTES: '0', DEFAULT_TIME_ZONE: 'Mars/Base', DATABASE_URL: 'mysql://secret@x', DEMO_PASSWORD: 'short', SEED_DEMO: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'DEFAULT_TIME_ZONE', 'DEMO_PASSWORD', 'PORT', 'SEED_DEMO', 'SESSION_IDLE_MINUTES']);
    expect(message).not.toContain('secret');
    expect(message).not.toContain('short');
  });
});
