// server/auth/session-cache.ts: what is kept, and when nothing may be.
import { describe, expect, it } from 'vitest';
import { SessionCache, type CachedSession } from '../../server/auth/session-cache.ts';

const entry = (csrfToken = 'csrf'): CachedSession<{ id: string }> => ({
  csrfToken,
  lastSeenAt: new Date('2026-11-23T00:00:00Z'),
  expiresAt: new Date('2026-11-23T08:00:00Z'),
  user: { id: 'u1' },
});

describe('SessionCache', () => {
  it('keeps and answers nothing until its listener is up', () => {
    const cache = new SessionCache<{ id: string }>();
    cache.put('a', entry(), cache.generation);
    expect(cache.get('a')).toBeUndefined();
    cache.up();
    cache.put('a', entry(), cache.generation);
    expect(cache.get('a')?.csrfToken).toBe('csrf');
  });

  // Each case: what happens between reading the generation (before the
  // database is asked) and keeping the answer. An answer read before a change
  // was heard of must not be kept after it.
  const between: [string, (c: SessionCache<{ id: string }>) => void, boolean][] = [
    ['nothing', () => {}, true],
    ['a change is heard (forget)', (c) => c.forget(), false],
    ['the listener goes down', (c) => c.down(), false],
    ['the listener goes down and comes back', (c) => (c.down(), c.up()), false],
    ['another session is dropped for its expiry', (c) => c.delete('b'), true],
  ];
  it.each(between)('an answer read while %s is kept: %s', (_what, meanwhile, kept) => {
    const cache = new SessionCache<{ id: string }>();
    cache.up();
    const generation = cache.generation;
    meanwhile(cache);
    cache.put('a', entry(), generation);
    expect(cache.get('a') !== undefined).toBe(kept);
  });

  it('forgets everything on a change and while down', () => {
    const cache = new SessionCache<{ id: string }>();
    cache.up();
    cache.put('a', entry(), cache.generation);
    cache.put('b', entry(), cache.generation);
    cache.forget();
    expect(cache.size).toBe(0);
    cache.put('a', entry(), cache.generation);
    cache.down();
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.live).toBe(false);
  });

  it('holds at most 10,000 sessions, dropping the oldest kept', () => {
    const cache = new SessionCache<{ id: string }>();
    cache.up();
    for (let i = 0; i < 10_001; i++) cache.put(`s${i}`, entry(), cache.generation);
    expect(cache.size).toBe(10_000);
    expect(cache.get('s0')).toBeUndefined();
    expect(cache.get('s1')).toBeDefined();
    expect(cache.get('s10000')).toBeDefined();
  });
});
