/**
 * Composition of a processor app from its definition: config → logger → Kafka driver → serde →
 * metrics → runner → ops HTTP server → signal handlers. Each app's main.ts calls `runProcessorApp`.
 */
import type { Logger } from 'pino'
import type { FastifyInstance } from 'fastify'
import type { ProcessorDefinition } from './define-processor.ts'
import { parseBaseConfig, type BaseConfig } from './config.ts'
import { createLogger } from './logger.ts'
import { createKafkaDriver } from './kafka-client.ts'
import { createSerde } from './serde.ts'
import { createRunnerRegistry } from './metrics.ts'
import { createRunner, type LagObservation, type Runner } from './runner.ts'
import { buildOpsServer } from './http.ts'
import { installShutdown } from './lifecycle.ts'
import type { Registry } from 'prom-client'

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
export async function runProcessorApp<In, Out>(opts: {
  name: string
  env?: Record<string, string | undefined>
  build: (deps: { config: BaseConfig; log: Logger; registry: Registry }) => {
    definition: ProcessorDefinition<In, Out>
    observe?: (input: In, outputs: readonly Out[]) => LagObservation | undefined
  }
  installSignals?: boolean
}): Promise<ProcessorApp> {
  const config = parseBaseConfig(opts.env ?? process.env)
  const log = createLogger(opts.name, config.logLevel)
  const { registry, metrics } = createRunnerRegistry()
  const { definition, observe } = opts.build({ config, log, registry })
  const driver = createKafkaDriver({ brokers: config.kafkaBrokers, clientId: `${config.clientId}-${definition.name}`, log })
  const serde = createSerde(config.schemaRegistryUrl)
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
      onFatal: (err) => {
        if (exiting) return
        exiting = true
        log.fatal({ err }, 'consumer failed for good; exiting')
        void runner.stop().finally(() => process.exit(1))
      },
    },
    observe,
  )
  const http = buildOpsServer(registry, runner.health)
  const address = await http.listen({ host: config.httpHost, port: config.httpPort })
  log.info({ address }, 'ops server listening (/metrics, /healthz, /readyz)')
  await runner.start()
  const stop = async () => {
    await runner.stop()
    await http.close()
  }
  if (opts.installSignals !== false) installShutdown({ log, stop, forceMs: config.shutdownForceMs })
  return { runner, http, address: address.replace(/^https?:\/\//, ''), log, stop }
}
