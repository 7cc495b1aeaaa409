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
  customType,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';

export const ROLES = ['admin', 'doctor', 'nurse', 'counsellor', 'manager'] as const;
export type Role = (typeof ROLES)[number];

export const LOCALES = ['vi', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export const CLINIC_KINDS = ['facility', 'satellite'] as const;
export type ClinicKind = (typeof CLINIC_KINDS)[number];

/** Binary data (photos). */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });

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
    parentId: uuid('parent_id').references((): AnyPgColumn => clinics.id),
    provinceCode: integer('province_code')
      .notNull()
      .references(() => provinces.code),
    communeCode: integer('commune_code')
      .notNull()
      .references(() => communes.code),
    address: text('address').notNull().default(''),
    timeZone: text('time_zone').notNull().default('Asia/Ho_Chi_Minh'),
    active: boolean('active').notNull().default(true),
    /** The rule set this clinic follows; null: the programme's default set. */
    ruleSetId: uuid('rule_set_id').references((): AnyPgColumn => ruleSets.id),
    /** Local time (HH:MM) after which the day close counts who did not come (issue 5). */
    closingTime: text('closing_time').notNull().default('17:00'),
    /** Hours a pump's last calibration stays good for dosing at this clinic (issue 7). */
    pumpCalibrationMaxHours: integer('pump_calibration_max_hours').notNull().default(24),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('clinics_code_uq').on(t.code),
    check('clinics_pump_cal_ck', sql`pump_calibration_max_hours between 1 and 720`),
    check('clinics_closing_time_ck', sql`closing_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'`),
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
    /** Where alerts reach this person besides the app (issue 5); empty: not by e-mail. */
    email: text('email').notNull().default(''),
    notifyEmail: boolean('notify_email').notNull().default(false),
    /** The address the webhook's receiver (an SMS gateway, a messaging service) delivers to, e.g. a phone number. */
    notifyWebhook: boolean('notify_webhook').notNull().default(false),
    webhookTo: text('webhook_to').notNull().default(''),
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
// and hash-chained by seals. A row is written in its action's transaction
// without waiting for any other writer; a trigger queues it (audit_unsealed),
// and the sealer (mp_audit_seal, migration 0022) chains the queued rows in
// audit_seals a moment later, one sealer at a time. A sealed row edited or
// deleted breaks the chain.

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actorId: uuid('actor_id'),
    action: text('action').notNull(),
    clinicId: uuid('clinic_id'),
    entityType: text('entity_type'),
    entityId: text('entity_id'),
    /** Ids and changed field names; never free text about a patient. */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    address: text('address'),
  },
  (t) => [index('audit_log_clinic_idx').on(t.clinicId, t.at), index('audit_log_entity_idx').on(t.entityType, t.entityId)],
);

/**
 * The hash chain over the audit log: seal `seq` covers audit row `auditId`
 * and the seal before it (hash = mp_audit_hash of seq, prevHash and the row's
 * fields). Append-only; written only by mp_audit_seal.
 */
export const auditSeals = pgTable('audit_seals', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  auditId: bigint('audit_id', { mode: 'number' })
    .notNull()
    .unique()
    .references(() => auditLog.id),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
  sealedAt: timestamp('sealed_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Audit rows written and not yet sealed: a work list the sealer empties, not a record. */
export const auditUnsealed = pgTable('audit_unsealed', {
  auditId: bigint('audit_id', { mode: 'number' }).primaryKey(),
});

// ---------------------------------------------------------------------------
// Rule sets: the parameters of shared/design/clinical-rules.md as data. A
// version takes effect from a date and is never rewritten, so a decision can
// always be explained with the parameters in force on its day.

export const ruleSets = pgTable('rule_sets', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  createdAt: createdAt(),
});

export const ruleSetVersions = pgTable(
  'rule_set_versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ruleSetId: uuid('rule_set_id')
      .notNull()
      .references(() => ruleSets.id),
    effectiveFrom: date('effective_from', { mode: 'string' }).notNull(),
    /** { key: { value, source, confirmed } } for every parameter. */
    parameters: jsonb('parameters').$type<Record<string, { value: number; source: string; confirmed: boolean }>>().notNull(),
    /** Who approved it (a name and office, as on the approving document). */
    approvedBy: text('approved_by').notNull().default(''),
    note: text('note').notNull().default(''),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('rule_set_versions_set_idx').on(t.ruleSetId, t.effectiveFrom)],
);

export const SEXES = ['male', 'female', 'other'] as const;
export type Sex = (typeof SEXES)[number];
export const HIV_STATUSES = ['unknown', 'negative', 'positive'] as const;
export type HivStatus = (typeof HIV_STATUSES)[number];

/** The next patient number per clinic: codes are never reused, even after a rollback elsewhere. */
export const clinicCounters = pgTable('clinic_counters', {
  clinicId: uuid('clinic_id')
    .primaryKey()
    .references(() => clinics.id),
  nextPatientNumber: integer('next_patient_number').notNull().default(1),
});

export const patients = pgTable(
  'patients',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The programme's patient code printed on the card: clinic code + '-' + 5-digit number. */
    code: text('code').notNull(),
    homeClinicId: uuid('home_clinic_id')
      .notNull()
      .references(() => clinics.id),
    fullName: text('full_name').notNull(),
    /** fold(fullName): lower case, no diacritics, for search. */
    searchName: text('search_name').notNull(),
    birthDate: date('birth_date', { mode: 'string' }).notNull(),
    sex: text('sex').$type<Sex>().notNull(),
    /** CCCD, 12 digits; unique when given. */
    nationalId: text('national_id'),
    phone: text('phone').notNull().default(''),
    phone2: text('phone2').notNull().default(''),
    /** Digits of both phones, for search. */
    phoneDigits: text('phone_digits').notNull().default(''),
    street: text('street').notNull().default(''),
    provinceCode: integer('province_code').references(() => provinces.code),
    communeCode: integer('commune_code').references(() => communes.code),
    /** A former district or province from older papers, kept as written. */
    formerAddress: text('former_address').notNull().default(''),
    nextOfKinName: text('next_of_kin_name').notNull().default(''),
    nextOfKinPhone: text('next_of_kin_phone').notNull().default(''),
    counsellorId: uuid('counsellor_id').references(() => users.id),
    hivStatus: text('hiv_status').$type<HivStatus>().notNull().default('unknown'),
    /**
     * Bumped (by triggers) by every write that changes what the counter decides
     * on: a dose record, an order, a doctor's ruling, an episode, a guest
     * authorisation. A dose is written only if it is still the version the
     * decision was made on (optimistic concurrency: no lock held across a
     * round trip to the application).
     */
    factsVersion: bigint('facts_version', { mode: 'number' }).notNull().default(0),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('patients_code_uq').on(t.code),
    uniqueIndex('patients_national_id_uq').on(t.nationalId).where(sql`national_id is not null`),
    index('patients_home_clinic_idx').on(t.homeClinicId),
    // Search (services/patients.ts searchPatients). The trigram indexes go without
    // GIN's pending list (fastupdate): nothing vacuums PGlite, so rows written in
    // bulk (an import) would otherwise stay in a list every search reads through.
    index('patients_search_name_trgm').using('gin', sql`${t.searchName} gin_trgm_ops`).with({ fastupdate: false }),
    index('patients_phone_trgm').using('gin', sql`${t.phoneDigits} gin_trgm_ops`).with({ fastupdate: false }),
    // `code ilike 'q%'`, OR-ed with the name: without it the OR is a sequential scan.
    index('patients_code_trgm').using('gin', sql`${t.code} gin_trgm_ops`).with({ fastupdate: false }),
    // Newest first: a page of a common name is read in order, not sorted out of all matches.
    index('patients_created_idx').on(t.createdAt.desc().nullsFirst(), t.code),
    index('patients_birth_idx').on(t.searchName, t.birthDate),
    // The missed-dose list filtered by counsellor.
    index('patients_counsellor_idx').on(t.counsellorId),
    check('patients_sex_ck', inList('sex', SEXES)),
    check('patients_hiv_ck', inList('hiv_status', HIV_STATUSES)),
    check('patients_national_id_ck', sql`national_id is null or national_id ~ '^[0-9]{12}$'`),
  ],
);

/** Photos are kept as history: the newest is the one shown. */
export const patientPhotos = pgTable(
  'patient_photos',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    jpeg: bytea('jpeg').notNull(),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('patient_photos_patient_idx').on(t.patientId, t.createdAt)],
);

export const EPISODE_KINDS = ['first', 're_enrolment', 'transfer_in'] as const;
export type EpisodeKind = (typeof EPISODE_KINDS)[number];
export const END_REASONS = ['completed_taper', 'dropped_out', 'transferred_out', 'incarcerated', 'hospitalised', 'deceased', 'withdrew', 'discharged_violations'] as const;
export type EndReason = (typeof END_REASONS)[number];

/** A treatment episode: from enrolment to its end. Re-enrolment is a new episode. */
export const episodes = pgTable(
  'episodes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    kind: text('kind').$type<EpisodeKind>().notNull(),
    startDate: date('start_date', { mode: 'string' }).notNull(),
    referralSource: text('referral_source').notNull().default(''),
    /** The episode this one continues (a transfer in). */
    transferredFromId: uuid('transferred_from_id'),
    endDate: date('end_date', { mode: 'string' }),
    endReason: text('end_reason').$type<EndReason>(),
    endNote: text('end_note').notNull().default(''),
    endedBy: uuid('ended_by').references(() => users.id),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [
    index('episodes_patient_idx').on(t.patientId, t.startDate),
    index('episodes_clinic_idx').on(t.clinicId, t.startDate),
    // At most one open episode per patient, across every clinic.
    uniqueIndex('episodes_one_open_uq').on(t.patientId).where(sql`end_date is null`),
    // The reports follow a transfer to the episode that continues it (issue 6).
    index('episodes_transferred_from_idx').on(t.transferredFromId).where(sql`transferred_from_id is not null`),
    // The dashboard's "in treatment today" (issue 6): the open episodes of a clinic counted from the index alone,
    // the ended ones that still count (an end after the day, a transfer out whose next episode starts later) found apart.
    index('episodes_open_clinic_idx').on(t.clinicId, t.startDate, t.patientId).where(sql`end_date is null`),
    index('episodes_ended_clinic_idx').on(t.clinicId, t.endDate).where(sql`end_date is not null`),
    index('episodes_transfer_out_idx').on(t.clinicId, t.endDate).where(sql`end_reason = 'transferred_out'`),
    check('episodes_kind_ck', inList('kind', EPISODE_KINDS)),
    check('episodes_end_ck', sql`(end_date is null) = (end_reason is null) and (end_date is null or end_date >= start_date)`),
  ],
);

/** R16: a home clinic's doctor lets a host clinic dose the patient on some days. */
export const guestAuthorisations = pgTable(
  'guest_authorisations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    episodeId: uuid('episode_id')
      .notNull()
      .references(() => episodes.id),
    hostClinicId: uuid('host_clinic_id')
      .notNull()
      .references(() => clinics.id),
    fromDate: date('from_date', { mode: 'string' }).notNull(),
    toDate: date('to_date', { mode: 'string' }).notNull(),
    reason: text('reason').notNull().default(''),
    authorisedBy: uuid('authorised_by')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('guest_auth_host_idx').on(t.hostClinicId, t.fromDate, t.toDate), index('guest_auth_patient_idx').on(t.patientId)],
);

export const PHASES = ['induction', 'titration', 'maintenance', 'taper'] as const;

/**
 * A doctor's dose order. Never edited: a change is a new row (with its reason)
 * that takes over from its start date; the order in force on a day is the
 * latest-starting (then latest-written) order covering it.
 */
export const doseOrders = pgTable(
  'dose_orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    episodeId: uuid('episode_id')
      .notNull()
      .references(() => episodes.id),
    phase: text('phase').$type<(typeof PHASES)[number]>().notNull(),
    startDate: date('start_date', { mode: 'string' }).notNull(),
    endDate: date('end_date', { mode: 'string' }).notNull(),
    dailyMg: numeric('daily_mg', { precision: 6, scale: 1, mode: 'number' }).notNull(),
    splitFirstMg: numeric('split_first_mg', { precision: 6, scale: 1, mode: 'number' }),
    splitSecondMg: numeric('split_second_mg', { precision: 6, scale: 1, mode: 'number' }),
    takeHomeDays: integer('take_home_days').notNull().default(0),
    /** Why this order (a change of dose or phase, an override). */
    reason: text('reason').notNull().default(''),
    /** The rule findings passed (warnings, overrides) with their rule ids. */
    findings: jsonb('findings').$type<{ rule: string; code: string; severity: string }[]>().notNull().default([]),
    ruleSetVersionId: uuid('rule_set_version_id').references(() => ruleSetVersions.id),
    prescribedBy: uuid('prescribed_by')
      .notNull()
      .references(() => users.id),
    /** R7: the second doctor who confirmed a high dose. */
    confirmedBy: uuid('confirmed_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [
    index('dose_orders_episode_idx').on(t.episodeId, t.startDate),
    index('dose_orders_patient_idx').on(t.patientId, t.startDate),
    check('dose_orders_phase_ck', inList('phase', PHASES)),
    check('dose_orders_range_ck', sql`end_date >= start_date and daily_mg > 0`),
    check('dose_orders_split_ck', sql`(split_first_mg is null) = (split_second_mg is null)`),
  ],
);

/** Urine drug tests: results per substance. Append-only. */
export const urineTests = pgTable(
  'urine_tests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    testDate: date('test_date', { mode: 'string' }).notNull(),
    /** { substance: 'positive' | 'negative' } */
    results: jsonb('results').$type<Record<string, 'positive' | 'negative'>>().notNull(),
    recordedBy: uuid('recorded_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [
    index('urine_tests_patient_idx').on(t.patientId, t.testDate),
    // R19 at the day close: the few patients with a positive test for anything but methadone, found without reading everyone's tests.
    index('urine_tests_positive_idx')
      .on(t.patientId, t.testDate)
      .where(sql`jsonb_path_exists(results - 'methadone', '$.* ? (@ == "positive")')`),
  ],
);

// ---------------------------------------------------------------------------
// Dose records. Append-only: the only change a row may undergo is the move of
// a pump dose from pending (or unknown) to its final state; a mistake is
// voided by a new row that references it.

export const DOSE_RECORD_OUTCOMES = ['given', 'take_home', 'supplied', 'withheld', 'refused', 'vomited', 'spilled'] as const;
export const DOSE_STATUSES = ['completed', 'pending', 'failed', 'unknown'] as const;
export const INTOXICATION = ['none', 'suspected', 'intoxicated'] as const;

export const doses = pgTable(
  'doses',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    episodeId: uuid('episode_id')
      .notNull()
      .references(() => episodes.id),
    orderId: uuid('order_id').references(() => doseOrders.id),
    /** Where it happened (the home clinic, or a host under a guest authorisation). */
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    /** The local date at that clinic (R9, R11). */
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    part: integer('part').notNull().default(1),
    outcome: text('outcome').$type<(typeof DOSE_RECORD_OUTCOMES)[number]>().notNull(),
    status: text('status').$type<(typeof DOSE_STATUSES)[number]>().notNull().default('completed'),
    prescribedMg: numeric('prescribed_mg', { precision: 6, scale: 1, mode: 'number' }).notNull(),
    givenMg: numeric('given_mg', { precision: 6, scale: 1, mode: 'number' }).notNull().default(0),
    ml: numeric('ml', { precision: 7, scale: 2, mode: 'number' }).notNull().default(0),
    concentration: numeric('concentration', { precision: 6, scale: 2, mode: 'number' }).notNull(),
    method: text('method').$type<'manual' | 'pump'>().notNull().default('manual'),
    intoxication: text('intoxication').$type<(typeof INTOXICATION)[number]>(),
    breathAlcohol: numeric('breath_alcohol', { precision: 5, scale: 3, mode: 'number' }),
    /** The decision the record was made under: its kind and reasons with rule ids. */
    decision: jsonb('decision').$type<Record<string, unknown>>().notNull().default({}),
    ruleSetVersionId: uuid('rule_set_version_id').references(() => ruleSetVersions.id),
    givenBy: uuid('given_by')
      .notNull()
      .references(() => users.id),
    at: timestamp('at', { withTimezone: true }).notNull(),
    /** Set on a void row: the dose it cancels, and why. */
    voidsId: uuid('voids_id').references((): AnyPgColumn => doses.id),
    voidReason: text('void_reason'),
    /** The counter's idempotency key: a retried request finds its record. */
    requestId: text('request_id'),
  },
  (t) => [
    index('doses_patient_day_idx').on(t.patientId, t.serviceDay),
    // A clinic's doses of a day or a month; with what the dashboard sums (part, mg, whether a void, the id a void
    // would name) in the key, it counts a month from the index alone.
    index('doses_clinic_day_idx').on(t.clinicId, t.serviceDay, t.part, t.givenMg, t.voidsId, t.id),
    // A pump dose not yet resolved (pending, or unknown after a silent pump) blocks its patient: found without reading the history.
    index('doses_unresolved_idx').on(t.patientId).where(sql`status in ('pending', 'unknown')`),
    uniqueIndex('doses_request_uq').on(t.requestId),
    uniqueIndex('doses_voids_uq').on(t.voidsId),
    check('doses_outcome_ck', inList('outcome', DOSE_RECORD_OUTCOMES)),
    check('doses_status_ck', inList('status', DOSE_STATUSES)),
    check('doses_part_ck', sql`part in (1, 2)`),
    check('doses_mg_ck', sql`given_mg >= 0 and given_mg <= prescribed_mg and prescribed_mg > 0`),
  ],
);

/**
 * R9, held by the database: one row per patient, service day and part while
 * a dose covering it stands. Claimed in the dose's transaction (a second
 * claim fails on the primary key, whichever counter or retry makes it),
 * released when that dose is voided or its pump fails before delivering.
 */
export const doseSlots = pgTable(
  'dose_slots',
  {
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    part: integer('part').notNull(),
    doseId: uuid('dose_id')
      .notNull()
      .references(() => doses.id),
  },
  (t) => [primaryKey({ columns: [t.patientId, t.serviceDay, t.part] }), uniqueIndex('dose_slots_dose_uq').on(t.doseId)],
);

/**
 * Derived from dose_slots, never written by the application: a patient's
 * covered days in chains where no two consecutive covered days are more than
 * 30 apart (R18: 30 consecutive uncovered days are a dropout), one row per
 * chain. Kept in step by triggers on dose_slots in the slot's own transaction
 * (db/migrations/0018), rebuilt by mp_coverage_rebuild() after a load that
 * bypasses them. The retention reports read a run's first gap from it
 * instead of walking two years of slots per patient.
 */
export const coverageSpans = pgTable(
  'coverage_spans',
  {
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    fromDay: date('from_day', { mode: 'string' }).notNull(),
    toDay: date('to_day', { mode: 'string' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.patientId, t.fromDay] }), check('coverage_spans_order_ck', sql`from_day <= to_day`)],
);

/**
 * Check-in at a reception desk or a self check-in tablet: the patient joins
 * the counter's queue. One row per patient, clinic and service day (a second
 * scan finds the first); calling the patient to the counter stamps it. Not a
 * record of care: the dose record is.
 */
export const checkIns = pgTable(
  'check_ins',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    by: uuid('by').references(() => users.id),
    /** Set when a nurse calls the patient to the counter. */
    calledAt: timestamp('called_at', { withTimezone: true }),
    calledBy: uuid('called_by').references(() => users.id),
  },
  (t) => [uniqueIndex('check_ins_patient_day_uq').on(t.patientId, t.clinicId, t.serviceDay), index('check_ins_clinic_day_idx').on(t.clinicId, t.serviceDay, t.at)],
);

/**
 * A doctor's decision on a patient's dose for one service day: after a
 * withholding for intoxication (R10: 'resume' lets the counter dose again,
 * 'no_dose' keeps it closed for the day), or the approval of a reduced dose
 * after missed days (R11: 'reduced' with its maximum mg). Append-only.
 */
export const REVIEW_KINDS = ['resume', 'reduced', 'no_dose'] as const;
export const doseReviews = pgTable(
  'dose_reviews',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    kind: text('kind').$type<(typeof REVIEW_KINDS)[number]>().notNull(),
    maxMg: numeric('max_mg', { precision: 6, scale: 1, mode: 'number' }),
    note: text('note').notNull(),
    doctorId: uuid('doctor_id')
      .notNull()
      .references(() => users.id),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('dose_reviews_patient_day_idx').on(t.patientId, t.serviceDay),
    check('dose_reviews_kind_ck', inList('kind', REVIEW_KINDS)),
    check('dose_reviews_mg_ck', sql`(kind = 'reduced') = (max_mg is not null) and (max_mg is null or max_mg > 0)`),
  ],
);

/**
 * R13: the nurse's observation after a dose — swallowed (drank water and
 * spoke), or a diversion incident (held in the mouth to spit it out), which
 * flags the patient on every card from then on. Append-only.
 */
export const SWALLOW_OUTCOMES = ['swallowed', 'diversion'] as const;
export const swallowChecks = pgTable(
  'swallow_checks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    doseId: uuid('dose_id')
      .notNull()
      .references(() => doses.id),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    outcome: text('outcome').$type<(typeof SWALLOW_OUTCOMES)[number]>().notNull(),
    note: text('note').notNull().default(''),
    by: uuid('by')
      .notNull()
      .references(() => users.id),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex('swallow_checks_dose_uq').on(t.doseId), index('swallow_checks_patient_idx').on(t.patientId, t.outcome), check('swallow_checks_outcome_ck', inList('outcome', SWALLOW_OUTCOMES))],
);

// ---------------------------------------------------------------------------
// Missed doses and follow-up (issue 5).

/**
 * One row per clinic and service day once the day close has counted it: the
 * close of a day happens once (the primary key), whichever instance or
 * manager runs it, and a catch-up resumes after the last closed day.
 */
export const dayCloses = pgTable(
  'day_closes',
  {
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    serviceDay: date('service_day', { mode: 'string' }).notNull(),
    /** Null: the scheduler; else the manager who ran it. */
    runBy: uuid('run_by').references(() => users.id),
    patients: integer('patients').notNull(),
    alertsRaised: integer('alerts_raised').notNull(),
    alertsClosed: integer('alerts_closed').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.serviceDay] })],
);

/**
 * R17/R18 levels of missed days, in order of urgency (each has its threshold
 * of consecutive missed days), and R19's grounds to review termination
 * ('review', for the doctor; not about missed days, so not closed by a return).
 */
export const ALERT_LEVELS = ['missed', 'counsellor', 'doctor', 'dropout', 'review'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];
export const MISSED_LEVELS = ['missed', 'counsellor', 'doctor', 'dropout'] as const satisfies readonly AlertLevel[];
export type MissedLevel = (typeof MISSED_LEVELS)[number];
export const ALERT_CLOSINGS = ['returned', 'episode_ended', 'dropout_confirmed', 'dropout_rejected', 'reviewed'] as const;
export type AlertClosing = (typeof ALERT_CLOSINGS)[number];

/**
 * An alert: a patient's run of missed days reached a level's threshold. At
 * most one open alert per episode and level; it closes when the patient
 * comes back (a covered day), the episode ends, or a manager rules on a
 * proposed dropout. Closing sets closed_* once; nothing else ever changes.
 */
export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    episodeId: uuid('episode_id')
      .notNull()
      .references(() => episodes.id),
    /** The episode's clinic when raised (the clinic whose counsellors follow up). */
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    level: text('level').$type<AlertLevel>().notNull(),
    /** The last covered day before the run (or the day before the episode started); for 'review', the day of the latest ground. */
    anchorDay: date('anchor_day', { mode: 'string' }).notNull(),
    /** The service day whose close reached the threshold, and the count then. */
    raisedDay: date('raised_day', { mode: 'string' }).notNull(),
    missedDays: integer('missed_days').notNull(),
    /** Why, with rule ids: R19's grounds (never test results themselves). */
    reasons: jsonb('reasons').$type<{ rule: string; code: string }[]>().notNull().default([]),
    raisedAt: timestamp('raised_at', { withTimezone: true }).notNull(),
    /** The doctor's or manager's note when ruling on it. */
    closedNote: text('closed_note').notNull().default(''),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    closedAs: text('closed_as').$type<AlertClosing>(),
    closedBy: uuid('closed_by').references(() => users.id),
  },
  (t) => [
    uniqueIndex('alerts_open_uq').on(t.episodeId, t.level).where(sql`closed_at is null`),
    index('alerts_patient_idx').on(t.patientId, t.raisedAt),
    index('alerts_clinic_open_idx').on(t.clinicId).where(sql`closed_at is null`),
    // The day close's "not asked again" check: rulings that keep an alert from being raised anew.
    index('alerts_ruled_idx').on(t.episodeId, t.level, t.anchorDay).where(sql`closed_as in ('dropout_rejected', 'reviewed')`),
    check('alerts_level_ck', inList('level', ALERT_LEVELS)),
    check('alerts_closed_ck', sql`(closed_at is null) = (closed_as is null)`),
    check('alerts_closed_as_ck', sql`closed_as is null or ${inList('closed_as', ALERT_CLOSINGS)}`),
  ],
);

export const CONTACT_METHODS = ['phone', 'text', 'home_visit', 'family', 'peer'] as const;
export type ContactMethod = (typeof CONTACT_METHODS)[number];
export const CONTACT_OUTCOMES = ['reached', 'unreachable', 'hospital', 'custody', 'moved', 'deceased', 'refuses'] as const;
export type ContactOutcome = (typeof CONTACT_OUTCOMES)[number];
/** Outcomes that pause escalation until a date (R11's count runs on). */
export const HOLDING_OUTCOMES: readonly ContactOutcome[] = ['hospital', 'custody'];

/** A counsellor's attempt to reach a patient, and what came of it. Append-only. */
export const contacts = pgTable(
  'contacts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    episodeId: uuid('episode_id').references(() => episodes.id),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    method: text('method').$type<ContactMethod>().notNull(),
    outcome: text('outcome').$type<ContactOutcome>().notNull(),
    /** "Reached: will return on…". */
    returnDate: date('return_date', { mode: 'string' }),
    /** Hospital or custody: alerts do not escalate until this day (inclusive). */
    holdUntil: date('hold_until', { mode: 'string' }),
    nextActionDate: date('next_action_date', { mode: 'string' }),
    note: text('note').notNull().default(''),
    by: uuid('by')
      .notNull()
      .references(() => users.id),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('contacts_patient_idx').on(t.patientId, t.at),
    check('contacts_method_ck', inList('method', CONTACT_METHODS)),
    check('contacts_outcome_ck', inList('outcome', CONTACT_OUTCOMES)),
    check('contacts_hold_ck', sql`(hold_until is not null) = (outcome in ('hospital', 'custody'))`),
    check('contacts_return_ck', sql`return_date is null or outcome = 'reached'`),
  ],
);

/** The in-app channel: a badge and a list per person. read_at is the only change. */
export const inbox = pgTable(
  'inbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    alertId: uuid('alert_id')
      .notNull()
      .references(() => alerts.id),
    createdAt: createdAt(),
    readAt: timestamp('read_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('inbox_user_alert_uq').on(t.userId, t.alertId), index('inbox_unread_idx').on(t.userId).where(sql`read_at is null`)],
);

export const OUTBOX_CHANNELS = ['email', 'webhook'] as const;
export type OutboxChannel = (typeof OUTBOX_CHANNELS)[number];
export const OUTBOX_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const;

/**
 * Messages that leave the building, written in the transaction that raised
 * the alert and delivered by the worker at least once. The message is drawn
 * from the alert at delivery time; this row holds no patient data.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    alertId: uuid('alert_id')
      .notNull()
      .references(() => alerts.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    channel: text('channel').$type<OutboxChannel>().notNull(),
    status: text('status').$type<(typeof OUTBOX_STATUSES)[number]>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull(),
    /** A worker's claim: another worker leaves the row alone until then; only the claim's holder records the attempt. */
    claimedUntil: timestamp('claimed_until', { withTimezone: true }),
    claimedBy: uuid('claimed_by'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    lastError: text('last_error').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('outbox_alert_user_channel_uq').on(t.alertId, t.userId, t.channel),
    index('outbox_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index('outbox_created_idx').on(t.createdAt),
    check('outbox_channel_ck', inList('channel', OUTBOX_CHANNELS)),
    check('outbox_status_ck', inList('status', OUTBOX_STATUSES)),
  ],
);

/** Every delivery attempt and its answer: the admin's delivery log. Append-only. */
export const outboxAttempts = pgTable(
  'outbox_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    outboxId: uuid('outbox_id')
      .notNull()
      .references(() => outbox.id),
    at: timestamp('at', { withTimezone: true }).notNull(),
    ok: boolean('ok').notNull(),
    /** The receiver's answer: "HTTP 500", "250 OK", "ECONNREFUSED". Never message content. */
    detail: text('detail').notNull(),
  },
  (t) => [index('outbox_attempts_outbox_idx').on(t.outboxId, t.at)],
);

// ---------------------------------------------------------------------------
// Dispensing pumps (issue 7). A pump is configured per clinic by the admin;
// everything it does or is told is an append-only pump event.

export const pumps = pgTable(
  'pumps',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    /** What the counter calls it ("Bơm 1"). */
    name: text('name').notNull(),
    /** The serial device on the machine that runs the server (/dev/ttyUSB0, COM3). */
    path: text('path').notNull(),
    baudRate: integer('baud_rate').notNull().default(9600),
    /** The SERIAL the pump must answer HELLO with; null until someone confirms the device. */
    expectedSerial: text('expected_serial'),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
  },
  (t) => [
    index('pumps_clinic_idx').on(t.clinicId),
    // Paths are per machine: two clinics may both have /dev/ttyUSB0; one clinic cannot have it twice.
    uniqueIndex('pumps_clinic_path_uq').on(t.clinicId, t.path).where(sql`active`),
    check('pumps_baud_ck', sql`baud_rate in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)`),
  ],
);

export const PUMP_EVENT_KINDS = [
  /** DISPENSE sent for a dose (written with the pending dose, before the pump moves). */
  'dispense',
  'done',
  'fault',
  /** The pump stayed silent through the recovery: the dose is unknown. */
  'unknown',
  /** The pump did not take the transaction: nothing delivered, the dose failed. */
  'not_started',
  'stop',
  /** A person's decision on a faulted or unknown dose. */
  'resolve',
  'calibration',
  'confirm',
  'prime',
  'alarm',
  /** The day close's comparison of what the pump reported with the dose records. */
  'day_volume',
] as const;
export type PumpEventKind = (typeof PUMP_EVENT_KINDS)[number];

export const pumpEvents = pgTable(
  'pump_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    pumpId: uuid('pump_id')
      .notNull()
      .references(() => pumps.id),
    doseId: uuid('dose_id').references(() => doses.id),
    kind: text('kind').$type<PumpEventKind>().notNull(),
    /** Volumes, codes, factors, serials: device facts, never patient data. */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    by: uuid('by').references(() => users.id),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('pump_events_pump_idx').on(t.pumpId, t.kind, t.at),
    index('pump_events_dose_idx').on(t.doseId).where(sql`dose_id is not null`),
    check('pump_events_kind_ck', inList('kind', PUMP_EVENT_KINDS)),
  ],
);
