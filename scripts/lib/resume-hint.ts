/**
 * What `auren replay` and `auren simulate` print when they stop during a broker outage: how many
 * events the broker acknowledged, and the command that sends the rest (the same arguments with
 * `--skip <sent>`).
 */
import { PublishInterruptedError } from '../sources/publish-retry.ts'

/**
 * The command line that resumes an interrupted run: `args` (the CLI's arguments after the
 * executable and script) with any `--skip` replaced by `--skip <sent>`; arguments holding spaces
 * or shell characters are single-quoted.
 */
export function resumeCommand(args: readonly string[], sent: number): string {
  const kept: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--skip') i++
    else if (!a.startsWith('--skip=')) kept.push(a)
  }
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)
  return ['npm run auren --', ...kept.map(quote), '--skip', String(sent)].join(' ')
}

/**
 * The message of an interrupted run, e.g. `auren simulate: stopped: broker did not take events
 * for 300 s (…); 1200 of 6000 events were acknowledged. To send the rest: npm run auren -- …`.
 * @param total events the run was to send (null when unknown)
 */
export function interruptedMessage(command: string, err: PublishInterruptedError, total: number | null, args: readonly string[]): string {
  const of = total === null ? '' : ` of ${total}`
  return [
    `auren ${command}: stopped: the broker did not take events for ${Math.round(err.failingForMs / 1000)} s (last error: ${err.lastError.message}).`,
    `${err.sent}${of} events were acknowledged and stay in the topic.`,
    `To send the rest once the broker is back: ${resumeCommand(args, err.sent)}`,
  ].join('\n')
}
