import { join } from 'node:path'
import { describeEventStoreConfig } from '../../../../processors/event-store/config.ts'
import { createEventStoreMetrics } from '../../../../processors/event-store/metrics.ts'
import { appReadmeContract } from '../../../helpers/app-readme.ts'

appReadmeContract('event-store', join(import.meta.dirname, '../../../../processors/event-store'), describeEventStoreConfig, createEventStoreMetrics)
