/**
 * Cityscapes' encodings on hand-made samples: labelIds → trainIds (the whole table), instanceIds →
 * instances of the training thing classes, the camera json, and 16-bit disparity → inverse depth (a
 * round trip through the fixture writer's `disparityValue`).
 */
import { describe, expect, it } from 'vitest';
import { NumpyRandomState } from '../../random/numpy-random-state.js';
import {
  CITYSCAPES_CLASSES,
  CITYSCAPES_MAX_LABEL_ID,
  CITYSCAPES_PALETTE,
  CITYSCAPES_THING_CLASSES,
  cityscapesInstances,
  cityscapesInverseDepth,
  cityscapesSemantic,
  LabelValueError,
  parseCityscapesCamera,
} from './cityscapes.js';
import { CAMERA, disparityValue } from './export.js';

/** labelId → trainId for the 19 evaluated classes (cityscapesScripts' helpers/labels.py). */
const TRAIN_PAIRS: [number, number, string][] = [
  [7, 0, 'road'],
  [8, 1, 'sidewalk'],
  [11, 2, 'building'],
  [12, 3, 'wall'],
  [13, 4, 'fence'],
  [17, 5, 'pole'],
  [19, 6, 'traffic light'],
  [20, 7, 'traffic sign'],
  [21, 8, 'vegetation'],
  [22, 9, 'terrain'],
  [23, 10, 'sky'],
  [24, 11, 'person'],
  [25, 12, 'rider'],
  [26, 13, 'car'],
  [27, 14, 'truck'],
  [28, 15, 'bus'],
  [31, 16, 'train'],
  [32, 17, 'motorcycle'],
  [33, 18, 'bicycle'],
];
/** unlabeled, ego vehicle, rectification border, out of roi, static, dynamic, ground, parking, rail track, guard rail, bridge, tunnel, polegroup, caravan, trailer. */
const IGNORED_IDS = [0, 1, 2, 3, 4, 5, 6, 9, 10, 14, 15, 16, 18, 29, 30];

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('cityscapesSemantic (labelIds → trainIds)', () => {
  it('maps each of the 19 evaluated label ids to its trainId and class', () => {
    const out = cityscapesSemantic(Uint8Array.from(TRAIN_PAIRS, ([id]) => id));
    expect(Array.from(out)).toEqual(TRAIN_PAIRS.map(([, train]) => train));
    for (const [, train, name] of TRAIN_PAIRS) expect(CITYSCAPES_CLASSES[train]).toBe(name);
    expect(CITYSCAPES_CLASSES).toHaveLength(19);
    expect(CITYSCAPES_PALETTE).toHaveLength(19);
  });

  it('ignores (−1) every other label id, and covers 0 … 33 exactly', () => {
    const out = cityscapesSemantic(Uint8Array.from(IGNORED_IDS));
    expect(Array.from(out)).toEqual(IGNORED_IDS.map(() => -1));
    expect(CITYSCAPES_MAX_LABEL_ID).toBe(33);
    const all = cityscapesSemantic(Uint8Array.from({ length: 34 }, (_, i) => i));
    const expected = new Array<number>(34).fill(-1);
    for (const [id, train] of TRAIN_PAIRS) expected[id] = train;
    expect(Array.from(all)).toEqual(expected);
    expect(IGNORED_IDS.length + TRAIN_PAIRS.length).toBe(34);
  });

  it('keeps the pixel order of a larger image', () => {
    const ids = Uint8Array.from({ length: 500 }, (_, p) => (p * 7) % 34);
    const out = cityscapesSemantic(ids);
    const table = new Map(TRAIN_PAIRS.map(([id, train]) => [id, train]));
    ids.forEach((id, p) => expect(out[p]).toBe(table.get(id) ?? -1));
  });

  it('rejects label ids above 33, naming the value and the pixel', () => {
    for (const bad of [34, 255]) {
      const err = thrown(() => cityscapesSemantic(Uint8Array.from([7, 8, 26, bad, 7])));
      expect(err).toBeInstanceOf(LabelValueError);
      expect(err.name).toBe('LabelValueError');
      expect(err.message).toMatch(
        new RegExp(`label id ${bad} at pixel 3 is not in the Cityscapes label table`),
      );
    }
  });
});

describe('cityscapesInstances (instanceIds → instances)', () => {
  const one = (v: number) => cityscapesInstances(Uint16Array.from([v]))[0];

  it('keeps instances of the training thing classes as their value', () => {
    expect(one(24001)).toBe(24001); // person
    expect(one(26000)).toBe(26000); // car, instance 0
    expect(one(25003)).toBe(25003); // rider
    expect(one(27010)).toBe(27010); // truck
    expect(one(28002)).toBe(28002); // bus
    expect(one(31001)).toBe(31001); // train
    expect(one(32004)).toBe(32004); // motorcycle
    expect(one(33999)).toBe(33999); // bicycle
    expect(CITYSCAPES_THING_CLASSES).toEqual([11, 12, 13, 14, 15, 16, 17, 18]);
    expect(CITYSCAPES_THING_CLASSES.map((t) => CITYSCAPES_CLASSES[t])).toEqual([
      'person',
      'rider',
      'car',
      'truck',
      'bus',
      'train',
      'motorcycle',
      'bicycle',
    ]);
  });

  it('drops instances of classes without a trainId (caravan, trailer) and plain label ids', () => {
    expect(one(29005)).toBe(0); // caravan: has instances, no trainId
    expect(one(30001)).toBe(0); // trailer
    for (const plain of [0, 7, 17, 23, 24, 26, 33]) expect(one(plain)).toBe(0); // stuff, or crowd regions
  });

  it('gives one value per pixel in order', () => {
    const out = cityscapesInstances(Uint16Array.from([7, 26000, 26000, 26001, 24000, 29005, 17, 0]));
    expect(Array.from(out)).toEqual([0, 26000, 26000, 26001, 24000, 0, 0, 0]);
  });

  it('rejects values that are neither a label id nor an instance of a class with instances', () => {
    const plain = thrown(() => cityscapesInstances(Uint16Array.from([7, 7, 40])));
    expect(plain).toBeInstanceOf(LabelValueError);
    expect(plain.message).toMatch(/instance value 40 at pixel 2 is neither a label id \(0–33\) nor ≥ 1000/);
    const noInstances = thrown(() => cityscapesInstances(Uint16Array.from([3000])));
    expect(noInstances).toBeInstanceOf(LabelValueError);
    expect(noInstances.message).toMatch(/instance value 3000 at pixel 0: label id 3 has no instances/);
    expect(() => cityscapesInstances(Uint16Array.from([23001]))).toThrow(/label id 23 has no instances/); // sky
    expect(() => cityscapesInstances(Uint16Array.from([34000]))).toThrow(/label id 34 has no instances/);
    expect(() => cityscapesInstances(Uint16Array.from([999]))).toThrow(/instance value 999/);
  });
});

describe('parseCityscapesCamera', () => {
  const camera = (extrinsic: object, intrinsic: object) => ({
    extrinsic: { pitch: 0.038, roll: 0, x: 1.7, y: 0.1, yaw: 0, z: 1.2, ...extrinsic },
    intrinsic: { fy: 2265.3, u0: 1048, v0: 512, ...intrinsic },
  });

  it('reads baseline and fx', () => {
    expect(parseCityscapesCamera(camera({ baseline: 0.209313 }, { fx: 2262.52 }))).toEqual({
      baseline: 0.209313,
      fx: 2262.52,
    });
  });

  it('names the missing field', () => {
    expect(() => parseCityscapesCamera(camera({}, { fx: 2262.52 }))).toThrow(
      /extrinsic\.baseline is missing/,
    );
    expect(() => parseCityscapesCamera(camera({ baseline: 0.2 }, {}))).toThrow(/intrinsic\.fx is missing/);
    expect(() => parseCityscapesCamera({ intrinsic: { fx: 2262.52 } })).toThrow(/extrinsic\.baseline/);
    expect(() => parseCityscapesCamera({ extrinsic: { baseline: 0.2 } })).toThrow(/intrinsic\.fx/);
    expect(() => parseCityscapesCamera(null)).toThrow(/extrinsic\.baseline is missing/);
    expect(() => parseCityscapesCamera([])).toThrow(/extrinsic\.baseline is missing/);
  });

  it('rejects values that are not positive numbers', () => {
    for (const baseline of [-0.2, 0, '0.2', null, Number.NaN])
      expect(() => parseCityscapesCamera(camera({ baseline }, { fx: 2262.52 }))).toThrow(
        /extrinsic\.baseline is not a positive number/,
      );
    for (const fx of [-2262.52, 0, '2262', null])
      expect(() => parseCityscapesCamera(camera({ baseline: 0.2 }, { fx }))).toThrow(
        /intrinsic\.fx is not a positive number/,
      );
  });
});

describe('cityscapesInverseDepth (16-bit disparity → 1/m)', () => {
  const tolerance = 1 / (256 * CAMERA.baseline * CAMERA.fx);

  it('gives back random inverse depths written by disparityValue, within one disparity step', () => {
    const rng = new NumpyRandomState(11);
    const n = 2000;
    // inverse depths up to 0.5/m (2 m away) fit the 16 bits: 0.5·baseline·fx·256 ≈ 60 600
    const inv = Float64Array.from({ length: n }, () => 0.5 * rng.random());
    const labelled = Array.from({ length: n }, (_, p) => p % 5 !== 0);
    const disparity = Uint16Array.from(inv, (v, p) => disparityValue(v, labelled[p]!));
    expect(Math.max(...disparity)).toBeLessThan(65536);
    const { inverseDepth, mask } = cityscapesInverseDepth(disparity, CAMERA);
    expect(inverseDepth).toBeInstanceOf(Float32Array);
    expect(inverseDepth).toHaveLength(n);
    expect(mask).toHaveLength(n);
    for (let p = 0; p < n; p++) {
      if (labelled[p]) {
        expect(mask[p]).toBe(1);
        expect(Math.abs(inverseDepth[p]! - inv[p]!)).toBeLessThanOrEqual(tolerance);
      } else {
        expect(disparity[p]).toBe(0);
        expect(mask[p]).toBe(0);
        expect(inverseDepth[p]).toBe(0);
      }
    }
  });

  it('masks p = 0, and p = 1 is a labelled zero (infinitely far, like the sky)', () => {
    const { inverseDepth, mask } = cityscapesInverseDepth([0, 1, 257, 65535], { baseline: 0.5, fx: 2 });
    expect(Array.from(mask)).toEqual([0, 1, 1, 1]);
    expect(inverseDepth[0]).toBe(0);
    expect(inverseDepth[1]).toBe(0);
    expect(inverseDepth[2]).toBeCloseTo(1, 6); // d = 256/256 = 1 px, baseline·fx = 1
    expect(inverseDepth[3]).toBeCloseTo(65534 / 256, 3);
  });
});
