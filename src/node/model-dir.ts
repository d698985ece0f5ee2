import * as tf from '@tensorflow/tfjs';
import { randomBytes } from 'node:crypto';
import {
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';

/**
 * Model folders on disk: `model.json` + `weights.bin` in the layout tfjs-node's `file://` handler
 * writes (so a browser can `tf.loadLayersModel('…/model.json')` the same folder), plus JSON side files
 * (preprocess.json, weighting.json, …). Plain `@tensorflow/tfjs` has no `file://` handler in Node, hence
 * this module.
 */

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** A model folder that cannot be loaded; the message is one line and names the offending path. */
export class ModelDirError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ModelDirError';
  }
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n', 1)[0]!.trim();
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A single path segment that stays in its folder: no separators, not `.`/`..`, no NUL. */
function isPlainFileName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

/** Copies a Node Buffer's bytes into an ArrayBuffer of its own (Buffers may share a pooled one). */
function toArrayBuffer(buf: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(buf.byteLength);
  new Uint8Array(out).set(buf);
  return out;
}

const BYTES_PER_ELEMENT: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** Bytes a weight entry occupies in the weight files, or undefined when that depends on the data. */
function entryBytes(entry: tf.io.WeightsManifestEntry): number | undefined {
  const size = entry.shape.reduce((a, b) => a * b, 1);
  const dtype = entry.quantization?.dtype ?? entry.dtype;
  const bytes = BYTES_PER_ELEMENT[dtype];
  return bytes === undefined ? undefined : size * bytes;
}

function isWeightsManifest(value: unknown): value is tf.io.WeightsManifestConfig {
  return (
    Array.isArray(value) &&
    value.every(
      (group) =>
        isPlainObject(group) &&
        Array.isArray(group.paths) &&
        group.paths.every((p) => typeof p === 'string') &&
        Array.isArray(group.weights) &&
        group.weights.every(
          (w) =>
            isPlainObject(w) &&
            typeof w.name === 'string' &&
            typeof w.dtype === 'string' &&
            Array.isArray(w.shape) &&
            w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0),
        ),
    )
  );
}

/**
 * A weights path from model.json, resolved inside `dir`, or undefined if it could escape the folder:
 * absolute (POSIX, Windows drive or UNC) or URL-like, with a `..` segment (either separator: browsers
 * treat `\` as `/` in http URLs), or resolving to the folder itself or outside it.
 */
function weightsPathInside(dir: string, path: string): string | undefined {
  if (path === '' || isAbsolute(path) || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(path) || /^[/\\]/.test(path)) {
    return undefined;
  }
  if (path.split(/[/\\]/).includes('..')) return undefined;
  const full = resolve(dir, path);
  const rel = relative(resolve(dir), full);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return full;
}

/** Reads and checks `<dir>/model.json`; every failure is a one-line ModelDirError naming the path. */
async function readModelJson(dir: string): Promise<tf.io.ModelJSON> {
  const jsonPath = join(dir, MODEL_JSON);
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      let info;
      try {
        info = await stat(dir);
      } catch {
        throw new ModelDirError(`model folder not found: ${dir}${await interruptedSaveHint(dir)}`);
      }
      if (!info.isDirectory()) throw new ModelDirError(`${dir} is not a directory`);
      throw new ModelDirError(`${dir} has no ${MODEL_JSON} (not a tfjs-mtl model folder)`);
    }
    if (code === 'EISDIR') throw new ModelDirError(`${jsonPath} is not a file`);
    throw new ModelDirError(`cannot read ${jsonPath}: ${firstLine(err)}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelDirError(`${jsonPath} is corrupt: ${firstLine(err)}`, { cause: err });
  }
  if (!isPlainObject(json)) throw new ModelDirError(`${jsonPath} is corrupt: not a JSON object`);
  if (!isPlainObject(json.modelTopology)) throw new ModelDirError(`${jsonPath} lacks modelTopology`);
  if (json.weightsManifest === undefined) throw new ModelDirError(`${jsonPath} lacks weightsManifest`);
  if (!isWeightsManifest(json.weightsManifest)) {
    throw new ModelDirError(`${jsonPath} has a malformed weightsManifest`);
  }
  return json as unknown as tf.io.ModelJSON;
}

/** When a save was interrupted between its two renames, the previous model sits in `.<name>.old-…`. */
async function interruptedSaveHint(dir: string): Promise<string> {
  try {
    const prefix = `.${basename(resolve(dir))}.old-`;
    const old = (await readdir(dirname(resolve(dir)))).find((n) => n.startsWith(prefix));
    return old === undefined
      ? ''
      : ` (an interrupted save left the previous model in ${join(dirname(dir), old)})`;
  } catch {
    return '';
  }
}

/** Reads the weight files of `manifest`, checking paths and sizes; returns the specs and the bytes. */
async function readWeights(
  dir: string,
  manifest: tf.io.WeightsManifestConfig,
): Promise<[tf.io.WeightsManifestEntry[], ArrayBuffer]> {
  const jsonPath = join(dir, MODEL_JSON);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    const full = group.paths.map((p) => {
      const inside = weightsPathInside(dir, p);
      if (inside === undefined) {
        throw new ModelDirError(`${jsonPath} points to weights outside the model folder: '${p}'`);
      }
      return inside;
    });
    let groupBytes = 0;
    for (const [i, path] of full.entries()) {
      let buf: Uint8Array;
      try {
        buf = await readFile(path);
      } catch (err) {
        const shown = join(dir, group.paths[i]!);
        const code = errnoCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          throw new ModelDirError(`${shown} not found (listed in ${MODEL_JSON})`);
        }
        if (code === 'EISDIR') throw new ModelDirError(`${shown} is not a file`);
        throw new ModelDirError(`cannot read ${shown}: ${firstLine(err)}`, { cause: err });
      }
      groupBytes += buf.byteLength;
      buffers.push(toArrayBuffer(buf));
    }
    const sizes = group.weights.map(entryBytes);
    if (sizes.every((s) => s !== undefined)) {
      const expected = sizes.reduce((a, b) => a + b, 0);
      if (expected !== groupBytes) {
        const files =
          group.paths.length === 1
            ? `${join(dir, group.paths[0]!)} has`
            : `${dir}: ${group.paths.join(' + ')} have together`;
        throw new ModelDirError(`${files} ${groupBytes} bytes, ${MODEL_JSON} describes ${expected}`);
      }
    }
    specs.push(...group.weights);
  }
  return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
}

async function loadArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const modelJson = await readModelJson(dir);
  return tf.io.getModelArtifactsForJSON(modelJson, (manifest) => readWeights(dir, manifest));
}

/**
 * An IOHandler for the folder `dir` (created if missing): `save` writes `model.json` and
 * `weights.bin` exactly as tfjs-node's `file://` handler lays them out, each file atomically; `load`
 * reads them back, refusing corrupt or inconsistent folders with a ModelDirError.
 *
 * `save` alone does not make the folder change atomically (see `saveModelDir` for that).
 */
export function fileSystemHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('fileSystemHandler: binary model topologies are not supported');
      }
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
      };
      if (artifacts.trainingConfig != null) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature != null) modelJson.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata != null)
        modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      const weights =
        artifacts.weightData === undefined
          ? new Uint8Array(0)
          : new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      // weights first: model.json is what makes the folder look like a model
      await writeFileAtomic(join(dir, WEIGHTS_BIN), weights);
      await writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    load: () => loadArtifacts(dir),
  };
}

type DirState = 'missing' | 'empty' | 'model' | 'other';

async function dirState(path: string): Promise<DirState> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'missing';
    throw err;
  }
  if (!info.isDirectory()) return 'other';
  const names = await readdir(path);
  if (names.length === 0) return 'empty';
  try {
    return (await stat(join(path, MODEL_JSON))).isFile() ? 'model' : 'other';
  } catch {
    return 'other';
  }
}

/** Flushes the files of the (flat) folder `dir` and the folder itself to disk; best effort for folders. */
async function syncFolder(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const handle = await open(join(dir, name), 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  // fsync on a directory is how POSIX makes renames durable; Windows refuses to open one: skip there
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}

function siblingName(base: string, kind: 'staging' | 'old'): string {
  return `.${base}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Saves `model` and `extraFiles` (plain file names → contents) as the model folder `dir`, so that
 * `dir` is at every moment either what it was before or the complete new folder:
 *
 * everything is written (and flushed) into a fresh staging folder `.<name>.staging-<pid>-<random>` next
 * to `dir`, which then takes `dir`'s place by rename. A previous model folder (one with model.json) is
 * first renamed aside to `.<name>.old-…` and removed once the new one is in place; an empty folder is
 * replaced; anything else is refused without being touched. On failure the staging folder is removed
 * and a previous model folder that was moved aside is moved back. If `dir` is a symlink, the folder it
 * points to is replaced (the link is kept).
 */
export async function saveModelDir(
  dir: string,
  model: tf.LayersModel,
  extraFiles: Record<string, string | Uint8Array>,
): Promise<void> {
  for (const name of Object.keys(extraFiles)) {
    if (!isPlainFileName(name)) {
      throw new Error(
        `saveModelDir: extra file name '${name}' must be a plain file name (no '/', '\\', '..')`,
      );
    }
    if (name === MODEL_JSON || name === WEIGHTS_BIN) {
      throw new Error(`saveModelDir: extra file name '${name}' is reserved for the model itself`);
    }
  }
  let target = resolve(dir);
  if (basename(target) === '') throw new Error(`saveModelDir: cannot save a model as '${dir}'`);
  const refuse = () =>
    new Error(`refusing to overwrite '${dir}': it exists and is not a tfjs-mtl model folder`);

  // a symlink to a folder: replace the folder it points to, next to it, and keep the link
  try {
    if ((await lstat(target)).isSymbolicLink()) target = await realpath(target);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  if ((await dirState(target)) === 'other') throw refuse();

  const parent = dirname(target);
  const base = basename(target);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, siblingName(base, 'staging'));
  await mkdir(staging);
  try {
    await model.save(fileSystemHandler(staging));
    // inside the private staging folder plain writes suffice: nobody sees it before the rename
    for (const [name, data] of Object.entries(extraFiles)) await writeFile(join(staging, name), data);
    await syncFolder(staging);

    // re-check right before swapping: the folder may have changed while we were writing
    const state = await dirState(target);
    if (state === 'other') throw refuse();
    if (state === 'model') {
      const old = join(parent, siblingName(base, 'old'));
      await rename(target, old);
      try {
        await rename(staging, target);
      } catch (err) {
        await rename(old, target).catch(() => undefined);
        throw err;
      }
      await syncDir(parent);
      await rm(old, { recursive: true, force: true }).catch(() => undefined);
    } else {
      // rmdir removes only an empty folder, so a file dropped in meanwhile makes this fail, not vanish
      if (state === 'empty') await rmdir(target);
      await rename(staging, target);
      await syncDir(parent);
    }
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Loads the model folder `dir` written by `saveModelDir` (or tfjs-node's `model.save('file://…')`).
 * Custom layers (e.g. `ParallelDense`) must be registered first, i.e. their module imported.
 * `files(name)` reads a side file as UTF-8 text. Errors are ModelDirErrors naming the path.
 */
export async function loadModelDir(
  dir: string,
): Promise<{ model: tf.LayersModel; files: (name: string) => Promise<string> }> {
  const artifacts = await loadArtifacts(dir);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    let message = `cannot load the model in ${dir}: ${firstLine(err)}`;
    if (/^Unknown layer/i.test(firstLine(err))) {
      message += ' (custom layers must be registered, by importing their module, before loading)';
    }
    throw new ModelDirError(message, { cause: err });
  }
  const files = async (name: string): Promise<string> => {
    if (!isPlainFileName(name)) throw new ModelDirError(`invalid side file name '${name}' for ${dir}`);
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new ModelDirError(`${dir} has no ${name}`);
      if (code === 'EISDIR') throw new ModelDirError(`${join(dir, name)} is not a file`);
      throw new ModelDirError(`cannot read ${join(dir, name)}: ${firstLine(err)}`, { cause: err });
    }
  };
  return { model, files };
}
