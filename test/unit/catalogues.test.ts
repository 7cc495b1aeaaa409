import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { en } from '../../views/i18n/en.ts';
import { core, vi } from '../../views/i18n/vi.ts';
import * as counter from '../../views/i18n/counter.ts';
import * as patients from '../../views/i18n/patients.ts';
import * as rules from '../../views/i18n/rules.ts';
import { AUDIT_ACTIONS } from '../../server/services/audit.ts';
import { ADMIN_UNITS_CSV, parseAdminUnits } from '../../db/reference-data.ts';

describe('message catalogues', () => {
  it('vi and en have the same keys, and parameterised messages take the same parameters', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(vi).sort());
    for (const key of Object.keys(vi) as (keyof typeof vi)[]) expect(typeof en[key], key).toBe(typeof vi[key]);
  });

  it('no key is defined in two parts of the catalogue (a spread would silently keep only the last)', () => {
    const parts: Record<string, object> = { core, patients: patients.vi, rules: rules.vi, counter: counter.vi };
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const [part, messages] of Object.entries(parts))
      for (const key of Object.keys(messages)) {
        if (seen.has(key)) twice.push(`${key}: ${seen.get(key)} and ${part}`);
        seen.set(key, part);
      }
    expect(twice).toEqual([]);
  });

  it('no message is empty, and every audit action has a label in both languages', () => {
    for (const [k, v] of Object.entries(vi)) if (typeof v === 'string') expect(v.trim(), k).not.toBe('');
    for (const a of AUDIT_ACTIONS) {
      expect(vi).toHaveProperty(`audit_action_${a}`);
      expect(en).toHaveProperty(`audit_action_${a}`);
    }
  });
});

describe('administrative units since 1 July 2025', () => {
  it('has 34 provinces and 3,321 communes, with no districts', () => {
    const units = parseAdminUnits(fs.readFileSync(ADMIN_UNITS_CSV, 'utf8'));
    expect(units.provinces).toHaveLength(34);
    expect(units.communes).toHaveLength(3321);
    expect(new Set(units.communes.map((c) => c.kind))).toEqual(new Set(['xã', 'phường', 'đặc khu']));
    expect(units.communes.find((c) => c.code === 11383)).toMatchObject({ name: 'Phường Lê Chân', provinceCode: 31, searchName: 'phuong le chan' });
  });
});
