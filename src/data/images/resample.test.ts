import { describe, expect, it } from 'vitest';
import { resizeBilinearArea, resizeNearest, type Crop } from './resample.js';

const whole = (h: number, w: number): Crop => ({ top: 0, left: 0, height: h, width: w });

/** An H×W×C image whose value at (y, x, c) is f(y, x, c). */
function image(
  h: number,
  w: number,
  c: number,
  f: (y: number, x: number, c: number) => number,
): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = f(y, x, k);
  return out;
}

/** Mirrors an interleaved H×W×C image left to right. */
function mirror<T extends ArrayLike<number>>(a: T, h: number, w: number, c: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < h; y++)
    for (let x = w - 1; x >= 0; x--) for (let k = 0; k < c; k++) out.push(a[(y * w + x) * c + k]!);
  return out;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

/** A pseudo-random integer image in [0, 255]. */
function noise(h: number, w: number, c: number, seed = 1): Uint8Array {
  const out = new Uint8Array(h * w * c);
  let x = seed;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('resizeBilinearArea', () => {
  it('is an exact copy for the whole image at its own size', () => {
    const src = noise(13, 17, 3);
    expect(Array.from(resizeBilinearArea(src, 13, 17, 3, whole(13, 17), 13, 17))).toEqual(Array.from(src));
    const big = Float32Array.from([0.1, 1e7 + 1, -3.25, 16777215]);
    expect(resizeBilinearArea(big, 2, 2, 1, whole(2, 2), 2, 2)).toEqual(big);
  });

  it('averages 2×2 blocks when halving', () => {
    // 4×4×2: channel 0 = y·4 + x, channel 1 = 100 − that
    const src = image(4, 4, 2, (y, x, c) => (c === 0 ? y * 4 + x : 100 - (y * 4 + x)));
    const out = resizeBilinearArea(src, 4, 4, 2, whole(4, 4), 2, 2);
    const block = (y: number, x: number) =>
      (y * 8 + x * 2 + (y * 8 + x * 2 + 1) + (y * 8 + 4 + x * 2) + (y * 8 + 5 + x * 2)) / 4;
    const expected = [0, 1].flatMap((y) => [0, 1].flatMap((x) => [block(y, x), 100 - block(y, x)]));
    expect(Array.from(out)).toEqual(expected);
    // and a random image against block means computed directly
    const r = noise(6, 8, 3, 7);
    const half = resizeBilinearArea(r, 6, 8, 3, whole(6, 8), 3, 4);
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 4; x++)
        for (let c = 0; c < 3; c++) {
          const at = (yy: number, xx: number) => r[(yy * 8 + xx) * 3 + c]!;
          const m =
            (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
          expect(half[(y * 4 + x) * 3 + c]).toBeCloseTo(m, 5);
        }
  });

  it('weights partly covered pixels by area for a non-integer factor, preserving the mean', () => {
    // a constant gradient, 10×15 → 4×6 (factor 2.5 on both axes)
    const src = image(10, 15, 1, (y, x) => 2 * y + 3 * x + 1);
    const out = resizeBilinearArea(src, 10, 15, 1, whole(10, 15), 4, 6);
    expect(mean(out)).toBeCloseTo(mean(src), 10);
    // output (0, 0) covers rows [0, 2.5) and columns [0, 2.5): weights 1, 1, 0.5 on each axis
    const w = [1, 1, 0.5];
    let expected = 0;
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) expected += w[y]! * w[x]! * (2 * y + 3 * x + 1);
    expect(out[0]).toBeCloseTo(expected / 6.25, 5);
    // the mean of a random image over a non-integer factor is kept too
    const r = noise(21, 34, 3, 3);
    expect(mean(resizeBilinearArea(r, 21, 34, 3, whole(21, 34), 5, 9))).toBeCloseTo(mean(r), 4);
  });

  it('interpolates bilinearly with half-pixel centres when enlarging', () => {
    // [[0, 10], [20, 30]] → 4×4: source coordinates −0.25, 0.25, 0.75, 1.25 clamp to 0, 0.25, 0.75, 1
    const out = resizeBilinearArea([0, 10, 20, 30], 2, 2, 1, whole(2, 2), 4, 4);
    expect(Array.from(out)).toEqual(
      [
        [0, 2.5, 7.5, 10],
        [5, 7.5, 12.5, 15],
        [15, 17.5, 22.5, 25],
        [20, 22.5, 27.5, 30],
      ].flat(),
    );
    // 2×2 → 3×3: coordinates −1/6, 0.5, 7/6 → 0, 0.5, 1
    const three = resizeBilinearArea([0, 10, 20, 30], 2, 2, 1, whole(2, 2), 3, 3);
    expect(Array.from(three)).toEqual([0, 5, 10, 10, 15, 20, 20, 25, 30]);
  });

  it('shrinks one axis by area and enlarges the other bilinearly', () => {
    // 2 rows × 4 columns → 4 rows × 2 columns
    const src = [0, 1, 2, 3, 10, 11, 12, 13];
    const out = resizeBilinearArea(src, 2, 4, 1, whole(2, 4), 4, 2);
    const rowsAt = [0, 2.5, 7.5, 10]; // bilinear in y, as above
    expect(Array.from(out)).toEqual(rowsAt.flatMap((r) => [r + 0.5, r + 2.5]));
  });

  it('mirrors the output horizontally with flip', () => {
    const src = noise(9, 11, 3, 5);
    for (const [oh, ow] of [
      [9, 11],
      [4, 5],
      [20, 23],
    ] as const) {
      const crop = { top: 0.5, left: 1.25, height: 7, width: 8.5 };
      const plain = resizeBilinearArea(src, 9, 11, 3, crop, oh, ow);
      const flipped = resizeBilinearArea(src, 9, 11, 3, crop, oh, ow, true);
      expect(Array.from(flipped)).toEqual(mirror(plain, oh, ow, 3));
    }
    const same = resizeBilinearArea(src, 9, 11, 3, whole(9, 11), 9, 11, true);
    expect(Array.from(same)).toEqual(mirror(src, 9, 11, 3));
  });

  it('respects crop offsets', () => {
    const src = noise(8, 10, 2, 9);
    // an integer crop at its own size is an exact copy of that block
    const block = resizeBilinearArea(src, 8, 10, 2, { top: 2, left: 3, height: 4, width: 5 }, 4, 5);
    const expected: number[] = [];
    for (let y = 2; y < 6; y++)
      for (let x = 3; x < 8; x++) expected.push(src[(y * 10 + x) * 2]!, src[(y * 10 + x) * 2 + 1]!);
    expect(Array.from(block)).toEqual(expected);
    // halving a crop = block means inside it
    const half = resizeBilinearArea(src, 8, 10, 2, { top: 4, left: 6, height: 4, width: 4 }, 2, 2);
    const at = (y: number, x: number) => src[(y * 10 + x) * 2]!;
    expect(half[0]).toBeCloseTo((at(4, 6) + at(4, 7) + at(5, 6) + at(5, 7)) / 4, 5);
    expect(half[6]).toBeCloseTo((at(6, 8) + at(6, 9) + at(7, 8) + at(7, 9)) / 4, 5);
    // a fractional crop of a gradient: output = gradient at the footprint centre (the area mean of a
    // piecewise-constant ramp over half-pixel-aligned footprints)
    const ramp = image(6, 6, 1, (_y, x) => x);
    const frac = resizeBilinearArea(ramp, 6, 6, 1, { top: 0, left: 1.5, height: 6, width: 4 }, 3, 2);
    // column footprints [1.5, 3.5) and [3.5, 5.5): means 0.5·1 + 1·2 + 0.5·3 = 2 and 4, over 2
    expect(Array.from(frac)).toEqual([2, 4, 2, 4, 2, 4]);
  });

  it('resizes a 1024×2048×3 image to 128×256', () => {
    const src = noise(1024, 2048, 3, 11);
    const out = resizeBilinearArea(src, 1024, 2048, 3, whole(1024, 2048), 128, 256);
    expect(out).toHaveLength(128 * 256 * 3);
    expect(mean(out)).toBeCloseTo(mean(src), 6);
  });

  it('rejects bad arguments with RangeErrors naming them', () => {
    const src = new Float32Array(4 * 5 * 3);
    const c = whole(4, 5);
    expect(() => resizeBilinearArea(src, 0, 5, 3, c, 2, 2)).toThrow(
      new RangeError('srcH must be a positive integer, got 0'),
    );
    expect(() => resizeBilinearArea(src, 4, 5.5, 3, c, 2, 2)).toThrow(
      'srcW must be a positive integer, got 5.5',
    );
    expect(() => resizeBilinearArea(src, 4, 5, 0, c, 2, 2)).toThrow('channels must be a positive integer');
    expect(() => resizeBilinearArea(src, 4, 5, 3, c, -1, 2)).toThrow('outH must be a positive integer');
    expect(() => resizeBilinearArea(src, 4, 5, 3, c, 2, NaN)).toThrow('outW must be a positive integer');
    expect(() => resizeBilinearArea(src, 4, 5, 2, c, 2, 2)).toThrow(
      'src has length 60, expected srcH·srcW·channels = 4·5·2 = 40',
    );
    expect(() => resizeBilinearArea(src, 4, 5, 3, { ...c, top: -1 }, 2, 2)).toThrow(
      'crop.top must be >= 0, got -1',
    );
    expect(() => resizeBilinearArea(src, 4, 5, 3, { ...c, left: -0.5, width: 2 }, 2, 2)).toThrow(
      'crop.left must be >= 0',
    );
    expect(() => resizeBilinearArea(src, 4, 5, 3, { ...c, height: 0 }, 2, 2)).toThrow(
      'crop.height must be > 0, got 0',
    );
    expect(() => resizeBilinearArea(src, 4, 5, 3, { ...c, width: Infinity }, 2, 2)).toThrow(
      'crop.width must be a finite number',
    );
    expect(() => resizeBilinearArea(src, 4, 5, 3, { ...c, top: 1 }, 2, 2)).toThrow(
      'crop rows 1 + 4 = 5 extend past the source height 4',
    );
    expect(() => resizeBilinearArea(src, 4, 5, 3, { ...c, left: 0.5 }, 2, 2)).toThrow(
      'crop columns 0.5 + 5 = 5.5 extend past the source width 5',
    );
    expect(() => resizeNearest(new Uint8Array(3), 1, 1, 1, whole(1, 1), 1, 1)).toThrow(RangeError);
    expect(() => resizeNearest(new Uint8Array(1), 1, 1, 1, whole(2, 1), 1, 1)).toThrow(
      'extend past the source height 1',
    );
  });

  it('tolerates crops that overshoot the source by rounding error', () => {
    const src = noise(10, 10, 1);
    const crop = { top: 2, left: 0, height: 8 + 1e-9, width: 10 };
    expect(crop.top + crop.height).toBeGreaterThan(10);
    const out = resizeBilinearArea(src, 10, 10, 1, crop, 3, 3);
    expect(out.every(Number.isFinite)).toBe(true);
    expect(resizeNearest(src, 10, 10, 1, crop, 3, 3)).toHaveLength(9);
  });
});

describe('resizeNearest', () => {
  it('is an exact copy for the whole image at its own size, keeping the array type', () => {
    for (const src of [
      noise(5, 6, 1),
      Uint16Array.from(noise(5, 6, 1), (v) => v * 257),
      Int32Array.from(noise(5, 6, 1)),
    ]) {
      const out = resizeNearest(src, 5, 6, 1, whole(5, 6), 5, 6);
      expect(out.constructor).toBe(src.constructor);
      expect(out).toEqual(src);
    }
    const f = Float32Array.from(noise(3, 4, 2), (v) => v / 7);
    expect(resizeNearest(f, 3, 4, 2, whole(3, 4), 3, 4)).toEqual(f);
  });

  it('picks the source pixel under each output pixel centre', () => {
    // 4×6 labels, value = y·10 + x; 4×6 → 2×3 takes rows ⌊(i+0.5)·2⌋ = 1, 3 and columns 1, 3, 5
    const src = Int32Array.from({ length: 24 }, (_, k) => Math.floor(k / 6) * 10 + (k % 6));
    expect(Array.from(resizeNearest(src, 4, 6, 1, whole(4, 6), 2, 3))).toEqual([11, 13, 15, 31, 33, 35]);
    // enlarging 2×2 → 4×4 repeats each pixel in a 2×2 block
    const small = Uint8Array.from([1, 2, 3, 4]);
    expect(Array.from(resizeNearest(small, 2, 2, 1, whole(2, 2), 4, 4))).toEqual([
      1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4,
    ]);
    // 3 → 2 along x: scale 1.5, columns ⌊0.75⌋ = 0 and ⌊2.25⌋ = 2; channels move together
    const rgb = Uint16Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(resizeNearest(rgb, 1, 3, 3, whole(1, 3), 1, 2))).toEqual([1, 2, 3, 7, 8, 9]);
  });

  it('respects crop offsets, including fractional ones', () => {
    const src = Int32Array.from({ length: 8 * 10 }, (_, k) => Math.floor(k / 10) * 100 + (k % 10));
    expect(Array.from(resizeNearest(src, 8, 10, 1, { top: 2, left: 3, height: 2, width: 3 }, 2, 3))).toEqual([
      203, 204, 205, 303, 304, 305,
    ]);
    // rows ⌊1.5 + (i + 0.5)·2⌋ = 2, 4; columns ⌊0.25 + (j + 0.5)·3⌋ = 1, 4, 7
    expect(
      Array.from(resizeNearest(src, 8, 10, 1, { top: 1.5, left: 0.25, height: 4, width: 9 }, 2, 3)),
    ).toEqual([201, 204, 207, 401, 404, 407]);
  });

  it('mirrors the output horizontally with flip', () => {
    const src = noise(7, 9, 3, 2);
    const crop = { top: 1, left: 0.5, height: 5.5, width: 8 };
    const plain = resizeNearest(src, 7, 9, 3, crop, 4, 5);
    expect(Array.from(resizeNearest(src, 7, 9, 3, crop, 4, 5, true))).toEqual(mirror(plain, 4, 5, 3));
    expect(Array.from(resizeNearest(src, 7, 9, 3, whole(7, 9), 7, 9, true))).toEqual(mirror(src, 7, 9, 3));
  });
});
