import { describe, expect, it } from 'vitest';
import { instanceOffsets } from './data.js';

/** The offsets by their definition: each instance pixel's (dy, dx) to the mean row and column of its id. */
function reference(ids: Int32Array, H: number, W: number): Float32Array {
  const out = new Float32Array(H * W * 2);
  for (let p = 0; p < H * W; p++) {
    const id = ids[p]!;
    if (id <= 0) continue;
    let sr = 0;
    let sc = 0;
    let n = 0;
    for (let q = 0; q < H * W; q++) {
      if (ids[q] !== id) continue;
      sr += Math.floor(q / W);
      sc += q % W;
      n++;
    }
    out[2 * p] = sr / n - Math.floor(p / W);
    out[2 * p + 1] = sc / n - (p % W);
  }
  return out;
}

describe('instanceOffsets', () => {
  it('points each instance pixel at its centroid, 0 elsewhere, for ids that interleave and come back', () => {
    const H = 9;
    const W = 13;
    let state = 7;
    const next = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    // runs of one id broken by others (0 = stuff, −1 = ignored), ids coming back on later rows
    const ids = new Int32Array(H * W);
    let current = 1;
    for (let p = 0; p < ids.length; p++) {
      if (next() < 0.3) current = [0, -1, 1, 2, 26001, 3][Math.floor(next() * 6)]!;
      ids[p] = current;
    }
    const got = instanceOffsets(ids, H, W);
    const want = reference(ids, H, W);
    expect(got.length).toBe(want.length);
    got.forEach((v, i) => expect(v, `value ${i}`).toBeCloseTo(want[i]!, 5));
  });
});
