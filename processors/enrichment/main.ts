/**
 * Enrichment app: `node --import tsx processors/enrichment/main.ts`. Configuration from the
 * environment (runtime/config.ts for the shared fields, ./config.ts for AUREN_ENRICHMENT_*).
 */
import { runProcessorApp } from '../runtime/app.ts'
import { reportFatal } from '../runtime/fatal.ts'
import { parseEnrichmentConfig } from './config.ts'
import { loadCatalog } from './catalog.ts'
import { createEnrichmentMetrics } from './metrics.ts'
import { createEnrichmentTransform } from './transform.ts'
import { enrichmentDefinition, observeEnrichment } from './definition.ts'

try {
  await runProcessorApp({
    name: 'auren-enrichment',
    parseAppConfig: parseEnrichmentConfig,
    build: ({ appConfig: config, registry }) => {
      const transform = createEnrichmentTransform(config, { catalog: loadCatalog(config.catalogPath), metrics: createEnrichmentMetrics(registry) })
      return { definition: enrichmentDefinition(transform), observe: observeEnrichment }
    },
  })
} catch (err) {
  reportFatal('auren-enrichment', err)
}
