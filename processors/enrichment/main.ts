/**
 * Enrichment app: `node --import tsx processors/enrichment/main.ts`. Configuration from the
 * environment (runtime/ops/config.ts for the shared fields, ./config.ts for AUREN_ENRICHMENT_*).
 */
import { runProcessorApp } from '../runtime/app.ts'
import { parseEnrichmentConfig } from './config.ts'
import { loadCatalog } from './catalog.ts'
import { createEnrichmentMetrics } from './metrics.ts'
import { createEnrichmentTransform } from './transform.ts'
import { enrichmentDefinition } from './definition.ts'

await runProcessorApp({
  name: 'auren-enrichment',
  parseAppConfig: parseEnrichmentConfig,
  build: ({ appConfig: config, registry }) => {
    const metrics = createEnrichmentMetrics(registry)
    const transform = createEnrichmentTransform(config, { catalog: loadCatalog(config.catalogPath), metrics })
    return { definition: enrichmentDefinition(transform, metrics) }
  },
})
