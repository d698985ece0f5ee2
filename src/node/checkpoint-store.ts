/**
 * Training checkpoints in a folder: `checkpoint/` holds the newest (checkpoint.json — the state with its
 * numbers moved out — and tensors.bin, checked by a SHA-256 in the json), `checkpoint.previous/` the one
 * before. A new checkpoint is written into a private staging folder and renamed into place only when
 * complete; the previous one is kept until then, so a kill at any moment leaves at least one whole
 * checkpoint, and a damaged newest one is detected and passed over for the previous. Node-only.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainingCheckpoint } from '../train/options.js';

const CURRENT = 'checkpoint';
const PREVIOUS = 'checkpoint.previous';
const JSON_FILE = 'checkpoint.json';
const TENSORS = 'tensors.bin';

/** What was saved with a checkpoint besides the training state. */
export interface StoredCheckpoint<S> {
  checkpoint: TrainingCheckpoint;
  /** The run's settings, to compare with the resuming command's. */
  settings: S;
  /** Which folder it came from, and why the newer one was passed over (if it was). */
  from: string;
  warning?: string;
}

/** Float32Arrays anywhere in `value` → { $f32: [offset, length] } into one buffer. */
function split(value: unknown, chunks: Float32Array[], offset: { n: number }): unknown {
  if (value instanceof Float32Array) {
    chunks.push(value);
    const ref = { $f32: [offset.n, value.length] };
    offset.n += value.length;
    return ref;
  }
  if (Array.isArray(value)) return value.map((v) => split(v, chunks, offset));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = split(v, chunks, offset);
    return out;
  }
  return value;
}

function join32(value: unknown, all: Float32Array): unknown {
  if (Array.isArray(value)) return value.map((v) => join32(v, all));
  if (value !== null && typeof value === 'object') {
    const ref = (value as { $f32?: [number, number] }).$f32;
    if (ref) {
      const [at, n] = ref;
      if (!(at >= 0 && n >= 0 && at + n <= all.length)) throw new Error('a tensor reference is out of range');
      return all.slice(at, at + n);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = join32(v, all);
    return out;
  }
  return value;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Saves `checkpoint` (and the run's `settings`) into `dir` (created if missing), atomically: staged,
 * then renamed; the previous checkpoint stays as `checkpoint.previous/`.
 */
export async function saveCheckpoint<S>(
  dir: string,
  checkpoint: TrainingCheckpoint,
  settings: S,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const chunks: Float32Array[] = [];
  const offset = { n: 0 };
  const state = split(checkpoint, chunks, offset);
  const all = new Float32Array(offset.n);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const bytes = new Uint8Array(all.buffer);
  // a staging folder left by a process killed mid-write is never read: clear them all
  for (const name of await readdir(dir))
    if (name.endsWith('.staging')) await rm(join(dir, name), { recursive: true, force: true });
  const staging = join(dir, `${CURRENT}.${process.pid}.staging`);
  await mkdir(staging);
  await writeFile(join(staging, TENSORS), bytes);
  // the json goes last: a staging folder with a parsable json holds its whole checkpoint
  await writeFile(
    join(staging, JSON_FILE),
    JSON.stringify({ format: 'tfjs-mtl-checkpoint', version: 1, sha256: sha256(bytes), settings, state }),
  );
  await rm(join(dir, PREVIOUS), { recursive: true, force: true });
  await rename(join(dir, CURRENT), join(dir, PREVIOUS)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(staging, join(dir, CURRENT));
}

async function readOne<S>(folder: string): Promise<{ checkpoint: TrainingCheckpoint; settings: S }> {
  let text: string;
  try {
    text = await readFile(join(folder, JSON_FILE), 'utf8');
  } catch {
    throw new Error(`${join(folder, JSON_FILE)} is missing`);
  }
  let meta: { format?: string; sha256?: string; settings: S; state: unknown };
  try {
    meta = JSON.parse(text) as typeof meta;
  } catch {
    throw new Error(`${join(folder, JSON_FILE)} is damaged (not valid JSON)`);
  }
  if (meta.format !== 'tfjs-mtl-checkpoint')
    throw new Error(`${join(folder, JSON_FILE)} is not a tfjs-mtl checkpoint`);
  const bytes = await readFile(join(folder, TENSORS)).catch(() => {
    throw new Error(`${join(folder, TENSORS)} is missing`);
  });
  if (sha256(bytes) !== meta.sha256)
    throw new Error(`${join(folder, TENSORS)} is damaged (checksum mismatch)`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { checkpoint: join32(meta.state, all) as TrainingCheckpoint, settings: meta.settings };
}

/**
 * The newest whole checkpoint in `dir`: `checkpoint/`, or — when that one is half-written or damaged —
 * `checkpoint.previous/`, with a warning saying why. Undefined when `dir` holds none; an Error when the
 * ones it holds are all damaged.
 */
export async function loadCheckpoint<S>(dir: string): Promise<StoredCheckpoint<S> | undefined> {
  const problems: string[] = [];
  for (const name of [CURRENT, PREVIOUS]) {
    const folder = join(dir, name);
    if (
      !(await stat(folder).then(
        () => true,
        () => false,
      ))
    )
      continue;
    try {
      const read = await readOne<S>(folder);
      return {
        ...read,
        from: folder,
        ...(problems.length > 0 ? { warning: `${problems.join('; ')}; using ${folder}` } : {}),
      };
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) throw new Error(`no usable checkpoint in ${dir}: ${problems.join('; ')}`);
  return undefined;
}

/** Removes a run's checkpoints (after the run has finished and saved its model). */
export async function removeCheckpoints(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * The first setting in which recorded settings `saved` and a command's `now` differ, as
 * `with <key> <saved value>, this command has <value>` (values as JSON) for the caller to put in its
 * sentence; undefined when they are the same. Compared as JSON, key by key.
 */
export function settingsDifference(saved: object, now: object): string | undefined {
  const a = saved as Record<string, unknown>;
  const b = now as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const was = JSON.stringify(a[key]);
    const is = JSON.stringify(b[key]);
    if (was !== is) return `with ${key} ${was ?? '(unset)'}, this command has ${is ?? '(unset)'}`;
  }
  return undefined;
}

/** The one line `--resume` refuses with when the checkpoint's settings differ (see settingsDifference). */
export function resumeRefusal(difference: string): string {
  return `--resume: the checkpoint was made ${difference}; run it with the same settings`;
}
