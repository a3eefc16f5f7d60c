import { join } from 'node:path'
import { describeArchivalConfig } from '../../../../processors/archival/config.ts'
import { createArchivalMetrics } from '../../../../processors/archival/metrics.ts'
import { appReadmeContract } from '../../../helpers/app-readme.ts'

appReadmeContract('archival', join(import.meta.dirname, '../../../../processors/archival'), describeArchivalConfig, createArchivalMetrics)
