import { describe, expect, it } from 'vitest';
import {
  generateScenes,
  IGNORE_LABEL,
  instanceIdRgba,
  instanceOffsetRgba,
  inverseDepthRgba,
  SCENE_CLASSES,
  SCENE_PALETTE,
  sceneImageRgba,
  semanticRgba,
  THING_CLASSES,
  type SceneBatch,
} from './scenes.js';

const SKY = SCENE_CLASSES.indexOf('sky');
const ROAD = SCENE_CLASSES.indexOf('road');

/** Scene i of a batch as plain arrays, for equality checks. */
function scene(b: SceneBatch, i: number) {
  const hw = b.height * b.width;
  return {
    images: b.images.slice(i * hw * 3, (i + 1) * hw * 3),
    semantic: b.semantic.slice(i * hw, (i + 1) * hw),
    instance: b.instance.slice(i * hw, (i + 1) * hw),
    instanceOffset: b.instanceOffset.slice(i * hw * 2, (i + 1) * hw * 2),
    inverseDepth: b.inverseDepth.slice(i * hw, (i + 1) * hw),
    depthMask: b.depthMask.slice(i * hw, (i + 1) * hw),
    instances: b.instances[i],
  };
}

/** Element-wise equality of two array-likes (fast, unlike a deep toEqual on large typed arrays). */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

const ARRAYS = ['images', 'semantic', 'instance', 'instanceOffset', 'inverseDepth', 'depthMask'] as const;

const batch = generateScenes(24, 5);
const { height: H, width: W } = batch;
const HW = H * W;

describe('generateScenes', () => {
  it('is deterministic per (seed, scene index), whatever the count', () => {
    const a = generateScenes(3, 17);
    const b = generateScenes(3, 17);
    for (const key of ARRAYS) expect(same(b[key], a[key]), key).toBe(true);
    expect(b.instances).toEqual(a.instances);
    const c = generateScenes(3, 18);
    for (const key of ['images', 'semantic', 'inverseDepth'] as const)
      expect(same(c[key], a[key]), key).toBe(false);
    const d = generateScenes(5, 17);
    for (let i = 0; i < 3; i++) {
      const [x, y] = [scene(d, i), scene(a, i)];
      for (const key of ARRAYS) expect(same(x[key], y[key]), `${key} of scene ${i}`).toBe(true);
      expect(x.instances).toEqual(y.instances);
    }
    // scenes of one batch differ from each other
    expect(same(scene(d, 3).semantic, scene(d, 4).semantic)).toBe(false);
  });

  it('keeps the geometry and labels independent of the noise and depth-hole options', () => {
    const clean = generateScenes(4, 9, { noise: 0, depthHoles: false });
    const noisy = generateScenes(4, 9);
    for (const key of ['semantic', 'instance', 'instanceOffset'] as const) {
      expect(same(noisy[key], clean[key]), key).toBe(true);
    }
    expect(noisy.instances).toEqual(clean.instances);
    expect(same(noisy.images, clean.images)).toBe(false);
    expect(clean.depthMask.every((m) => m === 1)).toBe(true);
    expect(noisy.depthMask.some((m) => m === 0)).toBe(true);
    let bad = 0;
    for (let p = 0; p < clean.inverseDepth.length; p++) {
      if (noisy.depthMask[p] === 1 && noisy.inverseDepth[p] !== clean.inverseDepth[p]) bad++;
    }
    expect(bad).toBe(0);
  });

  it('adds zero-mean Gaussian pixel noise of the requested standard deviation', () => {
    const clean = generateScenes(8, 2, { noise: 0 });
    const noisy = generateScenes(8, 2, { noise: 0.05 });
    let n = 0;
    let sum = 0;
    let sum2 = 0;
    let sum4 = 0;
    for (let q = 0; q < clean.images.length; q++) {
      const v = clean.images[q]!;
      if (v < 0.25 || v > 0.75) continue; // far from the clamps
      const e = noisy.images[q]! - v;
      n++;
      sum += e;
      sum2 += e * e;
      sum4 += e ** 4;
    }
    expect(n).toBeGreaterThan(10000);
    const sd = Math.sqrt(sum2 / n);
    expect(Math.abs(sum / n)).toBeLessThan(0.002);
    expect(sd).toBeGreaterThan(0.049);
    expect(sd).toBeLessThan(0.051);
    // Gaussian kurtosis is 3
    expect(sum4 / n / sd ** 4).toBeGreaterThan(2.85);
    expect(sum4 / n / sd ** 4).toBeLessThan(3.15);
  });

  it('has the documented shapes and value ranges', () => {
    expect(batch.count).toBe(24);
    expect([H, W]).toEqual([64, 128]);
    expect(batch.images).toHaveLength(24 * HW * 3);
    expect(batch.semantic).toHaveLength(24 * HW);
    expect(batch.instance).toHaveLength(24 * HW);
    expect(batch.instanceOffset).toHaveLength(24 * HW * 2);
    expect(batch.inverseDepth).toHaveLength(24 * HW);
    expect(batch.depthMask).toHaveLength(24 * HW);
    expect(batch.instances).toHaveLength(24);
    expect(batch.images.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(batch.semantic.every((v) => Number.isInteger(v) && v >= 0 && v < SCENE_CLASSES.length)).toBe(true);
    expect(batch.depthMask.every((v) => v === 0 || v === 1)).toBe(true);
    expect(batch.inverseDepth.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    expect(IGNORE_LABEL).toBe(-1);
    expect(THING_CLASSES.map((k) => SCENE_CLASSES[k])).toEqual(['car', 'person', 'pole']);

    const small = generateScenes(2, 1, { height: 16, width: 24, minObjects: 0, maxObjects: 3 });
    expect(small.images).toHaveLength(2 * 16 * 24 * 3);
    for (const list of small.instances) expect(list.length).toBeLessThanOrEqual(3);
  });

  it('places minObjects..maxObjects instances with ids 1..K, each with ≥ 4 visible pixels', () => {
    for (let i = 0; i < batch.count; i++) {
      const list = batch.instances[i]!;
      expect(list.length).toBeGreaterThanOrEqual(2);
      expect(list.length).toBeLessThanOrEqual(8);
      expect(list.map((o) => o.id)).toEqual(list.map((_, k) => k + 1));
      const counts = new Array<number>(list.length + 1).fill(0);
      for (let p = 0; p < HW; p++) counts[batch.instance[i * HW + p]!]!++;
      for (const o of list) {
        expect(THING_CLASSES).toContain(o.classIndex);
        expect(o.pixelCount).toBe(counts[o.id]);
        expect(o.pixelCount).toBeGreaterThanOrEqual(4);
        expect(o.depth).toBeGreaterThanOrEqual(4);
        expect(o.depth).toBeLessThanOrEqual(40);
      }
    }
    const exact = generateScenes(10, 3, { minObjects: 5, maxObjects: 5 });
    for (const list of exact.instances) expect(list).toHaveLength(5);
    const none = generateScenes(3, 3, { minObjects: 0, maxObjects: 0 });
    expect(none.instance.every((v) => v === 0)).toBe(true);
    expect(none.semantic.every((v) => !THING_CLASSES.includes(v))).toBe(true);
  });

  it('gives every instance pixel a thing class and every thing pixel an instance of that class', () => {
    let bad = 0;
    let things = 0;
    for (let i = 0; i < batch.count; i++) {
      const list = batch.instances[i]!;
      for (let p = 0; p < HW; p++) {
        const id = batch.instance[i * HW + p]!;
        const cls = batch.semantic[i * HW + p]!;
        if (THING_CLASSES.includes(cls)) things++;
        if (id < 0 || id > list.length) bad++;
        else if (id > 0 ? cls !== list[id - 1]!.classIndex : THING_CLASSES.includes(cls)) bad++;
      }
    }
    expect(bad).toBe(0);
    expect(things).toBeGreaterThan(0);
  });

  it('labels sky with inverse depth exactly 0 and every labelled non-sky pixel with a positive one', () => {
    let holes = 0;
    let sky = 0;
    const bad = { sky: 0, labelled: 0, holes: 0 };
    for (let p = 0; p < batch.semantic.length; p++) {
      const v = batch.inverseDepth[p]!;
      if (batch.semantic[p] === SKY) {
        sky++;
        if (!Object.is(v, 0) || batch.depthMask[p] !== 1) bad.sky++;
      } else if (batch.depthMask[p] === 1) {
        if (!(v > 0)) bad.labelled++;
      } else {
        holes++;
        if (!Object.is(v, 0)) bad.holes++;
      }
    }
    expect(bad).toEqual({ sky: 0, labelled: 0, holes: 0 });
    expect(sky).toBeGreaterThan(0);
    // a few small holes: present, but a small fraction of the pixels
    expect(holes).toBeGreaterThan(0);
    expect(holes / batch.semantic.length).toBeLessThan(0.03);
  });

  it('stores centroid − pixel as the instance offset, 0 off instances, averaging 0 per instance', () => {
    let bad = 0;
    for (let i = 0; i < batch.count; i++) {
      const list = batch.instances[i]!;
      const sums = list.map(() => [0, 0, 0, 0]);
      for (let r = 0; r < H; r++) {
        for (let c = 0; c < W; c++) {
          const q = i * HW + r * W + c;
          const id = batch.instance[q]!;
          const dr = batch.instanceOffset[2 * q]!;
          const dc = batch.instanceOffset[2 * q + 1]!;
          if (id === 0) {
            if (dr !== 0 || dc !== 0) bad++;
            continue;
          }
          const o = list[id - 1]!;
          if (dr !== Math.fround(o.centroid[0] - r) || dc !== Math.fround(o.centroid[1] - c)) bad++;
          const s = sums[id - 1]!;
          s[0]! += dr;
          s[1]! += dc;
          s[2]! += r;
          s[3]! += c;
        }
      }
      list.forEach((o, k) => {
        const s = sums[k]!;
        expect(Math.abs(s[0]! / o.pixelCount)).toBeLessThan(1e-4);
        expect(Math.abs(s[1]! / o.pixelCount)).toBeLessThan(1e-4);
        expect(o.centroid[0]).toBeCloseTo(s[2]! / o.pixelCount, 9);
        expect(o.centroid[1]).toBeCloseTo(s[3]! / o.pixelCount, 9);
      });
    }
    expect(bad).toBe(0);
  });

  it('draws each object at its own depth, occluded exactly by the nearer silhouettes over it', () => {
    let occluded = 0;
    const bad = { outside: 0, behind: 0, depth: 0, background: 0 };
    for (let i = 0; i < batch.count; i++) {
      const list = batch.instances[i]!;
      // nearest full silhouette over every pixel
      const nearest = new Float64Array(HW).fill(Infinity);
      const covering = new Int32Array(HW);
      for (const o of list) {
        const [top, left, bottom, right] = o.bbox;
        expect(o.footprint).toHaveLength((bottom - top) * (right - left));
        for (let r = top; r < bottom; r++) {
          for (let c = left; c < right; c++) {
            if (o.footprint[(r - top) * (right - left) + (c - left)] === 0) continue;
            covering[r * W + c]!++;
            if (o.depth < nearest[r * W + c]!) nearest[r * W + c] = o.depth;
          }
        }
      }
      for (let p = 0; p < HW; p++) {
        const q = i * HW + p;
        const id = batch.instance[q]!;
        if (id > 0) {
          const o = list[id - 1]!;
          // inside its own silhouette, and no nearer silhouette covers the pixel
          if (nearest[p] === Infinity) bad.outside++;
          else if (nearest[p] !== o.depth) bad.behind++;
          if (batch.depthMask[q] === 1 && batch.inverseDepth[q] !== Math.fround(1 / o.depth)) bad.depth++;
          if (covering[p]! > 1) occluded++;
        } else if (nearest[p]! < Infinity && batch.depthMask[q] === 1) {
          // covered by a silhouette but showing background: the background must be nearer
          if (batch.inverseDepth[q]! < Math.fround(1 / nearest[p]!)) bad.background++;
        }
      }
    }
    expect(bad).toEqual({ outside: 0, behind: 0, depth: 0, background: 0 });
    expect(occluded).toBeGreaterThan(0);
  });

  it('makes the road inverse depth increase strictly downwards in every column', () => {
    let pairs = 0;
    let bad = 0;
    for (let i = 0; i < batch.count; i++) {
      for (let c = 0; c < W; c++) {
        let prev = -1;
        for (let r = 0; r < H; r++) {
          const q = i * HW + r * W + c;
          if (batch.semantic[q] !== ROAD || batch.depthMask[q] === 0) continue;
          const v = batch.inverseDepth[q]!;
          if (prev >= 0) {
            if (!(v > prev)) bad++;
            pairs++;
          }
          prev = v;
        }
      }
    }
    expect(bad).toBe(0);
    expect(pairs).toBeGreaterThan(1000);
  });

  it('labels sky above the horizon and ground below it, with all seven classes in use', () => {
    const fractions = new Array<number>(SCENE_CLASSES.length).fill(0);
    for (const v of batch.semantic) fractions[v]!++;
    for (const f of fractions) expect(f).toBeGreaterThan(0);
    // the bottom row is ground or an object, the top row never road or sidewalk
    const BUILDING = SCENE_CLASSES.indexOf('building');
    const SIDEWALK = SCENE_CLASSES.indexOf('sidewalk');
    let bad = 0;
    for (let i = 0; i < batch.count; i++) {
      for (let c = 0; c < W; c++) {
        const bottom = batch.semantic[i * HW + (H - 1) * W + c];
        const top = batch.semantic[i * HW + c];
        if (bottom === SKY || bottom === BUILDING || top === ROAD || top === SIDEWALK) bad++;
      }
    }
    expect(bad).toBe(0);
  });

  it('shows all three thing classes over 50 scenes', () => {
    const b = generateScenes(50, 123, { noise: 0, depthHoles: false });
    const seen = new Set(b.instances.flat().map((o) => o.classIndex));
    expect([...seen].sort()).toEqual([...THING_CLASSES].sort());
  });

  it('rejects bad arguments with a RangeError naming the option', () => {
    expect(() => generateScenes(0, 1)).toThrow(/count/);
    expect(() => generateScenes(1.5, 1)).toThrow(RangeError);
    expect(() => generateScenes(1, -1)).toThrow(/seed/);
    expect(() => generateScenes(1, 0.5)).toThrow(/seed/);
    expect(() => generateScenes(1, 1, { height: 15 })).toThrow(/height/);
    expect(() => generateScenes(1, 1, { width: 8 })).toThrow(/width/);
    expect(() => generateScenes(1, 1, { width: 32.5 })).toThrow(/width/);
    expect(() => generateScenes(1, 1, { minObjects: -1 })).toThrow(/minObjects/);
    expect(() => generateScenes(1, 1, { maxObjects: 1.5 })).toThrow(/maxObjects/);
    expect(() => generateScenes(1, 1, { minObjects: 5, maxObjects: 3 })).toThrow(/minObjects.*maxObjects/);
    expect(() => generateScenes(1, 1, { noise: -0.1 })).toThrow(/noise/);
    expect(() => generateScenes(1, 1, { noise: Number.NaN })).toThrow(/noise/);
    for (const f of [() => generateScenes(0, 1), () => generateScenes(1, 1, { height: 15 })]) {
      expect(f).toThrow(RangeError);
    }
  });
});

describe('RGBA renderings', () => {
  const i = 2;
  const plane = <T extends { subarray(a: number, b: number): T }>(a: T, k = 1) =>
    a.subarray(i * HW * k, (i + 1) * HW * k);

  it('return H·W·4 opaque bytes', () => {
    const images = [
      sceneImageRgba(batch, i),
      semanticRgba(plane(batch.semantic), H, W),
      inverseDepthRgba(plane(batch.inverseDepth), H, W),
      inverseDepthRgba(plane(batch.inverseDepth), H, W, 0.25, plane(batch.depthMask)),
      instanceOffsetRgba(plane(batch.instanceOffset, 2), H, W),
      instanceOffsetRgba(plane(batch.instanceOffset, 2), H, W, 10, plane(batch.instance)),
      instanceIdRgba(plane(batch.instance), H, W),
    ];
    for (const img of images) {
      expect(img).toBeInstanceOf(Uint8ClampedArray);
      expect(img).toHaveLength(HW * 4);
      expect(img.every((v, k) => k % 4 !== 3 || v === 255)).toBe(true);
    }
  });

  it('render the image, palette, masks and ids as documented', () => {
    const rgba = sceneImageRgba(batch, i);
    expect(rgba[0]).toBe(Math.round(batch.images[i * HW * 3]! * 255));
    expect(() => sceneImageRgba(batch, batch.count)).toThrow(RangeError);

    const sem = semanticRgba([0, 4, IGNORE_LABEL, 6], 2, 2);
    expect([...sem.subarray(0, 3)]).toEqual([...SCENE_PALETTE[0]!]);
    expect([...sem.subarray(4, 7)]).toEqual([...SCENE_PALETTE[4]!]);
    expect([...sem.subarray(8, 11)]).toEqual([0, 0, 0]);
    expect([...sem.subarray(12, 15)]).toEqual([...SCENE_PALETTE[6]!]);
    expect(new Set(SCENE_PALETTE.map((c) => c.join())).size).toBe(SCENE_CLASSES.length);

    const depth = inverseDepthRgba([0, 0.5, 1, 0.7], 2, 2, 1, [1, 1, 1, 0]);
    expect([...depth.subarray(0, 3)]).not.toEqual([0, 0, 0]); // 0 (sky) is labelled: not black
    expect([...depth.subarray(12, 15)]).toEqual([0, 0, 0]); // unlabelled
    expect(depth[8]! + depth[9]! + depth[10]!).toBeGreaterThan(depth[0]! + depth[1]! + depth[2]!); // near is brighter

    const ids = instanceIdRgba([0, 1, 2, 3], 2, 2);
    expect([...ids.subarray(0, 3)]).toEqual([0, 0, 0]);
    const colours = new Set([1, 2, 3].map((k) => [...ids.subarray(4 * k, 4 * k + 3)].join()));
    expect(colours.size).toBe(3);

    const flow = instanceOffsetRgba([0, 3, -3, 0, 0, 0, 1, 1], 2, 2, 3, [1, 1, 0, 1]);
    expect([...flow.subarray(0, 3)]).not.toEqual([...flow.subarray(4, 7)]); // direction → hue
    expect([...flow.subarray(8, 11)]).toEqual([0, 0, 0]); // masked out
    expect(() => semanticRgba([0, 1, 2], 2, 2)).toThrow(RangeError);
    expect(() => instanceOffsetRgba([0, 0, 0, 0], 2, 2)).toThrow(RangeError);
  });
});
