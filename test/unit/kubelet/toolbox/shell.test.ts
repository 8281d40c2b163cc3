import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expandWord, parseScript, ShellSyntaxError } from '../../../../src/kubelet/toolbox/shell-syntax.js'
import { harness } from './toolbox-harness.js'

describe('the toolbox shell', () => {
  it('runs ;, && and || lists with exit statuses, quoting and variables', async () => {
    const h = harness({ GREETING: 'hello world' })
    const r = await h.run(['sh', '-c', `echo "$GREETING" 'as $IS'; false && echo no; false || echo yes; X=1; echo \${X}$?; exit 3`])
    expect(r).toMatchObject({ code: 3, stdout: 'hello world as $IS\nyes\n10\n', stderr: '' })
  })

  it('exits with the status of the last command, and 127 naming the toolbox for unknown commands', async () => {
    const h = harness()
    expect((await h.run(['sh', '-c', 'true; false'])).code).toBe(1)
    const r = await h.run(['/bin/sh', '-c', 'nosuchtool --x'])
    expect(r.code).toBe(127)
    expect(r.stderr).toMatch(/^kpe toolbox: nosuchtool: command not found .*curl.*wget/)
    expect((await h.run(['python3', '-V'])).code).toBe(127)
  })

  it('redirects into the container files and between streams', async () => {
    const h = harness()
    const r = await h.run(['sh', '-c', 'echo one > /tmp/f; echo two >> /tmp/f; cat /tmp/f; echo err >&2; cat /nope 2>&1; cat < /tmp/f > /dev/null'])
    expect(r.stdout).toBe("one\ntwo\ncat: can't open '/nope': No such file or directory\n")
    expect(r.stderr).toBe('err\n')
    expect(r.code).toBe(0)
  })

  it('pipes one command into the next', async () => {
    const h = harness()
    expect((await h.run(['sh', '-c', 'echo piped | cat'])).stdout).toBe('piped\n')
  })

  it('reads a script from stdin, and runs an interactive session on a terminal', async () => {
    const h = harness()
    expect((await h.run(['sh'], 'echo a\necho b; exit 4\necho never\n'))).toMatchObject({ stdout: 'a\nb\n', code: 4 })
    const t = await h.run(['sh'], 'echo hi\rexit 2\r', true)
    expect(t.code).toBe(2)
    expect(t.stdout).toBe('/ # echo hi\nhi\n/ # exit 2\n')
  })

  it('names syntax errors with status 2', async () => {
    const h = harness()
    expect(await h.run(['sh', '-c', 'echo "open'])).toMatchObject({ code: 2, stderr: 'sh: unterminated quoted string\n' })
    expect((await h.run(['sh', '-c', 'echo $(hostname)'])).stderr).toMatch(/command substitution .* not supported by the kpe toolbox shell/)
    expect((await h.run(['sh', '-c', '&& echo'])).code).toBe(2)
  })

  it('parses or rejects any input without throwing anything else (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (src) => {
      try {
        parseScript(src)
      } catch (e) {
        expect(e).toBeInstanceOf(ShellSyntaxError)
      }
    }), { seed: 1306, numRuns: 2000 })
  })

  it('keeps any single-quoted word intact through parse and expansion (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 30 }).filter((s) => !s.includes("'")), (word) => {
      const script = parseScript(`echo '${word}'`)
      const words = script[0]![0]!.pipeline[0]!.words
      expect(expandWord(words[1]!, () => 'X')).toEqual([word])
    }), { seed: 1307, numRuns: 500 })
  })
})

describe('read', () => {
  it('takes one line of stdin and leaves the rest for the next reader', async () => {
    const h = harness()
    const r = await h.run(['sh', '-c', 'read a b; echo "[$a] [$b]"; cat'], 'one two three\nrest\n')
    expect(r.stdout).toBe('[one] [two three]\nrest\n')
    expect((await h.run(['sh', '-c', 'read x || echo eof'], '')).stdout).toBe('eof\n')
  })
})
