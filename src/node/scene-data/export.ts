/**
 * Generated scenes written out as a dataset folder: the Cityscapes layout and encodings (labelIds,
 * 16-bit instanceIds, 16-bit disparity + camera json) or the `folders` layout (dataset.json, images/,
 * semantic/, instance/, depth/). For trying `--data` without a dataset, for the tests (which also get
 * the exact values a reader must recover), and for benchmarks. Node-only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { generateScenes, SCENE_CLASSES, type SceneBatch } from '../../data/synthetic/scenes.js';

/** Scene class → Cityscapes label id: sky, road, sidewalk, building, car, person, pole. */
export const SCENE_TO_LABEL_ID = [23, 7, 8, 11, 26, 24, 17] as const;
/** Label ids with instances among those (car, person); pole is 'stuff' in Cityscapes. */
const INSTANCE_IDS = new Set([26, 24]);
export const CAMERA = { baseline: 0.209313, fx: 2262.52 };

/** PNG bytes of interleaved samples. */
export function png(
  data: Uint8Array | Uint16Array,
  width: number,
  height: number,
  channels: number,
  depth: 8 | 16,
): Uint8Array {
  return encode({ width, height, data, channels, depth });
}

/** Where a written frame came from. */
export interface ExportedFrame {
  split: string;
  city: string;
  stem: string;
  scene: number;
}

/** 8-bit RGB of a generated scene. */
export function sceneRgb8(data: SceneBatch, s: number): Uint8Array {
  const P = data.height * data.width;
  return Uint8Array.from(data.images.subarray(s * P * 3, (s + 1) * P * 3), (v) => Math.round(v * 255));
}

/** The disparity PNG value of an inverse depth (1/m): p = round(d·256) + 1, d = inv·baseline·fx; 0 where unlabelled. */
export function disparityValue(inv: number, labelled: boolean): number {
  return labelled ? Math.round(inv * CAMERA.baseline * CAMERA.fx * 256) + 1 : 0;
}

/** Where and how scenes are written. */
export interface ExportOptions {
  /** Default 32 × 64 (small). */
  height?: number;
  width?: number;
  /** Generator seed of the first split; each further split takes the next seed. */
  seed?: number;
}

/**
 * Writes `counts[split]` generated scenes per split into `root` in the Cityscapes layout (city
 * 'testville'); `disparity: false` leaves out disparity/ and camera/. Returns the scenes per split.
 */
export function writeCityscapesScenes(
  root: string,
  counts: Record<string, number>,
  options: ExportOptions & { disparity?: boolean } = {},
): Record<string, { data: SceneBatch; frames: ExportedFrame[] }> {
  const H = options.height ?? 32;
  const W = options.width ?? 64;
  const out: Record<string, { data: SceneBatch; frames: ExportedFrame[] }> = {};
  let seed = options.seed ?? 5;
  for (const [split, n] of Object.entries(counts)) {
    const data = generateScenes(n, seed++, { height: H, width: W });
    const P = H * W;
    const city = 'testville';
    const dirs = ['leftImg8bit', 'gtFine', ...(options.disparity === false ? [] : ['disparity', 'camera'])];
    for (const d of dirs) mkdirSync(join(root, d, split, city), { recursive: true });
    const frames: ExportedFrame[] = [];
    for (let s = 0; s < n; s++) {
      const stem = `${city}_000000_${String(s).padStart(6, '0')}`;
      frames.push({ split, city, stem, scene: s });
      const at = (d: string, suffix: string) => join(root, d, split, city, `${stem}_${suffix}`);
      writeFileSync(at('leftImg8bit', 'leftImg8bit.png'), png(sceneRgb8(data, s), W, H, 3, 8));
      const labelIds = new Uint8Array(P);
      const instanceIds = new Uint16Array(P);
      const disparity = new Uint16Array(P);
      for (let p = 0; p < P; p++) {
        const id = SCENE_TO_LABEL_ID[data.semantic[s * P + p]!]!;
        labelIds[p] = id;
        const k = data.instance[s * P + p]!;
        instanceIds[p] = k > 0 && INSTANCE_IDS.has(id) ? id * 1000 + (k - 1) : id;
        disparity[p] = disparityValue(data.inverseDepth[s * P + p]!, data.depthMask[s * P + p]! === 1);
      }
      writeFileSync(at('gtFine', 'gtFine_labelIds.png'), png(labelIds, W, H, 1, 8));
      writeFileSync(at('gtFine', 'gtFine_instanceIds.png'), png(instanceIds, W, H, 1, 16));
      if (options.disparity !== false) {
        writeFileSync(at('disparity', 'disparity.png'), png(disparity, W, H, 1, 16));
        writeFileSync(
          at('camera', 'camera.json'),
          JSON.stringify({
            extrinsic: { baseline: CAMERA.baseline, pitch: 0.038, roll: 0, x: 1.7, y: 0.1, yaw: 0, z: 1.2 },
            intrinsic: { fx: CAMERA.fx, fy: 2265.3, u0: W / 2, v0: H / 2 },
          }),
        );
      }
    }
    out[split] = { data, frames };
  }
  return out;
}

/** dataset.json of exported `folders` scenes: the scene classes, inverse depth ×10⁵ in 16 bits (0 = unlabelled). */
export const FOLDERS_SPEC = {
  classes: [...SCENE_CLASSES],
  thingClasses: ['car', 'person', 'pole'],
  ignore: 255,
  depth: { encoding: 'inverse', scale: 100000, invalid: 0 },
};

/**
 * Writes generated scenes into `root` in the `folders` layout (images/, semantic/, instance/, depth/
 * per split, dataset.json). Returns, per split, the scenes as the reader must recover them exactly:
 * 8-bit colours /255, inverse depth rounded to 1e-5 with sky (0) unlabelled.
 */
export function writeFoldersScenes(
  root: string,
  counts: Record<string, number>,
  options: ExportOptions = {},
): Record<string, SceneBatch> {
  const H = options.height ?? 32;
  const W = options.width ?? 64;
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'dataset.json'), JSON.stringify(FOLDERS_SPEC, null, 2));
  const out: Record<string, SceneBatch> = {};
  let seed = options.seed ?? 9;
  for (const [split, n] of Object.entries(counts)) {
    const data = generateScenes(n, seed++, { height: H, width: W });
    const P = H * W;
    for (const d of ['images', 'semantic', 'instance', 'depth'])
      mkdirSync(join(root, split, d), { recursive: true });
    const expected: SceneBatch = {
      ...data,
      images: new Float32Array(data.images.length),
      inverseDepth: new Float32Array(data.inverseDepth.length),
      depthMask: new Uint8Array(data.depthMask.length),
    };
    for (let s = 0; s < n; s++) {
      const stem = `frame${String(s).padStart(3, '0')}`;
      const rgb = sceneRgb8(data, s);
      for (let i = 0; i < rgb.length; i++) expected.images[s * P * 3 + i] = rgb[i]! * (1 / 255);
      const depth = new Uint16Array(P);
      for (let p = 0; p < P; p++) {
        const v = data.depthMask[s * P + p]
          ? Math.round(data.inverseDepth[s * P + p]! * FOLDERS_SPEC.depth.scale)
          : 0;
        depth[p] = v;
        expected.inverseDepth[s * P + p] = v > 0 ? v / FOLDERS_SPEC.depth.scale : 0;
        expected.depthMask[s * P + p] = v > 0 ? 1 : 0;
      }
      writeFileSync(join(root, split, 'images', `${stem}.png`), png(rgb, W, H, 3, 8));
      writeFileSync(
        join(root, split, 'semantic', `${stem}.png`),
        png(Uint8Array.from(data.semantic.subarray(s * P, (s + 1) * P)), W, H, 1, 8),
      );
      writeFileSync(
        join(root, split, 'instance', `${stem}.png`),
        png(Uint16Array.from(data.instance.subarray(s * P, (s + 1) * P)), W, H, 1, 16),
      );
      writeFileSync(join(root, split, 'depth', `${stem}.png`), png(depth, W, H, 1, 16));
    }
    out[split] = expected;
  }
  return out;
}
