/**
 * The alert outboxes written one batch per statement (processors/alerting/notifiers/
 * alert-delivery.ts `recordAlertChanges`), on the real PostgreSQL: both outboxes hold every
 * change of a batch in order, and `alert_active` ends as applying the changes one by one would
 * (a fingerprint that fires, resolves and fires again in one batch stays active with its last
 * record; one that fires then resolves is gone; a resolution of an alert active from an earlier
 * batch removes it).
 */
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../schemas/index.ts'
import { ensureAlertTables, netActiveChanges, recordAlertChanges } from '../../processors/alerting/notifiers/alert-delivery.ts'
import { inTransaction } from '../../processors/runtime/sinks/postgres.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg-schema.ts'

let seq = 0
function change(fingerprint: string, status: 'firing' | 'resolved'): Alert {
  seq += 1
  return {
    fingerprint, rule: 'r', severity: 'warning', status, labels: { alertname: 'r', agent: fingerprint }, annotations: { summary: `change ${seq}`, description: '', runbook: null },
    value: seq, threshold: 1, starts_at: seq * 1000, ends_at: status === 'resolved' ? seq * 1000 : null, source_window: null,
  }
}

describe('alert outboxes, one statement per batch', () => {
  let db: TestSchema
  let pool: pg.Pool
  beforeAll(async () => {
    db = await createTestSchema('alert_b')
    pool = db.pool
    await ensureAlertTables(pool)
  })
  afterAll(async () => {
    await db?.drop()
  })

  const outbox = async (table: string) => (await pool.query<{ fingerprint: string; summary: string }>(`SELECT fingerprint, payload->'annotations'->>'summary' AS summary FROM ${table} ORDER BY id`)).rows
  const active = async () => (await pool.query<{ fingerprint: string; summary: string }>("SELECT fingerprint, payload->'annotations'->>'summary' AS summary FROM alert_active ORDER BY fingerprint")).rows

  it('keeps every change in order in both outboxes and the net effect in alert_active', async () => {
    const first = [change('a', 'firing'), change('b', 'firing'), change('c', 'firing')]
    await inTransaction(pool, 'test', (c) => recordAlertChanges(c, first))
    expect(await active()).toEqual([{ fingerprint: 'a', summary: 'change 1' }, { fingerprint: 'b', summary: 'change 2' }, { fingerprint: 'c', summary: 'change 3' }])

    // a resolves (active from the batch before), b resolves and fires again, d fires and resolves, c is re-sent firing.
    const second = [change('a', 'resolved'), change('b', 'resolved'), change('d', 'firing'), change('b', 'firing'), change('d', 'resolved'), change('c', 'firing')]
    await inTransaction(pool, 'test', (c) => recordAlertChanges(c, second))
    await inTransaction(pool, 'test', (c) => recordAlertChanges(c, []))

    const all = [...first, ...second].map((a) => ({ fingerprint: a.fingerprint, summary: a.annotations.summary }))
    expect(await outbox('alert_notifications')).toEqual(all)
    expect(await outbox('alert_outbox')).toEqual(all)
    expect(await active()).toEqual([{ fingerprint: 'b', summary: 'change 7' }, { fingerprint: 'c', summary: 'change 9' }])
  })

  it('net effect: the last change of each fingerprint decides', () => {
    const batch = [change('x', 'firing'), change('y', 'firing'), change('x', 'resolved'), change('y', 'resolved'), change('y', 'firing')]
    const net = netActiveChanges(batch, batch.map((a) => a.annotations.summary))
    expect(net).toEqual({ upsert: { fingerprints: ['y'], payloads: [batch[4]!.annotations.summary] }, remove: ['x'] })
  })
})
