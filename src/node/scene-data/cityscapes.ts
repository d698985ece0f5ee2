/**
 * Cityscapes' encodings (cityscapesScripts' helpers/labels.py and its README): label ids → the 19
 * training classes, instance ids → instances of the thing classes, 16-bit disparity + camera → inverse
 * depth in 1/m. Pure functions on decoded samples; the folder reader is in ./datasets.ts.
 */

/** The 19 evaluated classes, index = trainId. */
export const CITYSCAPES_CLASSES: readonly string[] = Object.freeze([
  'road',
  'sidewalk',
  'building',
  'wall',
  'fence',
  'pole',
  'traffic light',
  'traffic sign',
  'vegetation',
  'terrain',
  'sky',
  'person',
  'rider',
  'car',
  'truck',
  'bus',
  'train',
  'motorcycle',
  'bicycle',
]);

/** trainIds of the classes that have instances (person … bicycle). */
export const CITYSCAPES_THING_CLASSES: readonly number[] = Object.freeze([11, 12, 13, 14, 15, 16, 17, 18]);

/** Cityscapes' own colours per trainId. */
export const CITYSCAPES_PALETTE: readonly (readonly [number, number, number])[] = Object.freeze([
  [128, 64, 128],
  [244, 35, 232],
  [70, 70, 70],
  [102, 102, 156],
  [190, 153, 153],
  [153, 153, 153],
  [250, 170, 30],
  [220, 220, 0],
  [107, 142, 35],
  [152, 251, 152],
  [70, 130, 180],
  [220, 20, 60],
  [255, 0, 0],
  [0, 0, 142],
  [0, 0, 70],
  [0, 60, 100],
  [0, 80, 100],
  [0, 0, 230],
  [119, 11, 32],
]);

/** The highest label id (bicycle); ids 0 … 33 exist, −1 (licence plate) is never drawn. */
export const CITYSCAPES_MAX_LABEL_ID = 33;

/** labelId → trainId (−1 = ignored), for ids 0 … 33. */
export const CITYSCAPES_TRAIN_ID: Readonly<Int32Array> = (() => {
  const t = new Int32Array(CITYSCAPES_MAX_LABEL_ID + 1).fill(-1);
  const pairs: [number, number][] = [
    [7, 0],
    [8, 1],
    [11, 2],
    [12, 3],
    [13, 4],
    [17, 5],
    [19, 6],
    [20, 7],
    [21, 8],
    [22, 9],
    [23, 10],
    [24, 11],
    [25, 12],
    [26, 13],
    [27, 14],
    [28, 15],
    [31, 16],
    [32, 17],
    [33, 18],
  ];
  for (const [id, train] of pairs) t[id] = train;
  return t;
})();

/** Label ids whose objects are stored as instances (`hasInstances`): 24 … 33. */
export const CITYSCAPES_INSTANCE_LABEL_IDS: readonly number[] = Object.freeze([
  24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
]);

/** A label value outside the encoding's table; the reader names the file. */
export class LabelValueError extends Error {
  override name = 'LabelValueError';
}

/** 8-bit labelIds → trainIds (−1 = ignore). Throws LabelValueError on an id outside 0 … 33. */
export function cityscapesSemantic(labelIds: ArrayLike<number>): Int32Array {
  const out = new Int32Array(labelIds.length);
  for (let p = 0; p < labelIds.length; p++) {
    const id = labelIds[p]!;
    if (id > CITYSCAPES_MAX_LABEL_ID)
      throw new LabelValueError(
        `label id ${id} at pixel ${p} is not in the Cityscapes label table (0–${CITYSCAPES_MAX_LABEL_ID})`,
      );
    out[p] = CITYSCAPES_TRAIN_ID[id]!;
  }
  return out;
}

/**
 * 16-bit instanceIds → instance ids: v ≥ 1000 is instance v mod 1000 of label id ⌊v/1000⌋ (kept, as
 * v, when that id is a training thing class); plain label ids (stuff, crowd regions) become 0. Throws
 * LabelValueError on a value that is neither (an id above 33, or an instance of a class without
 * instances).
 */
export function cityscapesInstances(instanceIds: ArrayLike<number>): Int32Array {
  const out = new Int32Array(instanceIds.length);
  for (let p = 0; p < instanceIds.length; p++) {
    const v = instanceIds[p]!;
    if (v < 1000) {
      if (v > CITYSCAPES_MAX_LABEL_ID)
        throw new LabelValueError(
          `instance value ${v} at pixel ${p} is neither a label id (0–33) nor ≥ 1000`,
        );
      continue;
    }
    const id = Math.floor(v / 1000);
    if (!CITYSCAPES_INSTANCE_LABEL_IDS.includes(id))
      throw new LabelValueError(
        `instance value ${v} at pixel ${p}: label id ${id} has no instances in Cityscapes (24–33 do)`,
      );
    if (CITYSCAPES_TRAIN_ID[id]! >= 0) out[p] = v;
  }
  return out;
}

/** The camera fields inverse depth needs. */
export interface CityscapesCamera {
  baseline: number;
  fx: number;
}

/**
 * The camera json's baseline (m) and focal length fx (px); an Error naming the missing or invalid
 * field otherwise.
 */
export function parseCityscapesCamera(json: unknown): CityscapesCamera {
  const obj = json as { extrinsic?: { baseline?: unknown }; intrinsic?: { fx?: unknown } } | null;
  const baseline = obj?.extrinsic?.baseline;
  const fx = obj?.intrinsic?.fx;
  if (typeof baseline !== 'number' || !(baseline > 0))
    throw new Error(`extrinsic.baseline is ${baseline === undefined ? 'missing' : 'not a positive number'}`);
  if (typeof fx !== 'number' || !(fx > 0))
    throw new Error(`intrinsic.fx is ${fx === undefined ? 'missing' : 'not a positive number'}`);
  return { baseline, fx };
}

/**
 * 16-bit disparity → inverse depth in 1/m: p > 0 is d = (p − 1)/256 px, inverse depth d/(baseline·fx);
 * p = 0 is invalid (mask 0). Computed at the stored resolution, so resizing afterwards keeps 1/m.
 */
export function cityscapesInverseDepth(
  disparity: ArrayLike<number>,
  camera: CityscapesCamera,
): { inverseDepth: Float32Array; mask: Uint8Array } {
  const inverseDepth = new Float32Array(disparity.length);
  const mask = new Uint8Array(disparity.length);
  const scale = 1 / (256 * camera.baseline * camera.fx);
  for (let p = 0; p < disparity.length; p++) {
    const v = disparity[p]!;
    if (v === 0) continue;
    inverseDepth[p] = (v - 1) * scale;
    mask[p] = 1;
  }
  return { inverseDepth, mask };
}
