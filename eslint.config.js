// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

/** Libraries that do I/O: only the runtime, sinks, notifiers, the gateway and tooling may import them. */
const IO_LIBRARIES = ['kafkajs', 'pg', 'node-pg-migrate', 'undici', '@kafkajs/confluent-schema-registry', 'fastify', 'ws']

export default tseslint.config(
  { ignores: ['node_modules/**', 'schemas/generated/**', '.cache/**', 'test/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Dependencies point one way (STYLE.md layout rules): schemas import nothing of ours.
    files: ['schemas/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/processors/**', '**/gateway/**', ...IO_LIBRARIES] }] }],
    },
  },
  {
    // Processor apps: pure transforms; I/O only through the runtime. No app imports another app.
    files: ['processors/*/**/*.ts'],
    ignores: ['processors/runtime/**', 'processors/**/*-sink.ts', 'processors/**/migrate.ts', 'processors/**/database-health.ts', 'processors/**/notifiers/**', 'processors/**/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: IO_LIBRARIES, message: 'Only processors/runtime, sinks and notifiers do I/O.' },
            { group: ['../enrichment/**', '../aggregation/**', '../alerting/**', '../archival/**', '../sources/**'], message: 'Nothing imports from another app folder.' },
          ],
        },
      ],
    },
  },
  {
    files: ['processors/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../enrichment/**', '../aggregation/**', '../alerting/**', '../archival/**', '../sources/**', '**/gateway/**'] }] }],
    },
  },
  {
    // The gateway reads schemas and the runtime's config, logger, metrics and HTTP helpers, and,
    // for the stream's fan-out (gateway/kafka-fanout.ts), the runtime's Kafka client and serde.
    files: ['gateway/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/processors/*/**', '!**/processors/runtime/config.ts', '!**/processors/runtime/logger.ts', '!**/processors/runtime/metrics.ts', '!**/processors/runtime/http.ts', '!**/processors/runtime/errors.ts', '!**/processors/runtime/kafka-client.ts', '!**/processors/runtime/serde.ts'], message: 'The gateway depends on schemas/ and the runtime config, logger, metrics and HTTP helpers only.' },
          ],
        },
      ],
    },
  },
)
