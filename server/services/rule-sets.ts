// Rule sets: which parameters are in force for a clinic on a day.
import { and, asc, desc, eq, isNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { clinics, ruleSets, ruleSetVersions } from '../../db/schema.ts';
import { completeEntries, DEFAULT_ENTRIES, inconsistencies, PARAMETERS, PARAMETER_KEYS, valuesOf, type ParameterEntries, type ParameterKey, type RuleParams } from '../dosing/parameters.ts';
import { Invalid, NotFound, type FieldErrors } from '../errors.ts';
import { audit } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';

export const DEFAULT_RULE_SET_NAME = 'Vietnam, pending confirmation';
/** The shipped version applies from long before any record. */
const SHIPPED_FROM = '2000-01-01';

export interface RuleSetInForce {
  ruleSetId: string;
  versionId: string;
  name: string;
  effectiveFrom: string;
  entries: ParameterEntries;
  params: RuleParams;
}

/** Creates the programme's default rule set on an empty database; returns its id. */
export async function ensureDefaultRuleSet(db: Db): Promise<string> {
  const [existing] = await db.select({ id: ruleSets.id }).from(ruleSets).orderBy(asc(ruleSets.createdAt)).limit(1);
  if (existing) return existing.id;
  return db.transaction(async (tx) => {
    // Several instances starting on one empty PostgreSQL: the first creates it, the others find it.
    await tx.execute(sql`select pg_advisory_xact_lock(7340002)`);
    const [again] = await tx.select({ id: ruleSets.id }).from(ruleSets).orderBy(asc(ruleSets.createdAt)).limit(1);
    if (again) return again.id;
    const [set] = await tx
      .insert(ruleSets)
      .values({ name: DEFAULT_RULE_SET_NAME, description: 'Defaults of shared/design/clinical-rules.md: the Vietnamese figure where found, else the international one named.' })
      .returning();
    await tx.insert(ruleSetVersions).values({ ruleSetId: set!.id, effectiveFrom: SHIPPED_FROM, parameters: DEFAULT_ENTRIES, approvedBy: '', note: 'Shipped defaults' });
    return set!.id;
  });
}

async function defaultRuleSetId(db: Db): Promise<string> {
  const [row] = await db.select({ id: ruleSets.id }).from(ruleSets).orderBy(asc(ruleSets.createdAt)).limit(1);
  return row?.id ?? ensureDefaultRuleSet(db);
}

/** The parameters in force for a rule set on a day: the latest version effective by then. */
export async function ruleSetOn(db: Db, ruleSetId: string, day: string): Promise<RuleSetInForce> {
  const [row] = await db
    .select({ versionId: ruleSetVersions.id, effectiveFrom: ruleSetVersions.effectiveFrom, parameters: ruleSetVersions.parameters, name: ruleSets.name })
    .from(ruleSetVersions)
    .innerJoin(ruleSets, eq(ruleSets.id, ruleSetVersions.ruleSetId))
    .where(and(eq(ruleSetVersions.ruleSetId, ruleSetId), lte(ruleSetVersions.effectiveFrom, day)))
    .orderBy(desc(ruleSetVersions.effectiveFrom), desc(ruleSetVersions.createdAt))
    .limit(1);
  if (!row) throw new NotFound('rule set version');
  const entries = completeEntries(row.parameters);
  return { ruleSetId, versionId: row.versionId, name: row.name, effectiveFrom: row.effectiveFrom, entries, params: valuesOf(entries) };
}

/**
 * The rules in force are read on every scan and every dose, and change a few
 * times a year: they are kept for a few seconds per clinic and day. A change
 * made through this module clears them at once in this process; another
 * server instance on the same database sees it within RULES_CACHE_MS.
 * (Clinic ids are random UUIDs, so one cache serves every database.)
 */
export const RULES_CACHE_MS = 10_000;
const rulesCache = new Map<string, { at: number; rules: RuleSetInForce }>();

/** Forgets the cached rules (after a change of a rule set or of a clinic's set). */
export function forgetRules(): void {
  rulesCache.clear();
}

/** Runs a change and forgets the cached rules, whatever its outcome. */
async function forgetting<T>(change: Promise<T>): Promise<T> {
  try {
    return await change;
  } finally {
    forgetRules();
  }
}

/** The rule set a clinic follows, in force on a day. */
export async function rulesForClinic(db: Db, clinicId: string, day: string): Promise<RuleSetInForce> {
  const key = `${clinicId}|${day}`;
  const hit = rulesCache.get(key);
  if (hit && Date.now() - hit.at < RULES_CACHE_MS) return hit.rules;
  // Only read values are kept, never a pending read: a caller inside a
  // transaction must not wait on a read queued behind that same transaction
  // (PGlite runs one at a time).
  const rules = await readRulesForClinic(db, clinicId, day);
  if (rulesCache.size > 10_000) rulesCache.clear();
  rulesCache.set(key, { at: Date.now(), rules });
  return rules;
}

async function readRulesForClinic(db: Db, clinicId: string, day: string): Promise<RuleSetInForce> {
  const [clinic] = await db.select({ ruleSetId: clinics.ruleSetId }).from(clinics).where(eq(clinics.id, clinicId));
  if (!clinic) throw new NotFound('clinic');
  return ruleSetOn(db, clinic.ruleSetId ?? (await defaultRuleSetId(db)), day);
}

export async function listRuleSets(db: Db) {
  const sets = await db.select().from(ruleSets).orderBy(asc(ruleSets.createdAt));
  const versions = await db.select().from(ruleSetVersions).orderBy(desc(ruleSetVersions.effectiveFrom), desc(ruleSetVersions.createdAt));
  const usedBy = await db.select({ id: clinics.id, name: clinics.name, ruleSetId: clinics.ruleSetId }).from(clinics).where(isNull(clinics.ruleSetId));
  return { sets, versions, defaultSetId: sets[0]?.id ?? null, clinicsOnDefault: usedBy };
}

export interface NewVersion {
  ruleSetId: string;
  effectiveFrom: string;
  approvedBy: string;
  note: string;
  /** Values and confirmation per parameter; sources are kept unless given. */
  entries: ParameterEntries;
}

/** The checks of a new version, without writing: a message per field (a parameter by its key). */
export function versionErrors(input: Pick<NewVersion, 'effectiveFrom' | 'approvedBy' | 'entries'>, today: string): FieldErrors {
  const errors: FieldErrors = {};
  for (const k of PARAMETER_KEYS) {
    const v = input.entries[k].value;
    const def = PARAMETERS[k];
    if (!(Number.isFinite(v) && v >= def.min && v <= def.max) || (def.kind === 'days' && !Number.isInteger(v))) errors[k] = 'err_out_of_range';
  }
  for (const k of inconsistencies(valuesOf(input.entries))) errors[k] ??= 'err_rules_inconsistent';
  if (input.effectiveFrom < today) errors.effectiveFrom = 'err_date_past';
  if (!input.approvedBy.trim()) errors.approvedBy = 'err_required';
  return errors;
}

/** A change of parameters: a new version effective from a date (today or later), audited. */
export async function addRuleSetVersion({ db, clock }: ServiceDeps, actor: Actor, input: NewVersion, today: string): Promise<string> {
  const errors = versionErrors(input, today);
  if (Object.keys(errors).length) throw new Invalid(errors);
  const before = await ruleSetOn(db, input.ruleSetId, input.effectiveFrom);
  const changed = PARAMETER_KEYS.filter((k) => before.entries[k].value !== input.entries[k].value || before.entries[k].confirmed !== input.entries[k].confirmed);
  return forgetting(db.transaction(async (tx) => {
    const [row] = await tx
      .insert(ruleSetVersions)
      .values({ ruleSetId: input.ruleSetId, effectiveFrom: input.effectiveFrom, parameters: input.entries, approvedBy: input.approvedBy.trim(), note: input.note.trim(), createdBy: actor.userId, createdAt: clock.now() })
      .returning({ id: ruleSetVersions.id });
    await audit(tx, {
      action: 'rule_set_change',
      actorId: actor.userId,
      entityType: 'rule_set',
      entityId: input.ruleSetId,
      details: { versionId: row!.id, effectiveFrom: input.effectiveFrom, changed: changed.map((k) => ({ key: k, from: before.entries[k].value, to: input.entries[k].value, confirmed: input.entries[k].confirmed })) },
      address: actor.address,
      at: clock.now(),
    });
    return row!.id;
  }));
}

export function unconfirmed(entries: ParameterEntries): ParameterKey[] {
  return PARAMETER_KEYS.filter((k) => !entries[k].confirmed);
}

export interface NewRuleSet {
  /** The set whose parameters (and history up to today) the new set starts from. */
  fromRuleSetId: string;
  name: string;
}

/**
 * A new rule set (e.g. a province's), starting from the parameters of another
 * set in force today. The source's versions up to today are copied as well, so
 * a clinic moved from the source to its copy keeps the same parameters on
 * every past day: its past decisions are still explained by the same numbers.
 */
export async function createRuleSet({ db, clock }: ServiceDeps, actor: Actor, input: NewRuleSet, today: string): Promise<string> {
  const errors: FieldErrors = {};
  const name = input.name.trim();
  const sets = await db.select({ id: ruleSets.id, name: ruleSets.name }).from(ruleSets);
  if (!name) errors.name = 'err_required';
  else if (name.length > 200) errors.name = 'err_too_long';
  else if (sets.some((s) => s.name.trim().toLowerCase() === name.toLowerCase())) errors.name = 'err_rule_set_name_taken';
  const from = sets.find((s) => s.id === input.fromRuleSetId);
  if (!from) errors.from = 'err_choose';
  if (Object.keys(errors).length) throw new Invalid(errors);
  const inForce = await ruleSetOn(db, from!.id, today);
  const history = await db
    .select()
    .from(ruleSetVersions)
    .where(and(eq(ruleSetVersions.ruleSetId, from!.id), lte(ruleSetVersions.effectiveFrom, today)))
    .orderBy(asc(ruleSetVersions.effectiveFrom), asc(ruleSetVersions.createdAt));
  return forgetting(db.transaction(async (tx) => {
    const [set] = await tx.insert(ruleSets).values({ name }).returning({ id: ruleSets.id });
    await tx.insert(ruleSetVersions).values(
      history.map((v) => ({ ruleSetId: set!.id, effectiveFrom: v.effectiveFrom, parameters: v.parameters, approvedBy: v.approvedBy, note: v.note, createdBy: actor.userId })),
    );
    await audit(tx, {
      action: 'rule_set_change',
      actorId: actor.userId,
      entityType: 'rule_set',
      entityId: set!.id,
      details: { created: true, fromRuleSetId: from!.id, fromVersionId: inForce.versionId, versionsCopied: history.length },
      address: actor.address,
      at: clock.now(),
    });
    return set!.id;
  }));
}

/**
 * Which rule set a clinic follows (null: the programme's default). Takes
 * effect at once; decisions already taken keep the version they recorded.
 */
export async function assignRuleSet({ db, clock }: ServiceDeps, actor: Actor, clinicId: string, ruleSetId: string | null): Promise<void> {
  const defaultId = await defaultRuleSetId(db);
  if (ruleSetId !== null) {
    const [set] = await db.select({ id: ruleSets.id }).from(ruleSets).where(eq(ruleSets.id, ruleSetId));
    if (!set) throw new Invalid({ ruleSetId: 'err_choose' });
  }
  // One way to say "the default": null.
  const target = ruleSetId === defaultId ? null : ruleSetId;
  await forgetting(db.transaction(async (tx) => {
    const [clinic] = await tx.select({ id: clinics.id, ruleSetId: clinics.ruleSetId }).from(clinics).where(eq(clinics.id, clinicId)).for('update');
    if (!clinic) throw new NotFound('clinic');
    if (clinic.ruleSetId === target) return;
    await tx.update(clinics).set({ ruleSetId: target }).where(eq(clinics.id, clinicId));
    await audit(tx, {
      action: 'rule_set_change',
      actorId: actor.userId,
      clinicId,
      entityType: 'clinic',
      entityId: clinicId,
      details: { from: clinic.ruleSetId, to: target },
      address: actor.address,
      at: clock.now(),
    });
  }));
}
