import cliProgress from 'cli-progress'

/** A progress reporter: a bar on a terminal (cli-progress), silent otherwise or when disabled. */
export interface Progress {
  update(value: number): void
  stop(): void
}

/** Creates a progress bar over `total` items when stderr is a TTY and `enabled`. */
export function createProgress(label: string, total: number, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} events | {eta_formatted} left`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0)
  return { update: (v) => bar.update(v), stop: () => bar.stop() }
}
