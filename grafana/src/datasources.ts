/**
 * The datasources every dashboard reads, by uid: the same uids are provisioned in
 * `grafana/provisioning/datasources/auren.yaml` (the proof test checks every panel's uid
 * resolves there). Dashboards reference datasources only through these constants.
 */
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/dashboard'

/** Prometheus that scrapes every app (rates, percentiles, lag). */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'auren-prometheus' }

/**
 * PostgreSQL holding the aggregation rollups (`agg_*`), read with a read-only role
 * (`grafana/provisioning/postgres-readonly.sql`).
 */
export const POSTGRES: DataSourceRef = { type: 'grafana-postgresql-datasource', uid: 'auren-postgres' }
