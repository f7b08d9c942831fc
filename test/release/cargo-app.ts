/**
 * Real cargo as a registry client: an application that depends on the
 * `wharf_greet` crate from the registry whose sparse index is at a URL, built
 * and run with its own CARGO_HOME.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** rustup's cargo when installed, else the one on PATH (Debian's). */
export const CARGO = [process.env.CARGO, path.join(os.homedir(), '.cargo/bin/cargo')].find((c): c is string => Boolean(c && fs.existsSync(c))) ?? 'cargo'

export function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { ...options, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }))
  })
}

/**
 * Writes `dir` (an application printing `wharf_greet::greet(name)`), points
 * `env.CARGO_HOME`'s registry `wharf` at `sparse+<registry>/cargo/`, and runs it.
 */
export async function runGreetApp(dir: string, registry: string, name: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string; lock: () => string }> {
  await fs.promises.writeFile(path.join(env.CARGO_HOME!, 'config.toml'), `[registries.wharf]\nindex = "sparse+${registry}/cargo/"\n`)
  await fs.promises.mkdir(path.join(dir, 'src'), { recursive: true })
  await fs.promises.writeFile(path.join(dir, 'Cargo.toml'), '[package]\nname = "app"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\nwharf_greet = { version = "0.1", registry = "wharf" }\n')
  await fs.promises.writeFile(path.join(dir, 'src/main.rs'), `fn main() {\n    println!("{}", wharf_greet::greet(${JSON.stringify(name)}));\n}\n`)
  const ran = await run(CARGO, ['run', '--quiet'], { cwd: dir, env: { ...process.env, ...env } })
  return { ...ran, lock: () => fs.readFileSync(path.join(dir, 'Cargo.lock'), 'utf8') }
}
