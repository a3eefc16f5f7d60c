/**
 * The Helm chart helm/auren, rendered by a real Helm (v3.22.0) and checked offline, no cluster
 * needed: `helm lint --strict` passes; with every feature enabled, every object of a built-in kind
 * passes `kubernetes-validate --strict` against Kubernetes 1.31 (the ServiceMonitor and the
 * PrometheusRule, custom resources, are checked here); every app has a Deployment running its
 * entry file with probes on its port, resources, the restricted security context and its secrets
 * from secretKeyRef only, and the environment each pod gets is a valid configuration of its app
 * (parsed by the app's own config parser, secrets given test values); the PrometheusRule,
 * the dashboard ConfigMaps and the stream-rule ConfigMap hold exactly the repository's files;
 * missing required settings fail the render with their message; a disabled app leaves no object.
 *
 * Helm and kubernetes-validate come from scripts/helm-tools.sh (run by scripts/test.sh), which
 * writes their paths to ~/.cache/auren/helm-tools.env; without them the test fails, naming it.
 */
import { execFile } from 'node:child_process'
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, parseAllDocuments, stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseBaseConfig } from '../../processors/runtime/ops/config.ts'
import { parseEnrichmentConfig } from '../../processors/enrichment/config.ts'
import { parseAggregationConfig } from '../../processors/aggregation/config.ts'
import { parseAlertingConfig } from '../../processors/alerting/config.ts'
import { parseArchivalConfig } from '../../processors/archival/config.ts'
import { parseEventStoreConfig } from '../../processors/event-store/config.ts'
import { parseGatewayConfig } from '../../gateway/config.ts'

const REPO = join(import.meta.dirname, '..', '..')
const CHART = join(REPO, 'helm', 'auren')
const CACHE = process.env.AUREN_CACHE_DIR || join(homedir(), '.cache', 'auren')
const KUBE_VERSION = '1.31.0'
const RELEASE = 'rel'

/** Every app of the system, its entry file and the parser of its own configuration. */
const APPS: Record<string, { script: string; kind: 'processor' | 'gateway'; parse: (env: Record<string, string>) => unknown }> = {
  enrichment: { script: 'processors/enrichment/main.ts', kind: 'processor', parse: parseEnrichmentConfig },
  aggregation: { script: 'processors/aggregation/main.ts', kind: 'processor', parse: parseAggregationConfig },
  alerting: { script: 'processors/alerting/main.ts', kind: 'processor', parse: parseAlertingConfig },
  archival: { script: 'processors/archival/main.ts', kind: 'processor', parse: parseArchivalConfig },
  'event-store': { script: 'processors/event-store/main.ts', kind: 'processor', parse: parseEventStoreConfig },
  gateway: { script: 'gateway/server.ts', kind: 'gateway', parse: parseGatewayConfig },
}

/** Variables that carry a secret: only ever from a Secret (secretKeyRef), never a literal value. */
const SECRET_ENV = /DATABASE_URL|SECRET|ACCESS_KEY|API_KEY|JWKS_URL|PASSWORD|TOKEN|CREDENTIAL/
/** Test values of the secrets when the pod environment is parsed by the app's own parser. */
const SECRET_TEST_VALUES: Record<string, string> = {
  AUREN_DATABASE_URL: 'postgres://auren:test-password@postgres:5432/auren',
  AUREN_S3_ACCESS_KEY_ID: 'test-access-key-id',
  AUREN_S3_SECRET_ACCESS_KEY: 'test-secret-access-key',
  AUREN_GATEWAY_JWT_SECRET: 'p'.repeat(48),
  AUREN_GATEWAY_JWKS_URL: 'https://issuer.example/.well-known/jwks.json',
  AUREN_GATEWAY_INGEST_API_KEYS: 'k'.repeat(40),
}

/** The settings the chart requires (no secret value: Secret names and keys only). */
const REQUIRED_VALUES = {
  kafka: { brokers: 'kafka-0.kafka:9092,kafka-1.kafka:9092', schemaRegistryUrl: 'http://registry:8081/apis/ccompat/v7' },
  database: { existingSecret: 'auren-database' },
  alertmanager: { url: 'http://alertmanager-operated.monitoring:9093' },
  s3: { endpoint: 'http://minio.storage:9000', bucket: 'auren-archive', existingSecret: 'auren-s3' },
  apps: { gateway: { auth: { existingSecret: 'auren-gateway' } } },
}

/** Everything switched on: monitoring objects, autoscaling (CPU and lag), ingest keys, scheduling, extra env. */
const ALL_FEATURES = {
  serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
  prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
  grafanaDashboards: { enabled: true, annotations: { grafana_folder: 'AUREN' } },
  podAnnotations: { 'example.com/team': 'observability' },
  apps: {
    enrichment: {
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, consumerLag: { enabled: true, averageValue: '5000' } },
      env: { AUREN_ENRICHMENT_DEDUP_MAX_ENTRIES: 200000, POD_NAME: { valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } } },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'stream', effect: 'NoSchedule' }],
      affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'enrichment' } } } }] } },
    },
    aggregation: { replicas: 3, env: { AUREN_AGGREGATION_EXPECTED_PARTITIONS: '6' } },
    gateway: {
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 4 },
      auth: { existingSecret: 'auren-gateway', ingestApiKeysKey: 'ingest-api-keys', issuer: 'https://issuer.example', audience: 'auren' },
      env: { AUREN_GATEWAY_DB_POOL_SIZE: '8' },
    },
  },
}

interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  spec?: Record<string, unknown>
  data?: Record<string, string>
  [key: string]: unknown
}
interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: unknown } }
interface Probe { httpGet: { path: string; port: string | number } }
interface Container {
  name: string
  image: string
  args: string[]
  ports: Array<{ name: string; containerPort: number }>
  env: EnvVar[]
  envFrom: Array<{ configMapRef?: { name: string } }>
  readinessProbe: Probe
  livenessProbe: Probe
  startupProbe?: Probe
  resources: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } }
  securityContext: Record<string, unknown>
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>
}
interface PodSpec {
  serviceAccountName: string
  automountServiceAccountToken: boolean
  terminationGracePeriodSeconds: number
  securityContext: Record<string, unknown>
  containers: Container[]
  volumes: Array<{ name: string; emptyDir?: unknown; configMap?: { name: string } }>
  nodeSelector?: unknown
  tolerations?: unknown
  affinity?: unknown
}
interface DeploymentSpec { replicas?: number; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }
interface ServiceSpec { selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string | number }> }
interface RuleGroup { name: string; rules: unknown[] }

let helmBin = ''
let kubernetesValidateBin = ''
let work = ''
/** Why the set-up failed (a missing tool): every test fails with it, none is skipped. */
let setupError: unknown

/** The tools scripts/helm-tools.sh installed; throws naming the script when one is missing. */
function requireTools(): { helm: string; kubernetesValidate: string } {
  const envFile = join(CACHE, 'helm-tools.env')
  const fix = 'run `bash scripts/helm-tools.sh` (scripts/test.sh does, before vitest) to install Helm v3.22.0 and kubernetes-validate 1.37.0 into the cache'
  if (!existsSync(envFile)) throw new Error(`${envFile} not found: ${fix}`)
  const vars = Object.fromEntries(readFileSync(envFile, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  const tools = { helm: vars.AUREN_HELM ?? '', kubernetesValidate: vars.AUREN_KUBERNETES_VALIDATE ?? '' }
  for (const [name, path] of Object.entries(tools)) {
    try {
      accessSync(path, constants.X_OK)
    } catch {
      throw new Error(`${name} (${path || 'not named'} in ${envFile}) is missing or not executable: ${fix}`)
    }
  }
  return tools
}

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (setupError !== undefined) return Promise.reject(setupError)
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: REPO, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err)
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr })
    })
  })
}

/** Writes a values file into the test's folder and returns its path. */
function valuesFile(name: string, values: unknown): string {
  if (setupError !== undefined) throw setupError
  if (!work) throw new Error('the test folder was not created')
  const path = join(work, `${name}.yaml`)
  writeFileSync(path, stringify(values))
  return path
}

/** Deep merge of plain objects (arrays and scalars of `b` replace those of `a`). */
function merge(a: unknown, b: unknown): unknown {
  if (typeof a !== 'object' || a === null || Array.isArray(a) || typeof b !== 'object' || b === null || Array.isArray(b)) return b
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) }
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v
  return out
}

function helmTemplate(...valueFiles: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(helmBin, ['template', RELEASE, CHART, '--kube-version', KUBE_VERSION, ...valueFiles.flatMap((f) => ['-f', f])])
}

/** `helm template` that must succeed; its objects. */
async function render(...valueFiles: string[]): Promise<K8sObject[]> {
  const res = await helmTemplate(...valueFiles)
  expect(res.code, res.stderr).toBe(0)
  const docs = parseAllDocuments(res.stdout)
  const objects: K8sObject[] = []
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    expect(doc.errors, 'rendered YAML parses').toEqual([])
    const o = doc.toJS() as K8sObject | null
    if (o !== null) objects.push(o)
  }
  return objects
}

const component = (o: K8sObject) => o.metadata.labels?.['app.kubernetes.io/component']
const fullName = (app: string) => `${RELEASE}-auren-${app}`
const ruleFiles = () => readdirSync(join(REPO, 'prometheus', 'rules')).filter((f) => f.endsWith('.yml')).sort()
const dashboardFiles = () => readdirSync(join(REPO, 'grafana', 'dashboards')).filter((f) => f.endsWith('.json')).sort()

describe('Helm chart helm/auren', () => {
  let requiredValues = ''
  let rendered: K8sObject[] = []

  beforeAll(async () => {
    try {
      const tools = requireTools()
      helmBin = tools.helm
      kubernetesValidateBin = tools.kubernetesValidate
      work = mkdtempSync(join(tmpdir(), 'auren-helm-'))
      requiredValues = valuesFile('required', REQUIRED_VALUES)
      rendered = await render(valuesFile('all-features', merge(REQUIRED_VALUES, ALL_FEATURES)))
    } catch (err) {
      setupError = err
    }
  })

  /** The objects of `helm template` with every feature enabled. */
  function all(): K8sObject[] {
    if (setupError !== undefined) throw setupError
    return rendered
  }

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('passes helm lint --strict with the required settings', async () => {
    const res = await run(helmBin, ['lint', '--strict', '--kube-version', KUBE_VERSION, CHART, '-f', requiredValues])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    expect(res.stdout).toContain('1 chart(s) linted, 0 chart(s) failed')
  })

  it('is versioned as the package, with the image tag defaulting to it', () => {
    const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { apiVersion: string; name: string; version: string; appVersion: string }
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'auren', version: '0.1.0', appVersion: pkg.version })
    for (const d of all().filter((o) => o.kind === 'Deployment')) {
      expect((d.spec as unknown as DeploymentSpec).template.spec.containers[0]!.image).toBe(`auren-realtime:${pkg.version}`)
    }
  })

  it('renders with every feature enabled, and every built-in object passes kubernetes-validate --strict', async () => {
    const kinds = all().map((o) => o.kind)
    const count = (k: string) => kinds.filter((x) => x === k).length
    expect(count('Deployment')).toBe(6)
    expect(count('Service')).toBe(6)
    expect(count('ServiceAccount')).toBe(1)
    expect(count('HorizontalPodAutoscaler')).toBe(2)
    expect(count('ServiceMonitor')).toBe(1)
    expect(count('PrometheusRule')).toBe(1)
    expect(count('ConfigMap')).toBe(2 + dashboardFiles().length)
    expect(count('Job'), 'the topics hook Job').toBe(1)
    expect(count('Secret'), 'the chart renders no Secret').toBe(0)
    const builtIn = all().filter((o) => !o.apiVersion.startsWith('monitoring.coreos.com/'))
    const file = join(work, 'built-in.yaml')
    writeFileSync(file, builtIn.map((o) => stringify(o)).join('---\n'))
    const res = await run(kubernetesValidateBin, ['-k', KUBE_VERSION, '--strict', file])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    const passed = res.stdout.split('\n').filter((l) => / passed for resource /.test(l))
    expect(passed, res.stdout + res.stderr).toHaveLength(builtIn.length)
    expect(res.stdout + res.stderr).not.toMatch(/ERROR|WARN/)
  })

  describe.each(Object.entries(APPS))('app %s', (app, spec) => {
    const deployment = () => {
      const d = all().find((o) => o.kind === 'Deployment' && o.metadata.name === fullName(app))
      expect(d, `Deployment ${fullName(app)}`).toBeDefined()
      return d!.spec as unknown as DeploymentSpec
    }
    const container = () => {
      const containers = deployment().template.spec.containers
      expect(containers).toHaveLength(1)
      return containers[0]!
    }
    const env = (name: string) => container().env.find((e) => e.name === name)

    it('runs its existing entry file, with probes on its port', () => {
      const c = container()
      expect(c.args).toEqual([spec.script])
      expect(existsSync(join(REPO, spec.script)), `${spec.script} exists`).toBe(true)
      const prefix = spec.kind === 'gateway' ? 'AUREN_GATEWAY_' : 'AUREN_'
      expect(env(`${prefix}HTTP_HOST`)?.value).toBe('0.0.0.0')
      const port = Number(env(`${prefix}HTTP_PORT`)?.value)
      expect(port).toBe(spec.kind === 'gateway' ? 8080 : 9464)
      const named = c.ports.find((p) => p.containerPort === port)
      expect(named, 'a named container port for the app port').toBeDefined()
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: named!.name })
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: named!.name })
      // The Service exposes it as http-metrics (the ServiceMonitor's port), the gateway also as http.
      const svc = all().find((o) => o.kind === 'Service' && o.metadata.name === fullName(app))
      const ports = (svc!.spec as unknown as ServiceSpec).ports
      expect(ports.find((p) => p.name === 'http-metrics')).toMatchObject({ port, targetPort: named!.name })
      if (spec.kind === 'gateway') expect(ports.find((p) => p.name === 'http')).toMatchObject({ targetPort: named!.name })
      expect((svc!.spec as unknown as ServiceSpec).selector).toEqual(Object.fromEntries(Object.entries(deployment().template.metadata.labels).filter(([k]) => k.startsWith('app.kubernetes.io/'))))
    })

    it('has resources and the restricted security context', () => {
      const pod = deployment().template.spec
      const c = container()
      for (const r of ['cpu', 'memory'] as const) {
        expect(c.resources.requests?.[r], `requests.${r}`).toBeTruthy()
        expect(c.resources.limits?.[r], `limits.${r}`).toBeTruthy()
      }
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } })
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 10001,
        capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
      })
      expect(pod.automountServiceAccountToken).toBe(false)
      const sa = all().find((o) => o.kind === 'ServiceAccount')
      expect(pod.serviceAccountName).toBe(sa?.metadata.name)
      expect(sa?.automountServiceAccountToken).toBe(false)
      // tsx writes its cache under TMPDIR: a writable emptyDir at /tmp on the read-only root.
      expect(env('TMPDIR')?.value).toBe('/tmp')
      const tmp = c.volumeMounts.find((m) => m.mountPath === '/tmp')
      expect(pod.volumes.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined()
      // The kubelet's SIGKILL comes after the app's own force time.
      const forceMs = Number(env(spec.kind === 'gateway' ? 'AUREN_GATEWAY_SHUTDOWN_FORCE_MS' : 'AUREN_SHUTDOWN_FORCE_MS')?.value)
      expect(forceMs).toBeGreaterThan(0)
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(forceMs)
    })

    it('takes every secret from a secretKeyRef, never from a value', () => {
      const c = container()
      for (const e of c.env) {
        if (SECRET_ENV.test(e.name)) {
          expect(e.value, `${e.name} has no literal value`).toBeUndefined()
          expect(e.valueFrom?.secretKeyRef?.name, `${e.name} from a Secret`).toBeTruthy()
        }
        expect(e.value ?? '', `${e.name}: no credentials in a value`).not.toMatch(/:\/\/[^/\s]*:[^/\s]*@/)
      }
      const needsDatabase = app !== 'enrichment'
      expect(env('AUREN_DATABASE_URL')?.valueFrom?.secretKeyRef !== undefined, 'AUREN_DATABASE_URL from a Secret').toBe(needsDatabase)
      if (app === 'archival') {
        expect(env('AUREN_S3_ACCESS_KEY_ID')?.valueFrom?.secretKeyRef).toEqual({ name: 'auren-s3', key: 's3-access-key-id' })
        expect(env('AUREN_S3_SECRET_ACCESS_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'auren-s3', key: 's3-secret-access-key' })
      }
      if (app === 'gateway') {
        expect(env('AUREN_GATEWAY_JWT_SECRET')?.valueFrom?.secretKeyRef).toEqual({ name: 'auren-gateway', key: 'jwt-secret' })
        expect(env('AUREN_GATEWAY_INGEST_API_KEYS')?.valueFrom?.secretKeyRef).toEqual({ name: 'auren-gateway', key: 'ingest-api-keys' })
      }
    })

    it('gets a valid configuration of the app from the ConfigMap and its env (secrets given test values)', () => {
      const c = container()
      const configMaps = c.envFrom.map((f) => all().find((o) => o.kind === 'ConfigMap' && o.metadata.name === f.configMapRef?.name))
      expect(configMaps.every((m) => m !== undefined), 'envFrom names rendered ConfigMaps').toBe(true)
      const podEnv: Record<string, string> = {}
      for (const m of configMaps) Object.assign(podEnv, m!.data)
      for (const e of c.env) {
        if (e.value !== undefined) podEnv[e.name] = e.value
        else if (e.valueFrom?.secretKeyRef) {
          expect(SECRET_TEST_VALUES[e.name], `a test value for ${e.name}`).toBeDefined()
          podEnv[e.name] = SECRET_TEST_VALUES[e.name]!
        }
      }
      if (spec.kind === 'processor') expect(() => parseBaseConfig(podEnv)).not.toThrow()
      expect(() => spec.parse(podEnv)).not.toThrow()
      if (app === 'alerting') {
        const file = env('AUREN_ALERTING_RULES_FILE')?.value ?? ''
        const mount = c.volumeMounts.find((m) => file.startsWith(`${m.mountPath}/`))
        expect(mount?.readOnly, `${file} on a read-only mount`).toBe(true)
        const volume = deployment().template.spec.volumes.find((v) => v.name === mount!.name)
        const rules = all().find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume?.configMap?.name)
        expect(Object.keys(rules?.data ?? {})).toEqual([file.slice(mount!.mountPath.length + 1)])
      }
    })
  })

  it('keeps secrets out of the shared ConfigMap', () => {
    for (const m of all().filter((o) => o.kind === 'ConfigMap')) {
      for (const key of Object.keys(m.data ?? {})) expect(key, `${m.metadata.name}: ${key}`).not.toMatch(SECRET_ENV)
    }
    const config = all().find((o) => o.kind === 'ConfigMap' && o.metadata.name === `${RELEASE}-auren-config`)
    expect(config?.data).toMatchObject({
      AUREN_KAFKA_BROKERS: REQUIRED_VALUES.kafka.brokers, AUREN_SCHEMA_REGISTRY_URL: REQUIRED_VALUES.kafka.schemaRegistryUrl,
      AUREN_TOPIC_PREFIX: '', AUREN_GROUP_ID_PREFIX: 'auren.', AUREN_ALERTMANAGER_URL: REQUIRED_VALUES.alertmanager.url,
      AUREN_S3_ENDPOINT: REQUIRED_VALUES.s3.endpoint, AUREN_S3_BUCKET: 'auren-archive', AUREN_S3_REGION: 'us-east-1', AUREN_LOG_LEVEL: 'info',
    })
  })

  it('scales with HorizontalPodAutoscalers on CPU and consumer lag, and guards multi-pod apps with PodDisruptionBudgets', () => {
    const hpa = all().find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === fullName('enrichment'))
    expect(hpa?.apiVersion).toBe('autoscaling/v2')
    expect(hpa?.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: fullName('enrichment') }, minReplicas: 2, maxReplicas: 6,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } },
        { type: 'External', external: { metric: { name: 'auren_consumer_lag_records', selector: { matchLabels: { processor: 'enrichment' } } }, target: { type: 'AverageValue', averageValue: '5000' } } },
      ],
    })
    const enrichment = all().find((o) => o.kind === 'Deployment' && o.metadata.name === fullName('enrichment'))
    expect((enrichment?.spec as unknown as DeploymentSpec).replicas, 'the HPA owns the replica count').toBeUndefined()
    const pdbs = all().filter((o) => o.kind === 'PodDisruptionBudget')
    expect(pdbs.map((p) => component(p)).sort()).toEqual(['aggregation', 'enrichment', 'gateway'])
    for (const p of pdbs) {
      expect(p.spec).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/component': component(p) } } })
    }
  })

  it('ships a ServiceMonitor selecting every app\'s Service with job="auren" and auren_target', () => {
    const sm = all().find((o) => o.kind === 'ServiceMonitor')!
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1')
    expect(sm.metadata.labels?.release).toBe('kube-prometheus-stack')
    const smSpec = sm.spec as { jobLabel: string; selector: { matchLabels: Record<string, string> }; namespaceSelector: unknown; endpoints: Array<Record<string, unknown>> }
    expect(Object.keys(smSpec).sort()).toEqual(['endpoints', 'jobLabel', 'namespaceSelector', 'selector'])
    expect(smSpec.endpoints).toHaveLength(1)
    const endpoint = smSpec.endpoints[0]!
    for (const k of Object.keys(endpoint)) expect(['port', 'path', 'scheme', 'interval', 'scrapeTimeout', 'relabelings'], `endpoint field ${k}`).toContain(k)
    expect(endpoint).toMatchObject({ port: 'http-metrics', path: '/metrics' })
    expect(endpoint.relabelings).toEqual([{ sourceLabels: ['__meta_kubernetes_service_label_app_kubernetes_io_component'], targetLabel: 'auren_target' }])
    const services = all().filter((o) => o.kind === 'Service')
    expect(services).toHaveLength(Object.keys(APPS).length)
    for (const s of services) {
      const labels = s.metadata.labels ?? {}
      for (const [k, v] of Object.entries(smSpec.selector.matchLabels)) expect(labels[k], `${s.metadata.name} ${k}`).toBe(v)
      // The shipped rules select job="auren" (prometheus/rules/*.yml).
      expect(labels[smSpec.jobLabel], `${s.metadata.name}: job label`).toBe('auren')
      expect((s.spec as unknown as ServiceSpec).ports.some((p) => p.name === 'http-metrics')).toBe(true)
    }
  })

  it('ships a PrometheusRule holding exactly the groups of prometheus/rules/*.yml', () => {
    const rule = all().find((o) => o.kind === 'PrometheusRule')!
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1')
    expect(Object.keys(rule.spec ?? {})).toEqual(['groups'])
    const groups = ruleFiles().flatMap((f) => (parse(readFileSync(join(REPO, 'prometheus', 'rules', f), 'utf8')) as { groups: RuleGroup[] }).groups)
    expect(groups.length).toBeGreaterThan(0)
    expect((rule.spec as { groups: RuleGroup[] }).groups).toEqual(groups)
  })

  it('ships one dashboard ConfigMap per grafana/dashboards/*.json, equal to the file, for the Grafana sidecar', () => {
    const dashboards = all().filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1')
    const files = dashboardFiles()
    expect(dashboards.map((d) => Object.keys(d.data ?? {})).flat().sort()).toEqual(files)
    for (const d of dashboards) {
      const [name, content] = Object.entries(d.data ?? {})[0]!
      expect(content === readFileSync(join(REPO, 'grafana', 'dashboards', name), 'utf8'), `${d.metadata.name}: ${name} byte-equal to the repository's`).toBe(true)
      expect(d.metadata.annotations).toEqual({ grafana_folder: 'AUREN' })
    }
  })

  it('creates the contract topics before install and upgrade: a hook Job runs `auren topics` with the Kafka settings and no secret', async () => {
    const job = all().find((o) => o.kind === 'Job' && o.metadata.name === `${RELEASE}-auren-topics`)
    expect(job, 'Job rel-auren-topics').toBeDefined()
    expect(job!.metadata.annotations?.['helm.sh/hook']?.split(',').sort()).toEqual(['pre-install', 'pre-upgrade'])
    const pod = (job!.spec as { template: { spec: PodSpec } }).template.spec
    const c = pod.containers[0]!
    expect(c.args).toEqual(['scripts/auren.ts', 'topics', '--partitions', '6'])
    expect(existsSync(join(REPO, 'scripts', 'auren.ts'))).toBe(true)
    const value = (name: string) => c.env.find((e) => e.name === name)?.value
    expect(value('AUREN_KAFKA_BROKERS')).toBe(REQUIRED_VALUES.kafka.brokers)
    expect(value('AUREN_SCHEMA_REGISTRY_URL')).toBe(REQUIRED_VALUES.kafka.schemaRegistryUrl)
    expect(c.env.filter((e) => SECRET_ENV.test(e.name)).map((e) => e.name)).toEqual([])
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false })
    // The CLI the Job runs takes exactly these arguments.
    const help = await run(process.execPath, ['--import', 'tsx', 'scripts/auren.ts', 'topics', '--help'])
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toMatch(/--partitions <n>/)
    const without = await render(valuesFile('no-topics-job', merge(REQUIRED_VALUES, { topics: { create: false } })))
    expect(without.filter((o) => o.kind === 'Job')).toEqual([])
  })

  it('gives the alerting app its Service URL as the alerts\' generatorURL base, not its bind address', () => {
    const d = all().find((o) => o.kind === 'Deployment' && o.metadata.name === fullName('alerting'))
    const c = (d!.spec as unknown as DeploymentSpec).template.spec.containers[0]!
    expect(c.env.find((e) => e.name === 'AUREN_ALERTING_EXTERNAL_URL')?.value).toBe(`http://${fullName('alerting')}.default.svc:9464`)
  })

  it('ships the stream rules ConfigMap equal to prometheus/auren-stream-rules.yml', () => {
    const rules = all().find((o) => o.kind === 'ConfigMap' && o.metadata.name === `${RELEASE}-auren-stream-rules`)
    expect(rules?.data?.['auren-stream-rules.yml'] === readFileSync(join(REPO, 'prometheus', 'auren-stream-rules.yml'), 'utf8')).toBe(true)
  })

  it.each([
    ['Kafka brokers', { kafka: { brokers: '' } }, /kafka\.brokers is required/],
    ['the Schema Registry URL', { kafka: { schemaRegistryUrl: '' } }, /kafka\.schemaRegistryUrl is required/],
    ['the database Secret', { database: { existingSecret: '' } }, /database\.existingSecret is required by the \S+ app/],
    ['the S3 bucket', { s3: { bucket: '' } }, /s3\.bucket is required by the archival app/],
    ['the S3 Secret', { s3: { existingSecret: '' } }, /s3\.existingSecret is required by the archival app/],
    ['the Alertmanager URL', { alertmanager: { url: '' } }, /alertmanager\.url is required by the alerting app/],
    ['the gateway\'s auth Secret', { apps: { gateway: { auth: { existingSecret: '' } } } }, /apps\.gateway\.auth\.existingSecret is required/],
    ['a secret as a plain env value', { apps: { enrichment: { env: { AUREN_DATABASE_URL: 'postgres://u:p@db/auren' } } } }, /a secret is never a value of the chart/],
    ['an extra env variable the chart sets', { apps: { enrichment: { env: { AUREN_HTTP_PORT: '9000' } } } }, /apps\.enrichment\.env\.AUREN_HTTP_PORT: set by the chart/],
  ])('fails to render without %s, with the required message', async (_what, override, message) => {
    const res = await helmTemplate(valuesFile('negative', merge(REQUIRED_VALUES, override)))
    expect(res.code).not.toBe(0)
    expect(res.stderr).toMatch(message)
  })

  it.each(Object.keys(APPS))('leaves no object of %s when it is disabled', async (app) => {
    // Without the app, the settings only it needs may be left out too.
    const override: Record<string, unknown> = { apps: { [app]: { enabled: false } } }
    if (app === 'archival') override.s3 = { bucket: '', existingSecret: '', endpoint: '' }
    if (app === 'alerting') override.alertmanager = { url: '' }
    const objects = await render(valuesFile(`without-${app}`, merge(merge(REQUIRED_VALUES, ALL_FEATURES), override)))
    expect(objects.filter((o) => component(o) === app || o.metadata.name.startsWith(`${fullName(app)}`)).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([])
    for (const other of Object.keys(APPS).filter((a) => a !== app)) {
      expect(objects.some((o) => o.kind === 'Deployment' && o.metadata.name === fullName(other)), `${other} still deployed`).toBe(true)
    }
    if (app === 'alerting') expect(objects.some((o) => o.metadata.name === `${RELEASE}-auren-stream-rules`)).toBe(false)
  })
})
