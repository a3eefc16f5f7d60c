/**
 * The shipped Alertmanager routing (prometheus/alertmanager.yml), rendered by the stack's own
 * script and checked by the real amtool: `amtool check-config` passes, the routes send each kind
 * of alert to the receiver the file promises, secrets live only in mode-600 files outside the
 * repository, and an invalid setting is refused.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const REPO = join(import.meta.dirname, '..', '..')
const SLACK_URL = 'http://127.0.0.1:1/slack-secret-path-T000/B000/XXXX'
const PD_KEY = 'pd-routing-key-0123456789abcdef'

function render(dir: string, env: Record<string, string> = {}) {
  return spawnSync('bash', [join(REPO, 'scripts', 'alertmanager-config.sh'), dir], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  })
}

/** The receiver amtool's route test picks for a label set. */
function receiverFor(config: string, labels: string[]): string {
  return execFileSync('amtool', ['config', 'routes', 'test', `--config.file=${config}`, ...labels], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim()
}

describe('shipped Alertmanager configuration', () => {
  let dir: string
  let config: string
  let checkOutput: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'auren-am-config-'))
    const res = render(dir, { AUREN_ALERT_SLACK_API_URL: SLACK_URL, AUREN_ALERT_PAGERDUTY_ROUTING_KEY: PD_KEY })
    checkOutput = res.stderr
    expect(res.status, res.stderr).toBe(0)
    config = join(dir, 'alertmanager.yml')
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('passes amtool check-config with four receivers and the inhibition', () => {
    expect(checkOutput).toMatch(/SUCCESS/)
    expect(checkOutput).toMatch(/1 inhibit rules/)
    expect(checkOutput).toMatch(/4 receivers/)
  })

  it('routes by replay first, then severity', () => {
    expect(receiverFor(config, ['alertname=AurenRateLimited', 'severity=critical', 'agent=Programmer'])).toBe('oncall-pager')
    expect(receiverFor(config, ['alertname=AurenRateLimited', 'severity=critical', 'replay=true'])).toBe('replay-review')
    expect(receiverFor(config, ['alertname=AurenErrorRateHigh', 'severity=warning'])).toBe('team-slack')
    expect(receiverFor(config, ['alertname=AurenX', 'severity=info'])).toBe('team-webhook')
    expect(receiverFor(config, ['alertname=AurenX'])).toBe('team-webhook')
  })

  it('groups by rule and agent and inhibits an agent\'s warnings under its critical alert', () => {
    const text = readFileSync(config, 'utf8')
    expect(text).toMatch(/group_by: \[alertname, agent\]/)
    expect(text).toMatch(/source_matchers: \['severity="critical"', 'agent=~"\.\+"'\]\s+target_matchers: \['severity="warning"'\]\s+equal: \[agent\]/)
  })

  it('keeps the Slack URL and the PagerDuty key in mode-600 files, never in the config or the repository', () => {
    const text = readFileSync(config, 'utf8')
    expect(text).not.toContain(SLACK_URL)
    expect(text).not.toContain(PD_KEY)
    expect(readFileSync(join(dir, 'secrets', 'slack_api_url'), 'utf8')).toBe(SLACK_URL)
    expect(readFileSync(join(dir, 'secrets', 'pagerduty_routing_key'), 'utf8')).toBe(PD_KEY)
    expect(statSync(join(dir, 'secrets', 'slack_api_url')).mode & 0o777).toBe(0o600)
    expect(statSync(config).mode & 0o777).toBe(0o600)
    const template = readFileSync(join(REPO, 'prometheus', 'alertmanager.yml'), 'utf8')
    expect(template).not.toMatch(/hooks\.slack\.com|events\.pagerduty\.com\/v2\/enqueue\s*$/m)
    expect(template).not.toMatch(/routing_key:|api_url:/)
  })

  it('refuses an invalid setting with amtool\'s message and exit 1', () => {
    const bad = mkdtempSync(join(tmpdir(), 'auren-am-bad-'))
    try {
      const res = render(bad, { AUREN_ALERT_GROUP_INTERVAL: 'soon' })
      expect(res.status).toBe(1)
      expect(res.stderr).toMatch(/not a valid duration string: "soon"/)
    } finally {
      rmSync(bad, { recursive: true, force: true })
    }
  })
})
