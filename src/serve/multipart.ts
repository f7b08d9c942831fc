/**
 * multipart/form-data through busboy, under limits: one file of at most
 * `maxFileBytes`, a handful of small text fields, and a cap on the raw bytes
 * read, so an upload over the limit is refused while it streams.
 */
import type { IncomingMessage } from 'node:http'
import busboy from 'busboy'
import { fieldError, tooLarge } from './http.js'

export interface Form {
  fields: Map<string, string>
  file?: { field: string; filename: string | undefined; bytes: Buffer }
}

export interface FormLimits {
  maxFileBytes: number
  /** Names a file part may have. */
  fileFields: readonly string[]
  maxFieldBytes?: number
  maxFields?: number
}

const FIELD_BYTES = 256 * 1024
const FIELDS = 32

export function readMultipart(req: IncomingMessage, limits: FormLimits): Promise<Form> {
  const maxFieldBytes = limits.maxFieldBytes ?? FIELD_BYTES
  const maxFields = limits.maxFields ?? FIELDS
  // Everything a valid form can hold, with room for part headers and boundaries.
  const maxTotal = limits.maxFileBytes + maxFields * (maxFieldBytes + 1024) + 64 * 1024
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fileSize: limits.maxFileBytes, files: 1, fields: maxFields, fieldSize: maxFieldBytes, parts: maxFields + 1, headerPairs: 32 },
      })
    } catch (e) {
      reject(fieldError('INVALID_INPUT', 'content-type', `expected a multipart/form-data body: ${(e as Error).message}`, 'send the fields and the file as multipart/form-data (curl -F)'))
      return
    }
    const fields = new Map<string, string>()
    let file: Form['file']
    let failed = false
    let pendingFile: Promise<void> = Promise.resolve()
    let total = 0
    const fail = (e: Error) => {
      if (failed) return
      failed = true
      req.unpipe(parser)
      req.off('data', counter)
      reject(e)
    }
    const counter = (chunk: Buffer) => {
      total += chunk.length
      if (total > maxTotal) fail(tooLarge(limits.maxFileBytes))
    }
    req.on('data', counter)
    req.on('aborted', () => fail(fieldError('INVALID_INPUT', 'body', 'the upload was cut off before the end of the form', 'send the whole request')))
    parser.on('field', (name, value, info) => {
      if (info.nameTruncated || info.valueTruncated) return fail(fieldError('INVALID_INPUT', name, `field "${name}" is longer than ${maxFieldBytes} bytes`))
      if (fields.has(name)) return fail(fieldError('INVALID_INPUT', name, `field "${name}" appears twice`, 'send each field once'))
      fields.set(name, value)
    })
    parser.on('file', (name, stream, info) => {
      if (!limits.fileFields.includes(name)) {
        stream.resume()
        return fail(fieldError('INVALID_INPUT', name, `unexpected file part "${name}"`, `send the file as ${limits.fileFields.map((f) => `"${f}"`).join(' or ')}`))
      }
      const chunks: Buffer[] = []
      pendingFile = new Promise<void>((done) => {
        stream.on('data', (chunk: Buffer) => chunks.push(chunk))
        stream.on('limit', () => fail(tooLarge(limits.maxFileBytes)))
        stream.on('error', (e: Error) =>
          fail(
            /unexpected end/i.test(e.message)
              ? fieldError('INVALID_INPUT', 'body', 'the multipart body ends inside the file, before its closing boundary', 'send a complete multipart/form-data body (it may have been cut off)')
              : fieldError('INVALID_INPUT', name, `reading the file failed: ${e.message}`),
          ),
        )
        stream.on('close', () => {
          if (!failed) file = { field: name, filename: info.filename, bytes: Buffer.concat(chunks) }
          done()
        })
      })
    })
    parser.on('filesLimit', () => fail(fieldError('INVALID_INPUT', limits.fileFields[0]!, 'send one file only')))
    parser.on('fieldsLimit', () => fail(fieldError('INVALID_INPUT', 'body', `a form holds at most ${maxFields} fields`)))
    parser.on('partsLimit', () => fail(fieldError('INVALID_INPUT', 'body', 'the form has too many parts')))
    parser.on('error', (e: Error) =>
      fail(fieldError('INVALID_INPUT', 'body', `the multipart body is malformed: ${e.message}`, 'send a complete multipart/form-data body (it may have been cut off)')),
    )
    parser.on('close', () => {
      void pendingFile.then(() => {
        if (failed) return
        if (!req.complete) return fail(fieldError('INVALID_INPUT', 'body', 'the upload was cut off before the end of the form', 'send the whole request'))
        resolve({ fields, ...(file ? { file } : {}) })
      })
    })
    req.pipe(parser)
  })
}
