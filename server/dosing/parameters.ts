// The numbers of shared/design/clinical-rules.md, as data. A rule set version
// holds a value for each, with its source and whether it is confirmed for
// Vietnam; rule functions are given the parameters, never constants.
// The shipped defaults are "Vietnam, pending confirmation": where the
// Vietnamese text was not found, the international figure named is used.

export interface ParameterDef {
  rule: string;
  kind: 'mg' | 'ml' | 'mg_per_ml' | 'days' | 'count' | 'percent' | 'flag';
  default: number;
  min: number;
  max: number;
  source: string;
  confirmed: boolean;
}

export const PARAMETERS = {
  concentration_mg_per_ml: { rule: 'R1', kind: 'mg_per_ml', default: 10, min: 1, max: 100, source: "Vietnam's domestic oral solution, 10 mg/ml (1,000 ml bottles)", confirmed: true },
  measuring_resolution_ml: { rule: 'R2', kind: 'ml', default: 0.1, min: 0.01, max: 1, source: 'Measuring resolution of cylinders and pumps in use', confirmed: false },
  dose_max_mg: { rule: 'R5', kind: 'mg', default: 400, min: 50, max: 1000, source: 'Plausibility bound against typing errors (no clinical ceiling found)', confirmed: false },
  first_dose_warn_mg: { rule: 'R5', kind: 'mg', default: 20, min: 5, max: 60, source: 'WHO 2009: first dose usually ≤ 20 mg', confirmed: false },
  first_dose_max_mg: { rule: 'R5', kind: 'mg', default: 30, min: 10, max: 60, source: 'WHO 2009: first dose never above 30 mg', confirmed: false },
  induction_order_days: { rule: 'R4', kind: 'days', default: 1, min: 1, max: 7, source: 'Induction orders are daily (2023 draft)', confirmed: false },
  titration_order_min_days: { rule: 'R4', kind: 'days', default: 3, min: 1, max: 14, source: 'Titration orders 3–5 days (2023 draft)', confirmed: false },
  titration_order_max_days: { rule: 'R4', kind: 'days', default: 5, min: 1, max: 14, source: 'Titration orders 3–5 days (2023 draft)', confirmed: false },
  maintenance_order_max_days: { rule: 'R4', kind: 'days', default: 30, min: 1, max: 90, source: 'Circular 26/2023/TT-BYT art. 5.1.a', confirmed: true },
  increase_step_max_mg: { rule: 'R6', kind: 'mg', default: 10, min: 1, max: 40, source: 'UK practice: at most 10 mg at a time', confirmed: false },
  increase_7_days_max_mg: { rule: 'R6', kind: 'mg', default: 30, min: 5, max: 80, source: 'UK practice: at most 30 mg in 7 days', confirmed: false },
  high_dose_mg: { rule: 'R7', kind: 'mg', default: 120, min: 60, max: 400, source: 'No national ceiling found; 60–120 mg usual maintenance', confirmed: false },
  missed_check_days: { rule: 'R11', kind: 'days', default: 2, min: 1, max: 10, source: 'Australian table (Vietnamese text pending)', confirmed: false },
  missed_half_dose_days: { rule: 'R11', kind: 'days', default: 3, min: 2, max: 10, source: 'Australian table; Hải Phòng practice', confirmed: false },
  missed_doctor_days: { rule: 'R11', kind: 'days', default: 4, min: 2, max: 10, source: 'Australian table; Hải Phòng practice', confirmed: false },
  missed_reinduction_days: { rule: 'R11', kind: 'days', default: 5, min: 2, max: 14, source: 'Australian table; Hải Phòng practice agrees at 5 days', confirmed: false },
  restart_max_mg: { rule: 'R11', kind: 'mg', default: 40, min: 10, max: 80, source: 'Australian table: restart at min(40 mg, half)', confirmed: false },
  swallow_check_enabled: { rule: 'R13', kind: 'flag', default: 0, min: 0, max: 1, source: 'Clinic practice: the nurse sees the dose swallowed (turned on per clinic)', confirmed: false },
  take_home_enabled: { rule: 'R14', kind: 'flag', default: 0, min: 0, max: 1, source: 'Vietnam: multi-day dispensing only under provincial schemes', confirmed: true },
  take_home_max_days: { rule: 'R14', kind: 'days', default: 4, min: 1, max: 14, source: 'Provincial schemes (default 4)', confirmed: false },
  take_home_min_days_in_treatment: { rule: 'R14', kind: 'days', default: 90, min: 0, max: 730, source: 'Eligibility checklist: time in treatment', confirmed: false },
  take_home_min_attendance_percent: { rule: 'R14', kind: 'percent', default: 90, min: 0, max: 100, source: 'Eligibility checklist: attendance', confirmed: false },
  take_home_negative_test_days: { rule: 'R14', kind: 'days', default: 90, min: 0, max: 365, source: 'Eligibility checklist: no positive test in this period', confirmed: false },
  guest_max_days: { rule: 'R16', kind: 'days', default: 30, min: 1, max: 180, source: 'Temporary dosing elsewhere (programme practice)', confirmed: false },
  alert_counsellor_days: { rule: 'R17', kind: 'days', default: 3, min: 1, max: 14, source: 'First dose-changing threshold', confirmed: false },
  alert_doctor_days: { rule: 'R17', kind: 'days', default: 5, min: 1, max: 30, source: 'Re-induction threshold', confirmed: false },
  dropout_days: { rule: 'R18', kind: 'days', default: 30, min: 7, max: 120, source: 'Vietnamese research and programme practice', confirmed: false },
  review_violations: { rule: 'R19', kind: 'count', default: 2, min: 1, max: 10, source: 'Decree 90/2016 as summarised: ≥ 2 procedure violations in 6 months', confirmed: false },
  review_violations_window_days: { rule: 'R19', kind: 'days', default: 182, min: 30, max: 730, source: 'Decree 90/2016 as summarised: 6 months', confirmed: false },
  review_opioid_positives: { rule: 'R19', kind: 'count', default: 2, min: 1, max: 10, source: 'Decree 90/2016 as summarised: ≥ 2 consecutive positive opioid tests', confirmed: false },
  review_opioid_window_days: { rule: 'R19', kind: 'days', default: 365, min: 30, max: 1095, source: 'Decree 90/2016 as summarised: within 12 months after reaching maintenance', confirmed: false },
} as const satisfies Record<string, ParameterDef>;

export type ParameterKey = keyof typeof PARAMETERS;
export const PARAMETER_KEYS = Object.keys(PARAMETERS) as ParameterKey[];

/** The values a rule function is given. */
export type RuleParams = Record<ParameterKey, number>;

/** What a rule set version stores per parameter. */
export interface ParameterEntry {
  value: number;
  source: string;
  confirmed: boolean;
}
export type ParameterEntries = Record<ParameterKey, ParameterEntry>;

export const DEFAULT_ENTRIES: ParameterEntries = Object.fromEntries(
  PARAMETER_KEYS.map((k) => [k, { value: PARAMETERS[k].default, source: PARAMETERS[k].source, confirmed: PARAMETERS[k].confirmed }]),
) as ParameterEntries;

export const DEFAULT_PARAMS: RuleParams = valuesOf(DEFAULT_ENTRIES);

export function valuesOf(entries: ParameterEntries): RuleParams {
  return Object.fromEntries(PARAMETER_KEYS.map((k) => [k, entries[k].value])) as RuleParams;
}

/**
 * Fills a stored version up to the current list of parameters: a parameter
 * added by a later release takes its default (unconfirmed) until set.
 */
export function completeEntries(stored: Partial<Record<string, Partial<ParameterEntry>>>): ParameterEntries {
  return Object.fromEntries(
    PARAMETER_KEYS.map((k) => {
      const s = stored[k];
      const def = DEFAULT_ENTRIES[k];
      return [k, { value: typeof s?.value === 'number' ? s.value : def.value, source: s?.source ?? def.source, confirmed: s?.confirmed ?? false }];
    }),
  ) as ParameterEntries;
}

/** Cross-parameter consistency: each returns the key at fault. */
export function inconsistencies(p: RuleParams): ParameterKey[] {
  const bad: ParameterKey[] = [];
  if (p.first_dose_warn_mg > p.first_dose_max_mg) bad.push('first_dose_warn_mg');
  if (p.titration_order_min_days > p.titration_order_max_days) bad.push('titration_order_min_days');
  if (p.increase_step_max_mg > p.increase_7_days_max_mg) bad.push('increase_step_max_mg');
  if (!(p.missed_check_days < p.missed_half_dose_days && p.missed_half_dose_days < p.missed_doctor_days && p.missed_doctor_days < p.missed_reinduction_days))
    bad.push('missed_half_dose_days');
  if (p.alert_counsellor_days > p.alert_doctor_days || p.alert_doctor_days > p.dropout_days) bad.push('alert_doctor_days');
  if (p.high_dose_mg > p.dose_max_mg) bad.push('high_dose_mg');
  return bad;
}
