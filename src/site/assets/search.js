// Search as you type over the static search index (api/v1/search-index/),
// loaded on first use. Matches names, descriptions, keywords, crate names and
// the WIT interfaces a component exports or imports. Results are built with
// DOM calls and textContent only: no string from the index becomes markup.
;(() => {
  'use strict'
  const script = document.currentScript
  const root = new URL('..', script ? script.src : location.href)
  const form = document.getElementById('search')
  const input = document.getElementById('q')
  const status = document.getElementById('search-status')
  const results = document.getElementById('results')
  const MAX_RESULTS = 50

  let entries = null
  let loading = null

  function load() {
    if (!loading) {
      loading = fetch(new URL('api/v1/search-index/index.json', root))
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`index.json: HTTP ${r.status}`))))
        .then((index) =>
          Promise.all(
            (index.shards || [])
              .filter((s) => /^[0-9a-f]$/.test(s.shard))
              .map((s) =>
                fetch(new URL(`api/v1/search-index/${s.shard}.json`, root)).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`shard ${s.shard}: HTTP ${r.status}`)))),
              ),
          ),
        )
        .then((shards) => {
          entries = shards.flatMap((s) => (Array.isArray(s.packages) ? s.packages : []))
          return entries
        })
      loading.catch(() => {
        loading = null
      })
    }
    return loading
  }

  const lower = (v) => (typeof v === 'string' ? v.toLowerCase() : '')
  const list = (v) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [])
  const bare = (iface) => iface.split('@')[0]

  /**
   * The score of one query word against one entry (0: no match), collecting
   * the interfaces it matched. A name beats an interface, an interface beats
   * a keyword, and a description word matches last.
   */
  function scoreWord(entry, word, why) {
    const id = lower(entry.name)
    const name = id.slice(id.indexOf(':') + 1)
    let best = 0
    if (id === word) best = 100
    else if (name === word) best = 90
    else if (id.startsWith(word) || name.startsWith(word) || name.split('/').some((s) => s.startsWith(word))) best = 70
    else if (id.includes(word)) best = 40
    // Only a word that looks like an interface (has ':' or '/') matches inside one.
    const iface = /[:/]/.test(word)
    for (const [field, weight, verb] of [
      ['exports', 50, 'exports'],
      ['imports', 30, 'imports'],
    ]) {
      for (const name of list(entry[field])) {
        const l = name.toLowerCase()
        const score = l === word || bare(l) === bare(word) ? weight : l.startsWith(word) || (iface && l.includes(word)) ? weight - 5 : 0
        if (score) {
          why.add(`${verb} ${name}`)
          best = Math.max(best, score)
        }
      }
    }
    if (lower(entry.crate) === word.replace(/-/g, '_') || lower(entry.crate) === word) best = Math.max(best, 35)
    if (list(entry.keywords).some((k) => k.toLowerCase() === word)) best = Math.max(best, 25)
    if (best === 0 && lower(entry.description).includes(word)) best = 10
    return best
  }

  function search(query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean)
    if (!words.length) return []
    const hits = []
    for (const entry of entries) {
      if (typeof entry.name !== 'string') continue
      const why = new Set()
      let total = 0
      for (const word of words) {
        const s = scoreWord(entry, word, why)
        if (s === 0) {
          total = 0
          break
        }
        total += s
      }
      if (total > 0) hits.push({ entry, score: entry.yanked ? total - 5 : total, why: [...why] })
    }
    hits.sort((a, b) => b.score - a.score || (a.entry.name < b.entry.name ? -1 : 1))
    return hits
  }

  /** The page of a package, or of one of its versions. */
  function pageOf(name, version) {
    const segment = (s) => encodeURIComponent(s).replace(/%3A/gi, ':').replace(/%40/gi, '@').replace(/%2B/gi, '+')
    const path = name.split('/').map(segment).join('/') + (version ? `@${segment(version)}` : '')
    return new URL(`packages/${path}.html`, root).href
  }

  function el(tag, className, text) {
    const node = document.createElement(tag)
    if (className) node.className = className
    if (text !== undefined) node.textContent = text
    return node
  }

  function show(query) {
    results.replaceChildren()
    if (!query.trim()) {
      status.textContent = ''
      return
    }
    const hits = search(query)
    status.textContent = hits.length === 0 ? `No package matches “${query}”.` : `${hits.length} package${hits.length === 1 ? '' : 's'} match “${query}”${hits.length > MAX_RESULTS ? `; the first ${MAX_RESULTS} are shown` : ''}.`
    for (const { entry, why } of hits.slice(0, MAX_RESULTS)) {
      const item = el('li')
      const link = el('a', 'name', entry.name)
      link.href = pageOf(entry.name)
      item.append(link)
      const meta = [entry.latest ? `v${entry.latest}` : 'every version yanked', entry.kind, `${entry.versions} version${entry.versions === 1 ? '' : 's'}`].filter((x) => typeof x === 'string' && x)
      item.append(' ', el('span', 'meta', meta.join(' · ')))
      if (typeof entry.description === 'string' && entry.description) item.append(el('p', '', entry.description.slice(0, 300)))
      if (why.length) item.append(el('p', 'why', why.slice(0, 4).join(', ')))
      results.append(item)
    }
  }

  function run() {
    const query = input.value
    const url = new URL(location.href)
    if (query.trim()) url.searchParams.set('q', query)
    else url.searchParams.delete('q')
    history.replaceState(null, '', url)
    if (entries) return show(query)
    status.textContent = 'Loading the search index…'
    load().then(
      () => show(input.value),
      (e) => {
        status.textContent = `The search index could not be loaded (${e.message}).`
      },
    )
  }

  if (form && input && status && results) {
    let timer
    input.addEventListener('input', () => {
      clearTimeout(timer)
      timer = setTimeout(run, 60)
    })
    input.addEventListener('focus', () => void load().catch(() => undefined), { once: true })
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      run()
    })
    const initial = new URL(location.href).searchParams.get('q')
    if (initial) {
      input.value = initial
      run()
    }
  }

  // A server that counts downloads (wharf serve) says so in its stats; a static host answers 0.
  const downloads = document.getElementById('downloads')
  if (downloads) {
    fetch(new URL('api/v1/stats', root))
      .then((r) => (r.ok ? r.json() : null))
      .then((stats) => {
        if (!stats || !Number.isInteger(stats.download_count) || stats.download_count <= 0) return
        downloads.textContent = stats.download_count.toLocaleString('en')
        return fetch(new URL('api/v1/downloads', root)).then((r) => (r.ok ? r.json() : null))
      })
      .then((top) => {
        const popular = document.getElementById('popular')
        const note = document.getElementById('popular-note')
        if (!top || !Array.isArray(top.versions) || !popular) return
        for (const v of top.versions.slice(0, 10)) {
          if (typeof v.name !== 'string' || typeof v.version !== 'string' || !Number.isInteger(v.downloads)) continue
          const item = el('li')
          const link = el('a', '', `${v.name}@${v.version}`)
          link.href = pageOf(v.name, v.version)
          item.append(link, ' ', el('span', 'muted', `${v.downloads.toLocaleString('en')} download${v.downloads === 1 ? '' : 's'}`))
          popular.append(item)
        }
        if (note && popular.children.length) note.hidden = true
      })
      .catch(() => undefined)
  }
})()
