/**
 * The dataset readers on small folders written by the scene generator: Cityscapes and `folders` round
 * trips (every value the writer stored comes back), resizing, format detection, and every kind of bad
 * data — each a SceneDataError whose message starts with the file it is about, found when the split is
 * opened (headers, sizes, cameras) or when the frame is read (corrupt data, values outside the table),
 * and left out with `skipBad`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SCENE_CLASSES } from '../../data/synthetic/scenes.js';
import { pngInfo } from '../../data/images/png-info.js';
import { instanceOffsets } from '../../scenes/data.js';
import {
  CAMERA,
  FOLDERS_SPEC,
  png,
  SCENE_TO_LABEL_ID,
  writeCityscapesScenes,
  writeFoldersScenes,
} from './export.js';
import { CITYSCAPES_CLASSES, CITYSCAPES_TRAIN_ID } from './cityscapes.js';
import { detectSceneDataFormat, openSceneData, SceneDataError, type SceneDataFormat } from './datasets.js';

const H = 32;
const W = 64;
const CITY = 'testville';
const DEPTH_TOLERANCE = 1 / (256 * CAMERA.baseline * CAMERA.fx);
const CAR = SCENE_CLASSES.indexOf('car');
const PERSON = SCENE_CLASSES.indexOf('person');
/** The trainIds the generated scenes' classes become. */
const SCENE_TRAIN_IDS = SCENE_TO_LABEL_ID.map((id) => CITYSCAPES_TRAIN_ID[id]!);

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tfjs-mtl-datasets-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Frame `s`'s file of one kind in a Cityscapes fixture. */
function cityFile(
  kind: 'leftImg8bit' | 'labelIds' | 'instanceIds' | 'disparity' | 'camera',
  s: number,
  split = 'train',
) {
  const stem = `${CITY}_000000_${String(s).padStart(6, '0')}`;
  const [dir, suffix] = {
    leftImg8bit: ['leftImg8bit', 'leftImg8bit.png'],
    labelIds: ['gtFine', 'gtFine_labelIds.png'],
    instanceIds: ['gtFine', 'gtFine_instanceIds.png'],
    disparity: ['disparity', 'disparity.png'],
    camera: ['camera', 'camera.json'],
  }[kind] as [string, string];
  return join(root, dir, split, CITY, `${stem}_${suffix}`);
}

const open = (options: Partial<Parameters<typeof openSceneData>[1]> = {}) =>
  openSceneData(root, { split: 'train', height: H, width: W, ...options });

/** The SceneDataError `p` rejects with, checked to be about `file` and to say `problem`. */
async function dataError(p: Promise<unknown>, file: string, problem: RegExp): Promise<SceneDataError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SceneDataError);
  expectProblem(err as SceneDataError, file, problem);
  return err as SceneDataError;
}

function expectProblem(err: SceneDataError, file: string, problem: RegExp): void {
  expect(err.name).toBe('SceneDataError');
  expect(err.file).toBe(file);
  expect(err.message.startsWith(`${file}: `), err.message).toBe(true);
  expect(err.message).toBe(`${file}: ${err.problem}`);
  expect(err.problem).toMatch(problem);
}

/** Opening with skipBad leaves frame `bad` (of `n`) out, reports it once, and the rest read fine. */
async function expectSkipped(n: number, bad: number, file: string, problem: RegExp): Promise<void> {
  const onSkip = vi.fn();
  const ds = await open({ skipBad: true, onSkip });
  expect(ds.size).toBe(n - 1);
  expect(ds.skipped).toHaveLength(1);
  expectProblem(ds.skipped[0]!, file, problem);
  expect(onSkip).toHaveBeenCalledTimes(1);
  expect(onSkip).toHaveBeenCalledWith(ds.skipped[0]);
  const images = Array.from({ length: ds.size }, (_, i) => ds.describe(i));
  expect(images).toEqual(
    Array.from({ length: n }, (_, s) => cityFile('leftImg8bit', s)).filter((_, s) => s !== bad),
  );
  for (let i = 0; i < ds.size; i++) await ds.frame(i);
}

/** A copy of PNG `bytes` with bytes in the middle of its (first) IDAT chunk's data inverted. */
function corruptIdat(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  const view = new DataView(out.buffer);
  for (let pos = 8; pos + 8 <= out.length;) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...out.subarray(pos + 4, pos + 8));
    if (type === 'IDAT') {
      const mid = pos + 8 + Math.floor(length / 2);
      for (let k = 0; k < 8; k++) out[mid + k]! ^= 0xff;
      return out;
    }
    pos += 12 + length;
  }
  throw new Error('no IDAT chunk');
}

function labelIdsOf(file: string): Uint8Array {
  return decode(readFileSync(file)).data as Uint8Array;
}

// ---------------------------------------------------------------------------------------------------

describe('Cityscapes layout', () => {
  it('gives back every value the fixture stored (both splits, format detected)', async () => {
    const written = writeCityscapesScenes(root, { train: 4, val: 2 }, { height: H, width: W, seed: 3 });
    expect(await detectSceneDataFormat(root)).toBe('cityscapes');
    const P = H * W;
    for (const split of ['train', 'val']) {
      const { data, frames } = written[split]!;
      const ds = await openSceneData(root, { split, height: H, width: W });
      expect(ds.format).toBe('cityscapes');
      expect(ds.root).toBe(root);
      expect(ds.split).toBe(split);
      expect(ds.size).toBe(frames.length);
      expect(ds.skipped).toEqual([]);
      expect([ds.height, ds.width]).toEqual([H, W]);
      expect(ds.labels).toEqual({ semantic: true, instance: true, depth: true });
      expect(ds.classes).toEqual(CITYSCAPES_CLASSES);
      expect(ds.thingClasses).toEqual([11, 12, 13, 14, 15, 16, 17, 18]);
      expect(ds.palette).toHaveLength(19);
      let instancePixels = 0;
      for (let s = 0; s < ds.size; s++) {
        expect(ds.describe(s)).toBe(cityFile('leftImg8bit', frames[s]!.scene, split));
        const f = await ds.frame(s);
        expect([f.height, f.width]).toEqual([H, W]);
        expect(f.image).toHaveLength(P * 3);
        for (let i = 0; i < P * 3; i++) {
          const want = Math.round(data.images[s * P * 3 + i]! * 255) / 255;
          if (Math.abs(f.image[i]! - want) > 1e-6) expect.fail(`image value ${i}: ${f.image[i]} ≠ ${want}`);
        }
        const offsets = instanceOffsets(f.instance!, H, W);
        for (let p = 0; p < P; p++) {
          const c = data.semantic[s * P + p]!;
          const k = data.instance[s * P + p]!;
          const where = `frame ${s} pixel ${p}`;
          expect(f.semantic![p], where).toBe(SCENE_TRAIN_IDS[c]);
          // cars and people are instances in Cityscapes, poles stuff
          const thing = k > 0 && (c === CAR || c === PERSON);
          expect(f.instance![p], where).toBe(thing ? SCENE_TO_LABEL_ID[c]! * 1000 + k - 1 : 0);
          for (const d of [0, 1]) {
            const want = thing ? data.instanceOffset[(s * P + p) * 2 + d]! : 0;
            expect(Math.abs(offsets[p * 2 + d]! - want), where).toBeLessThanOrEqual(1e-5);
          }
          if (thing) instancePixels++;
          const labelled = data.depthMask[s * P + p] === 1;
          expect(f.depthMask![p], where).toBe(labelled ? 1 : 0);
          if (labelled)
            expect(Math.abs(f.inverseDepth![p]! - data.inverseDepth[s * P + p]!), where).toBeLessThanOrEqual(
              DEPTH_TOLERANCE,
            );
          else expect(f.inverseDepth![p], where).toBe(0);
        }
      }
      expect(instancePixels).toBeGreaterThan(0);
      await expect(ds.frame(ds.size)).rejects.toThrow(RangeError);
    }
  });

  it('without disparity/: no depth labels, frames without inverse depth', async () => {
    writeCityscapesScenes(root, { train: 2 }, { height: H, width: W, seed: 4, disparity: false });
    expect(existsSync(join(root, 'disparity'))).toBe(false);
    const ds = await open();
    expect(ds.labels).toEqual({ semantic: true, instance: true, depth: false });
    const f = await ds.frame(1);
    expect(f.semantic).toHaveLength(H * W);
    expect(f.instance).toHaveLength(H * W);
    expect(f.inverseDepth).toBeUndefined();
    expect(f.depthMask).toBeUndefined();
  });

  it('resizes when opened at half size: shapes follow, labels stay labels', async () => {
    const written = writeCityscapesScenes(root, { train: 2 }, { height: H, width: W, seed: 6 });
    const ds = await open({ height: H / 2, width: W / 2 });
    expect([ds.height, ds.width]).toEqual([H / 2, W / 2]);
    const P = (H / 2) * (W / 2);
    const { data } = written['train']!;
    for (let s = 0; s < ds.size; s++) {
      const f = await ds.frame(s);
      expect([f.height, f.width]).toEqual([H / 2, W / 2]);
      expect(f.image).toHaveLength(P * 3);
      expect(f.semantic).toHaveLength(P);
      expect(f.instance).toHaveLength(P);
      expect(f.inverseDepth).toHaveLength(P);
      expect(f.depthMask).toHaveLength(P);
      for (const v of f.image) expect(v >= 0 && v <= 1).toBe(true);
      for (const v of new Set(f.semantic)) expect(SCENE_TRAIN_IDS).toContain(v);
      const ids = new Set<number>();
      for (let p = 0; p < H * W; p++) {
        const c = data.semantic[s * H * W + p]!;
        const k = data.instance[s * H * W + p]!;
        if (k > 0 && (c === CAR || c === PERSON)) ids.add(SCENE_TO_LABEL_ID[c]! * 1000 + k - 1);
      }
      for (const v of new Set(f.instance)) if (v !== 0) expect(ids).toContain(v);
      for (const v of new Set(f.depthMask)) expect([0, 1]).toContain(v);
    }
  });
});

describe('folders layout', () => {
  it('gives back exactly what writeFoldersScenes says it stored', async () => {
    const expected = writeFoldersScenes(root, { train: 3, val: 2 }, { height: H, width: W, seed: 2 });
    expect(await detectSceneDataFormat(root)).toBe('folders');
    for (const split of ['train', 'val']) {
      const want = expected[split]!;
      const ds = await openSceneData(root, { split, height: H, width: W });
      expect(ds.format).toBe('folders');
      expect(ds.size).toBe(want.count);
      expect(ds.classes).toEqual([...SCENE_CLASSES]);
      expect(ds.classes).toEqual(FOLDERS_SPEC.classes);
      expect(ds.thingClasses).toEqual([4, 5, 6]);
      expect(ds.labels).toEqual({ semantic: true, instance: true, depth: true });
      const P = H * W;
      for (let s = 0; s < ds.size; s++) {
        const f = await ds.frame(s);
        const slice = <T extends Float32Array | Int32Array | Uint8Array>(a: T, k = 1) =>
          Array.from(a.subarray(s * P * k, (s + 1) * P * k));
        expect(Array.from(f.semantic!)).toEqual(slice(want.semantic));
        expect(Array.from(f.instance!)).toEqual(slice(want.instance));
        expect(Array.from(f.depthMask!)).toEqual(slice(want.depthMask));
        const image = slice(want.images, 3);
        f.image.forEach((v, i) => {
          if (Math.abs(v - image[i]!) > 1e-7) expect.fail(`image value ${i}: ${v} ≠ ${image[i]}`);
        });
        const depth = slice(want.inverseDepth);
        f.inverseDepth!.forEach((v, p) => {
          if (Math.abs(v - depth[p]!) > 1e-7) expect.fail(`inverse depth ${p}: ${v} ≠ ${depth[p]}`);
        });
      }
    }
  });

  it('resizes when opened at half size', async () => {
    writeFoldersScenes(root, { train: 2 }, { height: H, width: W });
    const ds = await open({ height: H / 2, width: W / 2 });
    const f = await ds.frame(0);
    expect([f.height, f.width]).toEqual([H / 2, W / 2]);
    expect(f.image).toHaveLength((H / 2) * (W / 2) * 3);
    expect(f.semantic).toHaveLength((H / 2) * (W / 2));
    for (const v of new Set(f.semantic)) expect(v >= 0 && v < SCENE_CLASSES.length).toBe(true);
  });
});

describe('format detection', () => {
  it('refuses a folder with neither leftImg8bit/ nor dataset.json, and a missing folder', async () => {
    const plain = join(root, 'plain');
    mkdirSync(join(plain, 'images'), { recursive: true });
    writeFileSync(join(plain, 'notes.txt'), 'hello');
    const neither =
      /neither a Cityscapes folder \(no leftImg8bit\/\) nor a folders dataset \(no dataset\.json\)/;
    await dataError(detectSceneDataFormat(plain), plain, neither);
    await dataError(openSceneData(plain, { height: H, width: W }), plain, neither);
    const missing = join(root, 'nope');
    await dataError(openSceneData(missing, { height: H, width: W }), missing, /no such folder/);
  });

  it("names dataset.json when 'folders' is forced on a Cityscapes folder, and refuses unknown formats", async () => {
    writeCityscapesScenes(root, { train: 1 }, { height: H, width: W });
    await dataError(open({ format: 'folders' }), join(root, 'dataset.json'), /cannot read.*dataset\.json/);
    await dataError(open({ format: 'coco' as SceneDataFormat }), root, /unknown format 'coco'/);
    expect((await open({ format: 'cityscapes' })).size).toBe(1);
  });
});

describe('bad data (Cityscapes layout)', () => {
  const N = 3;
  const BAD = 1;
  const fixture = (options: { disparity?: boolean } = {}) =>
    writeCityscapesScenes(root, { train: N }, { height: H, width: W, seed: 8, ...options });

  it('(a) an image without its label file: at open', async () => {
    fixture();
    const file = cityFile('labelIds', BAD);
    unlinkSync(file);
    const err = await dataError(open(), file, /^missing: the label file of /);
    expect(err.problem).toContain(cityFile('leftImg8bit', BAD));
    await expectSkipped(N, BAD, file, /missing/);
  });

  it('(a) … and without its disparity file', async () => {
    fixture();
    const file = cityFile('disparity', BAD);
    unlinkSync(file);
    await dataError(open(), file, /^missing: the label file of /);
    await expectSkipped(N, BAD, file, /missing/);
  });

  it('(b) image and label of different sizes: at open', async () => {
    fixture();
    const file = cityFile('labelIds', BAD);
    writeFileSync(file, png(new Uint8Array(16 * 32).fill(7), 32, 16, 1, 8));
    const problem = /^32×16 px, but its image .*_leftImg8bit\.png is 64×32$/;
    await dataError(open(), file, problem);
    await expectSkipped(N, BAD, file, problem);
  });

  it('(c) a label PNG with the wrong bit depth: at open', async () => {
    fixture();
    const file = cityFile('labelIds', BAD);
    writeFileSync(file, png(Uint16Array.from(labelIdsOf(file)), W, H, 1, 16));
    const problem = /a semantic label PNG must be 8-bit, this one is 16-bit/;
    await dataError(open(), file, problem);
    await expectSkipped(N, BAD, file, problem);
  });

  it('(c) … an 8-bit instanceIds PNG', async () => {
    fixture();
    const file = cityFile('instanceIds', BAD);
    writeFileSync(file, png(labelIdsOf(cityFile('labelIds', BAD)), W, H, 1, 8));
    const problem = /an instance label PNG must be 16-bit, this one is 8-bit/;
    await dataError(open(), file, problem);
    await expectSkipped(N, BAD, file, problem);
  });

  it('(c) a label PNG with the wrong channel count: at open', async () => {
    fixture();
    const file = cityFile('labelIds', BAD);
    const ids = labelIdsOf(file);
    writeFileSync(
      file,
      png(
        Uint8Array.from({ length: ids.length * 3 }, (_, i) => ids[(i / 3) | 0]!),
        W,
        H,
        3,
        8,
      ),
    );
    const problem = /semantic label must be a 1-channel \(greyscale\) PNG, this one has 3 channels/;
    await dataError(open(), file, problem);
    await expectSkipped(N, BAD, file, problem);
  });

  it('(d) a truncated PNG: at open', async () => {
    fixture();
    const file = cityFile('disparity', BAD);
    const bytes = readFileSync(file);
    expect(bytes.length).toBeGreaterThan(200);
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    const problem = /truncated PNG/;
    await dataError(open(), file, problem);
    await expectSkipped(N, BAD, file, problem);
  });

  it('(d) … a file cut inside its header, and one that is not a PNG', async () => {
    fixture();
    const file = cityFile('instanceIds', BAD);
    writeFileSync(file, readFileSync(file).subarray(0, 20));
    await dataError(open(), file, /truncated PNG header/);
    writeFileSync(file, 'not a png at all, just some text that is long enough');
    await dataError(open(), file, /not a PNG file/);
    await expectSkipped(N, BAD, file, /not a PNG file/);
  });

  it('(e) a corrupt PNG (IDAT damaged, header and IEND intact): rejected when the frame is read', async () => {
    fixture();
    const file = cityFile('leftImg8bit', BAD);
    const bytes = corruptIdat(readFileSync(file));
    const info = pngInfo(bytes);
    expect(info.complete).toBe(true);
    expect([info.width, info.height]).toEqual([W, H]);
    writeFileSync(file, bytes);
    const ds = await open({ skipBad: true });
    expect(ds.size).toBe(N); // the header checks cannot see it
    expect(ds.skipped).toEqual([]);
    await ds.frame(0);
    await dataError(ds.frame(BAD), file, /corrupt/i);
    await ds.frame(2);
  });

  it('(e) … a corrupt label PNG', async () => {
    fixture();
    const file = cityFile('disparity', BAD);
    writeFileSync(file, corruptIdat(readFileSync(file)));
    const ds = await open();
    await dataError(ds.frame(BAD), file, /corrupt/i);
  });

  it('(f) label ids outside the table: when the frame is read', async () => {
    fixture();
    const file = cityFile('labelIds', BAD);
    const ids = labelIdsOf(file);
    ids[100] = 40;
    writeFileSync(file, png(ids, W, H, 1, 8));
    const ds = await open();
    expect(ds.size).toBe(N);
    await ds.frame(0);
    await dataError(ds.frame(BAD), file, /^label id 40 at pixel 100 is not in the Cityscapes label table/);
  });

  it('(f) … instance values outside the table', async () => {
    fixture();
    const file = cityFile('instanceIds', BAD);
    const values = decode(readFileSync(file)).data as Uint16Array;
    values[5] = 3000;
    writeFileSync(file, png(values, W, H, 1, 16));
    const ds = await open();
    await dataError(ds.frame(BAD), file, /instance value 3000 at pixel 5: label id 3 has no instances/);
  });

  it('(g) an empty split: at open', async () => {
    fixture();
    const testDir = join(root, 'leftImg8bit', 'test');
    await dataError(open({ split: 'test' }), testDir, /no images in split 'test' \(empty split\)/);
    mkdirSync(testDir);
    await dataError(open({ split: 'test' }), testDir, /empty split/);
    mkdirSync(join(testDir, CITY));
    writeFileSync(join(testDir, CITY, 'README.txt'), 'no images here');
    await dataError(open({ split: 'test', skipBad: true }), testDir, /empty split/);
  });

  it('(h) a camera json without baseline: at open', async () => {
    fixture();
    const file = cityFile('camera', BAD);
    const camera = JSON.parse(readFileSync(file, 'utf8')) as { extrinsic: { baseline?: number } };
    delete camera.extrinsic.baseline;
    writeFileSync(file, JSON.stringify(camera));
    await dataError(open(), file, /extrinsic\.baseline is missing/);
    await expectSkipped(N, BAD, file, /extrinsic\.baseline/);
  });

  it('(h) a camera json without fx: at open', async () => {
    fixture();
    const file = cityFile('camera', BAD);
    const camera = JSON.parse(readFileSync(file, 'utf8')) as { intrinsic: { fx?: number } };
    delete camera.intrinsic.fx;
    writeFileSync(file, JSON.stringify(camera));
    await dataError(open(), file, /intrinsic\.fx is missing/);
    await expectSkipped(N, BAD, file, /intrinsic\.fx/);
  });

  it('(h) … a missing camera json, and one that is not JSON', async () => {
    fixture();
    const file = cityFile('camera', BAD);
    unlinkSync(file);
    await dataError(open(), file, /missing: the camera file/);
    writeFileSync(file, '{ "extrinsic": ');
    await dataError(open(), file, /^not valid JSON \(/);
  });

  it('every frame bad with skipBad: names the split', async () => {
    fixture();
    for (let s = 0; s < N; s++) unlinkSync(cityFile('labelIds', s));
    const onSkip = vi.fn();
    await dataError(open({ skipBad: true, onSkip }), root, /split 'train': every one of the 3 frames is bad/);
    expect(onSkip).toHaveBeenCalledTimes(N);
  });
});

describe('bad data (folders layout)', () => {
  const specFile = () => join(root, 'dataset.json');
  const writeSpec = (spec: unknown) =>
    writeFileSync(specFile(), typeof spec === 'string' ? spec : JSON.stringify(spec));

  it('(f) a semantic value that is neither a class nor the ignore value: when the frame is read', async () => {
    writeFoldersScenes(root, { train: 2 }, { height: H, width: W });
    const file = join(root, 'train', 'semantic', 'frame001.png');
    const labels = decode(readFileSync(file)).data as Uint8Array;
    labels[7] = 9;
    labels[8] = 255; // ignore: fine
    writeFileSync(file, png(labels, W, H, 1, 8));
    const ds = await open();
    await ds.frame(0);
    await dataError(
      ds.frame(1),
      file,
      /^label value 9 at pixel 7 is neither a class \(0–6\) nor the ignore value 255$/,
    );
  });

  it('(g) an empty split', async () => {
    writeFoldersScenes(root, { train: 1 }, { height: H, width: W });
    await dataError(open({ split: 'val' }), join(root, 'val', 'images'), /empty split/);
  });

  it('dataset.json: invalid JSON', async () => {
    writeFoldersScenes(root, { train: 1 }, { height: H, width: W });
    writeSpec('{ "classes": [');
    await dataError(open(), specFile(), /not valid JSON/);
  });

  it('dataset.json: missing classes', async () => {
    writeFoldersScenes(root, { train: 1 }, { height: H, width: W });
    writeSpec({ ...FOLDERS_SPEC, classes: undefined, thingClasses: [] }); // undefined: left out of the JSON
    await dataError(open(), specFile(), /^classes: /);
    writeSpec({ ...FOLDERS_SPEC, classes: ['only'], thingClasses: [] });
    await dataError(open(), specFile(), /^classes: at least two classes are needed/);
  });

  it('dataset.json: thingClasses naming an unknown class', async () => {
    writeFoldersScenes(root, { train: 1 }, { height: H, width: W });
    writeSpec({ ...FOLDERS_SPEC, thingClasses: ['car', 'bicycle'] });
    await dataError(open(), specFile(), /^thingClasses: 'bicycle' is not in classes/);
  });

  it("dataset.json: depth encoding 'disparity' without baselineFx", async () => {
    writeFoldersScenes(root, { train: 1 }, { height: H, width: W });
    writeSpec({ ...FOLDERS_SPEC, depth: { encoding: 'disparity', scale: 256 } });
    await dataError(open(), specFile(), /^depth\.baselineFx: .*baselineFx/);
    writeSpec({ ...FOLDERS_SPEC, depth: { encoding: 'disparity', scale: 256, baselineFx: 470 } });
    expect((await open()).labels.depth).toBe(true);
  });

  it('dataset.json: other field errors name the field', async () => {
    writeFoldersScenes(root, { train: 1 }, { height: H, width: W });
    writeSpec({ ...FOLDERS_SPEC, ignore: 3 });
    await dataError(open(), specFile(), /^ignore: 3 is a class index/);
    writeSpec({ ...FOLDERS_SPEC, depth: { encoding: 'metres', scale: 1 } });
    await dataError(open(), specFile(), /^depth\.encoding: /);
    writeSpec({ ...FOLDERS_SPEC, colours: [] });
    await dataError(open(), specFile(), /colours/);
    writeSpec({ ...FOLDERS_SPEC, depth: undefined });
    await dataError(open(), specFile(), /^depth: missing, but .*depth exists/);
  });
});
