/**
 * Reader-schema projections: a reader schema that keeps, of each record type, only the fields a
 * processor reads. Decoding with it is Avro schema resolution (spec "Schema Resolution": a writer
 * field the reader lacks is skipped), so the skipped strings, maps and arrays are stepped over
 * without building values — the decoder's cost and its garbage go with the fields kept. Pure.
 *
 * A projection names every record type the kept fields reach, with the fields it keeps (an empty
 * list: a record read for its union branch only). Named types are rebuilt from the full schema's
 * definitions, each defined at its first use in the projection (the full schema may define one
 * inside a field the projection drops).
 */
import type { Schema } from 'avsc'

/** Fully qualified record name → the fields kept (in the writer's order; a field not listed is skipped). */
export type FieldProjection = Readonly<Record<string, readonly string[]>>

type Json = string | number | boolean | null | Json[] | { [k: string]: Json }
type NamedDef = { name: string; type: string; fields?: { name: string; type: Json }[] } & Record<string, Json>

/**
 * The reader schema of `full` (a self-contained schema with fully qualified names, as
 * `schemas/generated/*.avsc.json`) that keeps the fields `keep` lists.
 * @throws Error when a record reached is not in `keep`, or `keep` names a field the record lacks
 *   or a record the projection never reaches (each a mistake in the projection, found at start).
 */
export function projectSchema(full: Schema, keep: FieldProjection): Schema {
  const defs = new Map<string, NamedDef>()
  collectNamed(full as unknown as Json, defs)
  const emitted = new Set<string>()
  const reached = new Set<string>()
  const project = (t: Json): Json => {
    if (typeof t === 'string') {
      const def = defs.get(t)
      return def ? named(def) : t
    }
    if (Array.isArray(t)) return t.map(project)
    if (t === null || typeof t !== 'object') return t
    if (typeof t.name === 'string' && defs.has(t.name)) return named(defs.get(t.name)!)
    if (t.type === 'array') return { ...t, items: project(t.items ?? null) }
    if (t.type === 'map') return { ...t, values: project(t.values ?? null) }
    if (typeof t.type === 'object') return { ...t, type: project(t.type) }
    return t
  }
  const named = (def: NamedDef): Json => {
    if (emitted.has(def.name)) return def.name
    emitted.add(def.name)
    if (def.type !== 'record' && def.type !== 'error') return def as Json
    reached.add(def.name)
    const fields = keep[def.name]
    if (!fields) throw new Error(`projection: record ${def.name} is reached but not listed (list its fields, or [] to keep none)`)
    const own = new Set(def.fields!.map((f) => f.name))
    const missing = fields.filter((f) => !own.has(f))
    if (missing.length > 0) throw new Error(`projection: record ${def.name} has no field ${missing.join(', ')}`)
    const kept = def.fields!.filter((f) => fields.includes(f.name)).map((f) => ({ ...f, type: project(f.type) }))
    return { ...def, fields: kept } as Json
  }
  const out = project(full as unknown as Json)
  const unused = Object.keys(keep).filter((n) => !reached.has(n))
  if (unused.length > 0) throw new Error(`projection: ${unused.join(', ')} ${unused.length === 1 ? 'is' : 'are'} not reached by the kept fields`)
  return out as unknown as Schema
}

function collectNamed(t: Json, defs: Map<string, NamedDef>): void {
  if (Array.isArray(t)) {
    for (const x of t) collectNamed(x, defs)
    return
  }
  if (t === null || typeof t !== 'object') return
  if (typeof t.name === 'string' && (t.type === 'record' || t.type === 'error' || t.type === 'enum' || t.type === 'fixed')) {
    defs.set(t.name, t as NamedDef)
    for (const f of (t as NamedDef).fields ?? []) collectNamed(f.type, defs)
    return
  }
  if (t.type === 'array') collectNamed(t.items ?? null, defs)
  else if (t.type === 'map') collectNamed(t.values ?? null, defs)
  else if (typeof t.type === 'object') collectNamed(t.type, defs)
}
