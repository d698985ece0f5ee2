/**
 * Instance segmentation from instance-centroid votes (Kendall, Gal & Cipolla, CVPR 2018, §4.2) and its
 * scoring. Pure TypeScript on flat row-major arrays (Node or browser).
 *
 * The paper clusters the votes with OPTICS; `clusterInstanceVotes` uses a faster, deterministic
 * histogram-mode scheme with the same inputs: per thing class, votes are splatted into a 2-D histogram,
 * smoothed with a Gaussian, its local maxima (non-maximum suppression within `bandwidth`) are the instance
 * centres, and each pixel joins the nearest centre of its own class within `assignRadius`.
 */

export interface InstanceClusteringOptions {
  /** Thing pixels are those whose predicted class is one of these; the others get id 0. */
  thingClasses: readonly number[];
  /**
   * Kernel scale, px (default 3): the vote histogram is smoothed with a Gaussian of σ = bandwidth / 2, and
   * centres closer than `bandwidth` are merged (keeping the denser one).
   */
  bandwidth?: number;
  /** Clusters with fewer pixels are dropped (default 8); their pixels join another centre in reach, or 0. */
  minPixels?: number;
  /** A pixel joins the nearest centre of its class whose distance to its vote is ≤ this, px (default 3·bandwidth). */
  assignRadius?: number;
}

/** A histogram mode must hold at least about one vote's worth of smoothed mass to become a centre. */
const MIN_PEAK_DENSITY = 1;

interface Peak {
  y: number;
  x: number;
  density: number;
  pixels: number;
  alive: boolean;
}

function positiveNumber(where: string, name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`${where}: ${name} must be a positive finite number, got ${value}`);
  }
  return value;
}

/**
 * Instance ids for ONE image, Int32Array [H·W] (0 = none, 1..K numbered in raster order of each
 * instance's first pixel), from its predicted semantic classes [H·W] and predicted instance offsets
 * [H·W·2] = (dy, dx) to the instance centroid, px.
 *
 * Each thing pixel (row, col) votes for the centre (row + dy, col + dx), clamped to the image. Votes are
 * clustered per predicted class, so an instance never mixes classes: bilinear splatting into an H×W
 * histogram, Gaussian smoothing (σ = bandwidth / 2), local maxima of density ≥ 1 with non-maximum
 * suppression in a disc of radius `bandwidth`, each maximum refined to the mean of the votes within
 * `bandwidth` and merged with a denser centre closer than `bandwidth`. Pixels join the nearest centre of
 * their class within `assignRadius`; centres with fewer than `minPixels` pixels are then dropped and their
 * pixels re-assigned to the surviving centres (or 0 when none is in reach).
 * Cost: O(P·K + A·(kernel + disc)) for P thing pixels, K centres and A histogram cells in the bounding box
 * of each class's votes.
 */
export function clusterInstanceVotes(
  semanticPred: ArrayLike<number>,
  offsets: ArrayLike<number>,
  height: number,
  width: number,
  options: InstanceClusteringOptions,
): Int32Array {
  const where = 'clusterInstanceVotes';
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(`${where}: height and width must be positive integers, got ${height}×${width}`);
  }
  const hw = height * width;
  if (semanticPred.length !== hw) {
    throw new RangeError(`${where}: semanticPred has ${semanticPred.length} values, expected ${hw}`);
  }
  if (offsets.length !== 2 * hw) {
    throw new RangeError(`${where}: offsets has ${offsets.length} values, expected ${2 * hw} (H·W·2)`);
  }
  const bandwidth = positiveNumber(where, 'bandwidth', options.bandwidth ?? 3);
  const assignRadius = positiveNumber(where, 'assignRadius', options.assignRadius ?? 3 * bandwidth);
  const minPixels = options.minPixels ?? 8;
  if (!(Number.isFinite(minPixels) && minPixels >= 0)) {
    throw new RangeError(`${where}: minPixels must be a non-negative number, got ${minPixels}`);
  }

  // votes, grouped by predicted thing class
  const thing = new Set(options.thingClasses);
  const voteY = new Float64Array(hw);
  const voteX = new Float64Array(hw);
  const byClass = new Map<number, number[]>();
  for (let row = 0, i = 0; row < height; row++) {
    for (let col = 0; col < width; col++, i++) {
      const cls = semanticPred[i]!;
      if (!thing.has(cls)) continue;
      const dy = offsets[2 * i]!;
      const dx = offsets[2 * i + 1]!;
      if (!Number.isFinite(dy) || !Number.isFinite(dx)) {
        throw new RangeError(`${where}: offsets of thing pixel ${i} are not finite (${dy}, ${dx})`);
      }
      voteY[i] = Math.min(height - 1, Math.max(0, row + dy));
      voteX[i] = Math.min(width - 1, Math.max(0, col + dx));
      let list = byClass.get(cls);
      if (list === undefined) byClass.set(cls, (list = []));
      list.push(i);
    }
  }
  const ids = new Int32Array(hw);
  if (byClass.size === 0) return ids;

  // Gaussian kernel (weight 1 at the centre: the density of k coincident votes is k) and the NMS disc
  const sigma = bandwidth / 2;
  const kr = Math.max(1, Math.ceil(2 * sigma));
  const kernel = new Float64Array(2 * kr + 1);
  for (let j = -kr; j <= kr; j++) kernel[j + kr] = Math.exp((-j * j) / (2 * sigma * sigma));
  const discR = Math.floor(bandwidth);
  const disc: number[] = []; // (dr, dc) pairs
  for (let dr = -discR; dr <= discR; dr++) {
    for (let dc = -discR; dc <= discR; dc++) {
      if ((dr !== 0 || dc !== 0) && dr * dr + dc * dc <= bandwidth * bandwidth) disc.push(dr, dc);
    }
  }

  const hist = new Float64Array(hw);
  const tmp = new Float64Array(hw);
  const dens = new Float64Array(hw);
  const peaks: Peak[] = [];
  const owner = new Int32Array(hw).fill(-1); // peak index of each thing pixel
  const r2 = assignRadius * assignRadius;
  const bw2 = bandwidth * bandwidth;

  /** Index of the nearest alive peak among peaks[from, to) within assignRadius of the vote, or −1. */
  const nearest = (p: number, from: number, to: number): number => {
    let best = -1;
    let bestD = r2;
    for (let k = from; k < to; k++) {
      const pk = peaks[k]!;
      if (!pk.alive) continue;
      const ey = voteY[p]! - pk.y;
      const ex = voteX[p]! - pk.x;
      const d = ey * ey + ex * ex;
      if (d <= bestD && (best < 0 || d < bestD)) {
        best = k;
        bestD = d;
      }
    }
    return best;
  };

  for (const pixels of byClass.values()) {
    // region: bounding box of the votes grown by the kernel radius (the density is 0 outside)
    let y0 = height;
    let y1 = 0;
    let x0 = width;
    let x1 = 0;
    for (const p of pixels) {
      y0 = Math.min(y0, Math.floor(voteY[p]!));
      y1 = Math.max(y1, Math.ceil(voteY[p]!));
      x0 = Math.min(x0, Math.floor(voteX[p]!));
      x1 = Math.max(x1, Math.ceil(voteX[p]!));
    }
    const r0 = Math.max(0, y0 - kr);
    const r1 = Math.min(height - 1, y1 + kr);
    const c0 = Math.max(0, x0 - kr);
    const c1 = Math.min(width - 1, x1 + kr);
    for (let r = r0; r <= r1; r++) hist.fill(0, r * width + c0, r * width + c1 + 1);

    // bilinear splatting (keeps the first moment of the votes)
    for (const p of pixels) {
      const y = voteY[p]!;
      const x = voteX[p]!;
      const iy = Math.floor(y);
      const ix = Math.floor(x);
      const fy = y - iy;
      const fx = x - ix;
      const base = iy * width + ix;
      hist[base]! += (1 - fy) * (1 - fx);
      if (fx > 0) hist[base + 1]! += (1 - fy) * fx;
      if (fy > 0) {
        hist[base + width]! += fy * (1 - fx);
        if (fx > 0) hist[base + width + 1]! += fy * fx;
      }
    }

    // separable Gaussian smoothing inside the region
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        let s = 0;
        const jLo = Math.max(-kr, c0 - c);
        const jHi = Math.min(kr, c1 - c);
        for (let j = jLo; j <= jHi; j++) s += kernel[j + kr]! * hist[r * width + c + j]!;
        tmp[r * width + c] = s;
      }
    }
    for (let r = r0; r <= r1; r++) {
      const jLo = Math.max(-kr, r0 - r);
      const jHi = Math.min(kr, r1 - r);
      for (let c = c0; c <= c1; c++) {
        let s = 0;
        for (let j = jLo; j <= jHi; j++) s += kernel[j + kr]! * tmp[(r + j) * width + c]!;
        dens[r * width + c] = s;
      }
    }

    // local maxima; ties are broken towards the lower raster index so a plateau yields one candidate
    const candidates: { idx: number; density: number }[] = [];
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const idx = r * width + c;
        const d = dens[idx]!;
        if (d < MIN_PEAK_DENSITY) continue;
        let isMax = true;
        for (let q = 0; q < disc.length; q += 2) {
          const rr = r + disc[q]!;
          const cc = c + disc[q + 1]!;
          if (rr < r0 || rr > r1 || cc < c0 || cc > c1) continue;
          const v = dens[rr * width + cc]!;
          if (v > d || (v === d && rr * width + cc < idx)) {
            isMax = false;
            break;
          }
        }
        if (isMax) candidates.push({ idx, density: d });
      }
    }
    candidates.sort((a, b) => b.density - a.density || a.idx - b.idx);

    // refine each maximum to the mean of the votes within bandwidth (one mean-shift step on the histogram),
    // then merge centres closer than bandwidth into the denser one
    const first = peaks.length;
    for (const { idx, density } of candidates) {
      const r = Math.floor(idx / width);
      const c = idx - r * width;
      let mass = hist[idx]!;
      let my = r * mass;
      let mx = c * mass;
      for (let q = 0; q < disc.length; q += 2) {
        const rr = r + disc[q]!;
        const cc = c + disc[q + 1]!;
        if (rr < r0 || rr > r1 || cc < c0 || cc > c1) continue;
        const m = hist[rr * width + cc]!;
        mass += m;
        my += rr * m;
        mx += cc * m;
      }
      const y = mass > 0 ? my / mass : r;
      const x = mass > 0 ? mx / mass : c;
      let merged = false;
      for (let k = first; k < peaks.length; k++) {
        const ey = peaks[k]!.y - y;
        const ex = peaks[k]!.x - x;
        if (ey * ey + ex * ex < bw2) {
          merged = true;
          break;
        }
      }
      if (!merged) peaks.push({ y, x, density, pixels: 0, alive: true });
    }
    const last = peaks.length;
    if (last === first) continue;

    // assignment, then drop the small clusters and re-assign their pixels once (survivors only grow)
    for (const p of pixels) {
      const k = nearest(p, first, last);
      owner[p] = k;
      if (k >= 0) peaks[k]!.pixels++;
    }
    let dropped = false;
    for (let k = first; k < last; k++) {
      if (peaks[k]!.pixels < minPixels) {
        peaks[k]!.alive = false;
        dropped = true;
      }
    }
    if (!dropped) continue;
    for (const p of pixels) {
      const k = owner[p]!;
      if (k < 0 || peaks[k]!.alive) continue;
      const j = nearest(p, first, last);
      owner[p] = j;
      if (j >= 0) peaks[j]!.pixels++;
    }
  }

  // number the surviving instances in raster order of their first pixel
  const idOf = new Int32Array(peaks.length);
  let next = 0;
  for (let i = 0; i < hw; i++) {
    const k = owner[i]!;
    if (k < 0 || !peaks[k]!.alive) continue;
    if (idOf[k] === 0) idOf[k] = ++next;
    ids[i] = idOf[k]!;
  }
  return ids;
}

/** Scores of one image, or accumulated over all images added so far. */
export interface InstanceMatchResult {
  /** Predicted instances (ids > 0). */
  numPredicted: number;
  /** Ground-truth instances (ids > 0). */
  numTrue: number;
  /** Predictions matched to a ground-truth instance with IoU ≥ the threshold. */
  truePositives: number;
  /** Mean over ground-truth instances of the IoU with the matched prediction (0 if unmatched); NaN if none. */
  meanMatchedIoU: number;
  /** truePositives / numPredicted; NaN if no prediction. */
  precision: number;
  /** truePositives / numTrue; NaN if no ground truth. */
  recall: number;
  /** All-point interpolated average precision at the threshold; NaN if no ground truth. */
  averagePrecision: number;
}

/**
 * Area under the precision–recall curve of detections ranked by score (descending, ties in the given
 * order), with all-point interpolation (VOC 2010+ / COCO without the 101-point sampling): the precision at
 * each recall is the maximum precision at any recall ≥ it. NaN if `numTrue` is 0.
 */
export function allPointAveragePrecision(
  scores: ArrayLike<number>,
  truePositive: ArrayLike<boolean>,
  numTrue: number,
): number {
  if (scores.length !== truePositive.length) {
    throw new RangeError(
      `allPointAveragePrecision: ${scores.length} scores but ${truePositive.length} true-positive flags`,
    );
  }
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!))
      throw new RangeError(`allPointAveragePrecision: scores[${i}] is not finite`);
  }
  if (numTrue <= 0) return NaN;
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const precision = new Float64Array(order.length);
  const isTp = new Uint8Array(order.length);
  let tp = 0;
  for (let rank = 0; rank < order.length; rank++) {
    if (truePositive[order[rank]!]) {
      tp++;
      isTp[rank] = 1;
    }
    precision[rank] = tp / (rank + 1);
  }
  if (tp > numTrue) {
    throw new RangeError(`allPointAveragePrecision: ${tp} true positives but only ${numTrue} ground truths`);
  }
  // precision envelope, then Σ over recall steps (each true positive adds 1 / numTrue of recall)
  let ap = 0;
  let envelope = 0;
  for (let rank = order.length - 1; rank >= 0; rank--) {
    envelope = Math.max(envelope, precision[rank]!);
    if (isTp[rank] === 1) ap += envelope / numTrue;
  }
  return ap;
}

interface ImageMatch {
  scores: number[];
  /** IoU of each prediction with its matched ground truth, 0 if unmatched. */
  predIoU: number[];
  /** Σ over ground-truth instances of the IoU with their match. */
  trueIoUSum: number;
  numTrue: number;
}

function collectIds(
  where: string,
  what: string,
  ids: ArrayLike<number>,
): { index: Map<number, number>; area: number[] } {
  const index = new Map<number, number>();
  const area: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id === 0) continue;
    if (!(id > 0 && Number.isInteger(id))) {
      throw new RangeError(`${where}: ${what}[${i}] = ${id} is not an instance id (integer ≥ 0)`);
    }
    let k = index.get(id);
    if (k === undefined) {
      k = area.length;
      index.set(id, k);
      area.push(0);
    }
    area[k]!++;
  }
  return { index, area };
}

function matchImage(
  predIds: ArrayLike<number>,
  trueIds: ArrayLike<number>,
  predScores: ArrayLike<number> | undefined,
): ImageMatch {
  const where = 'InstanceMaskScore.add';
  if (predIds.length !== trueIds.length) {
    throw new RangeError(`${where}: predIds has ${predIds.length} values but trueIds has ${trueIds.length}`);
  }
  const pred = collectIds(where, 'predIds', predIds);
  const truth = collectIds(where, 'trueIds', trueIds);
  const numPred = pred.area.length;
  const numTrue = truth.area.length;

  const scores: number[] = new Array<number>(numPred);
  for (const [id, k] of pred.index) {
    if (predScores === undefined) {
      scores[k] = pred.area[k]!;
    } else {
      const s = id < predScores.length ? predScores[id]! : NaN;
      if (!Number.isFinite(s)) {
        throw new RangeError(
          `${where}: predScores[${id}] = ${s} is not a finite score of predicted id ${id}`,
        );
      }
      scores[k] = s;
    }
  }

  const intersection = new Map<number, number>(); // key predIndex·numTrue + trueIndex
  for (let i = 0; i < predIds.length; i++) {
    const p = predIds[i]!;
    const t = trueIds[i]!;
    if (p === 0 || t === 0) continue;
    const key = pred.index.get(p)! * numTrue + truth.index.get(t)!;
    intersection.set(key, (intersection.get(key) ?? 0) + 1);
  }
  const pairs: { p: number; t: number; iou: number }[] = [];
  for (const [key, inter] of intersection) {
    const p = Math.floor(key / numTrue);
    const t = key - p * numTrue;
    pairs.push({ p, t, iou: inter / (pred.area[p]! + truth.area[t]! - inter) });
  }
  // greedy one-to-one by IoU (higher score first on ties); pairs with IoU > 0.5 are unique, so at
  // thresholds ≥ 0.5 this equals the COCO/VOC score-ordered matching
  pairs.sort((a, b) => b.iou - a.iou || scores[b.p]! - scores[a.p]! || a.p - b.p || a.t - b.t);
  const predIoU = new Array<number>(numPred).fill(0);
  const predUsed = new Uint8Array(numPred);
  const trueUsed = new Uint8Array(numTrue);
  let trueIoUSum = 0;
  for (const { p, t, iou } of pairs) {
    if (predUsed[p] || trueUsed[t]) continue;
    predUsed[p] = 1;
    trueUsed[t] = 1;
    predIoU[p] = iou;
    trueIoUSum += iou;
  }
  return { scores, predIoU, trueIoUSum, numTrue };
}

function summarize(
  scores: readonly number[],
  predIoU: readonly number[],
  trueIoUSum: number,
  numTrue: number,
  threshold: number,
): InstanceMatchResult {
  const tpFlags = predIoU.map((v) => v > 0 && v >= threshold);
  const truePositives = tpFlags.filter(Boolean).length;
  const numPredicted = scores.length;
  return {
    numPredicted,
    numTrue,
    truePositives,
    meanMatchedIoU: numTrue > 0 ? trueIoUSum / numTrue : NaN,
    precision: numPredicted > 0 ? truePositives / numPredicted : NaN,
    recall: numTrue > 0 ? truePositives / numTrue : NaN,
    averagePrecision: allPointAveragePrecision(scores, tpFlags, numTrue),
  };
}

/**
 * Streaming instance-mask scoring: per image, predicted and ground-truth instances (id maps, 0 = none)
 * are matched one-to-one greedily by mask IoU; a prediction is a true positive when its match has
 * IoU ≥ `iouThreshold` (default 0.5). Average precision ranks all predictions of all images by score.
 *
 * NaN conventions: precision is NaN while no prediction was added; recall, meanMatchedIoU and AP are NaN
 * while no ground-truth instance was added.
 */
export class InstanceMaskScore {
  readonly iouThreshold: number;
  private readonly scores: number[] = [];
  private readonly predIoU: number[] = [];
  private trueIoUSum = 0;
  private numTrue = 0;
  private images = 0;

  constructor(options: { iouThreshold?: number } = {}) {
    const t = options.iouThreshold ?? 0.5;
    if (!(t > 0 && t <= 1))
      throw new RangeError(`InstanceMaskScore: iouThreshold must be in (0, 1], got ${t}`);
    this.iouThreshold = t;
  }

  /** Number of images added. */
  get count(): number {
    return this.images;
  }

  /**
   * Scores one image: `predIds` and `trueIds` are [H·W] instance ids; `predScores[id]` is the confidence
   * of predicted instance `id` (default: its pixel count). Returns that image's own scores.
   */
  add(
    predIds: ArrayLike<number>,
    trueIds: ArrayLike<number>,
    predScores?: ArrayLike<number>,
  ): InstanceMatchResult {
    const m = matchImage(predIds, trueIds, predScores);
    for (let k = 0; k < m.scores.length; k++) {
      this.scores.push(m.scores[k]!);
      this.predIoU.push(m.predIoU[k]!);
    }
    this.trueIoUSum += m.trueIoUSum;
    this.numTrue += m.numTrue;
    this.images++;
    return summarize(m.scores, m.predIoU, m.trueIoUSum, m.numTrue, this.iouThreshold);
  }

  /** Everything accumulated so far, at `iouThreshold`. */
  summary(): InstanceMatchResult {
    return summarize(this.scores, this.predIoU, this.trueIoUSum, this.numTrue, this.iouThreshold);
  }

  /** Mean over ground-truth instances of the IoU with the matched prediction (0 if unmatched). */
  meanMatchedIoU(): number {
    return this.numTrue > 0 ? this.trueIoUSum / this.numTrue : NaN;
  }

  /** Average precision with true positives at IoU ≥ `threshold` (default `iouThreshold`). */
  averagePrecision(threshold = this.iouThreshold): number {
    if (!(threshold > 0 && threshold <= 1)) {
      throw new RangeError(
        `InstanceMaskScore.averagePrecision: threshold must be in (0, 1], got ${threshold}`,
      );
    }
    return summarize(this.scores, this.predIoU, this.trueIoUSum, this.numTrue, threshold).averagePrecision;
  }

  /** Average precision at IoU ≥ 0.5, whatever `iouThreshold` is. */
  ap50(): number {
    return this.averagePrecision(0.5);
  }

  /** True positives / predictions at `iouThreshold`. */
  precision(): number {
    return this.summary().precision;
  }

  /** True positives / ground-truth instances at `iouThreshold`. */
  recall(): number {
    return this.summary().recall;
  }

  reset(): void {
    this.scores.length = 0;
    this.predIoU.length = 0;
    this.trueIoUSum = 0;
    this.numTrue = 0;
    this.images = 0;
  }
}
