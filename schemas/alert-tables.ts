/**
 * The alert tables: the contract between the alerting processor (the only writer,
 * processors/alerting/notifiers/alert-delivery.ts, `ALERT_TABLES_SQL` and `recordAlertChanges`)
 * and its readers (the gateway's `GET /api/v2/alerts`, gateway/queries/alerts.ts). Readers name a
 * table or column through these constants, never as a string of their own;
 * `test/integration/alert-tables-contract.test.ts` checks that the alerting app creates exactly
 * the tables and columns declared here, and that a firing and a resolved change land in them as
 * described below.
 *
 * Both tables live in the alerting app's schema (`AUREN_ALERTING_DB_SCHEMA`); the gateway reads
 * them in its own schema (`AUREN_GATEWAY_DB_SCHEMA`), so a deployment gives both the same schema,
 * as it does for the rollups and the event store.
 *
 * `payload` is an `Alert` (CONTRACTS.md 3b, schemas/generated `Alert`) as JSON: the record the
 * processor publishes on `auren.alerts.v1`, times (`starts_at`, `ends_at`, `source_window`) in
 * UTC epoch microseconds as JSON numbers, `status` `firing` or `resolved`.
 */

/** Column types as PostgreSQL's information_schema names them (`data_type`). */
export type AlertColumnType = 'text' | 'jsonb' | 'bigint' | 'timestamp with time zone'

/** A table of the contract: its name and its columns with their types. */
export interface AlertTableSpec {
  readonly table: string
  readonly columns: Readonly<Record<string, AlertColumnType>>
}

/** The alert tables a reader may rely on. */
export const ALERT_TABLES = {
  /**
   * The alerts firing now: one row per fingerprint holding its latest firing record; the
   * processor deletes the row in the transaction that records the alert's resolution. Written in
   * the same transaction as the rule states, so it never lags the state changes.
   */
  active: {
    table: 'alert_active',
    columns: { fingerprint: 'text', payload: 'jsonb', updated_at: 'timestamp with time zone' },
  },
  /**
   * Every state change (firing, resolved) in commit order (`id`), exactly once per change the
   * rule engine made (written with the rule states and the input offsets in one transaction).
   * Rows stay after they are published to `auren.alerts.v1` (`published_at` set); readers use it
   * as the history of alerts. `created_at` is processing time; the alert's own times are in the
   * payload.
   */
  changes: {
    table: 'alert_outbox',
    columns: { id: 'bigint', fingerprint: 'text', payload: 'jsonb', created_at: 'timestamp with time zone', published_at: 'timestamp with time zone' },
  },
} as const satisfies Record<string, AlertTableSpec>

/** Table names by logical name, for SQL text (`${AT.active}`). */
export const AT = {
  active: ALERT_TABLES.active.table,
  changes: ALERT_TABLES.changes.table,
} as const
