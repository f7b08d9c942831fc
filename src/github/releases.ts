/** Releases and their assets: get by tag, create, list, upload, delete, download. */
import { params, type Client } from './client.js'
import { attempt, attemptOptional } from './errors.js'
import type { Release, ReleaseAsset, RepoRef } from './types.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export { MAX_ASSET_BYTES, MAX_RELEASE_ASSETS } from '../core/release-assets.js'

function toAsset(a: Json): ReleaseAsset {
  return { id: a.id, name: a.name, label: a.label ?? null, size: a.size, contentType: a.content_type, digest: a.digest ?? null, browserDownloadUrl: a.browser_download_url }
}

function toRelease(r: Json): Release {
  return { id: r.id, tag: r.tag_name, name: r.name ?? null, draft: r.draft === true, prerelease: r.prerelease === true, uploadUrl: r.upload_url, htmlUrl: r.html_url, assets: (r.assets ?? []).map(toAsset) }
}

export function createReleases(client: Client) {
  const { octokit } = client
  const name = (r: RepoRef) => `${r.owner}/${r.repo}`
  return {
    /** The release of a tag, or undefined when there is none. */
    async getByTag(repo: RepoRef, tag: string): Promise<Release | undefined> {
      const found = await attemptOptional(`reading release ${tag} of ${name(repo)}`, () => octokit.rest.repos.getReleaseByTag({ ...params(repo), tag }))
      return found ? toRelease(found.data) : undefined
    },

    /** Creates a release (and its tag at `target`, the default branch unless named). */
    async create(repo: RepoRef, options: { tag: string; name?: string; body?: string; target?: string; draft?: boolean; prerelease?: boolean }): Promise<Release> {
      return attempt(`creating release ${options.tag} of ${name(repo)}`, async () =>
        toRelease(
          (
            await octokit.rest.repos.createRelease({
              ...params(repo),
              tag_name: options.tag,
              ...(options.name !== undefined ? { name: options.name } : {}),
              ...(options.body !== undefined ? { body: options.body } : {}),
              ...(options.target !== undefined ? { target_commitish: options.target } : {}),
              draft: options.draft === true,
              prerelease: options.prerelease === true,
              make_latest: 'false',
            })
          ).data,
        ),
      )
    },

    async listAssets(repo: RepoRef, releaseId: number): Promise<ReleaseAsset[]> {
      return attempt(`listing assets of release ${releaseId} of ${name(repo)}`, async () =>
        (await octokit.paginate(octokit.rest.repos.listReleaseAssets, { ...params(repo), release_id: releaseId, per_page: 100 })).map(toAsset),
      )
    },

    /** Uploads bytes as an asset to the release's `upload_url` (GitHub's uploads host). */
    async uploadAsset(release: Pick<Release, 'uploadUrl' | 'tag'>, asset: { name: string; data: Uint8Array; contentType?: string; label?: string }): Promise<ReleaseAsset> {
      return attempt(`uploading ${asset.name} to release ${release.tag}`, async () => {
        const { data } = await octokit.request({
          method: 'POST',
          url: release.uploadUrl,
          name: asset.name,
          ...(asset.label !== undefined ? { label: asset.label } : {}),
          data: Buffer.from(asset.data),
          headers: { 'content-type': asset.contentType ?? 'application/octet-stream', 'content-length': asset.data.byteLength },
        })
        return toAsset(data as Json)
      })
    },

    /** Deletes an asset; false when it was already gone. */
    async deleteAsset(repo: RepoRef, assetId: number): Promise<boolean> {
      const done = await attemptOptional(`deleting asset ${assetId} of ${name(repo)}`, () => octokit.rest.repos.deleteReleaseAsset({ ...params(repo), asset_id: assetId }))
      return done !== undefined
    },

    /**
     * An asset's bytes, at most `maxBytes`, through the API (which works for
     * private repositories too): GitHub answers a redirect to storage.
     */
    async downloadAsset(repo: RepoRef, assetId: number, options: { maxBytes: number; timeoutMs?: number }): Promise<Buffer> {
      const response = await attempt(`downloading asset ${assetId} of ${name(repo)}`, () =>
        octokit.rest.repos.getReleaseAsset({ ...params(repo), asset_id: assetId, headers: { accept: 'application/octet-stream' }, request: { redirect: 'manual' } }),
      )
      const location = (response.headers as Record<string, string | undefined>).location
      if (location) return client.download(location, { maxBytes: options.maxBytes, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
      return Buffer.from(response.data as unknown as ArrayBuffer)
    },

    /** A public asset by its `browser_download_url` (a redirect to storage, followed), at most `maxBytes`. */
    async download(url: string, options: { maxBytes: number; timeoutMs?: number }): Promise<Buffer> {
      return client.download(url, { maxBytes: options.maxBytes, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
    },
  }
}
