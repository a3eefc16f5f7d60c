// Preloaded into the enrichment app by the bench (`NODE_OPTIONS=--import <this file>`) when it
// runs with --cpu-prof (Node 20 refuses --cpu-prof in NODE_OPTIONS). The first SIGUSR2 starts
// the V8 CPU profiler of the main thread; the second stops it and writes
// $AUREN_BENCH_CPU_PROF_FILE (a .cpuprofile for Chrome DevTools or speedscope), so the profile
// covers exactly the window the bench times.
import { Session } from 'node:inspector'
import { renameSync, writeFileSync } from 'node:fs'

const file = process.env.AUREN_BENCH_CPU_PROF_FILE
if (file) {
  const session = new Session()
  session.connect()
  let state = 'idle'
  process.on('SIGUSR2', () => {
    if (state === 'idle') {
      state = 'running'
      session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')))
    } else if (state === 'running') {
      state = 'done'
      session.post('Profiler.stop', (err, result) => {
        if (err) console.error(`cpu profile: ${err.message}`)
        else {
          // Written aside, then renamed: the bench never reads half a file.
          writeFileSync(`${file}.tmp`, JSON.stringify(result.profile))
          renameSync(`${file}.tmp`, file)
        }
      })
    }
  })
}
