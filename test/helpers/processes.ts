/** Processor apps as child processes, for tests: see scripts/lib/app-process.ts. */
export * from '../../scripts/lib/app-process.ts'
