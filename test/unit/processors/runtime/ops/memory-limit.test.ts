import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { memoryLimitBytes, registerMemoryLimitMetric } from '../../../../../processors/runtime/ops/memory-limit.ts'

const GIB = 1024 ** 3

describe('memory limit of the process (denominator of AurenProcessMemoryHigh)', () => {
  it('takes the cgroup v2 limit of a container', () => {
    expect(memoryLimitBytes('536870912\n', null, 8 * GIB)).toBe(512 * 1024 ** 2)
  })
  it('falls back to the machine memory when cgroup v2 says max and v1 is unlimited', () => {
    expect(memoryLimitBytes('max\n', null, 8 * GIB)).toBe(8 * GIB)
    expect(memoryLimitBytes(null, '9223372036854771712\n', 8 * GIB)).toBe(8 * GIB)
    expect(memoryLimitBytes(null, null, 8 * GIB)).toBe(8 * GIB)
  })
  it('takes a cgroup v1 limit below the machine memory', () => {
    expect(memoryLimitBytes(null, String(2 * GIB), 8 * GIB)).toBe(2 * GIB)
  })
  it('is served as auren_process_memory_limit_bytes with a positive value', async () => {
    const registry = new Registry()
    registerMemoryLimitMetric(registry)
    registerMemoryLimitMetric(registry) // idempotent
    const text = await registry.metrics()
    const value = Number(/^auren_process_memory_limit_bytes (\d+)$/m.exec(text)?.[1])
    expect(value).toBeGreaterThan(0)
  })
})
