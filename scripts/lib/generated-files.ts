/**
 * The write-or-check step of every generator whose output is committed (scripts/gen-dashboards.ts,
 * scripts/gen-helm-files.ts): writes each file whose content differs, removes files of the owned
 * folder that no entry gives; with `check`, writes nothing and exits 1 listing every file that
 * differs, is missing, or has no entry (the drift checks `npm test` runs).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

/** What to sync. */
export interface GeneratedFiles {
  /** Repository root (absolute). */
  readonly root: string
  /** Repo-relative path → content. */
  readonly files: ReadonlyMap<string, string | Buffer>
  /** Repo-relative folder the generator owns: any file under it that no entry gives is stale. */
  readonly ownedDir: string
  /** Check only (`--check`). */
  readonly check: boolean
  /** Names the output in messages, e.g. "generated Grafana files". */
  readonly what: string
  /** The command that regenerates, for the drift message. */
  readonly regenerate: string
}

/** Every file under `dir` (absolute), repo-relative to `root`. */
function walk(root: string, dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(root, join(dir, e.name)) : [relative(root, join(dir, e.name))]))
}

/** Writes or checks the files (module doc); exits 1 on drift in check mode. */
export function syncGeneratedFiles(g: GeneratedFiles): void {
  const drifted: string[] = []
  for (const [rel, content] of g.files) {
    const abs = join(g.root, rel)
    const wanted = Buffer.from(content)
    const current = existsSync(abs) ? readFileSync(abs) : null
    if (current !== null && current.equals(wanted)) continue
    if (g.check) drifted.push(`${rel} (${current === null ? 'missing' : 'differs'})`)
    else {
      mkdirSync(dirname(abs), { recursive: true })
      writeFileSync(abs, wanted)
    }
  }
  for (const rel of walk(g.root, join(g.root, g.ownedDir))) {
    if (g.files.has(rel)) continue
    if (g.check) drifted.push(`${rel} (nothing generates it)`)
    else rmSync(join(g.root, rel))
  }
  if (g.check && drifted.length > 0) {
    console.error(`${g.what} are out of date; run \`${g.regenerate}\`:\n  ${drifted.join('\n  ')}`)
    process.exit(1)
  }
  console.log(g.check ? `${g.what} are up to date` : `wrote ${g.files.size} files under ${g.ownedDir}/`)
}
