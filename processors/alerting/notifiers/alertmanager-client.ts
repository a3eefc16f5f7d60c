/**
 * POSTs alerts to an Alertmanager's v2 API (`POST <base>/api/v2/alerts`). 200 is success; a 400
 * (an alert Alertmanager will never take) is not retriable; any other status, a timeout or a
 * network error is retriable (the caller keeps the alerts in its outbox and tries again).
 */
import { AurenError } from '../../runtime/ops/errors.ts'
import type { PostableAlert } from '../alertmanager-payload.ts'

/** Options of {@link postAlerts}. */
export interface AlertmanagerTarget {
  /** Base URL, e.g. `http://127.0.0.1:19094`. */
  baseUrl: string
  /** Request timeout, ms. */
  timeoutMs: number
}

/**
 * Sends alerts in one request.
 * @throws AurenError AUREN_ERR_SINK_UNAVAILABLE, `retriable` false only for a 4xx answer
 */
export async function postAlerts(target: AlertmanagerTarget, alerts: readonly PostableAlert[]): Promise<void> {
  if (alerts.length === 0) return
  const url = `${target.baseUrl.replace(/\/+$/, '')}/api/v2/alerts`
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
      signal: AbortSignal.timeout(target.timeoutMs),
    })
  } catch (err) {
    throw new AurenError('AUREN_ERR_SINK_UNAVAILABLE', `Alertmanager ${url} unreachable: ${(err as Error).message}`, { retriable: true, cause: err })
  }
  if (res.ok) {
    await res.body?.cancel()
    return
  }
  const body = (await res.text().catch(() => '')).slice(0, 500)
  throw new AurenError('AUREN_ERR_SINK_UNAVAILABLE', `Alertmanager ${url} answered ${res.status}: ${body}`, {
    retriable: !(res.status >= 400 && res.status < 500),
    context: { status: res.status },
  })
}
