/** Small, valid wasm binaries for tests. */

/** (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)) */
export const ADD_MODULE = Buffer.from('0061736d0100000001070160027f7f017f030201000707010361646400000a09010700200020016a0b', 'hex')

/** A component header (version 0x0d, layer 1) with one custom section naming it. */
export function component(label = 'test'): Buffer {
  const name = Buffer.from('name')
  const body = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(label)])
  return Buffer.concat([Buffer.from('0061736d0d000100', 'hex'), Buffer.from([0x00, body.length]), body])
}
