/**
 * Streaming evaluation metrics of the scene-understanding tasks of Kendall, Gal & Cipolla (CVPR 2018,
 * Table 1): semantic mean IoU, instance-vector error (px) and inverse-depth error. Pure TypeScript on flat
 * row-major arrays, so evaluation can run batch by batch in Node or a browser.
 *
 * Every accumulator validates a whole batch before counting any of it: a batch that throws leaves the
 * accumulator unchanged. The means are NaN only while nothing has been counted (no labelled pixel added
 * yet); otherwise they are finite, because non-finite values on counted pixels are rejected.
 */

/** Value used in semantic label maps for pixels that are not scored. */
export const IGNORE_LABEL = -1;

function checkLengths(where: string, what: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new RangeError(`${where}: ${what} has ${actual} values, expected ${expected}`);
  }
}

function checkFinite(where: string, what: string, value: number, index: number): void {
  if (!Number.isFinite(value)) {
    throw new RangeError(`${where}: ${what}[${index}] = ${value} is not finite on a labelled pixel`);
  }
}

/**
 * Confusion matrix of semantic segmentation, rows = label, columns = prediction. Labels equal to −1 are
 * ignored; every other label and every prediction must be an integer class index in [0, numClasses).
 */
export class SemanticConfusion {
  readonly numClasses: number;
  private readonly counts: Float64Array;
  private total = 0;

  constructor(numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new RangeError(`SemanticConfusion: numClasses must be a positive integer, got ${numClasses}`);
    }
    this.numClasses = numClasses;
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Number of labelled (non-ignored) pixels counted so far. */
  get count(): number {
    return this.total;
  }

  /** Counts one batch of predicted classes against labels (same length, any number of images). */
  add(pred: ArrayLike<number>, label: ArrayLike<number>): void {
    const where = 'SemanticConfusion.add';
    checkLengths(where, 'pred', pred.length, label.length);
    const c = this.numClasses;
    for (let i = 0; i < label.length; i++) {
      const l = label[i]!;
      if (l !== IGNORE_LABEL && !(l >= 0 && l < c && Number.isInteger(l))) {
        throw new RangeError(`${where}: label[${i}] = ${l} is not a class in [0, ${c}) nor −1 (ignore)`);
      }
      const p = pred[i]!;
      if (!(p >= 0 && p < c && Number.isInteger(p))) {
        throw new RangeError(`${where}: pred[${i}] = ${p} is not a class in [0, ${c})`);
      }
    }
    let counted = 0;
    for (let i = 0; i < label.length; i++) {
      const l = label[i]!;
      if (l === IGNORE_LABEL) continue;
      this.counts[l * c + pred[i]!]!++;
      counted++;
    }
    this.total += counted;
  }

  /** A copy of the C×C matrix, row-major, entry [label·C + pred] = number of pixels. */
  matrix(): Float64Array {
    return this.counts.slice();
  }

  /** Per-class IoU = TP / (TP + FP + FN); NaN for a class absent from both labels and predictions. */
  iou(): number[] {
    const c = this.numClasses;
    const out: number[] = [];
    for (let k = 0; k < c; k++) {
      let rowSum = 0;
      let colSum = 0;
      for (let j = 0; j < c; j++) {
        rowSum += this.counts[k * c + j]!;
        colSum += this.counts[j * c + k]!;
      }
      const tp = this.counts[k * c + k]!;
      const union = rowSum + colSum - tp;
      out.push(union > 0 ? tp / union : NaN);
    }
    return out;
  }

  /**
   * Mean of the per-class IoU over the classes present in the ground truth (as Cityscapes' evaluation
   * does: a class that is only predicted, never labelled, does not count); NaN while nothing is counted.
   */
  meanIoU(): number {
    const c = this.numClasses;
    const iou = this.iou();
    let sum = 0;
    let n = 0;
    for (let k = 0; k < c; k++) {
      let labelled = 0;
      for (let j = 0; j < c; j++) labelled += this.counts[k * c + j]!;
      if (labelled === 0) continue;
      sum += iou[k]!;
      n++;
    }
    return n > 0 ? sum / n : NaN;
  }

  /** Fraction of labelled pixels predicted correctly; NaN while nothing is counted. */
  pixelAccuracy(): number {
    if (this.total === 0) return NaN;
    let correct = 0;
    for (let k = 0; k < this.numClasses; k++) correct += this.counts[k * this.numClasses + k]!;
    return correct / this.total;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }
}

/**
 * Error of the instance vectors (offsets (dy, dx) from each pixel to its instance centroid, px), over the
 * pixels with instance id > 0.
 */
export class InstanceVectorError {
  private n = 0;
  private sumNorm = 0;
  private sumAbs = 0;

  /** Number of instance pixels counted so far. */
  get count(): number {
    return this.n;
  }

  /**
   * Counts one batch: `pred` and `target` are [N·H·W·2] interleaved (dy, dx), `instanceIds` is [N·H·W];
   * only pixels with id > 0 are scored, and their pred/target must be finite.
   */
  add(pred: ArrayLike<number>, target: ArrayLike<number>, instanceIds: ArrayLike<number>): void {
    const where = 'InstanceVectorError.add';
    const pixels = instanceIds.length;
    checkLengths(where, 'pred', pred.length, 2 * pixels);
    checkLengths(where, 'target', target.length, 2 * pixels);
    let n = 0;
    let sumNorm = 0;
    let sumAbs = 0;
    for (let i = 0; i < pixels; i++) {
      if (!(instanceIds[i]! > 0)) continue;
      const dy = pred[2 * i]! - target[2 * i]!;
      const dx = pred[2 * i + 1]! - target[2 * i + 1]!;
      if (!Number.isFinite(dy) || !Number.isFinite(dx)) {
        for (const j of [2 * i, 2 * i + 1]) {
          checkFinite(where, 'pred', pred[j]!, j);
          checkFinite(where, 'target', target[j]!, j);
        }
        throw new RangeError(`${where}: pred − target overflows at pixel ${i}`);
      }
      sumNorm += Math.sqrt(dy * dy + dx * dx);
      sumAbs += Math.abs(dy) + Math.abs(dx);
      n++;
    }
    this.n += n;
    this.sumNorm += sumNorm;
    this.sumAbs += sumAbs;
  }

  /** Mean Euclidean norm ‖pred − target‖₂ over instance pixels (px); NaN while nothing is counted. */
  meanError(): number {
    return this.n > 0 ? this.sumNorm / this.n : NaN;
  }

  /**
   * Mean per-component absolute error (|Δdy| + |Δdx|) / 2 over instance pixels (px), the L1 the instance
   * loss averages; NaN while nothing is counted.
   */
  meanAbsError(): number {
    return this.n > 0 ? this.sumAbs / (2 * this.n) : NaN;
  }

  reset(): void {
    this.n = 0;
    this.sumNorm = 0;
    this.sumAbs = 0;
  }
}

/** Error of the predicted inverse depth over the labelled pixels (mask ≠ 0). */
export class InverseDepthError {
  private n = 0;
  private sumAbs = 0;
  private sumSq = 0;

  /** Number of labelled pixels counted so far. */
  get count(): number {
    return this.n;
  }

  /** Counts one batch: `pred`, `target` and `mask` are [N·H·W]; pred/target must be finite where mask ≠ 0. */
  add(pred: ArrayLike<number>, target: ArrayLike<number>, mask: ArrayLike<number>): void {
    const where = 'InverseDepthError.add';
    checkLengths(where, 'pred', pred.length, mask.length);
    checkLengths(where, 'target', target.length, mask.length);
    let n = 0;
    let sumAbs = 0;
    let sumSq = 0;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 0) continue;
      const d = pred[i]! - target[i]!;
      if (!Number.isFinite(d)) {
        checkFinite(where, 'pred', pred[i]!, i);
        checkFinite(where, 'target', target[i]!, i);
        throw new RangeError(`${where}: pred − target overflows at pixel ${i}`);
      }
      sumAbs += Math.abs(d);
      sumSq += d * d;
      n++;
    }
    this.n += n;
    this.sumAbs += sumAbs;
    this.sumSq += sumSq;
  }

  /** Mean |pred − target| over labelled pixels; NaN while nothing is counted. */
  meanAbsError(): number {
    return this.n > 0 ? this.sumAbs / this.n : NaN;
  }

  /** √(mean (pred − target)²) over labelled pixels; NaN while nothing is counted. */
  rmse(): number {
    return this.n > 0 ? Math.sqrt(this.sumSq / this.n) : NaN;
  }

  reset(): void {
    this.n = 0;
    this.sumAbs = 0;
    this.sumSq = 0;
  }
}
