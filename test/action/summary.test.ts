/**
 * What the Action writes for people to read (step summaries, the pull
 * request's comment) from text a submitter controls.
 */
import { describe, expect, it } from 'vitest'
import { cell } from '../../src/action/summary.js'

describe('cell', () => {
  it('leaves no HTML, cell break, formatting, link or mention in a submitter\'s text, and reads the same', () => {
    const hostile = 'docs/@mallory and @org/team <img src=x> | x www.evil.example/a https://evil.example [a](b) `c` acme:calc@1.0.0'
    const text = cell(hostile)
    expect(text).not.toMatch(/<|\|(?<!\\\|)/)
    expect(text).not.toMatch(/(?<![\w.+-])@[A-Za-z0-9]/)
    // A package reference is no mention, and stays as it is.
    expect(text).toContain('acme:calc@1.0.0')
    expect(text).not.toMatch(/www\./)
    expect(text).not.toMatch(/:\/\//)
    // What a person reads is the same text: take away the escapes and the zero-width spaces.
    const read = text.replaceAll('\u200b', '').replace(/\\(.)/g, '$1').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/&quot;/g, '"')
    expect(read).toBe(hostile)
  })
})
