// The one drizzle schema. Ids are UUIDs so that records made on a satellite
// point while its network is down, or by several server instances, never clash.
// Time is stored as timestamptz (an instant); a service day is a `date`
// computed in the clinic's time zone by the service that writes the record.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const ROLES = ['admin', 'doctor', 'nurse', 'counsellor', 'manager'] as const;
export type Role = (typeof ROLES)[number];

export const LOCALES = ['vi', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export const CLINIC_KINDS = ['facility', 'satellite'] as const;
export type ClinicKind = (typeof CLINIC_KINDS)[number];

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const inList = (column: string, values: readonly string[]) =>
  sql.raw(`${column} in (${values.map((v) => `'${v}'`).join(', ')})`);

// ---------------------------------------------------------------------------
// Reference data: Vietnam's two-tier administrative units (since 1 July 2025).

export const provinces = pgTable('provinces', {
  code: integer('code').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind').notNull(),
});

export const communes = pgTable(
  'communes',
  {
    code: integer('code').primaryKey(),
    provinceCode: integer('province_code')
      .notNull()
      .references(() => provinces.code),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    /** Lower case, without diacritics, for search ("phuong ba dinh"). */
    searchName: text('search_name').notNull(),
  },
  (t) => [index('communes_province_idx').on(t.provinceCode)],
);

// ---------------------------------------------------------------------------
// Clinics and staff.

export const clinics = pgTable(
  'clinics',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Short code printed on cards and used in patient codes; unique, never reused. */
    code: text('code').notNull(),
    name: text('name').notNull(),
    kind: text('kind').$type<ClinicKind>().notNull(),
    parentId: uuid('parent_id').references((): any => clinics.id),
    provinceCode: integer('province_code')
      .notNull()
      .references(() => provinces.code),
    communeCode: integer('commune_code')
      .notNull()
      .references(() => communes.code),
    address: text('address').notNull().default(''),
    timeZone: text('time_zone').notNull().default('Asia/Ho_Chi_Minh'),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('clinics_code_uq').on(t.code),
    check('clinics_kind_ck', inList('kind', CLINIC_KINDS)),
    // A satellite dispensing point always hangs off a facility; a facility never does.
    check('clinics_parent_ck', sql`(kind = 'satellite') = (parent_id is not null)`),
  ],
);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Stored lower-case; login compares lower-case. */
    username: text('username').notNull(),
    fullName: text('full_name').notNull(),
    role: text('role').$type<Role>().notNull(),
    passwordHash: text('password_hash').notNull(),
    locale: text('locale').$type<Locale>().notNull().default('vi'),
    active: boolean('active').notNull().default(true),
    /** Set when an admin resets the password: the user chooses a new one at next login. */
    mustChangePassword: boolean('must_change_password').notNull().default(false),
    passwordChangedAt: timestamp('password_changed_at', { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('users_username_uq').on(t.username),
    check('users_role_ck', inList('role', ROLES)),
    check('users_locale_ck', inList('locale', LOCALES)),
  ],
);

/** The clinics a staff member works at; every query of clinical data is scoped by it. */
export const userClinics = pgTable(
  'user_clinics',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
  },
  (t) => [primaryKey({ columns: [t.userId, t.clinicId] }), index('user_clinics_clinic_idx').on(t.clinicId)],
);

// ---------------------------------------------------------------------------
// Sessions and login throttling. Sessions live in the database so that any
// server instance can serve any request.

export const sessions = pgTable(
  'sessions',
  {
    /** SHA-256 of the cookie value: a leaked table does not leak usable sessions. */
    idHash: text('id_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    csrfToken: text('csrf_token').notNull(),
    createdAt: createdAt(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

/**
 * Every login attempt, for throttling. Failures are also in the audit log;
 * this table exists so the throttle is one indexed count.
 */
export const loginAttempts = pgTable(
  'login_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    username: text('username').notNull(),
    address: text('address').notNull(),
    /** Hash of the trusted-device cookie presented, if any. */
    deviceHash: text('device_hash'),
    succeeded: boolean('succeeded').notNull(),
  },
  (t) => [
    index('login_attempts_user_idx').on(t.username, t.at),
    index('login_attempts_addr_idx').on(t.address, t.at),
    index('login_attempts_device_idx').on(t.deviceHash, t.at),
  ],
);

/**
 * Browsers where a user has logged in successfully (OWASP "device cookie").
 * Failures by others against an account or from a shared address do not lock
 * out a user on their own device, so the throttle cannot be turned into a
 * lockout of the whole clinic.
 */
export const trustedDevices = pgTable(
  'trusted_devices',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('trusted_devices_user_idx').on(t.userId)],
);

// ---------------------------------------------------------------------------
// The audit log: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE),
// hash-chained (a BEFORE INSERT trigger sets seq, prev_hash and hash under a
// lock, so the chain is gapless whatever the number of server instances).

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Position in the hash chain, assigned by the trigger. */
    seq: bigint('seq', { mode: 'number' }).notNull().default(0),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actorId: uuid('actor_id'),
    action: text('action').notNull(),
    clinicId: uuid('clinic_id'),
    entityType: text('entity_type'),
    entityId: text('entity_id'),
    /** Ids and changed field names; never free text about a patient. */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    address: text('address'),
    prevHash: text('prev_hash').notNull().default(''),
    hash: text('hash').notNull().default(''),
  },
  (t) => [
    uniqueIndex('audit_log_seq_uq').on(t.seq),
    index('audit_log_clinic_idx').on(t.clinicId, t.at),
    index('audit_log_entity_idx').on(t.entityType, t.entityId),
  ],
);
