// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

/** processors/ never import gateway/: what both need lives in processors/runtime/ops/ or schemas/. */
const NO_GATEWAY = { regex: '(^|/)gateway/', message: 'processors/ never import gateway/; shared code lives in processors/runtime/ops/ or schemas/.' }

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
    // No processor file imports the gateway (the blocks below repeat this for the files they cover).
    files: ['processors/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NO_GATEWAY] }],
    },
  },
  {
    // Processor apps: pure transforms; I/O only through the runtime. No app imports another app.
    files: ['processors/*/**/*.ts'],
    ignores: ['processors/runtime/**', 'processors/**/*-sink.ts', 'processors/archival/io/**', 'processors/event-store/io/**', 'processors/**/migrate.ts', 'processors/**/database-health.ts', 'processors/**/notifiers/**', 'processors/**/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: IO_LIBRARIES, message: 'Only processors/runtime, sinks and notifiers do I/O.' },
            { group: ['../enrichment/**', '../aggregation/**', '../alerting/**', '../archival/**', '../event-store/**'], message: 'Nothing imports from another app folder.' },
            NO_GATEWAY,
          ],
        },
      ],
    },
  },
  {
    files: ['processors/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../enrichment/**', '../aggregation/**', '../alerting/**', '../archival/**', '../event-store/**'], message: 'The runtime imports no app folder.' }, NO_GATEWAY] }],
    },
  },
  {
    // Tests wait for outcomes with the one polling helper and prove absence with a sentinel event
    // after the case, never by sleeping; a load or a fault schedule is paced with pause().
    files: ['test/**/*.ts'],
    ignores: ['test/helpers/wait-until.ts', 'test/bench/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Promise'] CallExpression[callee.name='setTimeout'][arguments.0.type='Identifier']",
          message: 'No bare sleeps in tests: wait for an outcome with waitUntil, prove absence with a sentinel event after the case, pace a load with pause (test/helpers/wait-until.ts).',
        },
        {
          selector: "CallExpression[callee.name=/^(sleep|delay)$/]",
          message: 'No bare sleeps in tests: wait for an outcome with waitUntil, prove absence with a sentinel event after the case, pace a load with pause (test/helpers/wait-until.ts).',
        },
      ],
    },
  },
  {
    // The gateway shares the runtime's ops layer (config, logger, metrics, /metrics /healthz
    // /readyz, shutdown, error catalogue) and, for the live stream's fan-out and the ingest API,
    // its Kafka driver and serde (processors/runtime/kafka/). Never the runner, its sinks or an app.
    files: ['gateway/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)processors/(?!runtime/(ops|kafka)/)',
              message: 'The gateway imports schemas/, processors/runtime/ops/ and processors/runtime/kafka/ only: not the runner, the sinks or an app folder.',
            },
          ],
        },
      ],
    },
  },
)
