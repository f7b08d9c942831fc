/** The report for people: a Markdown page (a pull-request comment, a step summary, a terminal). */
import type { Report, TargetReport } from './types.js'

const MARK: Record<string, string> = { pass: '✅ pass', fail: '❌ fail', unavailable: '➖ unavailable' }

function kib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`
}

function seconds(ms: number | null): string {
  return ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

function tests(t: TargetReport): string {
  const s = t.test
  if (s.passed !== undefined && s.failed !== undefined) {
    const aborted = (s.binaries ?? []).flatMap((b) => b.aborted).length
    return `${s.status === 'pass' ? '✅' : '❌'} ${s.passed} passed, ${s.failed} failed, ${s.ignored ?? 0} ignored${aborted ? ` (${aborted} trapped)` : ''}`
  }
  if (s.status === 'pass' || s.status === 'fail') return `${s.status === 'pass' ? '✅' : '❌'} exit status only`
  return s.status
}

function toolchain(t: TargetReport): string {
  if (!t.toolchain) return '–'
  const version = t.toolchain.rustc.replace(/^rustc /, '').replace(/ \(.*\)$/, '')
  return `${t.toolchain.source} ${version}${t.toolchain.triple && t.toolchain.triple !== t.target ? ` as ${t.toolchain.triple}` : ''}${t.toolchain.adapter ? ' + adapter' : ''}`
}

function memory(t: TargetReport): string {
  if (t.metrics.native?.peak_rss_kb) return `${(t.metrics.native.peak_rss_kb / 1024).toFixed(1)} MiB RSS`
  const m = t.metrics.wasm?.memory
  if (!m) return '–'
  const pages = m.peak_pages ?? m.initial_pages
  return pages === null ? '–' : `${pages} pages${m.peak_pages === null ? ' (initial)' : ''}`
}

/** Renders the whole report. */
export function renderMarkdown(report: Report): string {
  const out: string[] = []
  const subject = report.subject
  out.push(`## wharf test: ${subject.name}${subject.version ? ` ${subject.version}` : ''}`)
  out.push('')
  out.push(`Score **${report.score.total}/100** · dual compilation ${report.verdicts.dual_compilation.value ? '**yes**' : '**no**'} · GC readiness **${report.verdicts.gc_readiness.level}**${report.verdicts.speed_ratio.value !== null ? ` · wasm/native **${report.verdicts.speed_ratio.value}×**` : ''}`)
  out.push('')
  out.push('| target | result | toolchain | runtime | build | tests | time | size (stripped / gzip) | memory |')
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const t of report.targets) {
    const size = t.metrics.size ? `${kib(t.metrics.size.stripped)} / ${kib(t.metrics.size.gzip)}` : '–'
    out.push(
      `| ${t.target} | ${MARK[t.status]} | ${cell(toolchain(t))} | ${t.runtime ? cell(`${t.runtime.name} ${t.runtime.version}`) : '–'} | ${t.build.status} | ${cell(tests(t))} | ${seconds(t.metrics.wall_ms.total)} | ${size} | ${memory(t)} |`,
    )
  }
  const blame = report.targets.flatMap((t) => t.blame.map((b) => ({ target: t.target, ...b })))
  if (blame.length > 0) {
    out.push('')
    out.push('### What broke')
    out.push('')
    for (const b of blame) {
      out.push(`- **${b.target}**: \`${b.crate}${b.version ? ` ${b.version}` : ''}\` (${b.path.join(' → ')}): ${b.error.split('\n')[0]}`)
      if (b.hint) out.push(`  - fix: ${b.hint}`)
    }
  }
  const unavailable = report.targets.filter((t) => t.status === 'unavailable' || t.test.status === 'not-run')
  if (unavailable.length > 0) {
    out.push('')
    for (const t of unavailable) out.push(`- ${t.target}: ${t.build.status === 'unavailable' ? t.build.reason : t.test.reason}`)
  }
  const wasm = report.targets.filter((t) => t.metrics.wasm)
  if (wasm.length > 0) {
    out.push('')
    out.push('### WebAssembly')
    out.push('')
    out.push('| target | features used | imports (wasi / env / wasm-bindgen / other) | memory pages (initial / max / peak) |')
    out.push('| --- | --- | --- | --- |')
    for (const t of wasm) {
      const w = t.metrics.wasm!
      const i = w.imports
      out.push(
        `| ${t.target} | ${w.features.join(', ') || 'MVP only'} | ${i.wasi.length} / ${i.env.length} / ${i.wasm_bindgen.length} / ${i.other.length} | ${w.memory.initial_pages ?? '–'} / ${w.memory.max_pages ?? '–'} / ${w.memory.peak_pages ?? '–'} |`,
      )
    }
  }
  const component = report.targets.find((t) => t.metrics.component)?.metrics.component
  if (component) {
    out.push('')
    out.push(`Component exports: ${component.exports.map((e) => `\`${e}\``).join(', ') || 'none'}; imports: ${component.imports.length}`)
  }
  out.push('')
  out.push('### Verdicts')
  out.push('')
  const v = report.verdicts
  out.push(`- dual compilation: ${v.dual_compilation.value ? 'yes' : 'no'} (${v.dual_compilation.reason})`)
  out.push(
    `- speed: ${v.speed_ratio.value === null ? 'not measured' : `wasm takes ${v.speed_ratio.value}× native (median of ${v.speed_ratio.runs}: ${v.speed_ratio.wasm_ms} ms vs ${v.speed_ratio.native_ms} ms)`}; ${v.speed_ratio.basis}`,
  )
  out.push(`- GC readiness ${v.gc_readiness.level}:`)
  for (const rung of v.gc_readiness.ladder) out.push(`  - ${rung.level} ${rung.met === true ? '✅' : rung.met === false ? '❌' : '❔'} ${rung.evidence}`)
  out.push('')
  out.push('| score part | weight | value | points | detail |')
  out.push('| --- | ---: | ---: | ---: | --- |')
  for (const p of report.score.breakdown) {
    out.push(`| ${p.name.replace(/_/g, ' ')} | ${p.weight} | ${p.value === null ? 'n/a' : p.value} | ${p.points} | ${cell(p.detail)} |`)
  }
  out.push(`| **total** | | | **${report.score.total}** | |`)
  return `${out.join('\n')}\n`
}
