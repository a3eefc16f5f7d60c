/**
 * A vitest fixture: unique topics plus one running processor app for the tests of a file,
 * started before them and stopped (SIGTERM) and cleaned up after them.
 */
import { afterAll, beforeAll } from 'vitest'
import { createTestKafka, type TestKafka } from './kafka.ts'
import { startApp, type AppProcess } from './processes.ts'

/** Getters for the fixture's Kafka context and app, valid inside tests. */
export interface RunningApp {
  readonly kafka: TestKafka
  readonly app: AppProcess
}

/** Registers beforeAll/afterAll hooks that run `app` (a folder under processors/) against fresh topics. */
export function useRunningApp(app: string, env: Record<string, string> = {}): RunningApp {
  let kafka: TestKafka | undefined
  let proc: AppProcess | undefined
  beforeAll(async () => {
    kafka = await createTestKafka()
    proc = await startApp(app, kafka.prefix, env)
    await proc.waitReady()
  })
  afterAll(async () => {
    proc?.kill('SIGTERM')
    await proc?.exited
    await kafka?.close()
  })
  return {
    get kafka() {
      if (!kafka) throw new Error('useRunningApp: used outside a test')
      return kafka
    },
    get app() {
      if (!proc) throw new Error('useRunningApp: used outside a test')
      return proc
    },
  }
}
