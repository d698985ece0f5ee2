/**
 * numpy's legacy global generator (`np.random.seed(s)`, `np.random.randn`, `np.random.rand`),
 * value for value: MT19937 seeded with `init_genrand`, 53-bit doubles, and the Marsaglia polar
 * Gaussian method with its cached second deviate.
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** A NumpyRandomState's position, as JSON. */
export interface RandomStateSnapshot {
  key: number[];
  pos: number;
  gauss: number | null;
}

export class NumpyRandomState {
  private readonly mt = new Uint32Array(N);
  private index = N;
  private gauss: number | null = null;

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** `np.random.seed(seed)` for an integer seed in [0, 2^32). */
  seed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32 - 1], got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev + i, in 32-bit arithmetic without losing the low bits
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = N;
    this.gauss = null;
  }

  /**
   * The generator's whole state — numpy's `get_state()`: the 624-word key, the position in it and the
   * cached second Gaussian deviate — as plain JSON, for checkpoints.
   */
  getState(): RandomStateSnapshot {
    return { key: Array.from(this.mt), pos: this.index, gauss: this.gauss };
  }

  /** Puts back a state from `getState` (numpy's `set_state`); the stream continues exactly from there. */
  setState(state: RandomStateSnapshot): void {
    const { key, pos, gauss } = state;
    if (
      !Array.isArray(key) ||
      key.length !== N ||
      !key.every((k) => Number.isInteger(k) && k >= 0 && k <= 0xffffffff)
    )
      throw new RangeError(`random state: key must be ${N} unsigned 32-bit integers`);
    if (!Number.isInteger(pos) || pos < 0 || pos > N)
      throw new RangeError(`random state: pos must be in [0, ${N}], got ${pos}`);
    if (gauss !== null && !Number.isFinite(gauss))
      throw new RangeError(`random state: gauss must be a number or null`);
    this.mt.set(key);
    this.index = pos;
    this.gauss = gauss;
  }

  /** The next raw 32-bit output of MT19937. */
  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k]! & UPPER_MASK) | (mt[(k + 1) % N]! & LOWER_MASK);
        mt[k] = mt[(k + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits, as `np.random.rand()`. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** One standard normal deviate, as `np.random.randn()` (legacy polar method). */
  standardNormal(): number {
    if (this.gauss !== null) {
      const g = this.gauss;
      this.gauss = null;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.random() - 1;
      x2 = 2 * this.random() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    return f * x2;
  }

  /** `np.random.randn(n)` as a Float64Array. */
  randn(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.standardNormal();
    return out;
  }

  /** Uniform integer in [0, n), unbiased (rejection on a power-of-two mask, as numpy's legacy `randint`). */
  randomInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff)
      throw new RangeError(`randomInt bound must be in [1, 2^32), got ${n}`);
    if (n === 1) return 0;
    const max = n - 1;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do v = (this.nextUint32() & mask) >>> 0;
    while (v > max);
    return v;
  }

  /** A random permutation of 0..n-1 (Fisher–Yates from the end, as numpy's legacy `shuffle`). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.randomInt(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}
