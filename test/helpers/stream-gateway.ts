/**
 * The gateway with its WebSocket stream on, for tests: started as a process on the topics of a
 * test prefix, and HS256 tokens for it.
 */
import { SignJWT } from 'jose'
import { startGateway, type AppProcess } from './processes.ts'
import { stackEnv } from './stack.ts'
import { waitUntil } from './wait-until.ts'

/**
 * An HS256 JWT with `sub`, `roles` and `exp` (now + `expSeconds`; negative for an expired one),
 * as the gateway verifies (CONTRACTS.md section 5).
 */
export async function hs256Token(secret: string, sub: string, roles: readonly string[], expSeconds = 600): Promise<string> {
  return new SignJWT({ roles }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds).sign(new TextEncoder().encode(secret))
}

/**
 * Starts the gateway with the stream reading the topics of `prefix`, verifying tokens signed with
 * `secret`; `extraEnv` adds or overrides AUREN_GATEWAY_* settings. Resolves once /readyz shows the
 * stream's consumer joined its group (the database part may still be "not ready": tests without
 * rollup tables use the stream only).
 * @throws Error with the gateway's output when that does not happen within `timeoutMs`.
 */
export async function startStreamGateway(prefix: string, secret: string, extraEnv: Record<string, string> = {}, timeoutMs = 60_000): Promise<AppProcess> {
  const env = stackEnv()
  const gateway = await startGateway({
    AUREN_KAFKA_BROKERS: env.kafkaBrokers.join(','),
    AUREN_SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
    AUREN_TOPIC_PREFIX: prefix,
    AUREN_GATEWAY_JWT_SECRET: secret,
    ...extraEnv,
  })
  try {
    await waitUntil('the gateway stream to join its group', async () => {
      if (gateway.child.exitCode !== null) throw new ExitedError(`gateway exited with code ${gateway.child.exitCode}`)
      const body = (await fetch(`http://${gateway.address}/readyz`).then((r) => r.json(), () => null)) as { stream?: { consumer?: string } } | null
      return body?.stream?.consumer === 'joined'
    }, { timeoutMs, everyMs: 200, stopOn: (err) => err instanceof ExitedError })
  } catch (err) {
    gateway.kill('SIGKILL')
    throw new Error(`gateway stream not ready within ${timeoutMs} ms (${(err as Error).message}):\n${gateway.output().slice(-4000)}`)
  }
  return gateway
}

class ExitedError extends Error {}

/** Epoch ms (fractional) of an ISO-8601 UTC time with up to microseconds, as frames carry. */
export function isoMs(iso: string): number {
  const dot = iso.lastIndexOf('.')
  return Date.parse(`${iso.slice(0, dot)}Z`) + Number(iso.slice(dot + 1, -1).padEnd(6, '0')) / 1000
}
