/**
 * zlib inflation of objects whose inflated size is known in advance (every
 * object in a pack says it in its header; a loose object, in the first bytes
 * it inflates to, which `head` reads).
 *
 * `zlib.inflateSync` builds a whole stream object per call, which costs more
 * than inflating a small git object; reading a million of them, that is most
 * of the time. This keeps one native inflater and resets it between objects.
 * It reaches past zlib's public API (the handle behind an Inflate stream, as
 * `inflateSync` itself drives it), so it checks that the handle is there and
 * falls back to `inflateSync` when it is not. A stream that fails to inflate
 * destroys its handle; the next call makes a new one.
 */
import zlib from 'node:zlib'
import { WharfError } from '../core/errors.js'

interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void
  reset(): void
}

interface Native {
  stream: zlib.Inflate
  handle: NativeHandle
  /** [bytes of output left, bytes of input left] after a write. */
  state: Uint32Array
}

/** Slabs that object buffers are cut from, and the largest buffer cut from one. */
const SLAB = 1 << 20
const LARGEST = SLAB >> 4
let slab = Buffer.allocUnsafeSlow(SLAB)
let used = 0

/**
 * A buffer for an object's bytes, cut from a slab. Node gives each buffer
 * of more than 4 KiB an ArrayBuffer of its own, which costs an allocation
 * and the collector's bookkeeping each; the trees of a large index are that
 * big, and a full build reads millions of them. A slab lives while any
 * buffer cut from it does: the readers' caches keep only recent objects,
 * so that is the last few slabs.
 */
export function allocateObject(size: number): Buffer {
  if (size > LARGEST) return Buffer.allocUnsafe(size)
  if (used + size > SLAB) {
    slab = Buffer.allocUnsafeSlow(SLAB)
    used = 0
  }
  const out = slab.subarray(used, used + size)
  used = (used + size + 7) & ~7
  return out
}

function corrupt(what: string, detail: string): WharfError {
  return new WharfError('IO', `${what} does not inflate: ${detail}`, { hint: 'the repo may be corrupt: run git fsck' })
}

export class Inflater {
  private native: Native | undefined | null = undefined

  private open(): Native | null {
    const stream = new zlib.Inflate()
    const inner = stream as unknown as { _handle?: Partial<NativeHandle>; _writeState?: unknown }
    if (typeof inner._handle?.writeSync !== 'function' || typeof inner._handle.reset !== 'function' || !(inner._writeState instanceof Uint32Array)) {
      stream.close()
      return null
    }
    // A failed inflate reports through an 'error' event; the failure is seen synchronously below.
    stream.on('error', () => undefined)
    return { stream, handle: inner._handle as NativeHandle, state: inner._writeState }
  }

  /**
   * Inflates the zlib stream at the start of `input` (bytes after its end are
   * ignored) into exactly `size` bytes; `what` names it in errors.
   */
  inflate(input: Uint8Array, size: number, what: string): Buffer {
    return this.inflateFramed(input, size, what, '').data
  }

  /**
   * As `inflate`, into a buffer that starts with `header` (latin1): `framed`
   * is the header and the data in one piece, `data` the inflated bytes alone.
   */
  inflateFramed(input: Uint8Array, size: number, what: string, header: string): { data: Buffer; framed: Buffer } {
    if (this.native === undefined) this.native = this.open()
    if (this.native === null) {
      const data = this.fallback(input, size, what)
      const framed = Buffer.concat([Buffer.from(header, 'latin1'), data])
      return { data: framed.subarray(framed.length - size), framed }
    }
    const { stream, handle, state } = this.native
    // One byte more than expected, so an object longer than its header says is caught.
    const buffer = allocateObject(header.length + size + 1)
    const start = buffer.write(header, 0, 'latin1')
    handle.writeSync(zlib.constants.Z_FINISH, input, 0, input.length, buffer, start, size + 1)
    if (stream.destroyed) {
      this.native = undefined
      throw corrupt(what, 'the zlib stream is damaged')
    }
    const left = state[0]!
    handle.reset()
    if (left !== 1) throw corrupt(what, `it holds ${size + 1 - left} bytes, its header says ${size}`)
    return { data: buffer.subarray(start, start + size), framed: buffer.subarray(0, start + size) }
  }

  /**
   * The first bytes (at most `max`) the zlib stream at the start of `input`
   * inflates to, without inflating the rest: a loose object's header, which
   * says how big the object is.
   */
  head(input: Uint8Array, max: number, what: string): Buffer {
    if (this.native === undefined) this.native = this.open()
    if (this.native === null) {
      try {
        return zlib.inflateSync(input, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, max)
      } catch (e) {
        throw corrupt(what, (e as Error).message)
      }
    }
    const { stream, handle, state } = this.native
    const buffer = Buffer.allocUnsafe(max)
    handle.writeSync(zlib.constants.Z_SYNC_FLUSH, input, 0, input.length, buffer, 0, max)
    if (stream.destroyed) {
      this.native = undefined
      throw corrupt(what, 'the zlib stream is damaged')
    }
    const produced = max - state[0]!
    handle.reset()
    return buffer.subarray(0, produced)
  }

  private fallback(input: Uint8Array, size: number, what: string): Buffer {
    let out: Buffer
    try {
      out = zlib.inflateSync(input, { maxOutputLength: size + 1 })
    } catch (e) {
      throw corrupt(what, (e as Error).message)
    }
    if (out.length !== size) throw corrupt(what, `it holds ${out.length} bytes, its header says ${size}`)
    return out
  }

  close(): void {
    this.native?.stream.close()
    this.native = undefined
  }
}
