/**
 * Removes a directory tree that code wharf ran has written into: a crate's
 * build script or tests may leave a directory without write or search
 * permission (0555, 0000), and a plain recursive remove then fails for
 * anyone but root. On EACCES or EPERM every directory of the tree is made
 * its owner's to change (u+rwx) and the remove is tried once more; a link
 * is never followed.
 */
import fs from 'node:fs'
import path from 'node:path'

export async function removeTree(dir: string): Promise<void> {
  try {
    await fs.promises.rm(dir, { recursive: true, force: true })
    return
  } catch (e) {
    if (!['EACCES', 'EPERM'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e
  }
  await openUp(dir)
  await fs.promises.rm(dir, { recursive: true, force: true })
}

async function openUp(dir: string): Promise<void> {
  // Not this process's to change (another user's): the second remove says so.
  await fs.promises.chmod(dir, 0o700).catch(() => {})
  let entries: fs.Dirent[]
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true })
  } catch {
    return
  }
  // A Dirent says what the entry is itself: a link to a directory is no directory here.
  for (const entry of entries) if (entry.isDirectory()) await openUp(path.join(dir, entry.name))
}
