/** The stack's addresses for tests: see scripts/lib/stack-env.ts. */
export * from '../../scripts/lib/stack-env.ts'
