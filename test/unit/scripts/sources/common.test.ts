import { describe, expect, it } from 'vitest'
import { redact, replayEventId, utf8Bytes } from '../../../../scripts/sources/common.ts'

describe('replayEventId', () => {
  it('is an RFC 9562 version-5 UUID, equal to Python uuid.uuid5 over the same namespace', () => {
    // python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('6f1c2b9e-3d4a-4f5b-8c7d-2e9a0b1c3d4e'), 'chatdev:BMI/3/llm_call_completed'))"
    expect(replayEventId('chatdev:BMI/3/llm_call_completed')).toBe('ef953e0f-de6f-53f2-990a-38405bdf4c30')
    expect(replayEventId('α run/0/x')).toBe('93a31387-ae5c-5f92-a9ba-c9b279042c70')
  })
  it('is deterministic and differs per name', () => {
    expect(replayEventId('a')).toBe(replayEventId('a'))
    expect(replayEventId('a')).not.toBe(replayEventId('b'))
  })
})

describe('redact', () => {
  it('redacts OpenAI organization ids', () => {
    expect(redact('Rate limit reached for gpt-4 in organization org-UEAAQKGEpYO3mQLVWwAT6JwI on tokens')).toBe(
      'Rate limit reached for gpt-4 in organization org-[REDACTED] on tokens',
    )
  })
  it('redacts Windows paths, including segments with spaces', () => {
    expect(redact('**config_path**: C:\\Users\\DELL\\Desktop\\Machine Learning\\ChatDev\\Config.json done')).toBe('**config_path**: [PATH] done')
  })
  it('redacts Unix paths, including inner segments with spaces, and keeps URLs', () => {
    expect(redact('cd /mnt/c/Users/Janine Huang/Documents/ChatDev; git add .')).toBe('cd [PATH]; git add .')
    expect(redact('see https://platform.openai.com/account/billing now')).toBe('see https://platform.openai.com/account/billing now')
    expect(redact('File "/usr/lib/python3.11/x.py", line 3')).toBe('File "[PATH]", line 3')
  })
  it('keeps organization ids when asked to', () => {
    expect(redact('org-ABCDEFGHIJ at /tmp/a/b', { orgIds: false })).toBe('org-ABCDEFGHIJ at [PATH]')
  })
  it('leaves relative names alone', () => {
    expect(redact('main.py and ./src/app.py')).toBe('main.py and ./src/app.py')
  })
})

describe('utf8Bytes', () => {
  it('counts UTF-8 bytes, not characters', () => expect(utf8Bytes('α💰a')).toBe(2 + 4 + 1))
})
