/**
 * Sentences for fastify's JSON Schema (ajv) failures: app.ts turns them into BAD_REQUEST answers
 * (the error catalogue is processors/runtime/ops/errors.ts), one sentence per problem.
 */

/** One ajv error object, as fastify attaches them to `error.validation`. */
export interface ValidationIssue {
  readonly keyword: string
  readonly instancePath: string
  readonly params: Record<string, unknown>
  readonly message?: string
  readonly data?: unknown
}

/**
 * A sentence per ajv issue, naming the query parameter, e.g.
 * `query parameter 'format' must be one of csv, json (got 'xml')`, joined with '; '.
 * @param context fastify's validation context ('querystring', 'params', 'body', 'headers')
 */
export function describeValidation(issues: readonly ValidationIssue[], context = 'querystring'): string {
  const where = context === 'querystring' ? 'query parameter' : context
  const sentences = issues.map((i) => {
    const name = i.instancePath.replace(/^\//, '').replace(/\//g, '.')
    const got = i.data === undefined ? '' : ` (got ${JSON.stringify(i.data)})`
    switch (i.keyword) {
      case 'additionalProperties':
        return `unknown ${where} '${String(i.params.additionalProperty)}'`
      case 'required':
        return `${where} '${String(i.params.missingProperty)}' is required`
      case 'enum':
        return `${where} '${name}' must be one of ${(i.params.allowedValues as unknown[]).join(', ')}${got}`
      case 'format':
        return `${where} '${name}' must be ${i.params.format === 'date-time' ? 'an ISO-8601 date-time with a time zone, e.g. 2025-01-24T10:30:00Z' : `a valid ${String(i.params.format)}`}${got}`
      case 'type':
        return `${where} '${name}' must be ${i.params.type === 'integer' ? 'an integer' : `of type ${String(i.params.type)}`}${got}`
      case 'minimum':
      case 'maximum':
        return `${where} '${name}' must be ${i.keyword === 'minimum' ? '≥' : '≤'} ${String(i.params.limit)}${got}`
      case 'minLength':
      case 'maxLength':
        return `${where} '${name}' must have ${i.keyword === 'minLength' ? 'at least' : 'at most'} ${String(i.params.limit)} characters`
      case 'pattern':
        return `${where} '${name}' must match ${String(i.params.pattern)}${got}`
      default:
        return `${where} '${name}' ${i.message ?? 'is invalid'}`
    }
  })
  return [...new Set(sentences)].join('; ')
}
