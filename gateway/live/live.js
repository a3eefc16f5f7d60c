/* global document, location, history */
/**
 * AUREN live page: a WebSocket client of the gateway's stream `auren.v1` (CONTRACTS.md section 5).
 * It authenticates with the first message `{type:"auth"}` (browsers cannot set headers on the
 * upgrade), subscribes to the chosen channels with an agent filter, and keeps four views:
 * the alerts (firing now and recently resolved: the `alerts` channel in a subscription of its
 * own, so a viewer's refusal of it leaves the events flowing, seeded once from
 * `GET /api/v2/alerts` for what fired before the page connected), the newest events (bounded),
 * tokens and cost per agent (llm_call_completed tokens, enriched cost_usd of any event) and the
 * collaboration graph (agent_handoff / agent_collaboration).
 * No framework, no CDN; everything is built with DOM APIs and textContent (no HTML injection).
 */

const CHANNELS = ['events', 'agent_activity', 'llm_usage', 'tool_usage', 'collaboration', 'memory', 'intelligence', 'system', 'alerts']
/** Channels ticked when the page opens. */
const DEFAULT_CHANNELS = new Set(['events', 'alerts'])
const MAX_EVENTS = 200
const MAX_RESOLVED = 100
const SVG_NS = 'http://www.w3.org/2000/svg'
const CLOSE_REASONS = {
  1000: 'closed', 1001: 'server going away', 1006: 'connection lost', 1009: 'frame too large', 1013: 'server at capacity or client too slow',
  4401: 'unauthorized: missing, invalid or expired token', 4408: 'authentication timed out', 4429: 'rate limit exceeded repeatedly',
}

const $ = (id) => document.getElementById(id)
const el = (tag, attrs = {}, text) => {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  if (text !== undefined) e.textContent = text
  return e
}
const svg = (tag, attrs = {}, text) => {
  const e = document.createElementNS(SVG_NS, tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v))
  if (text !== undefined) e.textContent = text
  return e
}

/** Everything the views show. */
const model = {
  events: [],
  seen: new Set(),
  agents: new Map(), // id -> { calls (answered), failed (failed attempts, not calls), input, output, cost, events }
  edges: new Map(), // "from\u0000to" -> { from, to, count }
  total: 0,
  alerts: {
    firing: new Map(), // fingerprint -> its firing Alert (the frame body)
    resolved: [], // resolved Alerts, newest ends_at first, at most MAX_RESOLVED
    ended: new Set(), // "fingerprint@starts_at" of every resolution seen: a late firing of it is stale
    seen: new Set(), // "fingerprint:status:starts_at": each change once (the REST seed and the live channel overlap)
  },
}
let ws = null
let subscriptionIds = []
let liveChannels = []
let currentToken = ''
let renderQueued = false

function setState(state, detail) {
  const s = $('state')
  s.dataset.state = state
  s.className = `state state-${state}`
  s.textContent = detail ? `${state}: ${detail}` : state
  $('connect').disabled = state !== 'disconnected' && state !== 'closed'
  $('disconnect').disabled = state === 'disconnected' || state === 'closed'
}

function showError(text) {
  const li = el('li', { class: 'error' }, `${new Date().toLocaleTimeString()} ${text}`)
  const list = $('errors')
  list.prepend(li)
  while (list.children.length > 5) list.lastElementChild.remove()
}

function agentStats(id) {
  let a = model.agents.get(id)
  if (!a) {
    a = { calls: 0, failed: 0, input: 0, output: 0, cost: 0, events: 0 }
    model.agents.set(id, a)
  }
  return a
}

function addEdge(from, to) {
  if (!from || !to || from === to) return
  const key = `${from}\u0000${to}`
  const e = model.edges.get(key) ?? { from, to, count: 0 }
  e.count += 1
  model.edges.set(key, e)
  agentStats(from)
  agentStats(to)
}

/** Folds one enriched event into the model. */
function ingest(ev) {
  if (!ev || typeof ev !== 'object' || model.seen.has(ev.event_id)) return
  model.seen.add(ev.event_id)
  if (model.seen.size > 50_000) model.seen = new Set([...model.seen].slice(-25_000))
  model.total += 1
  // newest first by event time (batches of several tiers arrive out of order); ISO-8601 UTC
  // strings of one format sort as their times
  model.events.unshift(ev)
  model.events.sort((x, y) => (String(y.timestamp) > String(x.timestamp) ? 1 : String(y.timestamp) < String(x.timestamp) ? -1 : 0))
  if (model.events.length > MAX_EVENTS) model.events.length = MAX_EVENTS
  const agent = ev.source_agent?.id
  const p = ev.payload ?? {}
  if (agent) {
    const a = agentStats(agent)
    a.events += 1
    if (ev.event_type === 'llm_call_completed') {
      if (isFailedAttempt(p)) a.failed += 1
      else {
        a.calls += 1
        a.input += Number(p.input_tokens) || 0
        a.output += Number(p.output_tokens) || 0
      }
    }
    if (typeof ev.cost_usd === 'number') a.cost += ev.cost_usd
  }
  if (ev.event_type === 'agent_handoff') addEdge(p.from_agent ?? agent, p.to_agent ?? ev.target_agent?.id)
  if (ev.event_type === 'agent_collaboration') {
    const primary = p.primary_agent ?? agent
    for (const other of p.collaborating_agents ?? []) addEdge(other, primary)
  }
}

/**
 * Folds one Alert (CONTRACTS.md 3b, times ISO-8601 strings that sort as their times) into the
 * alert views: a firing alert is listed until its resolution (same fingerprint and start) arrives;
 * a resolution moves it to the resolved list. Each change counts once.
 */
function ingestAlert(a) {
  if (!a || typeof a !== 'object' || typeof a.fingerprint !== 'string') return
  const m = model.alerts
  const key = `${a.fingerprint}:${a.status}:${a.starts_at}`
  if (m.seen.has(key)) return
  m.seen.add(key)
  if (m.seen.size > 50_000) m.seen = new Set([...m.seen].slice(-25_000))
  const episode = `${a.fingerprint}@${a.starts_at}`
  if (a.status === 'firing') {
    const current = m.firing.get(a.fingerprint)
    if (m.ended.has(episode) || (current && String(current.starts_at) > String(a.starts_at))) return
    m.firing.set(a.fingerprint, a)
    return
  }
  m.ended.add(episode)
  const current = m.firing.get(a.fingerprint)
  if (current && String(current.starts_at) <= String(a.starts_at)) m.firing.delete(a.fingerprint)
  m.resolved.push(a)
  m.resolved.sort((x, y) => (String(y.ends_at) > String(x.ends_at) ? 1 : String(y.ends_at) < String(x.ends_at) ? -1 : 0))
  if (m.resolved.length > MAX_RESOLVED) m.resolved.length = MAX_RESOLVED
}

/**
 * Seeds the alert views from `GET /api/v2/alerts` (same origin as the page: the gateway serves
 * both): the alerts firing now, and those resolved in the route's default range (the last 24 h of
 * event time). The live channel adds to them; duplicates are folded once.
 */
async function loadAlerts(token) {
  const agents = $('agents').value.split(',').map((s) => s.trim()).filter(Boolean)
  try {
    const res = await fetch('/api/v2/alerts?limit=100', { headers: { authorization: `Bearer ${token}` } })
    const body = await res.json()
    if (!res.ok) {
      $('alerts-note').textContent = `alerts before connecting are not shown: ${body.error ?? res.status}: ${body.message ?? ''}`
      return
    }
    const keep = (a) => agents.length === 0 || agents.includes(a.labels?.agent)
    for (const a of [...body.resolved.alerts].reverse()) if (keep(a)) ingestAlert(a)
    for (const a of body.firing.alerts) if (keep(a)) ingestAlert(a)
    $('alerts-note').textContent = `live; seeded with ${body.firing.total} firing and ${body.resolved.total} resolved since ${body.range.from} (GET /api/v2/alerts)`
    scheduleRender()
  } catch (err) {
    $('alerts-note').textContent = `alerts before connecting are not shown: ${err.message}`
  }
}

function scheduleRender() {
  if (renderQueued) return
  renderQueued = true
  setTimeout(() => {
    renderQueued = false
    render()
  }, 100)
}

/**
 * A completed LLM call that failed with no usage reported: a failed attempt (a rate-limit retry,
 * a timeout), not an answered call (processors/aggregation/transform.ts isAnsweredCall).
 */
function isFailedAttempt(p) {
  return p.success === false && !(Number(p.input_tokens) > 0) && !(Number(p.output_tokens) > 0) && typeof p.reported_cost_usd !== 'number'
}

/** What matters for an event's type (the same wording as `auren tail`, scripts/lib/tail-command.ts). */
function describe(ev) {
  const p = ev.payload ?? {}
  switch (ev.event_type) {
    case 'llm_call_started':
      return `${p.model ?? ''} in~${p.input_tokens ?? 0}`
    case 'llm_call_completed':
      if (isFailedAttempt(p)) return `${p.model ?? ''} failed attempt ${p.error_type ?? 'unknown'} (no answer: not a call)`
      return `${p.model ?? ''} in=${p.input_tokens ?? 0} out=${p.output_tokens ?? 0}${typeof ev.cost_usd === 'number' ? ` $${ev.cost_usd.toFixed(5)}` : ''}${p.success === false ? ` error ${p.error_type ?? ''}` : ''}`
    case 'system_health':
      return `${p.component ?? '?'} ${p.status ?? '?'}`
    case 'biometric_analysis':
      return `${p.metric ?? '?'}=${p.value ?? '?'}${p.unit ? ` ${p.unit}` : ''}${p.anomaly === true ? ' ANOMALY' : ''}`
    case 'memory_tier_access': {
      const tried = (p.tier_latencies ?? []).map((t) => `${t.tier}${t.hit ? '' : ':miss'}${typeof t.latency_ms === 'number' ? `(${t.latency_ms}ms)` : ''}`).join('>')
      return `${p.tier_served ? `served by ${p.tier_served}` : 'not found in any tier'} (tried ${tried})`
    }
    case 'agent_decision':
      return `category=${p.category ?? '-'} urgency=${p.urgency ?? '-'}`
    case 'agent_handoff':
      return `${p.from_agent} → ${p.to_agent}${p.topic ? ` (${p.topic})` : ''}`
    case 'agent_collaboration':
      return `${(p.collaborating_agents ?? []).join(', ')} ⇄ ${p.primary_agent} ${p.collaboration_type ?? ''}`
    case 'tool_usage_started':
    case 'tool_usage_completed':
      return `${p.tool_name ?? ''}${p.success === false ? ' FAILED' : ''}`
    default:
      return ev.target_agent?.id ? `→ ${ev.target_agent.id}` : ''
  }
}

function renderEvents() {
  const list = $('events')
  list.replaceChildren(...model.events.map((ev) => {
    const li = el('li', { class: `event tier-${ev.tier ?? 'unknown'}`, 'data-event-type': ev.event_type })
    li.append(
      el('span', { class: 'time', title: String(ev.timestamp ?? '') }, String(ev.timestamp ?? '').slice(11, 23)),
      el('span', { class: 'agent', title: ev.source_agent?.id ?? '' }, ev.source_agent?.id ?? '—'),
      el('span', { class: 'type' }, ev.event_type),
      el('span', { class: 'detail', title: describe(ev) }, describe(ev)),
    )
    return li
  }))
}

function renderAgents() {
  const rows = [...model.agents.entries()].sort((a, b) => b[1].cost - a[1].cost || b[1].events - a[1].events)
  const fmt = (n) => n.toLocaleString('en-US')
  $('agent-table').tBodies[0].replaceChildren(...rows.map(([id, a]) => {
    const tr = el('tr', { 'data-agent': id })
    tr.append(el('td', {}, id), el('td', {}, fmt(a.calls)), el('td', { class: 'failed' }, fmt(a.failed)), el('td', {}, fmt(a.input)), el('td', {}, fmt(a.output)), el('td', { class: 'cost' }, a.cost.toFixed(4)), el('td', {}, fmt(a.events)))
    return tr
  }))
  const sum = (k) => rows.reduce((n, [, a]) => n + a[k], 0)
  $('total-calls').textContent = fmt(sum('calls'))
  $('total-failed').textContent = fmt(sum('failed'))
  $('total-in').textContent = fmt(sum('input'))
  $('total-out').textContent = fmt(sum('output'))
  $('total-cost').textContent = sum('cost').toFixed(4)
  $('total-events').textContent = fmt(sum('events'))
}

/** Agents on a circle; one curved edge per direction, labelled with its count. */
function renderGraph() {
  const g = $('graph')
  const W = 600
  const H = 420
  const ids = [...new Set([...model.edges.values()].flatMap((e) => [e.from, e.to]))].sort()
  const pos = new Map()
  const r = Math.min(W, H) / 2 - 50
  ids.forEach((id, i) => {
    const a = (2 * Math.PI * i) / Math.max(ids.length, 1) - Math.PI / 2
    pos.set(id, { x: W / 2 + r * Math.cos(a), y: H / 2 + r * Math.sin(a) })
  })
  const defs = svg('defs')
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 27, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' })
  marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#5fb3f9' }))
  defs.append(marker)
  const children = [defs]
  const maxCount = Math.max(1, ...[...model.edges.values()].map((e) => e.count))
  for (const e of model.edges.values()) {
    const a = pos.get(e.from)
    const b = pos.get(e.to)
    const dx = b.x - a.x
    const dy = b.y - a.y
    const len = Math.hypot(dx, dy) || 1
    const bend = 0.15 * len
    const cx = (a.x + b.x) / 2 - (dy / len) * bend
    const cy = (a.y + b.y) / 2 + (dx / len) * bend
    const group = svg('g', { class: 'edge-group', 'data-from': e.from, 'data-to': e.to, 'data-count': e.count })
    group.append(
      svg('path', { class: 'edge', d: `M ${a.x} ${a.y} Q ${cx} ${cy} ${b.x} ${b.y}`, 'stroke-width': 1 + 4 * (e.count / maxCount), 'marker-end': 'url(#arrow)' }),
      svg('text', { class: 'edge-label', x: (a.x + 2 * cx + b.x) / 4, y: (a.y + 2 * cy + b.y) / 4 }, String(e.count)),
    )
    children.push(group)
  }
  for (const id of ids) {
    const { x, y } = pos.get(id)
    const node = svg('g', { class: 'node', 'data-agent': id })
    node.append(svg('circle', { cx: x, cy: y, r: 16 }), svg('text', { x, y: y + 30 }, id))
    children.push(node)
  }
  if (ids.length === 0) children.push(svg('text', { x: W / 2, y: H / 2, fill: '#7b8794', 'text-anchor': 'middle' }, 'no handoffs or collaborations yet'))
  g.replaceChildren(...children)
}

function alertItem(a) {
  const li = el('li', { class: `alert sev-${a.severity} status-${a.status}`, 'data-fingerprint': a.fingerprint, 'data-status': a.status, 'data-rule': a.rule })
  // alertname and severity repeat what the row shows already (as in `auren tail`)
  const labels = Object.entries(a.labels ?? {}).filter(([k, v]) => !(k === 'alertname' && v === a.rule) && !(k === 'severity' && v === a.severity))
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join(', ')
  const summary = a.annotations?.summary ?? ''
  const times = a.status === 'resolved' ? `started ${a.starts_at} · resolved ${a.ends_at}` : `firing since ${a.starts_at}`
  li.append(
    el('span', { class: 'alert-state' }, String(a.status).toUpperCase()),
    el('span', { class: 'severity' }, a.severity),
    el('span', { class: 'rule', title: a.rule }, a.rule),
    el('span', { class: 'labels', title: labels }, labels || '—'),
    el('span', { class: 'summary', title: a.annotations?.description || summary }, summary),
    el('span', { class: 'times' }, `${times} · value ${a.value} (threshold ${a.threshold})`),
  )
  return li
}

function renderAlerts() {
  const m = model.alerts
  const firing = [...m.firing.values()].sort((x, y) => (String(y.starts_at) > String(x.starts_at) ? 1 : String(y.starts_at) < String(x.starts_at) ? -1 : 0))
  $('alerts-firing').replaceChildren(...firing.map(alertItem))
  $('alerts-resolved').replaceChildren(...m.resolved.map(alertItem))
  $('alert-counts').textContent = `(${firing.length} firing · ${m.resolved.length} resolved)`
}

function render() {
  renderAlerts()
  renderEvents()
  renderAgents()
  renderGraph()
  $('counts').textContent = `${model.total} events · ${model.agents.size} agents · ${model.edges.size} edges`
}

function onMessage(raw) {
  let m
  try {
    m = JSON.parse(raw)
  } catch {
    showError('server sent a frame that is not JSON')
    return
  }
  switch (m.type) {
    case 'welcome': {
      // authenticated: hide the token (kept for reconnecting in this tab only)
      $('token').value = ''
      $('token').placeholder = 'token in use (hidden); paste another to switch'
      setState('authenticating', 'subscribing')
      const checked = [...document.querySelectorAll('#channels input:checked')].map((i) => i.value)
      const agents = $('agents').value.split(',').map((s) => s.trim()).filter(Boolean)
      const filters = agents.length > 0 ? { filters: { agent_ids: agents } } : {}
      const eventChannels = checked.filter((c) => c !== 'alerts')
      // alerts in a subscription of their own: a viewer is refused them (operator or admin only)
      // and its events must flow all the same
      if (eventChannels.length > 0 || !checked.includes('alerts')) {
        ws.send(JSON.stringify({ type: 'subscribe', id: 'live-page', channels: eventChannels.length > 0 ? eventChannels : ['events'], ...filters }))
      }
      if (checked.includes('alerts')) {
        $('alerts-note').textContent = 'subscribing to alerts…'
        ws.send(JSON.stringify({ type: 'subscribe', id: 'live-page-alerts', channels: ['alerts'], ...filters }))
      } else $('alerts-note').textContent = 'alerts channel not ticked'
      break
    }
    case 'subscribed':
      subscriptionIds.push(m.subscription_id)
      liveChannels = [...new Set([...liveChannels, ...m.channels])]
      setState('live', liveChannels.join(', '))
      if (m.id === 'live-page-alerts') void loadAlerts(currentToken)
      break
    case 'alert':
      ingestAlert(m.alert)
      scheduleRender()
      break
    case 'event':
      ingest(m.event)
      scheduleRender()
      break
    case 'batch':
      for (const ev of m.events) ingest(ev)
      scheduleRender()
      break
    case 'recovered':
      if (!m.complete) showError('replay incomplete: the gateway no longer holds the start of the requested range')
      break
    case 'error':
      showError(`${m.code}: ${m.message}`)
      if (m.id === 'live-page') setState('authenticating', 'subscription refused')
      if (m.id === 'live-page-alerts') $('alerts-note').textContent = `alerts refused: ${m.code}: ${m.message}`
      break
    default:
      break
  }
}

function connect() {
  // the field is emptied once connected (the token stays out of sight); an empty field reuses it
  const token = $('token').value.trim() || sessionStorage.getItem('auren.live.token') || ''
  if (!token) {
    showError('paste a token first')
    return
  }
  sessionStorage.setItem('auren.live.token', token)
  currentToken = token
  setState('connecting')
  subscriptionIds = []
  liveChannels = []
  const socket = new WebSocket($('url').value.trim())
  ws = socket
  socket.addEventListener('open', () => {
    setState('authenticating')
    socket.send(JSON.stringify({ type: 'auth', token }))
  })
  socket.addEventListener('message', (e) => onMessage(String(e.data)))
  socket.addEventListener('close', (e) => {
    if (ws !== socket) return
    const reason = CLOSE_REASONS[e.code] ?? 'closed'
    if (e.code !== 1000) showError(`connection closed ${e.code}: ${e.reason || reason}`)
    setState('closed', `${e.code} ${reason}`)
    ws = null
  })
  socket.addEventListener('error', () => {
    if (ws === socket && socket.readyState !== WebSocket.OPEN) showError('cannot reach the stream (is the gateway running with Kafka?)')
  })
}

function init() {
  const fs = $('channels')
  for (const c of CHANNELS) {
    const label = el('label')
    const box = el('input', { type: 'checkbox', value: c, name: 'channel' })
    box.checked = DEFAULT_CHANNELS.has(c)
    label.append(box, document.createTextNode(c))
    fs.append(label)
  }
  const params = new URLSearchParams(location.search)
  $('url').value = params.get('url') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/stream`
  // a token in the URL fragment (#token=…, as `auren demo --keep-running` prints it) is taken once
  // and removed from the address bar, so it is neither shown nor kept in the history
  const fragment = new URLSearchParams(location.hash.slice(1))
  if (fragment.get('token')) {
    sessionStorage.setItem('auren.live.token', fragment.get('token'))
    history.replaceState(null, '', location.pathname + location.search)
  }
  $('token').required = false
  $('token').placeholder = sessionStorage.getItem('auren.live.token') ? 'token stored for this tab (hidden); paste another to switch' : 'paste a bearer token'
  if (params.get('agents')) $('agents').value = params.get('agents')
  $('event-limit').textContent = String(MAX_EVENTS)
  $('resolved-limit').textContent = String(MAX_RESOLVED)
  $('signin').addEventListener('submit', (e) => {
    e.preventDefault()
    connect()
  })
  $('disconnect').addEventListener('click', () => {
    if (ws?.readyState === WebSocket.OPEN) for (const id of subscriptionIds) ws.send(JSON.stringify({ type: 'unsubscribe', subscription_id: id }))
    ws?.close(1000)
    ws = null
    setState('disconnected')
  })
  $('clear').addEventListener('click', () => {
    model.events = []
    model.seen.clear()
    model.agents.clear()
    model.edges.clear()
    model.total = 0
    model.alerts.firing.clear()
    model.alerts.resolved = []
    model.alerts.ended.clear()
    model.alerts.seen.clear()
    render()
  })
  setState('disconnected')
  render()
  if (fragment.get('token')) connect()
}

init()
