import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `data` to `path` so that readers see either the old file or the complete new one, never a
 * partial write: the data go to a sibling temp file (same directory, hence same filesystem, so the
 * rename is atomic) which then replaces `path`. Creates the directory if missing. On failure the
 * temp file is removed and the old file is left untouched.
 *
 * The temp name is per process, so concurrent writes to the same path from one process must be
 * serialised by the caller. No fsync: this guards readers against torn files, not against power loss.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    // not recursive: if `tmp` is somebody's directory, leave it alone
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}
