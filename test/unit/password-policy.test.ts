import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, verifyPassword } from '../../server/auth/password.ts';

describe('password policy (security.md: 8–128 characters of any composition, common ones refused)', () => {
  it.each([
    ['1234567', 'err_password_length'],
    ['12345678', 'err_password_common'],
    ['Password123', 'err_password_common'],
    ['matkhau123', 'err_password_common'],
    ['methadone-demo', 'err_password_common'],
    ['x'.repeat(129), 'err_password_length'],
    ['x'.repeat(128), null],
    ['mật khẩu dài', null],
    ['😀😀😀😀😀😀😀😀', null], // 8 characters, 16 UTF-16 units
    ['😀😀😀😀😀😀😀', 'err_password_length'],
    ['correct horse battery', null],
    ['        ', null], // spaces are characters too
  ])('%j → %s', (pw, problem) => {
    expect(passwordProblem(pw)).toBe(problem);
  });
});

describe('scrypt hashing', () => {
  it('stores its parameters, salts every hash, and compares exactly', async () => {
    const a = await hashPassword('Mật khẩu dài 2026');
    const b = await hashPassword('Mật khẩu dài 2026');
    expect(a).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('Mật khẩu dài 2026', a)).toBe(true);
    expect(await verifyPassword('mật khẩu dài 2026', a)).toBe(false);
    expect(await verifyPassword('Mật khẩu dài 2026 ', a)).toBe(false);
    // NFC and NFD spellings of the same Vietnamese text are the same password.
    expect(await verifyPassword('Mật khẩu dài 2026'.normalize('NFD'), a)).toBe(true);
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false);
  });
});
