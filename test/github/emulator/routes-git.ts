/** Repositories, forks, the Git Data API (blobs, trees, commits, refs) and releases with their assets. */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Emulator } from './emulator.js'
import * as gitOps from './git.js'
import { HttpError, intParam, jsonBody, notFound, paginate, validationFailed, type RouteDef, type RouteRequest } from './http.js'
import { assetJson, nodeId, releaseJson, repoJson } from './shapes.js'
import { fullName, repoDir, serialised, type Asset, type Release, type Repo } from './state.js'

const MAX_ASSETS = 1000
const MAX_ASSET_BYTES = 2 * 1024 ** 3

export function gitRoutes(emu: Emulator): RouteDef[] {
  return [...repoRoutes(emu), ...gitDataRoutes(emu), ...releaseRoutes(emu)]
}

function repoRoutes(emu: Emulator): RouteDef[] {
  return [
    { method: 'GET', template: '/repos/{owner}/{repo}', scope: 'metadata', access: 'read', handler: (req) => ({ status: 200, body: repoJson(emu.urls, req.repo) }) },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/forks',
      scope: 'contents',
      access: 'read',
      async handler(req) {
        if (!req.token) throw new HttpError(401, 'Requires authentication')
        if (req.token.kind === 'installation') throw new HttpError(403, 'Resource not accessible by integration')
        const owner = req.token.actor
        const body = jsonBody(req)
        for (const repo of emu.repos.values()) {
          if (repo.forkOf === req.repo && repo.owner === owner) return { status: 202, body: repoJson(emu.urls, repo) }
        }
        let name = typeof body.name === 'string' && body.name ? body.name : req.repo.name
        for (let n = 1; emu.repo(`${owner.login}/${name}`); n++) name = `${req.repo.name}-${n}`
        const dir = repoDir(emu.root, owner.login, name)
        const fork = emu.addRepo(owner, name, dir, req.repo.defaultBranch, { forkOf: req.repo, private: req.repo.private, readyAt: Infinity })
        await gitOps.cloneBare(req.repo.dir, dir)
        // Not ready while its objects are copied, and for forkDelayMs after (GitHub answers 202 and copies in the background).
        fork.readyAt = Date.now() + emu.forkDelayMs
        return { status: 202, body: repoJson(emu.urls, fork) }
      },
    },
    {
      // What is at a path of the repo's git data at `ref`: a file with its content (base64), a directory's entries, a symlink or a submodule.
      method: 'GET',
      template: '/repos/{owner}/{repo}/contents/{path}',
      scope: 'contents',
      access: 'read',
      async handler(req) {
        const ref = req.query.get('ref')
        const commit = await contentsCommit(req.repo, ref)
        const filePath = (req.params.path ?? '').replace(/\/+$/, '')
        if (!validPath(filePath)) throw notFound()
        const entry = await gitOps.entryAt(req.repo.dir, commit, filePath)
        if (!entry) throw notFound()
        const refName = ref ?? req.repo.defaultBranch
        if (entry.type === 'tree') {
          const children = await gitOps.readTree(req.repo.dir, entry.sha, false)
          return { status: 200, body: children.map((child) => contentItem(emu, req.repo, refName, { ...child, path: `${filePath}/${child.path}` })) }
        }
        if (entry.type === 'commit') {
          const url = await submoduleUrl(req.repo.dir, commit, filePath)
          return { status: 200, body: { ...contentItem(emu, req.repo, refName, entry), submodule_git_url: url } }
        }
        let file = entry
        if (entry.mode === '120000') {
          // GitHub answers for the file a symlink points to when it is a regular file of the repo, else for the link itself.
          const target = (await gitOps.readBlob(req.repo.dir, entry.sha)).toString('utf8')
          const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(filePath), target))
          const pointed = validPath(resolved) && !target.startsWith('/') ? await gitOps.entryAt(req.repo.dir, commit, resolved) : undefined
          if (!pointed || pointed.type !== 'blob' || pointed.mode === '120000') return { status: 200, body: { ...contentItem(emu, req.repo, refName, entry), target } }
          file = pointed
        }
        const bytes = await gitOps.readBlob(req.repo.dir, file.sha)
        const fits = bytes.length <= MAX_CONTENT_BYTES
        return { status: 200, body: { ...contentItem(emu, req.repo, refName, file), content: fits ? wrappedBase64(bytes) : '', encoding: fits ? 'base64' : 'none' } }
      },
    },
  ]
}

/** The contents API sends a file's content up to 1 MB; a larger file comes with `encoding: none` and no content. */
const MAX_CONTENT_BYTES = 1024 * 1024

/** The commit a contents request's `ref` names, as GitHub reads it: a branch, a tag or a commit sha (default: the default branch). */
async function contentsCommit(repo: Repo, ref: string | null): Promise<string> {
  if (Date.now() < repo.readyAt) throw new HttpError(404, 'This repository is empty.')
  const name = ref ?? repo.defaultBranch
  const candidates = /^refs\//.test(name) ? [name] : /^[0-9a-f]{40}$/.test(name) ? [name] : [`refs/heads/${name}`, `refs/tags/${name}`]
  for (const candidate of candidates) {
    const sha = await gitOps.resolveRef(repo.dir, candidate)
    if (sha) return sha
  }
  if (ref === null) throw new HttpError(404, 'This repository is empty.')
  throw new HttpError(404, `No commit found for the ref ${name}`)
}

/** One item of the contents API (content-file, content-directory's items, content-symlink, content-submodule), without content. */
function contentItem(emu: Emulator, repo: Repo, ref: string, entry: gitOps.TreeEntry): Record<string, unknown> {
  const encoded = entry.path.split('/').map(encodeURIComponent).join('/')
  const api = `${emu.urls.api}/repos/${fullName(repo)}`
  const html = `${emu.urls.html}/${fullName(repo)}`
  const type = entry.type === 'tree' ? 'dir' : entry.type === 'commit' ? 'submodule' : entry.mode === '120000' ? 'symlink' : 'file'
  const url = `${api}/contents/${encoded}?ref=${encodeURIComponent(ref)}`
  const gitUrl = type === 'submodule' ? null : `${api}/git/${type === 'dir' ? 'trees' : 'blobs'}/${entry.sha}`
  const htmlUrl = type === 'submodule' ? null : `${html}/${type === 'dir' ? 'tree' : 'blob'}/${encodeURIComponent(ref)}/${encoded}`
  return {
    type,
    size: entry.size ?? 0,
    name: entry.path.slice(entry.path.lastIndexOf('/') + 1),
    path: entry.path,
    sha: entry.sha,
    url,
    git_url: gitUrl,
    html_url: htmlUrl,
    download_url: type === 'file' ? `${html}/raw/${encodeURIComponent(ref)}/${encoded}` : null,
    _links: { self: url, git: gitUrl, html: htmlUrl },
  }
}

/** A submodule's URL, from `.gitmodules` at `commit`. */
async function submoduleUrl(dir: string, commit: string, filePath: string): Promise<string> {
  const out = await gitOps.git(dir, ['config', '--blob', `${commit}:.gitmodules`, '--get-regexp', '^submodule\\..*\\.(path|url)$']).catch(() => '')
  const modules = new Map<string, { path?: string; url?: string }>()
  for (const line of out.split('\n')) {
    const m = /^submodule\.(.+)\.(path|url) (.*)$/.exec(line)
    if (m) modules.set(m[1]!, { ...modules.get(m[1]!), [m[2]!]: m[3]! })
  }
  const url = [...modules.values()].find((m) => m.path === filePath)?.url
  if (!url) throw new Error(`emulator: the submodule at ${filePath} has no url in .gitmodules`)
  return url
}

/** GitHub's base64 of a file's content: broken into lines of 60 characters, each ending in a newline. */
function wrappedBase64(bytes: Buffer): string {
  return (bytes.toString('base64').match(/.{1,60}/g) ?? []).map((line) => `${line}\n`).join('')
}

function requireReady(repo: Repo): void {
  if (Date.now() < repo.readyAt) throw new HttpError(409, 'Git Repository is empty.')
}

function gitCommitJson(emu: Emulator, repo: Repo, info: gitOps.CommitInfo): Record<string, unknown> {
  const api = `${emu.urls.api}/repos/${fullName(repo)}`
  return {
    sha: info.sha,
    node_id: nodeId('Commit', parseInt(info.sha.slice(0, 8), 16)),
    url: `${api}/git/commits/${info.sha}`,
    html_url: `${emu.urls.html}/${fullName(repo)}/commit/${info.sha}`,
    author: { name: info.author.name, email: info.author.email, date: info.author.date },
    committer: { name: info.committer.name, email: info.committer.email, date: info.committer.date },
    tree: { sha: info.tree, url: `${api}/git/trees/${info.tree}` },
    message: info.message.replace(/\n$/, ''),
    parents: info.parents.map((p) => ({ sha: p, url: `${api}/git/commits/${p}`, html_url: `${emu.urls.html}/${fullName(repo)}/commit/${p}` })),
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
  }
}

function refJson(emu: Emulator, repo: Repo, ref: string, sha: string, type: string): Record<string, unknown> {
  const api = `${emu.urls.api}/repos/${fullName(repo)}`
  return {
    ref,
    node_id: nodeId('Ref', parseInt(sha.slice(0, 8), 16)),
    url: `${api}/git/${ref}`,
    object: { type, sha, url: `${api}/git/${type === 'tag' ? 'tags' : 'commits'}/${sha}` },
  }
}

const MODES = new Set(['100644', '100755', '040000', '160000', '120000'])

function validPath(p: string): boolean {
  return p.length > 0 && !p.startsWith('/') && !p.endsWith('/') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && s !== '.git') && !p.includes('\0')
}

function gitDataRoutes(emu: Emulator): RouteDef[] {
  const changeRef = async (req: RouteRequest, ref: string, to: string, expected: string) => {
    if (!(await gitOps.compareAndSwapRef(req.repo.dir, ref, to, expected))) throw validationFailed('Reference', 'ref', 'custom', 'Reference update failed')
    await emu.refsChanged(req.repo, [{ ref, before: expected, after: to }], req.token)
  }
  return [
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/git/blobs',
      scope: 'contents',
      access: 'write',
      async handler(req) {
        requireReady(req.repo)
        const body = jsonBody(req)
        if (typeof body.content !== 'string') throw validationFailed('Blob', 'content', 'missing_field')
        const encoding = body.encoding ?? 'utf-8'
        if (encoding !== 'utf-8' && encoding !== 'base64') throw validationFailed('Blob', 'encoding', 'invalid')
        const bytes = encoding === 'base64' ? Buffer.from(body.content, 'base64') : Buffer.from(body.content, 'utf8')
        const sha = await gitOps.writeBlob(req.repo.dir, bytes)
        return { status: 201, body: { url: `${emu.urls.api}/repos/${fullName(req.repo)}/git/blobs/${sha}`, sha } }
      },
    },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/git/trees',
      scope: 'contents',
      access: 'write',
      async handler(req) {
        requireReady(req.repo)
        const body = jsonBody(req)
        const dir = req.repo.dir
        const baseTree = typeof body.base_tree === 'string' ? body.base_tree : undefined
        if (baseTree && (await gitOps.objectType(dir, baseTree)) !== 'tree') throw validationFailed('Tree', 'base_tree', 'invalid', 'base_tree is not a valid tree oid')
        const entries: gitOps.TreeEntryInput[] = []
        for (const item of (body.tree ?? []) as Array<Record<string, unknown>>) {
          const p = String(item.path ?? '')
          const mode = String(item.mode ?? '')
          if (!validPath(p)) throw validationFailed('Tree', 'path', 'invalid', `tree.path contains a malformed path component`)
          if (!MODES.has(mode)) throw validationFailed('Tree', 'mode', 'invalid')
          if (typeof item.content === 'string') {
            entries.push({ path: p, mode, sha: await gitOps.writeBlob(dir, Buffer.from(item.content, 'utf8')) })
          } else if (item.sha === null) {
            entries.push({ path: p, mode, sha: null })
          } else {
            const sha = String(item.sha ?? '')
            const type = await gitOps.objectType(dir, sha)
            const want = mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob'
            if (type !== want && mode !== '160000') throw validationFailed('Tree', 'sha', 'invalid', `tree.sha ${sha} is not a valid ${want}`)
            entries.push({ path: p, mode, sha })
          }
        }
        const sha = await gitOps.buildTree(dir, baseTree, entries)
        const api = `${emu.urls.api}/repos/${fullName(req.repo)}`
        const tree = (await gitOps.readTree(dir, sha, false)).map((e) => ({
          path: e.path,
          mode: e.mode,
          type: e.type,
          sha: e.sha,
          ...(e.size !== undefined ? { size: e.size } : {}),
          url: `${api}/git/${e.type === 'tree' ? 'trees' : 'blobs'}/${e.sha}`,
        }))
        return { status: 201, body: { sha, url: `${api}/git/trees/${sha}`, tree, truncated: false } }
      },
    },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/git/commits',
      scope: 'contents',
      access: 'write',
      async handler(req) {
        requireReady(req.repo)
        const body = jsonBody(req)
        const dir = req.repo.dir
        const tree = String(body.tree ?? '')
        if ((await gitOps.objectType(dir, tree)) !== 'tree') throw validationFailed('Commit', 'tree', 'invalid', 'Tree SHA does not exist')
        const parents = (body.parents ?? []) as string[]
        for (const p of parents) if ((await gitOps.objectType(dir, String(p))) !== 'commit') throw validationFailed('Commit', 'parents', 'invalid', 'Parent SHA does not exist or is not a commit object')
        const actor = req.actor ?? emu.requireAccount('github-actions[bot]')
        const identity = (given: unknown) => {
          const who = emu.gitIdentity(actor)
          if (!given || typeof given !== 'object') return who
          const g = given as { name?: string; email?: string; date?: string }
          return { name: g.name ?? who.name, email: g.email ?? who.email, time: g.date ? Math.floor(Date.parse(g.date) / 1000) : who.time }
        }
        const author = identity(body.author)
        const committer = body.committer ? identity(body.committer) : author
        const message = String(body.message ?? '')
        const sha = await gitOps.commitTree(dir, tree, parents, message.endsWith('\n') ? message : `${message}\n`, author, committer)
        return { status: 201, body: gitCommitJson(emu, req.repo, (await gitOps.readCommit(dir, sha))!) }
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/git/commits/{commit_sha}',
      scope: 'contents',
      access: 'read',
      async handler(req) {
        requireReady(req.repo)
        const info = await gitOps.readCommit(req.repo.dir, req.params.commit_sha ?? '')
        if (!info) throw notFound()
        return { status: 200, body: gitCommitJson(emu, req.repo, info) }
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/git/ref/{ref}',
      scope: 'contents',
      access: 'read',
      async handler(req) {
        requireReady(req.repo)
        const ref = `refs/${req.params.ref}`
        const sha = (await gitOps.listRefs(req.repo.dir, ref)).get(ref)
        if (!sha) throw notFound()
        return { status: 200, body: refJson(emu, req.repo, ref, sha, (await gitOps.objectType(req.repo.dir, sha)) ?? 'commit') }
      },
    },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/git/refs',
      scope: 'contents',
      access: 'write',
      async handler(req) {
        requireReady(req.repo)
        const body = jsonBody(req)
        const ref = String(body.ref ?? '')
        const sha = String(body.sha ?? '')
        if (!/^refs\/[^/]+\/.+/.test(ref) || ref.startsWith('refs/pull/')) throw validationFailed('Reference', 'ref', 'invalid', "Reference name must start with 'refs/' and have at least two slashes.")
        await gitOps.git(req.repo.dir, ['check-ref-format', ref]).catch(() => {
          throw validationFailed('Reference', 'ref', 'invalid', `${ref} is not a valid ref name.`)
        })
        if (!(await gitOps.objectType(req.repo.dir, sha))) throw validationFailed('Reference', 'sha', 'invalid', 'Object does not exist')
        return serialised(req.repo, async () => {
          if ((await gitOps.listRefs(req.repo.dir, ref)).has(ref)) throw validationFailed('Reference', 'ref', 'already_exists', 'Reference already exists')
          await changeRef(req, ref, sha, gitOps.ZERO_SHA)
          return { status: 201, body: refJson(emu, req.repo, ref, sha, (await gitOps.objectType(req.repo.dir, sha))!) }
        })
      },
    },
    {
      method: 'PATCH',
      template: '/repos/{owner}/{repo}/git/refs/{ref}',
      scope: 'contents',
      access: 'write',
      async handler(req) {
        requireReady(req.repo)
        const body = jsonBody(req)
        const ref = `refs/${req.params.ref}`
        const sha = String(body.sha ?? '')
        if ((await gitOps.objectType(req.repo.dir, sha)) !== 'commit') throw validationFailed('Reference', 'sha', 'invalid', 'Object does not exist')
        // As a branch protection rule (pull requests required) answers an update through this API.
        if (ref.startsWith('refs/heads/') && req.repo.protectedBranches.has(ref.slice('refs/heads/'.length))) {
          return { status: 422, body: { message: `Protected branch update failed for ${ref}.`, documentation_url: 'https://docs.github.com/rest/git/refs#update-a-reference', status: '422' } }
        }
        return serialised(req.repo, async () => {
          const current = (await gitOps.listRefs(req.repo.dir, ref)).get(ref)
          if (!current) throw validationFailed('Reference', 'ref', 'invalid', 'Reference does not exist')
          if (body.force !== true && !(await gitOps.isAncestor(req.repo.dir, current, sha))) throw validationFailed('Reference', 'sha', 'custom', 'Update is not a fast forward')
          if (current !== sha) await changeRef(req, ref, sha, current)
          return { status: 200, body: refJson(emu, req.repo, ref, sha, 'commit') }
        })
      },
    },
  ]
}

/** GitHub renames asset files with special characters: anything but letters, digits, `.`, `-`, `_`, `+` becomes `.`. */
export function assetName(name: string): string {
  return name.replace(/[^A-Za-z0-9._+-]/g, '.').replace(/^\.+|\.+$/g, '')
}

function releaseRoutes(emu: Emulator): RouteDef[] {
  const releaseOf = (req: RouteRequest) => {
    const release = req.repo.releases.find((r) => r.id === intParam(req, 'release_id'))
    if (!release) throw notFound()
    return release
  }
  const canWrite = (req: RouteRequest) => {
    try {
      emu.authorize(req.token, req.repo, 'contents', 'write')
      return true
    } catch {
      return false
    }
  }
  const findAsset = (req: RouteRequest): { release: Release; asset: Asset } => {
    const id = intParam(req, 'asset_id')
    for (const release of req.repo.releases) for (const asset of release.assets) if (asset.id === id) return { release, asset }
    throw notFound()
  }
  return [
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/releases/tags/{tag}',
      scope: 'contents',
      access: 'read',
      handler(req) {
        const release = req.repo.releases.find((r) => r.tag === req.params.tag && (!r.draft || canWrite(req)))
        if (!release) throw notFound()
        return { status: 200, body: releaseJson(emu.urls, req.repo, release) }
      },
    },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/releases',
      scope: 'contents',
      access: 'write',
      async handler(req) {
        const body = jsonBody(req)
        const tag = String(body.tag_name ?? '')
        const dir = req.repo.dir
        if (!tag) throw validationFailed('Release', 'tag_name', 'missing_field')
        await gitOps.git(dir, ['check-ref-format', `refs/tags/${tag}`]).catch(() => {
          throw validationFailed('Release', 'tag_name', 'invalid')
        })
        return serialised(req.repo, async () => {
          if (req.repo.releases.some((r) => r.tag === tag)) throw validationFailed('Release', 'tag_name', 'already_exists')
          const target = typeof body.target_commitish === 'string' && body.target_commitish ? body.target_commitish : req.repo.defaultBranch
          const draft = body.draft === true
          const tagRef = `refs/tags/${tag}`
          if (!draft && !(await gitOps.listRefs(dir, tagRef)).has(tagRef)) {
            const sha = (await gitOps.resolveRef(dir, `refs/heads/${target}`)) ?? (await gitOps.resolveRef(dir, target))
            if (!sha) throw validationFailed('Release', 'target_commitish', 'invalid')
            await gitOps.compareAndSwapRef(dir, tagRef, sha, gitOps.ZERO_SHA)
            await emu.refsChanged(req.repo, [{ ref: tagRef, before: gitOps.ZERO_SHA, after: sha }], req.token)
          }
          const release: Release = {
            id: emu.id(),
            tag,
            name: typeof body.name === 'string' ? body.name : tag,
            body: typeof body.body === 'string' ? body.body : null,
            draft,
            prerelease: body.prerelease === true,
            target,
            author: req.actor ?? emu.requireAccount('github-actions[bot]'),
            createdAt: emu.stamp(),
            publishedAt: draft ? null : emu.stamp(),
            assets: [],
          }
          req.repo.releases.push(release)
          return { status: 201, body: releaseJson(emu.urls, req.repo, release) }
        })
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/releases/{release_id}/assets',
      scope: 'contents',
      access: 'read',
      handler(req) {
        const release = releaseOf(req)
        const page = paginate(req, release.assets)
        return { status: 200, body: page.items.map((a) => assetJson(emu.urls, req.repo, release, a)), headers: page.headers }
      },
    },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/releases/{release_id}/assets',
      scope: 'contents',
      access: 'write',
      async handler(req) {
        if (!req.url.pathname.startsWith('/api/uploads/')) throw notFound()
        const release = releaseOf(req)
        const name = assetName(req.query.get('name') ?? '')
        if (!name) throw validationFailed('ReleaseAsset', 'name', 'missing_field')
        const contentType = String(req.headers['content-type'] ?? '')
        if (!contentType) throw validationFailed('ReleaseAsset', 'content_type', 'missing_field')
        if (req.rawBody.length === 0) throw validationFailed('ReleaseAsset', 'size', 'invalid', 'Asset is empty')
        if (req.rawBody.length > MAX_ASSET_BYTES) throw validationFailed('ReleaseAsset', 'size', 'invalid', 'Asset is larger than 2 GiB')
        if (release.assets.some((a) => a.name === name)) throw validationFailed('ReleaseAsset', 'name', 'already_exists')
        if (release.assets.length >= MAX_ASSETS) throw validationFailed('ReleaseAsset', 'release', 'custom', `A release can hold at most ${MAX_ASSETS} assets`)
        const id = emu.id()
        const file = path.join(emu.root, '_storage', 'releases', String(id))
        await fs.promises.mkdir(path.dirname(file), { recursive: true })
        await fs.promises.writeFile(file, req.rawBody)
        const asset: Asset = {
          id,
          name,
          label: req.query.get('label'),
          contentType,
          size: req.rawBody.length,
          digest: `sha256:${createHash('sha256').update(req.rawBody).digest('hex')}`,
          uploader: req.actor ?? emu.requireAccount('github-actions[bot]'),
          createdAt: emu.stamp(),
          updatedAt: emu.stamp(),
          downloadCount: 0,
          file,
        }
        release.assets.push(asset)
        return { status: 201, body: assetJson(emu.urls, req.repo, release, asset) }
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/releases/assets/{asset_id}',
      scope: 'contents',
      access: 'read',
      handler(req) {
        const { release, asset } = findAsset(req)
        if (String(req.headers.accept ?? '').includes('application/octet-stream')) {
          asset.downloadCount++
          return { status: 302, headers: { location: emu.storageUrl('releases', asset.id) } }
        }
        return { status: 200, body: assetJson(emu.urls, req.repo, release, asset) }
      },
    },
    {
      method: 'DELETE',
      template: '/repos/{owner}/{repo}/releases/assets/{asset_id}',
      scope: 'contents',
      access: 'write',
      async handler(req) {
        const { release, asset } = findAsset(req)
        release.assets.splice(release.assets.indexOf(asset), 1)
        await fs.promises.rm(asset.file, { force: true })
        return { status: 204 }
      },
    },
  ]
}
