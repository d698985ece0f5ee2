import * as tf from '@tensorflow/tfjs';
import {
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { savedArtifacts } from '../../test/model-artifacts.js';
import { towersModel } from '../models/towers.js';
import { fileSystemHandler, loadModelDir, ModelDirError, saveModelDir } from './model-dir.js';

let root: string;
let counter = 0;
/** A fresh, not yet existing path under the test's temp folder. */
const fresh = (name = 'm') => join(root, `case${++counter}`, name);

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'tfjs-mtl-model-dir-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function denseModel(seed: number): tf.LayersModel {
  const model = tf.sequential();
  model.add(
    tf.layers.dense({
      units: 4,
      inputShape: [3],
      activation: 'tanh',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
      biasInitializer: tf.initializers.randomNormal({ seed: seed + 1 }),
    }),
  );
  model.add(
    tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
  );
  return model;
}

const X3 = () =>
  tf.tensor2d([
    [0.1, -0.2, 0.3],
    [1, 2, 3],
    [-1.5, 0, 0.5],
  ]);

function predict(model: tf.LayersModel, x: tf.Tensor): number[][][] {
  const out = model.predict(x);
  const outs = Array.isArray(out) ? out : [out];
  const values = outs.map((t) => t.arraySync() as number[][]);
  tf.dispose(outs);
  return values;
}

/** Names in the folder that holds `dir`, other than `dir` itself (staging/old leftovers). */
async function siblings(dir: string): Promise<string[]> {
  const parent = join(dir, '..');
  const base = dir.split('/').pop()!;
  return (await readdir(parent)).filter((n) => n !== base);
}

async function expectLoadError(dir: string, message: string | RegExp): Promise<void> {
  const err: unknown = await loadModelDir(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelDirError);
  const e = err as ModelDirError;
  expect(e.name).toBe('ModelDirError');
  expect(e.message).not.toContain('\n');
  if (typeof message === 'string') expect(e.message).toBe(message);
  else expect(e.message).toMatch(message);
}

describe('fileSystemHandler', () => {
  it('writes the tfjs-node file:// layout and reads it back', async () => {
    const dir = fresh();
    const model = denseModel(1);
    const result = await model.save(fileSystemHandler(dir));
    expect(result.modelArtifactsInfo.modelTopologyType).toBe('JSON');
    expect(result.modelArtifactsInfo.weightDataBytes).toBe((3 * 4 + 4 + 4 * 2 + 2) * 4);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);

    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual([
      'modelTopology',
      'weightsManifest',
      'format',
      'generatedBy',
      'convertedBy',
    ]);
    expect(json.format).toBe('layers-model');
    expect(json.generatedBy).toMatch(/^TensorFlow\.js tfjs-layers v/);
    expect(json.convertedBy).toBeNull();
    const manifest = json.weightsManifest as tf.io.WeightsManifestConfig;
    expect(manifest).toHaveLength(1);
    expect(manifest[0]!.paths).toEqual(['weights.bin']);
    expect(manifest[0]!.weights.map((w) => w.shape)).toEqual([[3, 4], [4], [4, 2], [2]]);
    expect((await readFile(join(dir, 'weights.bin'))).byteLength).toBe(
      result.modelArtifactsInfo.weightDataBytes,
    );

    const loaded = await tf.loadLayersModel(fileSystemHandler(dir));
    const x = X3();
    expect(predict(loaded, x)).toEqual(predict(model, x));
    x.dispose();
  });

  it('joins weight data given as several ArrayBuffers and keeps metadata', async () => {
    const artifacts = await savedArtifacts(denseModel(2));
    const whole = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
    const parts = [whole.slice(0, 10).buffer, whole.slice(10, 37).buffer, whole.slice(37).buffer];
    const dir = fresh();
    const handler = fileSystemHandler(dir);
    const result = await handler.save!({
      ...artifacts,
      weightData: parts,
      userDefinedMetadata: { tasks: ['a', 'b'] },
    });
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(whole.byteLength);
    expect(new Uint8Array(await readFile(join(dir, 'weights.bin')))).toEqual(whole);
    const back = await handler.load!();
    expect(new Uint8Array(back.weightData as ArrayBuffer)).toEqual(whole);
    expect(back.userDefinedMetadata).toEqual({ tasks: ['a', 'b'] });
    expect(back.weightSpecs).toEqual(artifacts.weightSpecs);
  });
});

describe('saveModelDir / loadModelDir round trips', () => {
  it('a plain dense model with side files', async () => {
    const dir = fresh();
    const model = denseModel(3);
    const bytes = new Uint8Array([0, 1, 2, 255]);
    await saveModelDir(dir, model, {
      'preprocess.json': '{"mean":[1,2,3]}',
      'weighting.json': '{"logVar":[0.5]}',
      'raw.bin': bytes,
    });
    expect((await readdir(dir)).sort()).toEqual([
      'model.json',
      'preprocess.json',
      'raw.bin',
      'weighting.json',
      'weights.bin',
    ]);
    expect(await siblings(dir)).toEqual([]);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    expect(json.weightsManifest[0]!.paths).toEqual(['weights.bin']);
    expect(new Uint8Array(await readFile(join(dir, 'raw.bin')))).toEqual(bytes);

    const { model: loaded, files } = await loadModelDir(dir);
    const x = X3();
    expect(predict(loaded, x)).toEqual(predict(model, x));
    x.dispose();
    expect(await files('preprocess.json')).toBe('{"mean":[1,2,3]}');
    expect(await files('weighting.json')).toBe('{"logVar":[0.5]}');
  });

  it('a towers model built from ParallelDense layers', async () => {
    const dir = fresh();
    const model = towersModel({ inputDim: 1, outputs: [1, 1], hidden: [8] });
    await saveModelDir(dir, model, {});
    const topology = (JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON)
      .modelTopology;
    expect(JSON.stringify(topology)).toContain('"class_name":"ParallelDense"');
    const { model: loaded } = await loadModelDir(dir);
    const x = tf.tensor2d([[-2], [-0.5], [0], [0.7], [3]]);
    const before = predict(model, x);
    expect(before).toHaveLength(2);
    expect(predict(loaded, x)).toEqual(before);
    x.dispose();
  });
});

describe('saveModelDir replacing and refusing', () => {
  it('replaces a previous model folder, side files included, leaving nothing behind', async () => {
    const dir = fresh();
    await saveModelDir(dir, denseModel(4), { 'metrics.json': '{"old":true}', 'old-only.json': '{}' });
    const second = denseModel(5);
    await saveModelDir(dir, second, { 'metrics.json': '{"new":true}' });
    expect((await readdir(dir)).sort()).toEqual(['metrics.json', 'model.json', 'weights.bin']);
    expect(await siblings(dir)).toEqual([]);
    const { model, files } = await loadModelDir(dir);
    const x = X3();
    expect(predict(model, x)).toEqual(predict(second, x));
    x.dispose();
    expect(await files('metrics.json')).toBe('{"new":true}');
  });

  it('replaces an empty folder and creates missing parents', async () => {
    const empty = fresh();
    await mkdir(empty, { recursive: true });
    await saveModelDir(empty, denseModel(6), {});
    expect((await readdir(empty)).sort()).toEqual(['model.json', 'weights.bin']);
    expect(await siblings(empty)).toEqual([]);

    const deep = join(fresh('a'), 'b', 'c');
    await saveModelDir(deep, denseModel(6), {});
    expect((await readdir(deep)).sort()).toEqual(['model.json', 'weights.bin']);
  });

  it('refuses a non-empty folder that is not a model folder, touching nothing', async () => {
    const dir = fresh();
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'notes.txt'), 'precious');
    await writeFile(join(dir, 'sub', 'data.csv'), 'a,b\n1,2\n');
    await expect(saveModelDir(dir, denseModel(7), {})).rejects.toThrow(
      `refusing to overwrite '${dir}': it exists and is not a tfjs-mtl model folder`,
    );
    expect((await readdir(dir)).sort()).toEqual(['notes.txt', 'sub']);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('precious');
    expect(await readFile(join(dir, 'sub', 'data.csv'), 'utf8')).toBe('a,b\n1,2\n');
    expect(await siblings(dir)).toEqual([]);
  });

  it('refuses a path that is a file', async () => {
    const file = fresh('model');
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, 'not a folder');
    await expect(saveModelDir(file, denseModel(7), {})).rejects.toThrow(/refusing to overwrite/);
    expect(await readFile(file, 'utf8')).toBe('not a folder');
    expect(await siblings(file)).toEqual([]);
  });

  it('rejects extra file names that are not plain file names, before writing anything', async () => {
    const dir = fresh();
    for (const name of [
      '../evil.json',
      'a/b.json',
      'a\\b.json',
      '..',
      '.',
      '',
      'model.json',
      'weights.bin',
    ]) {
      await expect(saveModelDir(dir, denseModel(8), { [name]: '{}' })).rejects.toThrow(/extra file name/);
    }
    await expect(readdir(join(dir, '..'))).rejects.toThrow(/ENOENT/);
  });

  it('removes the staging folder when a write fails and keeps the previous model', async () => {
    const dir = fresh();
    const first = denseModel(9);
    await saveModelDir(dir, first, { 'metrics.json': '{"v":1}' });
    // not a string or bytes: writeFile throws after the model itself has been staged
    const bad = { 'metrics.json': '{"v":2}', 'broken.json': 42 as unknown as string };
    await expect(saveModelDir(dir, denseModel(10), bad)).rejects.toThrow();
    expect(await siblings(dir)).toEqual([]);
    const { model, files } = await loadModelDir(dir);
    const x = X3();
    expect(predict(model, x)).toEqual(predict(first, x));
    x.dispose();
    expect(await files('metrics.json')).toBe('{"v":1}');

    // and when the model cannot be saved at all
    const fresher = fresh();
    const unsaveable = denseModel(11);
    unsaveable.save = () => Promise.reject(new Error('disk full'));
    await expect(saveModelDir(fresher, unsaveable, {})).rejects.toThrow('disk full');
    expect(await readdir(join(fresher, '..'))).toEqual([]);
  });

  it('through a symlink, replaces the folder it points to and keeps the link', async () => {
    const real = fresh('real');
    await saveModelDir(real, denseModel(12), {});
    const link = join(real, '..', 'link');
    await symlink(real, link);
    const second = denseModel(13);
    await saveModelDir(link, second, { 'x.json': '1' });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect((await readdir(real)).sort()).toEqual(['model.json', 'weights.bin', 'x.json']);
    expect((await readdir(join(real, '..'))).sort()).toEqual(['link', 'real']);
    const { model } = await loadModelDir(link);
    const x = X3();
    expect(predict(model, x)).toEqual(predict(second, x));
    x.dispose();
  });
});

describe('loadModelDir errors', () => {
  let good: string;
  beforeAll(async () => {
    good = fresh('good');
    await saveModelDir(good, denseModel(20), { 'metrics.json': '{}' });
  });

  /** A copy of the good model folder with model.json rewritten by `edit`. */
  async function variant(edit?: (json: Record<string, unknown>) => unknown): Promise<string> {
    const dir = fresh();
    await cp(good, dir, { recursive: true });
    if (edit) {
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(dir, 'model.json'), JSON.stringify(edit(json) ?? json));
    }
    return dir;
  }
  const setPaths = (paths: string[]) => (json: Record<string, unknown>) => {
    (json.weightsManifest as tf.io.WeightsManifestConfig)[0]!.paths = paths;
  };

  it('missing folder, with a hint when an interrupted save left the old model aside', async () => {
    const dir = fresh();
    await expectLoadError(dir, `model folder not found: ${dir}`);
    await cp(good, join(dir, '..', '.m.old-1-abcd'), { recursive: true });
    await expectLoadError(
      dir,
      `model folder not found: ${dir} (an interrupted save left the previous model in ${join(dir, '..', '.m.old-1-abcd')})`,
    );
  });

  it('not a directory, no model.json', async () => {
    const file = fresh();
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, 'x');
    await expectLoadError(file, `${file} is not a directory`);
    const empty = fresh();
    await mkdir(empty, { recursive: true });
    await expectLoadError(empty, `${empty} has no model.json (not a tfjs-mtl model folder)`);
  });

  it('corrupt or incomplete model.json', async () => {
    const dir = await variant();
    await writeFile(join(dir, 'model.json'), '{"modelTopology": {');
    await expectLoadError(dir, new RegExp(`^${join(dir, 'model.json')} is corrupt: .+`));
    await writeFile(join(dir, 'model.json'), '[1, 2]');
    await expectLoadError(dir, `${join(dir, 'model.json')} is corrupt: not a JSON object`);

    const noTopology = await variant((j) => ({ ...j, modelTopology: undefined }));
    await expectLoadError(noTopology, `${join(noTopology, 'model.json')} lacks modelTopology`);
    const noManifest = await variant((j) => ({ ...j, weightsManifest: undefined }));
    await expectLoadError(noManifest, `${join(noManifest, 'model.json')} lacks weightsManifest`);
    const badManifest = await variant((j) => ({ ...j, weightsManifest: [{ paths: 'weights.bin' }] }));
    await expectLoadError(badManifest, `${join(badManifest, 'model.json')} has a malformed weightsManifest`);
  });

  it('weights paths outside the folder', async () => {
    await writeFile(join(root, 'x.bin'), new Uint8Array(1000));
    for (const p of [
      '../x.bin',
      '/etc/passwd',
      'sub/../../x.bin',
      'a/../weights.bin',
      '..\\x.bin',
      'C:\\x.bin',
    ]) {
      const dir = await variant(setPaths([p]));
      await expectLoadError(
        dir,
        `${join(dir, 'model.json')} points to weights outside the model folder: '${p}'`,
      );
    }
  });

  it('missing weights file, wrong weights size', async () => {
    const missing = await variant();
    await rm(join(missing, 'weights.bin'));
    await expectLoadError(missing, `${join(missing, 'weights.bin')} not found (listed in model.json)`);

    const short = await variant();
    await truncate(join(short, 'weights.bin'), 40);
    const bytes = (3 * 4 + 4 + 4 * 2 + 2) * 4;
    await expectLoadError(short, `${join(short, 'weights.bin')} has 40 bytes, model.json describes ${bytes}`);

    const split = await variant(setPaths(['weights.bin', 'more.bin']));
    await writeFile(join(split, 'more.bin'), new Uint8Array(8));
    await expectLoadError(
      split,
      `${split}: weights.bin + more.bin have together ${bytes + 8} bytes, model.json describes ${bytes}`,
    );
  });

  it('weights split over several files in a subfolder still load', async () => {
    const dir = await variant(setPaths(['shards/a.bin', 'shards/b.bin']));
    const whole = await readFile(join(dir, 'weights.bin'));
    await mkdir(join(dir, 'shards'));
    await writeFile(join(dir, 'shards', 'a.bin'), whole.subarray(0, 20));
    await writeFile(join(dir, 'shards', 'b.bin'), whole.subarray(20));
    await rm(join(dir, 'weights.bin'));
    const { model } = await loadModelDir(dir);
    const { model: reference } = await loadModelDir(good);
    const x = X3();
    expect(predict(model, x)).toEqual(predict(reference, x));
    x.dispose();
  });

  it("tf.loadLayersModel's own failure, wrapped with the path", async () => {
    const dir = await variant((j) => JSON.parse(JSON.stringify(j).replaceAll('"Dense"', '"NoSuchLayer"')));
    await expectLoadError(dir, new RegExp(`^cannot load the model in ${dir}: Unknown layer: NoSuchLayer\\.`));
  });

  it('files(name) on a missing side file', async () => {
    const { files } = await loadModelDir(good);
    expect(await files('metrics.json')).toBe('{}');
    await expect(files('nope.json')).rejects.toThrow(`${good} has no nope.json`);
    await expect(files('../good/metrics.json')).rejects.toBeInstanceOf(ModelDirError);
  });
});
