import { describe, expect, it } from 'vitest';
import { allPointAveragePrecision, clusterInstanceVotes, InstanceMaskScore } from './instances.js';

/** mulberry32: a tiny seeded uniform generator in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Box–Muller standard normals from a seeded uniform generator. */
function gaussian(seed: number): () => number {
  const u = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Rows [r0, r1) × cols [c0, c1) of class `cls`. */
interface Rect {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
  cls: number;
}

interface Scene {
  semantic: Int32Array;
  ids: Int32Array;
  offsets: Float32Array;
}

/**
 * Background class 0; rectangle k gets id k + 1 (unless `group` maps several rectangles to one instance),
 * and its pixels' offsets point exactly to the centroid of their instance.
 */
function scene(height: number, width: number, rects: Rect[], group?: number[]): Scene {
  const semantic = new Int32Array(height * width);
  const ids = new Int32Array(height * width);
  const offsets = new Float32Array(2 * height * width);
  rects.forEach((r, k) => {
    for (let row = r.r0; row < r.r1; row++) {
      for (let col = r.c0; col < r.c1; col++) {
        semantic[row * width + col] = r.cls;
        ids[row * width + col] = (group?.[k] ?? k) + 1;
      }
    }
  });
  const sums = new Map<number, [number, number, number]>();
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] === 0) continue;
    const s = sums.get(ids[i]!) ?? [0, 0, 0];
    s[0] += Math.floor(i / width);
    s[1] += i % width;
    s[2]++;
    sums.set(ids[i]!, s);
  }
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] === 0) continue;
    const [sy, sx, n] = sums.get(ids[i]!)!;
    offsets[2 * i] = sy / n - Math.floor(i / width);
    offsets[2 * i + 1] = sx / n - (i % width);
  }
  return { semantic, ids, offsets };
}

/** Predicted ids are a relabelling of the true ids (same partition of the pixels, background included). */
function expectSamePartition(pred: Int32Array, truth: Int32Array): void {
  const map = new Map<number, number>();
  const inverse = new Map<number, number>();
  const bad: number[] = [];
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = pred[i]!;
    if (t === 0 || p === 0) {
      if (t !== p) bad.push(i);
      continue;
    }
    if (!map.has(t)) map.set(t, p);
    if (!inverse.has(p)) inverse.set(p, t);
    if (map.get(t) !== p || inverse.get(p) !== t) bad.push(i);
  }
  expect(bad).toEqual([]);
}

const H = 64;
const W = 128;
const THREE: Rect[] = [
  { r0: 5, r1: 20, c0: 10, c1: 40, cls: 1 },
  { r0: 10, r1: 30, c0: 90, c1: 120, cls: 2 },
  { r0: 30, r1: 50, c0: 50, c1: 70, cls: 1 },
];

describe('clusterInstanceVotes', () => {
  it('recovers three rectangles whose votes hit their centroids exactly', () => {
    const s = scene(H, W, THREE);
    const pred = clusterInstanceVotes(s.semantic, s.offsets, H, W, { thingClasses: [1, 2] });
    expectSamePartition(pred, s.ids);
    expect(Math.max(...pred)).toBe(3);
    expect(Array.from(pred)).toEqual(Array.from(s.ids)); // numbered in raster order, as the rectangles
    const score = new InstanceMaskScore();
    score.add(pred, s.ids);
    expect(score.meanMatchedIoU()).toBe(1);
    expect(score.ap50()).toBe(1);
    expect(score.precision()).toBe(1);
    expect(score.recall()).toBe(1);
  });

  it('keeps ≥ 0.9 mean IoU with Gaussian vote noise of σ = 1 px', () => {
    const s = scene(H, W, THREE);
    for (const seed of [1, 2, 3]) {
      const noise = gaussian(seed);
      const noisy = Float32Array.from(s.offsets, (v, j) => (s.ids[j >> 1] ? v + noise() : v));
      const pred = clusterInstanceVotes(s.semantic, noisy, H, W, { thingClasses: [1, 2] });
      const score = new InstanceMaskScore();
      score.add(pred, s.ids);
      expect(score.meanMatchedIoU()).toBeGreaterThanOrEqual(0.9);
      expect(score.ap50()).toBe(1);
    }
  });

  it('separates adjacent same-class objects with distinct centroids', () => {
    // two touching 20×6 bars: centroids 6 px apart, side by side with a third touching one below
    const rects: Rect[] = [
      { r0: 10, r1: 30, c0: 10, c1: 16, cls: 1 },
      { r0: 10, r1: 30, c0: 16, c1: 22, cls: 1 },
      { r0: 30, r1: 40, c0: 10, c1: 22, cls: 1 },
    ];
    const s = scene(H, W, rects);
    const pred = clusterInstanceVotes(s.semantic, s.offsets, H, W, { thingClasses: [1] });
    expectSamePartition(pred, s.ids);
    expect(Math.max(...pred)).toBe(3);
    // and still with σ = 1 px vote noise
    const noise = gaussian(4);
    const noisy = Float32Array.from(s.offsets, (v, j) => (s.ids[j >> 1] ? v + noise() : v));
    const score = new InstanceMaskScore();
    score.add(clusterInstanceVotes(s.semantic, noisy, H, W, { thingClasses: [1] }), s.ids);
    expect(score.meanMatchedIoU()).toBeGreaterThanOrEqual(0.95);
    expect(score.ap50()).toBe(1);
  });

  it('never merges different classes, even when their votes coincide', () => {
    // one instance id per class, both voting for the same point (the centroid of their union)
    const rects: Rect[] = [
      { r0: 10, r1: 30, c0: 10, c1: 20, cls: 1 },
      { r0: 10, r1: 30, c0: 20, c1: 30, cls: 2 },
    ];
    const s = scene(H, W, rects, [0, 0]);
    const pred = clusterInstanceVotes(s.semantic, s.offsets, H, W, { thingClasses: [1, 2] });
    expect(Math.max(...pred)).toBe(2);
    const classOf = new Map<number, number>();
    for (let i = 0; i < pred.length; i++) {
      if (pred[i] === 0) continue;
      expect(classOf.get(pred[i]!) ?? s.semantic[i]).toBe(s.semantic[i]);
      classOf.set(pred[i]!, s.semantic[i]!);
    }
    expect(new Set(classOf.values())).toEqual(new Set([1, 2]));
  });

  it('gives stuff pixels id 0 and drops clusters smaller than minPixels', () => {
    const rects: Rect[] = [
      { r0: 10, r1: 20, c0: 10, c1: 20, cls: 1 },
      { r0: 40, r1: 42, c0: 60, c1: 62, cls: 1 }, // 4 pixels
      { r0: 10, r1: 20, c0: 80, c1: 90, cls: 3 }, // not a thing class
    ];
    const s = scene(H, W, rects);
    const pred = clusterInstanceVotes(s.semantic, s.offsets, H, W, { thingClasses: [1], minPixels: 5 });
    expect(Math.max(...pred)).toBe(1);
    expect(pred[15 * W + 15]).toBe(1);
    expect(pred[40 * W + 60]).toBe(0);
    expect(pred[15 * W + 85]).toBe(0);
    const keepSmall = clusterInstanceVotes(s.semantic, s.offsets, H, W, { thingClasses: [1], minPixels: 4 });
    expect(Math.max(...keepSmall)).toBe(2);
    expect(keepSmall[40 * W + 60]).toBe(2);
  });

  it('absorbs stray votes into the instance in reach and clamps votes outside the image', () => {
    const s = scene(H, W, [{ r0: 0, r1: 10, c0: 0, c1: 10, cls: 1 }]);
    s.offsets[2 * (5 * W + 5)] = 1.5; // one pixel votes 2 px below the centre: no cluster of its own
    s.offsets[2 * (9 * W + 9)] = -50; // one vote far above the image, 4.5 px off the centre once clamped
    const pred = clusterInstanceVotes(s.semantic, s.offsets, H, W, { thingClasses: [1] });
    expectSamePartition(pred, s.ids);
    const tight = clusterInstanceVotes(s.semantic, s.offsets, H, W, { thingClasses: [1], assignRadius: 3 });
    expect(tight[9 * W + 9]).toBe(0);
    expect(tight[5 * W + 5]).toBe(1);
  });

  it('returns all zeros without thing pixels and validates its inputs', () => {
    const s = scene(8, 8, [{ r0: 0, r1: 4, c0: 0, c1: 4, cls: 1 }]);
    expect(Array.from(clusterInstanceVotes(s.semantic, s.offsets, 8, 8, { thingClasses: [] }))).toEqual(
      new Array(64).fill(0),
    );
    expect(() => clusterInstanceVotes(s.semantic, s.offsets, 8, 9, { thingClasses: [1] })).toThrow(
      /semanticPred has 64 values, expected 72/,
    );
    expect(() =>
      clusterInstanceVotes(s.semantic, s.offsets.subarray(1), 8, 8, { thingClasses: [1] }),
    ).toThrow(/offsets has 127 values, expected 128/);
    expect(() =>
      clusterInstanceVotes(s.semantic, s.offsets, 8, 8, { thingClasses: [1], bandwidth: 0 }),
    ).toThrow(/bandwidth/);
    const bad = s.offsets.slice();
    bad[1] = NaN;
    expect(() => clusterInstanceVotes(s.semantic, bad, 8, 8, { thingClasses: [1] })).toThrow(/not finite/);
  });
});

describe('allPointAveragePrecision', () => {
  it('matches hand-worked precision–recall areas', () => {
    // ranks: TP (P 1, R 1/3), FP (1/2, 1/3), TP (2/3, 2/3); envelope 1 then 2/3 → 1/3·1 + 1/3·2/3 = 5/9
    expect(allPointAveragePrecision([0.9, 0.8, 0.7], [true, false, true], 3)).toBeCloseTo(5 / 9, 15);
    // the same detections in another input order rank the same
    expect(allPointAveragePrecision([0.7, 0.9, 0.8], [true, true, false], 3)).toBeCloseTo(5 / 9, 15);
    // FP first: TP at (1/2, 1/2), TP at (2/3, 1) → 2/3
    expect(allPointAveragePrecision([0.95, 0.9, 0.6], [false, true, true], 2)).toBeCloseTo(2 / 3, 15);
    expect(allPointAveragePrecision([0.5], [true], 1)).toBe(1);
    expect(allPointAveragePrecision([], [], 2)).toBe(0);
    expect(allPointAveragePrecision([0.5], [false], 0)).toBeNaN();
  });
});

describe('InstanceMaskScore', () => {
  // one 4×12 image: ground truth ids 1, 2, 3 in 4×4 blocks
  const truth = new Int32Array(48);
  const block = (ids: Int32Array, id: number, c0: number, rows = [0, 4], cols = [c0, c0 + 4]): void => {
    for (let r = rows[0]!; r < rows[1]!; r++) for (let c = cols[0]!; c < cols[1]!; c++) ids[r * 12 + c] = id;
  };
  block(truth, 1, 0);
  block(truth, 2, 4);
  block(truth, 3, 8);

  it('scores TP/FP by greedy IoU matching and ranks predictions by the given scores', () => {
    // pred 1 = truth 1 (score 0.9), pred 2 = top half of truth 3 (0.8, IoU 1/2), pred 3 = truth 2 (0.7)
    const pred = new Int32Array(48);
    block(pred, 1, 0);
    block(pred, 2, 8, [0, 2]);
    block(pred, 3, 4);
    const strict = new InstanceMaskScore({ iouThreshold: 0.75 });
    const image = strict.add(pred, truth, [0, 0.9, 0.8, 0.7]);
    // at 0.75: TP, FP, TP with 3 ground truths → AP 5/9
    expect(image.truePositives).toBe(2);
    expect(image.averagePrecision).toBeCloseTo(5 / 9, 15);
    expect(strict.averagePrecision()).toBeCloseTo(5 / 9, 15);
    expect(strict.precision()).toBeCloseTo(2 / 3, 15);
    expect(strict.recall()).toBeCloseTo(2 / 3, 15);
    expect(strict.meanMatchedIoU()).toBeCloseTo((1 + 1 + 0.5) / 3, 15);
    // at 0.5 (IoU ≥ threshold) all three are true positives
    expect(strict.ap50()).toBe(1);
    expect(strict.summary()).toEqual({
      numPredicted: 3,
      numTrue: 3,
      truePositives: 2,
      meanMatchedIoU: 2.5 / 3,
      precision: 2 / 3,
      recall: 2 / 3,
      averagePrecision: 5 / 9,
    });
  });

  it('ranks predictions across images', () => {
    const score = new InstanceMaskScore();
    // image 1: a TP (0.9) and a high-scoring FP (0.95); image 2: a TP (0.6)
    const t1 = new Int32Array(48);
    block(t1, 1, 0);
    const p1 = new Int32Array(48);
    block(p1, 1, 0);
    block(p1, 2, 8);
    score.add(p1, t1, [0, 0.9, 0.95]);
    const t2 = new Int32Array(48);
    block(t2, 7, 4);
    const p2 = new Int32Array(48);
    block(p2, 4, 4);
    score.add(p2, t2, Float32Array.from([0, 0, 0, 0, 0.6]));
    expect(score.count).toBe(2);
    expect(score.ap50()).toBeCloseTo(2 / 3, 15);
    expect(score.precision()).toBeCloseTo(2 / 3, 15);
    expect(score.recall()).toBe(1);
  });

  it('matches one to one: a prediction spanning two instances matches only one', () => {
    const pred = new Int32Array(48);
    block(pred, 5, 0, [0, 4], [0, 8]); // truth 1 ∪ truth 2 → IoU 1/2 with each
    const score = new InstanceMaskScore();
    const r = score.add(pred, truth);
    expect(r.truePositives).toBe(1);
    expect(r.recall).toBeCloseTo(1 / 3, 15);
    expect(r.meanMatchedIoU).toBeCloseTo(0.5 / 3, 15);
    // and two predictions splitting one instance: the larger part wins
    const split = new Int32Array(48);
    block(split, 1, 0, [0, 3]); // 12 px of truth 1 → IoU 3/4
    block(split, 2, 0, [3, 4]); // 4 px → IoU 1/4, unmatched
    const r2 = new InstanceMaskScore().add(split, truth);
    expect(r2.truePositives).toBe(1);
    expect(r2.precision).toBe(0.5);
    expect(r2.meanMatchedIoU).toBeCloseTo(0.75 / 3, 15);
  });

  it('defaults scores to pixel counts and follows its NaN conventions', () => {
    const pred = new Int32Array(48);
    block(pred, 1, 0, [0, 1]); // 4 px, FP at 0.5 (IoU 1/4)
    block(pred, 2, 4); // 16 px, TP
    const r = new InstanceMaskScore().add(pred, truth);
    // the larger TP ranks first → AP = 1/3 (recall 1/3 at precision 1)
    expect(r.averagePrecision).toBeCloseTo(1 / 3, 15);

    const empty = new InstanceMaskScore();
    expect(empty.ap50()).toBeNaN();
    expect(empty.meanMatchedIoU()).toBeNaN();
    expect(empty.precision()).toBeNaN();
    empty.add(new Int32Array(48), truth);
    expect(empty.ap50()).toBe(0);
    expect(empty.recall()).toBe(0);
    expect(empty.precision()).toBeNaN();
    const noTruth = new InstanceMaskScore();
    noTruth.add(truth, new Int32Array(48));
    expect(noTruth.precision()).toBe(0);
    expect(noTruth.recall()).toBeNaN();
  });

  it('validates its inputs', () => {
    const score = new InstanceMaskScore();
    expect(() => score.add(new Int32Array(47), truth)).toThrow(/predIds has 47 values but trueIds has 48/);
    expect(() =>
      score.add(
        Int32Array.from(truth, (v) => -v),
        truth,
      ),
    ).toThrow(/predIds\[0\] = -1/);
    expect(() => score.add(truth, truth, [0, 1, 1])).toThrow(/predScores\[3\]/);
    expect(score.count).toBe(0);
    expect(() => new InstanceMaskScore({ iouThreshold: 0 })).toThrow(/iouThreshold/);
  });
});
