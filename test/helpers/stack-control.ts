/** Broker and database faults on the local stack, for tests: see scripts/lib/stack-control.ts. */
export * from '../../scripts/lib/stack-control.ts'
