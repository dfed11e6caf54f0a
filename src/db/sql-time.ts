/**
 * SQL: the timestamptz `ts` moved by `days` (an integer expression, negative to go back), counted
 * in UTC days. `timestamptz + interval` is STABLE (it depends on the session's time zone), and
 * Citus refuses a STABLE function computed from a column in UPDATE … SET or ON CONFLICT DO UPDATE;
 * this form is IMMUTABLE and means the same wherever the session's zone is UTC.
 */
export const plusDaysSql = (ts: string, days: string) => `((${ts}) AT TIME ZONE 'UTC' + make_interval(days => ${days})) AT TIME ZONE 'UTC'`
