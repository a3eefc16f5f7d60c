import { defineConfig } from 'vitest/config'

/**
 * Three test tiers (STYLE.md principle 13): unit tests are pure and fast; integration and
 * e2e tests run against the real servers that `scripts/stack.sh up` starts, one file at a
 * time, since they share one broker on a 2-core machine.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
})
