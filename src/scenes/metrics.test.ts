import { describe, expect, it } from 'vitest';
import { InstanceVectorError, InverseDepthError, SemanticConfusion } from './metrics.js';

describe('SemanticConfusion', () => {
  // (label, pred): (0,0) (1,0) (1,1) ignored (2,2) (2,0)
  const pred = Int32Array.from([0, 0, 1, 1, 2, 0]);
  const label = Int32Array.from([0, 1, 1, -1, 2, 2]);

  it('matches a hand-computed confusion matrix, IoU and pixel accuracy, skipping −1 labels', () => {
    const cm = new SemanticConfusion(3);
    cm.add(pred, label);
    expect(Array.from(cm.matrix())).toEqual([1, 0, 0, 1, 1, 0, 1, 0, 1]);
    // class 0: TP 1, label 1, pred 3 → 1/3; classes 1 and 2: TP 1, label 2, pred 1 → 1/2
    const iou = cm.iou();
    expect(iou[0]).toBeCloseTo(1 / 3, 15);
    expect(iou[1]).toBeCloseTo(1 / 2, 15);
    expect(iou[2]).toBeCloseTo(1 / 2, 15);
    expect(cm.meanIoU()).toBeCloseTo(4 / 9, 15);
    expect(cm.pixelAccuracy()).toBeCloseTo(3 / 5, 15);
    expect(cm.count).toBe(5);
  });

  it('gives NaN IoU to classes absent from labels and predictions and leaves them out of the mean', () => {
    const cm = new SemanticConfusion(5);
    cm.add(pred, label);
    const iou = cm.iou();
    expect(iou[3]).toBeNaN();
    expect(iou[4]).toBeNaN();
    expect(cm.meanIoU()).toBeCloseTo(4 / 9, 15);
  });

  it('gives a class that is only predicted IoU 0 but leaves it out of the mean (classes in the ground truth only)', () => {
    const cm = new SemanticConfusion(4);
    cm.add([3, 0], [0, 0]); // class 3: FP 1 → IoU 0; class 0: TP 1, FN 1 → 1/2
    expect(cm.iou()).toEqual([0.5, NaN, NaN, 0]);
    expect(cm.meanIoU()).toBe(0.5);
    cm.add([1], [3]); // now class 3 is labelled: it counts, with IoU 0
    expect(cm.meanIoU()).toBe(0.25);
  });

  it('streams: batch by batch equals all at once', () => {
    const whole = new SemanticConfusion(3);
    whole.add(pred, label);
    const parts = new SemanticConfusion(3);
    parts.add(pred.subarray(0, 2), label.subarray(0, 2));
    parts.add(pred.subarray(2), label.subarray(2));
    expect(parts.matrix()).toEqual(whole.matrix());
    expect(parts.meanIoU()).toBe(whole.meanIoU());
  });

  it('is NaN before any labelled pixel, and after reset', () => {
    const cm = new SemanticConfusion(3);
    expect(cm.meanIoU()).toBeNaN();
    expect(cm.pixelAccuracy()).toBeNaN();
    cm.add([0, 1], [-1, -1]);
    expect(cm.count).toBe(0);
    expect(cm.meanIoU()).toBeNaN();
    cm.add(pred, label);
    cm.reset();
    expect(cm.pixelAccuracy()).toBeNaN();
    expect(Array.from(cm.matrix())).toEqual(new Array(9).fill(0));
  });

  it('rejects mismatched lengths, out-of-range classes, and leaves the matrix unchanged', () => {
    const cm = new SemanticConfusion(3);
    cm.add(pred, label);
    const before = cm.matrix();
    expect(() => cm.add([0, 1, 2], [0, 1])).toThrow(/pred has 3 values, expected 2/);
    expect(() => cm.add([0, 3], [0, 1])).toThrow(/pred\[1\] = 3 is not a class in \[0, 3\)/);
    expect(() => cm.add([0, -1], [0, 1])).toThrow(/pred\[1\] = -1/);
    expect(() => cm.add([0, 0.5], [0, 1])).toThrow(/pred\[1\] = 0.5/);
    expect(() => cm.add([0, 0], [0, -2])).toThrow(/label\[1\] = -2/);
    expect(() => cm.add([0, 0], [0, 3])).toThrow(/label\[1\] = 3/);
    expect(() => cm.add([0, 0], [0, NaN])).toThrow(/label\[1\] = NaN/);
    expect(cm.matrix()).toEqual(before);
    expect(() => new SemanticConfusion(0)).toThrow(/positive integer/);
  });
});

describe('InstanceVectorError', () => {
  it('is the mean Euclidean norm and mean per-component L1 over instance pixels', () => {
    const e = new InstanceVectorError();
    const ids = Int32Array.from([1, 2, 0]);
    // errors: (3, 4) → ‖·‖ 5, L1/2 3.5; (0, −2) → 2, 1; the id-0 pixel (100, 100) is not scored
    const target = Float32Array.from([1, -1, 2, 2, NaN, 0]);
    const pred = Float32Array.from([4, 3, 2, 0, 100, 100]);
    e.add(pred, target, ids);
    expect(e.count).toBe(2);
    expect(e.meanError()).toBeCloseTo(3.5, 12);
    expect(e.meanAbsError()).toBeCloseTo(2.25, 12);
    // a second batch with one pixel off by (−6, 8): ‖·‖ 10, L1/2 7
    e.add([-6, 8], [0, 0], [5]);
    expect(e.count).toBe(3);
    expect(e.meanError()).toBeCloseTo(17 / 3, 12);
    expect(e.meanAbsError()).toBeCloseTo(11.5 / 3, 12);
  });

  it('is NaN only while no instance pixel was counted, and validates its inputs', () => {
    const e = new InstanceVectorError();
    expect(e.meanError()).toBeNaN();
    e.add([1, 1], [0, 0], [0]);
    expect(e.meanAbsError()).toBeNaN();
    expect(() => e.add([1, 1], [0, 0, 0, 0], [1, 1])).toThrow(/pred has 2 values, expected 4/);
    expect(() => e.add([1, 1, 0, 0], [0, 0, 0], [1, 1])).toThrow(/target has 3 values, expected 4/);
    expect(() => e.add([1, NaN], [0, 0], [1])).toThrow(/pred\[1\] = NaN/);
    expect(e.count).toBe(0);
  });
});

describe('InverseDepthError', () => {
  it('is the mean absolute error and RMSE over masked pixels', () => {
    const d = new InverseDepthError();
    // differences 1, −2, (masked 100), 2
    d.add(
      Float32Array.from([1.5, 0, 100, 3]),
      Float32Array.from([0.5, 2, 0, 1]),
      Uint8Array.from([1, 1, 0, 1]),
    );
    expect(d.count).toBe(3);
    expect(d.meanAbsError()).toBeCloseTo(5 / 3, 6);
    expect(d.rmse()).toBeCloseTo(Math.sqrt(3), 6);
  });

  it('is NaN while nothing is labelled, and validates its inputs', () => {
    const d = new InverseDepthError();
    d.add([1], [NaN], [0]);
    expect(d.meanAbsError()).toBeNaN();
    expect(d.rmse()).toBeNaN();
    expect(() => d.add([1, 2], [1], [1, 1])).toThrow(/target has 1 values, expected 2/);
    expect(() => d.add([1, 2], [1, Infinity], [1, 1])).toThrow(/target\[1\] = Infinity/);
    expect(d.count).toBe(0);
  });
});
