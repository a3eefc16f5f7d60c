/**
 * Composition of a processor app from its definition: config → logger → Kafka driver → serde →
 * metrics → runner → ops HTTP server → signal handlers. Each app's main.ts calls `runProcessorApp`.
 */
import type { Logger } from 'pino'
import type { FastifyInstance } from 'fastify'
import type { ProcessorDefinition } from './define-processor.ts'
import { parseBaseConfig, type BaseConfig } from './ops/config.ts'
import { createLogger } from './ops/logger.ts'
import { createKafkaDriver, type KafkaDriver } from './kafka/kafka-client.ts'
import { createSerde, type Serde } from './kafka/serde.ts'
import { createRunnerRegistry } from './ops/metrics.ts'
import { createRunner, type Runner } from './runner.ts'
import type { LagObservation } from './define-processor.ts'
import { buildOpsServer } from './ops/http.ts'
import { installShutdown } from './ops/lifecycle.ts'
import { AurenError } from './ops/errors.ts'
import { reportFatal } from './ops/fatal.ts'
import { startOutboxPublisher, type OutboxPublisher, type OutboxSpec } from './sinks/outbox.ts'
import type { Registry } from 'prom-client'
import type { TopicNames } from '../../schemas/index.ts'

/**
 * A readiness condition of an app besides its runner (e.g. aggregation's database): `ready`
 * false makes `/readyz` answer 503; `detail` (state, reason) is shown under the check's name.
 */
export type ReadinessCheck = () => { ready: boolean; detail: Record<string, unknown> }

/** What an app's build step returns. */
export interface Built<In, Out, S = undefined> {
  definition: ProcessorDefinition<In, Out, S>
  /** Event time and tier of a processed input (else `definition.observe`). */
  observe?: (input: In, outputs: readonly Out[]) => LagObservation | undefined
  /** Outbox tables the runtime publishes to topics while the app runs (sinks/outbox.ts). */
  outboxes?: readonly OutboxSpec[]
  /** Closes what the build step opened besides the sink (e.g. a health probe); run after the runner stopped. */
  closers?: readonly (() => Promise<void>)[]
}

/** A started app: its runner, ops server address and a stop function. */
export interface ProcessorApp {
  readonly runner: Runner
  readonly http: FastifyInstance
  /** `host:port` of /metrics, /healthz, /readyz. */
  readonly address: string
  readonly log: Logger
  stop(): Promise<void>
}

/**
 * Builds and starts a processor app.
 * @param build receives the parsed base config, root logger and metrics registry and returns the
 *   definition (so the app can register its domain metrics on the same registry).
 * @throws AurenError AUREN_ERR_CONFIG when configuration is invalid (every problem listed).
 */
export async function runProcessorApp<In, Out, AppConfig = undefined, S = undefined>(opts: {
  name: string
  env?: Record<string, string | undefined>
  /** Parses the app's own configuration; its errors are reported together with the base config's. */
  parseAppConfig?: (env: Record<string, string | undefined>) => AppConfig
  /**
   * May wait (e.g. migrations retried until the database answers): the ops server already
   * listens and `/readyz` answers 503 with the checks added through `addReadinessCheck`.
   */
  build: (deps: {
    config: BaseConfig
    appConfig: AppConfig
    log: Logger
    registry: Registry
    /** The app's serde (the runner's), e.g. for a sink that writes wire-format values to an outbox. */
    serde: Serde
    addReadinessCheck: (name: string, check: ReadinessCheck) => void
  }) => Built<In, Out, S> | Promise<Built<In, Out, S>>
  /**
   * Background work beside the runner once it started, with the app's Kafka driver and serde;
   * returns its stop function, called before the runner stops. (Outboxes: use `Built.outboxes`.)
   */
  background?: (deps: { driver: KafkaDriver; serde: Serde; topics: TopicNames; log: Logger }) => Promise<() => Promise<void>>
  /**
   * Real process mode (default true): SIGTERM/SIGINT drain and exit, and a failure to start is
   * logged as a pino fatal line and exits 1 instead of rejecting. False (tests): reject.
   */
  installSignals?: boolean
}): Promise<ProcessorApp> {
  if (opts.installSignals === false) return startProcessorApp(opts)
  try {
    return await startProcessorApp(opts)
  } catch (err) {
    reportFatal(opts.name, err)
  }
}

async function startProcessorApp<In, Out, AppConfig, S>(opts: Parameters<typeof runProcessorApp<In, Out, AppConfig, S>>[0]): Promise<ProcessorApp> {
  const env = opts.env ?? process.env
  const { config, appConfig } = parseAllConfig(env, opts.parseAppConfig)
  const log = createLogger(opts.name, config.logLevel)
  const { registry, metrics } = createRunnerRegistry()
  const checks = new Map<string, ReadinessCheck>()
  const current: { runner?: Runner } = {}
  let building = true
  // Listening before build, so /readyz tells why an app that waits on a dependency is not ready.
  const http = buildOpsServer(registry, {
    healthy: () => current.runner?.health.healthy() ?? true,
    ready: () => {
      const base = current.runner?.health.ready() ?? { ready: false, detail: { reason: building ? 'starting: waiting for dependencies' : 'starting: joining the consumer group' } }
      let ready = base.ready
      const detail: Record<string, unknown> = { ...base.detail }
      for (const [name, check] of checks) {
        const c = check()
        ready &&= c.ready
        detail[name] = c.detail
      }
      return { ready, detail }
    },
  })
  const address = await http.listen({ host: config.httpHost, port: config.httpPort })
  log.info({ address }, 'ops server listening (/metrics, /healthz, /readyz)')
  // Signals work from here on: a stop while waiting for dependencies closes the ops server.
  let stopApp = async () => {
    await http.close()
  }
  if (opts.installSignals !== false) installShutdown({ log, stop: () => stopApp(), forceMs: config.shutdownForceMs })
  const serde = createSerde(config.schemaRegistryUrl)
  let built: Built<In, Out, S>
  try {
    built = await opts.build({ config, appConfig, log, registry, serde, addReadinessCheck: (name, check) => void checks.set(name, check) })
  } catch (err) {
    await http.close()
    throw err
  }
  building = false
  const { definition, observe, outboxes = [], closers = [] } = built
  const driver = createKafkaDriver({ brokers: config.kafkaBrokers, clientId: `${config.clientId}-${definition.name}`, log })
  let exiting = false
  const runner = createRunner(
    definition,
    {
      driver,
      serde,
      log,
      registry,
      metrics,
      topicPrefix: config.topicPrefix,
      groupIdPrefix: config.groupIdPrefix,
      fromBeginning: config.fromBeginning,
      maxBatchBytes: config.maxBatchBytes,
      shutdownGraceMs: config.shutdownGraceMs,
      delivery: config.delivery,
      punctuationIntervalMs: config.punctuationIntervalMs,
      // The prefix of the per-partition transactional ids (kafka-topic-sink.ts "Fencing"): the
      // consumer group id, the same on every instance, so whichever instance takes a partition
      // fences its previous owner.
      transactionalId: config.transactionalId ?? `${config.groupIdPrefix}${definition.name}`,
      lagIntervalMs: config.lagIntervalMs,
      giveUpMs: config.giveUpMs,
      onFatal: (err) => {
        if (exiting) return
        exiting = true
        log.fatal({ err }, 'processor failed for good; exiting')
        void started.stop().finally(() => process.exit(1))
      },
    },
    observe,
  )
  current.runner = runner
  const started = runner
  stopApp = async () => {
    await started.stop()
    await http.close()
  }
  await started.start()
  const publishers: OutboxPublisher[] = []
  for (const spec of outboxes) publishers.push(await startOutboxPublisher(spec, { driver, serde, topics: runner.topics, log, registry, processor: definition.name }))
  const stopBackground = opts.background ? await opts.background({ driver, serde, topics: runner.topics, log }) : undefined
  const stop = async () => {
    // The drain must run even when a background task fails to stop.
    for (const p of publishers) await p.stop().catch((err: unknown) => log.error({ err }, 'stopping an outbox publisher failed; draining anyway'))
    await Promise.resolve(stopBackground?.()).catch((err: unknown) => log.error({ err }, 'stopping background work failed; draining anyway'))
    await started.stop()
    for (const close of closers) await close().catch((err: unknown) => log.error({ err }, 'closing a dependency failed; going on'))
    await http.close()
  }
  stopApp = stop
  return { runner: started, http, address: address.replace(/^https?:\/\//, ''), log, stop }
}

/**
 * Parses the base and the app configuration, reporting the problems of both at once.
 * @throws AurenError AUREN_ERR_CONFIG listing every problem
 */
function parseAllConfig<AppConfig>(
  env: Record<string, string | undefined>,
  parseApp: ((env: Record<string, string | undefined>) => AppConfig) | undefined,
): { config: BaseConfig; appConfig: AppConfig } {
  const problems: string[] = []
  let config: BaseConfig | undefined
  let appConfig: AppConfig | undefined
  try {
    config = parseBaseConfig(env)
  } catch (err) {
    problems.push((err as Error).message.replace(/^AUREN_ERR_CONFIG: /, ''))
  }
  try {
    appConfig = parseApp ? parseApp(env) : (undefined as AppConfig)
  } catch (err) {
    problems.push((err as Error).message.replace(/^AUREN_ERR_CONFIG: /, ''))
  }
  if (problems.length > 0 || !config) throw new AurenError('AUREN_ERR_CONFIG', problems.join('\n'))
  return { config, appConfig: appConfig as AppConfig }
}
