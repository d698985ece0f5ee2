/**
 * Synthetic street scenes for the three dense tasks of Kendall, Gal & Cipolla (CVPR 2018): semantic
 * segmentation, instance segmentation as per-pixel votes for the instance centroid, and inverse depth.
 *
 * Every scene is ray-cast from a pinhole camera standing on a street: sky above the horizon, a road
 * plane and two raised sidewalks below it, box-shaped buildings along both sides (optionally closed by
 * a wall across the far end of the street), and 'thing' objects (cars, people, poles) standing on the
 * ground, each a flat silhouette at one constant depth, z-buffered so that nearer objects occlude
 * farther ones. The labels are exact by construction.
 *
 * Browser-safe and dependency-free. The random streams are a small counter-based PRNG (sfc32) seeded
 * per (seed, scene index, purpose), the geometry uses only +, −, ×, ÷ (correctly rounded in IEEE 754,
 * no Math.exp/sin/pow), and the Gaussian pixel noise is a look-up in a table of normal quantiles built
 * the same way, so a scene is bit-identical on every platform and independent of how many scenes are
 * generated with it. Geometry, pixel noise and depth holes draw from separate streams: changing
 * `noise` or `depthHoles` leaves the geometry and labels unchanged.
 */

/** The semantic classes, index = label. */
export const SCENE_CLASSES = ['sky', 'road', 'sidewalk', 'building', 'car', 'person', 'pole'] as const;
export type SceneClass = (typeof SCENE_CLASSES)[number];

const SKY = 0;
const ROAD = 1;
const SIDEWALK = 2;
const BUILDING = 3;
const CAR = 4;
const PERSON = 5;
const POLE = 6;

/** Indices of the countable 'thing' classes (car, person, pole): exactly the pixels that carry an instance id. */
export const THING_CLASSES: readonly number[] = [CAR, PERSON, POLE];

/** The semantic label a consumer should ignore. The generator labels every pixel, so it never emits it. */
export const IGNORE_LABEL = -1;

/** Display colours (RGB 0–255) per class, Cityscapes' palette for the same classes. */
export const SCENE_PALETTE: readonly (readonly [number, number, number])[] = [
  [70, 130, 180], // sky
  [128, 64, 128], // road
  [244, 35, 232], // sidewalk
  [70, 70, 70], // building
  [0, 0, 142], // car
  [220, 20, 60], // person
  [153, 153, 153], // pole
];

export interface SceneOptions {
  /** Image height in pixels, ≥ 16 (default 64). */
  height?: number;
  /** Image width in pixels, ≥ 16 (default 128). */
  width?: number;
  /**
   * Fewest objects placed per image (default 2). An object is redrawn while it would leave itself or an
   * earlier object with fewer than 4 visible pixels, up to 40 times; only tiny images crowded with
   * objects run out of draws (16×16 with 8 objects: 5–8 placed), so an image may then hold fewer.
   */
  minObjects?: number;
  /** Most objects placed per image (default 8). */
  maxObjects?: number;
  /** Standard deviation of the per-pixel, per-channel Gaussian noise on the [0, 1] colours (default 0.03). */
  noise?: number;
  /** Cut a few small blobs out of the depth labels (stereo holes), never on sky (default true). */
  depthHoles?: boolean;
}

export interface SceneInstance {
  /** 1-based id within its image: the value of its pixels in `SceneBatch.instance`. */
  id: number;
  /** Semantic class, one of `THING_CLASSES`. */
  classIndex: number;
  /** Distance along the optical axis in metres; every pixel of the object has this depth. */
  depth: number;
  /** [row, col] mean of its visible pixels, in pixel-index coordinates (pixel (r, c) sits at (r, c)). */
  centroid: [number, number];
  /** Number of visible pixels (after occlusion); at least 4. */
  pixelCount: number;
  /** Bounding box of the full, unoccluded silhouette clipped to the image: [top, left, bottom, right), end-exclusive. */
  bbox: [number, number, number, number];
  /** The full, unoccluded silhouette inside `bbox`, row-major, (bottom − top) × (right − left), 1 = covered. */
  footprint: Uint8Array;
}

export interface SceneBatch {
  count: number;
  height: number;
  width: number;
  /** [N, H, W, 3] RGB in [0, 1] (clamped after the noise). */
  images: Float32Array;
  /** [N, H, W] class index into `SCENE_CLASSES`. */
  semantic: Int32Array;
  /** [N, H, W] 0 = no instance, k ≥ 1 = `SceneInstance.id`. */
  instance: Int32Array;
  /** [N, H, W, 2] (centroidRow − row, centroidCol − col) in pixels on instance pixels, 0 elsewhere. */
  instanceOffset: Float32Array;
  /** [N, H, W] 1 / depth in 1/m; exactly 0 on sky and where `depthMask` is 0. */
  inverseDepth: Float32Array;
  /** [N, H, W] 1 where the inverse depth is labelled (sky is labelled, with value 0). */
  depthMask: Uint8Array;
  /** Per image, its instances in id order. */
  instances: SceneInstance[][];
}

// ---------------------------------------------------------------------------------------------------
// Random streams

/** murmur3's 32-bit finaliser: a bijection on uint32 with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** e^(−t) for t ≥ 0 with only +, −, ×, ÷ (bit-identical everywhere, unlike Math.exp): Taylor on t/32, squared 5×. */
function expNeg(t: number): number {
  const m = t / 32;
  let term = 1;
  let sum = 1;
  for (let k = 1; k <= 18; k++) {
    term *= -m / k;
    sum += term;
  }
  for (let k = 0; k < 5; k++) sum *= sum;
  return sum;
}

let gaussianTable: Float64Array | null = null;

/**
 * The 2^16 standard-normal quantiles Φ⁻¹((i + ½) / 2^16) (so |value| ≤ 4.33), from a trapezoid-rule
 * CDF on a fine grid: a Gaussian deviate is one table look-up per 16 random bits, bit-identical on
 * every platform. Built once, in a few milliseconds.
 */
function normalQuantiles(): Float64Array {
  if (gaussianTable !== null) return gaussianTable;
  const step = 1 / 512;
  const n = 12 * 512;
  const cdf = new Float64Array(n + 1);
  let prev = expNeg(18);
  for (let j = 1; j <= n; j++) {
    const x = -6 + j * step;
    const pdf = expNeg((x * x) / 2);
    cdf[j] = cdf[j - 1]! + (prev + pdf) / 2;
    prev = pdf;
  }
  const total = cdf[n]!;
  const table = new Float64Array(65536);
  let j = 0;
  for (let i = 0; i < 65536; i++) {
    const target = ((i + 0.5) / 65536) * total;
    while (cdf[j + 1]! < target) j++;
    const lo = cdf[j]!;
    const hi = cdf[j + 1]!;
    table[i] = -6 + (j + (target - lo) / (hi - lo)) * step;
  }
  gaussianTable = table;
  return table;
}

let scaledTable: { scale: number; table: Float64Array } | null = null;

/** `normalQuantiles()` × `scale`, cached for the last scale used. */
function scaledQuantiles(scale: number): Float64Array {
  if (scaledTable?.scale !== scale) {
    const base = normalQuantiles();
    const table = new Float64Array(base.length);
    for (let i = 0; i < base.length; i++) table[i] = scale * base[i]!;
    scaledTable = { scale, table };
  }
  return scaledTable.table;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast chaotic PRNG, 128-bit state with a counter, period ≥ 2^32),
 * seeded from (seed, stream, salt) so that every scene and purpose gets its own stream.
 */
class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number, stream: number, salt: number) {
    this.a = fmix32(seed >>> 0);
    this.b = fmix32((stream ^ 0x6a09e667) >>> 0);
    this.c = fmix32((salt ^ 0xbb67ae85) >>> 0);
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n) (bias < n / 2^32). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

const SALT_GEOMETRY = 0;
const SALT_NOISE = 1;
const SALT_HOLES = 2;

// ---------------------------------------------------------------------------------------------------
// Scene description

type Rgb = [number, number, number];

/** An axis-aligned building block: x ∈ [x0, x1], z ∈ [z0, z1], from the sidewalk up to `top` metres. */
interface Box {
  x0: number;
  x1: number;
  z0: number;
  z1: number;
  top: number;
  colour: Rgb;
  window: Rgb;
  /** Brightness of the faces whose normal is along x (facades) and along z (side walls / far wall). */
  shadeX: number;
  shadeZ: number;
  floorHeight: number;
  windowSpacing: number;
  windowWidth: number;
  windowHeight: number;
  windowPhase: number;
  hash: number;
}

interface Camera {
  height: number;
  focal: number;
  /** Principal point column (vanishing point of the street), in the continuous pixel frame. */
  cx: number;
  /** Horizon row in the continuous pixel frame (an integer: the boundary between two pixel rows). */
  horizon: number;
}

interface Street {
  roadLeft: number;
  roadRight: number;
  /** Outer edges of the sidewalks (x of the nearest possible facade). */
  walkLeft: number;
  walkRight: number;
  curb: number;
  skyZenith: Rgb;
  skyHorizon: Rgb;
  haze: number;
  asphalt: Rgb;
  paving: Rgb;
  dashPhase: number;
  edgeLines: boolean;
  boxes: Box[];
}

const BUILDING_COLOURS: readonly Rgb[] = [
  [0.72, 0.66, 0.55],
  [0.6, 0.46, 0.38],
  [0.55, 0.55, 0.57],
  [0.78, 0.74, 0.67],
  [0.5, 0.43, 0.37],
  [0.66, 0.61, 0.52],
  [0.45, 0.47, 0.5],
];

const OBJECT_COLOURS: Record<number, Rgb> = {
  [CAR]: [0.16, 0.26, 0.66],
  [PERSON]: [0.74, 0.22, 0.28],
  [POLE]: [0.84, 0.72, 0.2],
};

const MIN_VISIBLE = 4;
const MAX_ATTEMPTS = 40;

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function jitter(rng: Sfc32, c: readonly number[], amount: number): Rgb {
  return [
    clamp01(c[0]! + rng.range(-amount, amount)),
    clamp01(c[1]! + rng.range(-amount, amount)),
    clamp01(c[2]! + rng.range(-amount, amount)),
  ];
}

function frac(v: number): number {
  return v - Math.floor(v);
}

function sampleCamera(rng: Sfc32, height: number, width: number): Camera {
  return {
    height: rng.range(1.35, 1.65),
    focal: width * rng.range(0.85, 1.15),
    cx: width * (0.5 + rng.range(-0.05, 0.05)),
    horizon: Math.round(height * rng.range(0.4, 0.5)),
  };
}

function sampleBuildings(rng: Sfc32, street: Street, sunLeft: boolean): Box[] {
  const boxes: Box[] = [];
  const farWall = rng.uniform() < 0.4;
  const zEnd = farWall ? rng.range(50, 150) : 400;
  for (const side of [-1, 1]) {
    const walk = side < 0 ? street.walkLeft : street.walkRight;
    const facadeShade = side < 0 === sunLeft ? rng.range(0.95, 1.05) : rng.range(0.7, 0.8);
    // from low-rise to downtown, per side of the street
    const maxTop = rng.range(8, 25);
    const gaps = rng.range(0, 0.25);
    let z = -rng.range(0, 12);
    while (z < zEnd) {
      const length = rng.range(8, 30);
      const z1 = Math.min(z + length, zEnd);
      // now and then a gap between buildings
      if (rng.uniform() < gaps) {
        z = Math.min(z + length / 2, zEnd);
        continue;
      }
      const setback = rng.uniform() < 0.5 ? 0 : rng.range(0, 4);
      const near = walk + side * setback;
      const x0 = side < 0 ? near - 30 : near;
      const top = rng.range(4, maxTop);
      boxes.push(makeBox(rng, x0, x0 + 30, z, z1, top, facadeShade, rng.range(0.55, 0.7)));
      z = z1;
    }
  }
  if (farWall)
    boxes.push(makeBox(rng, -1e6, 1e6, zEnd, zEnd + 20, rng.range(6, 25), 1, rng.range(0.8, 0.95)));
  return boxes;
}

function makeBox(
  rng: Sfc32,
  x0: number,
  x1: number,
  z0: number,
  z1: number,
  top: number,
  shadeX: number,
  shadeZ: number,
): Box {
  return {
    x0,
    x1,
    z0,
    z1,
    top,
    colour: jitter(rng, BUILDING_COLOURS[rng.int(BUILDING_COLOURS.length)]!, 0.05),
    window: jitter(rng, [0.17, 0.21, 0.28], 0.04),
    shadeX,
    shadeZ,
    floorHeight: rng.range(2.8, 3.6),
    windowSpacing: rng.range(1.8, 3.2),
    windowWidth: rng.range(0.35, 0.6),
    windowHeight: rng.range(0.35, 0.55),
    windowPhase: rng.uniform(),
    hash: rng.nextUint32(),
  };
}

function sampleStreet(rng: Sfc32): Street {
  const roadLeft = -rng.range(2.5, 5.5);
  const roadRight = rng.range(2.5, 5.5);
  const overcast = rng.uniform() < 0.25;
  const tint = (c: Rgb): Rgb => jitter(rng, c, 0.05);
  const grey = rng.range(0.26, 0.4);
  const pave = rng.range(0.5, 0.64);
  const street: Street = {
    roadLeft,
    roadRight,
    walkLeft: roadLeft - rng.range(1.5, 4),
    walkRight: roadRight + rng.range(1.5, 4),
    curb: rng.range(0.1, 0.2),
    skyZenith: overcast ? tint([0.6, 0.62, 0.66]) : tint([0.3, 0.5, 0.84]),
    skyHorizon: overcast ? tint([0.8, 0.8, 0.82]) : tint([0.77, 0.84, 0.93]),
    haze: rng.range(0.3, 0.6),
    asphalt: jitter(rng, [grey, grey, grey * 1.03], 0.015),
    paving: jitter(rng, [pave + 0.03, pave, pave - 0.03], 0.02),
    dashPhase: rng.uniform(),
    edgeLines: rng.uniform() < 0.6,
    boxes: [],
  };
  street.boxes = sampleBuildings(rng, street, rng.uniform() < 0.5);
  return street;
}

// ---------------------------------------------------------------------------------------------------
// Objects

interface SceneObject {
  classIndex: number;
  /** Centre x (metres, lateral), depth z (metres), base height above the road, width and height (metres). */
  x: number;
  z: number;
  base: number;
  w: number;
  h: number;
  /** Car seen side-on (crossing) rather than from behind. */
  side: boolean;
  colour: Rgb;
  /** Skin colour (people). */
  accent: Rgb;
}

function sampleObject(rng: Sfc32, street: Street): SceneObject {
  const u = rng.uniform();
  const classIndex = u < 0.45 ? CAR : u < 0.8 ? PERSON : POLE;
  const z = rng.range(4, 40);
  const { roadLeft, roadRight, walkLeft, walkRight, curb } = street;
  const colour = jitter(rng, OBJECT_COLOURS[classIndex]!, 0.12);
  const accent = jitter(rng, [0.86, 0.66, 0.52], 0.06);
  let x: number;
  let w: number;
  let h: number;
  let base = 0;
  let side = false;
  if (classIndex === CAR) {
    side = rng.uniform() < 0.25;
    w = side ? rng.range(3.8, 4.6) : rng.range(1.7, 1.95);
    h = rng.range(1.35, 1.65);
    x = rng.range(roadLeft + w / 2 + 0.2, roadRight - w / 2 - 0.2);
  } else if (classIndex === PERSON) {
    w = rng.range(0.45, 0.6);
    h = rng.range(1.55, 1.9);
    if (rng.uniform() < 0.7) {
      base = curb;
      const left = rng.uniform() < 0.5;
      const lo = left ? walkLeft : roadRight;
      const hi = left ? roadLeft : walkRight;
      x = rng.range(lo + w / 2 + 0.1, hi - w / 2 - 0.1);
    } else {
      x = rng.range(roadLeft + w / 2, roadRight - w / 2);
    }
  } else {
    w = rng.range(0.15, 0.3);
    h = rng.range(3.5, 5);
    base = curb;
    const offset = rng.range(0.3, 1);
    x = rng.uniform() < 0.5 ? roadLeft - offset : roadRight + offset;
  }
  return { classIndex, x, z, base, w, h, side, colour, accent };
}

/** Whether the point at fractions (a across, v up) of an object's rectangle belongs to its silhouette. */
function inSilhouette(o: SceneObject, a: number, v: number, narrow: boolean): boolean {
  if (narrow) return true;
  if (o.classIndex === CAR) {
    if (v > 0.58) return o.side ? a >= 0.2 && a <= 0.75 : a >= 0.1 && a <= 0.9;
    return true;
  }
  if (o.classIndex === PERSON) {
    if (v > 0.86) return a >= 0.28 && a <= 0.72;
    if (v < 0.42) return a < 0.42 || a > 0.58;
    return true;
  }
  return true;
}

/** The colour of an object at fractions (a across, v up) of its rectangle, before haze and noise. */
function objectColour(o: SceneObject, a: number, v: number, out: Rgb): void {
  const c = o.colour;
  let r = c[0];
  let g = c[1];
  let b = c[2];
  let shade = 0.8 + 0.3 * v;
  if (o.classIndex === CAR) {
    const wheel = o.side
      ? (a > 0.1 && a < 0.3) || (a > 0.7 && a < 0.9)
      : (a > 0.06 && a < 0.26) || (a > 0.74 && a < 0.94);
    if (v < 0.2 && wheel) {
      r = g = b = 0.06;
      shade = 1;
    } else if (v > 0.62 && v < 0.95) {
      r = 0.3 * r + 0.08;
      g = 0.3 * g + 0.1;
      b = 0.3 * b + 0.14;
    }
  } else if (o.classIndex === PERSON) {
    if (v > 0.86) {
      r = o.accent[0];
      g = o.accent[1];
      b = o.accent[2];
      shade = 1;
    } else if (v < 0.42) {
      r = 0.4 * r + 0.06;
      g = 0.4 * g + 0.06;
      b = 0.4 * b + 0.1;
    }
  } else {
    shade = 0.75 + 0.3 * (1 - Math.abs(2 * a - 1)) + 0.1 * v;
  }
  out[0] = r * shade;
  out[1] = g * shade;
  out[2] = b * shade;
}

// ---------------------------------------------------------------------------------------------------
// Rendering

interface Scratch {
  /** Depth of the nearest surface drawn so far (background, then objects); Infinity on sky. */
  zbuf: Float64Array;
  footprint: Uint8Array;
  /** Per column: the boxes its ray enters that can be the first visible one, nearest first (see below). */
  colStart: Int32Array;
  colCount: Int32Array;
  hitZ: Float64Array;
  hitBox: Int32Array;
  hitX: Uint8Array;
  tmpZ: Float64Array;
  tmpBox: Int32Array;
  tmpX: Uint8Array;
}

function growHits(s: Scratch, need: number): void {
  if (s.hitZ.length >= need) return;
  const size = Math.max(need, 2 * s.hitZ.length);
  const z = new Float64Array(size);
  const b = new Int32Array(size);
  const x = new Uint8Array(size);
  z.set(s.hitZ);
  b.set(s.hitBox);
  x.set(s.hitX);
  s.hitZ = z;
  s.hitBox = b;
  s.hitX = x;
}

/**
 * For every column, the building boxes its ray passes through (in the ground plane), pruned to the
 * ones that can be the first visible surface of some pixel: sorted by entry depth, keeping the nearest
 * and then only boxes taller than every nearer one. Above the horizon the ray climbs with depth, so a
 * box no taller than a nearer one is hidden wherever it could show; below the horizon the nearest box
 * always covers (every box is taller than the camera), unless the ground is nearer.
 */
function castColumns(cam: Camera, street: Street, W: number, s: Scratch): void {
  const { focal: f, cx } = cam;
  const boxes = street.boxes;
  const nBoxes = boxes.length;
  if (s.tmpZ.length < nBoxes) {
    s.tmpZ = new Float64Array(nBoxes);
    s.tmpBox = new Int32Array(nBoxes);
    s.tmpX = new Uint8Array(nBoxes);
  }
  const { tmpZ, tmpBox, tmpX } = s;
  let used = 0;
  for (let c = 0; c < W; c++) {
    const dx = (c + 0.5 - cx) / f;
    let nHits = 0;
    for (let k = 0; k < nBoxes; k++) {
      const b = boxes[k]!;
      let lo = b.z0 > 1e-6 ? b.z0 : 1e-6;
      let hi = b.z1;
      let viaX = false;
      if (dx === 0) {
        if (b.x0 > 0 || b.x1 < 0) continue;
      } else {
        const t0 = b.x0 / dx;
        const t1 = b.x1 / dx;
        const tl = t0 < t1 ? t0 : t1;
        const th = t0 < t1 ? t1 : t0;
        if (tl > lo) {
          lo = tl;
          viaX = true;
        }
        if (th < hi) hi = th;
      }
      if (lo >= hi) continue;
      let j = nHits++;
      while (j > 0 && tmpZ[j - 1]! > lo) {
        tmpZ[j] = tmpZ[j - 1]!;
        tmpBox[j] = tmpBox[j - 1]!;
        tmpX[j] = tmpX[j - 1]!;
        j--;
      }
      tmpZ[j] = lo;
      tmpBox[j] = k;
      tmpX[j] = viaX ? 1 : 0;
    }
    growHits(s, used + nHits);
    s.colStart[c] = used;
    let maxTop = -Infinity;
    for (let k = 0; k < nHits; k++) {
      const top = boxes[tmpBox[k]!]!.top;
      if (top <= maxTop) continue;
      maxTop = top;
      s.hitZ[used] = tmpZ[k]!;
      s.hitBox[used] = tmpBox[k]!;
      s.hitX[used] = tmpX[k]!;
      used++;
    }
    s.colCount[c] = used - s.colStart[c]!;
  }
}

/**
 * Ray-casts the background (sky, road, sidewalks with curbs, buildings) of one image into its label,
 * colour and inverse-depth planes (at pixel offset `off`), and its depth into `s.zbuf`.
 */
function renderBackground(
  cam: Camera,
  street: Street,
  H: number,
  W: number,
  out: SceneBatch,
  off: number,
  s: Scratch,
): void {
  const { focal: f, cx, horizon, height: hc } = cam;
  const { roadLeft, roadRight, curb, boxes } = street;
  const { semantic, images, inverseDepth, depthMask } = out;
  const roadMid = (roadLeft + roadRight) / 2;
  castColumns(cam, street, W, s);
  const { zbuf, colStart, colCount, hitZ, hitBox, hitX } = s;
  const col: Rgb = [0, 0, 0];
  for (let r = 0; r < H; r++) {
    const dy = (r + 0.5 - horizon) / f;
    const skyT = clamp01((r + 0.5) / horizon);
    for (let c = 0; c < W; c++) {
      const dx = (c + 0.5 - cx) / f;
      const p = r * W + c;
      // ground: road plane at height 0, sidewalks at `curb` beyond the road edges, curb faces between
      let groundZ = Infinity;
      let groundLabel = SKY;
      let groundX = 0;
      let curbFace = false;
      if (dy > 0) {
        const zr = hc / dy;
        const xr = dx * zr;
        if (xr >= roadLeft && xr <= roadRight) {
          groundZ = zr;
          groundX = xr;
          groundLabel = ROAD;
        } else {
          groundLabel = SIDEWALK;
          const zs = (hc - curb) / dy;
          const xs = dx * zs;
          if (xs < roadLeft || xs > roadRight) {
            groundZ = zs;
            groundX = xs;
          } else {
            groundX = xr > roadRight ? roadRight : roadLeft;
            groundZ = groundX / dx;
            curbFace = true;
          }
        }
      }
      let label = groundLabel;
      let z = groundZ;
      const h0 = colStart[c]!;
      const h1 = h0 + colCount[c]!;
      for (let k = h0; k < h1; k++) {
        const zh = hitZ[k]!;
        if (zh >= groundZ) break;
        const b = boxes[hitBox[k]!]!;
        const height = hc - dy * zh;
        if (height > b.top) continue;
        label = BUILDING;
        z = zh;
        buildingColour(b, hitX[k] === 1, hitX[k] === 1 ? zh : dx * zh, height - curb, col);
        break;
      }
      if (label === SKY) {
        const zen = street.skyZenith;
        const hor = street.skyHorizon;
        col[0] = zen[0] + (hor[0] - zen[0]) * skyT;
        col[1] = zen[1] + (hor[1] - zen[1]) * skyT;
        col[2] = zen[2] + (hor[2] - zen[2]) * skyT;
      } else if (label === ROAD) {
        const a = street.asphalt;
        let m = 1;
        if (Math.abs(groundX - roadMid) < 0.08 && frac(z / 6 + street.dashPhase) < 0.5) m = 2.6;
        else if (
          street.edgeLines &&
          (Math.abs(groundX - roadLeft - 0.25) < 0.07 || Math.abs(groundX - roadRight + 0.25) < 0.07)
        )
          m = 2.3;
        col[0] = a[0] * m;
        col[1] = a[1] * m;
        col[2] = a[2] * m;
      } else if (label === SIDEWALK) {
        const pv = street.paving;
        let m = 1;
        if (curbFace) m = 1.15;
        else if (frac(z / 1.2) < 0.06 || frac(groundX / 1.2) < 0.06) m = 0.85;
        col[0] = pv[0] * m;
        col[1] = pv[1] * m;
        col[2] = pv[2] * m;
      }
      if (label !== SKY) hazeInto(col, z, street);
      const q = off + p;
      semantic[q] = label;
      zbuf[p] = label === SKY ? Infinity : z;
      inverseDepth[q] = label === SKY ? 0 : 1 / z;
      depthMask[q] = 1;
      images[3 * q] = clamp01(col[0]);
      images[3 * q + 1] = clamp01(col[1]);
      images[3 * q + 2] = clamp01(col[2]);
    }
  }
}

/** One window in 16 is lit. */
const LIT_WINDOW: Rgb = [0.86, 0.8, 0.55];

/** Facade colour with floors of windows; `u` runs along the face, `v` is the height above the sidewalk. */
function buildingColour(b: Box, facade: boolean, u: number, v: number, out: Rgb): void {
  const shade = (facade ? b.shadeX : b.shadeZ) * (0.9 + (0.1 * v) / b.top);
  let c = b.colour;
  if (v > b.floorHeight && v < b.top - 0.6) {
    const fu = u / b.windowSpacing + b.windowPhase;
    const fv = v / b.floorHeight;
    if (frac(fu) < b.windowWidth && frac(fv) > 0.3 && frac(fv) < 0.3 + b.windowHeight) {
      c = b.window;
      const id = fmix32(
        (b.hash ^ Math.imul(Math.floor(fu) | 0, 0x9e3779b1) ^ Math.imul(Math.floor(fv), 0x85ebca77)) >>> 0,
      );
      if ((id & 15) === 0) c = LIT_WINDOW;
    }
  }
  out[0] = c[0] * shade;
  out[1] = c[1] * shade;
  out[2] = c[2] * shade;
}

/** Blends towards the horizon sky colour with distance (a rational fall-off, no exp, to stay exact). */
function hazeInto(col: Rgb, z: number, street: Street): void {
  const a = (street.haze * z) / (z + 120);
  const h = street.skyHorizon;
  col[0] += (h[0] - col[0]) * a;
  col[1] += (h[1] - col[1]) * a;
  col[2] += (h[2] - col[2]) * a;
}

/**
 * Projects an object into the image: its clipped bounding box and silhouette (in `s.footprint`), or
 * null when it lies entirely outside the image.
 */
function rasterise(
  o: SceneObject,
  cam: Camera,
  H: number,
  W: number,
  s: Scratch,
): { top: number; left: number; bottom: number; right: number; narrowX: boolean; narrowY: boolean } | null {
  const { focal: f, cx, horizon, height: hc } = cam;
  const cl = cx + (f * (o.x - o.w / 2)) / o.z;
  const cr = cx + (f * (o.x + o.w / 2)) / o.z;
  const rt = horizon + (f * (hc - o.base - o.h)) / o.z;
  const rb = horizon + (f * (hc - o.base)) / o.z;
  let left = Math.ceil(cl - 0.5);
  let right = Math.ceil(cr - 0.5);
  let top = Math.ceil(rt - 0.5);
  let bottom = Math.ceil(rb - 0.5);
  const narrowX = right <= left;
  const narrowY = bottom <= top;
  if (narrowX) {
    left = Math.floor((cl + cr) / 2);
    right = left + 1;
  }
  if (narrowY) {
    top = Math.floor((rt + rb) / 2);
    bottom = top + 1;
  }
  if (left < 0) left = 0;
  if (right > W) right = W;
  if (top < 0) top = 0;
  if (bottom > H) bottom = H;
  if (left >= right || top >= bottom) return null;
  const bw = right - left;
  const fp = s.footprint;
  for (let r = top; r < bottom; r++) {
    const v = narrowY ? 0.5 : (hc - ((r + 0.5 - horizon) * o.z) / f - o.base) / o.h;
    for (let c = left; c < right; c++) {
      const a = narrowX ? 0.5 : (((c + 0.5 - cx) * o.z) / f - (o.x - o.w / 2)) / o.w;
      fp[(r - top) * bw + (c - left)] = inSilhouette(o, a, v, narrowX || narrowY) ? 1 : 0;
    }
  }
  return { top, left, bottom, right, narrowX, narrowY };
}

function renderScene(
  seed: number,
  index: number,
  H: number,
  W: number,
  minObjects: number,
  maxObjects: number,
  noiseTable: Float64Array | null,
  depthHoles: boolean,
  out: SceneBatch,
  s: Scratch,
): void {
  const rng = new Sfc32(seed, index, SALT_GEOMETRY);
  const cam = sampleCamera(rng, H, W);
  const street = sampleStreet(rng);
  const hw = H * W;
  const off = index * hw;
  const { semantic, instance, images, inverseDepth, depthMask, instanceOffset } = out;
  renderBackground(cam, street, H, W, out, off, s);

  // objects, z-buffered; each is accepted only if it and every earlier object keep ≥ MIN_VISIBLE pixels
  const { zbuf, footprint } = s;
  const target = minObjects + rng.int(maxObjects - minObjects + 1);
  const instances: SceneInstance[] = [];
  const visible: number[] = [0];
  const lost: number[] = [0];
  const { focal: f, cx, horizon, height: hc } = cam;
  const col: Rgb = [0, 0, 0];
  for (let n = 0; n < target; n++) {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const o = sampleObject(rng, street);
      const box = rasterise(o, cam, H, W, s);
      if (box === null) continue;
      const { top, left, bottom, right } = box;
      const bw = right - left;
      let gained = 0;
      for (let r = top; r < bottom; r++) {
        for (let c = left; c < right; c++) {
          const p = r * W + c;
          if (footprint[(r - top) * bw + (c - left)] === 0 || !(o.z < zbuf[p]!)) continue;
          gained++;
          const owner = instance[off + p]!;
          if (owner > 0) lost[owner]!++;
        }
      }
      let ok = gained >= MIN_VISIBLE;
      for (let k = 1; k < visible.length; k++) {
        if (visible[k]! - lost[k]! < MIN_VISIBLE) ok = false;
        lost[k] = 0;
      }
      if (!ok) continue;
      const id = instances.length + 1;
      visible.push(0);
      lost.push(0);
      const inverse = 1 / o.z;
      for (let r = top; r < bottom; r++) {
        const v = box.narrowY ? 0.5 : (hc - ((r + 0.5 - horizon) * o.z) / f - o.base) / o.h;
        for (let c = left; c < right; c++) {
          const p = r * W + c;
          if (footprint[(r - top) * bw + (c - left)] === 0 || !(o.z < zbuf[p]!)) continue;
          const q = off + p;
          const owner = instance[q]!;
          if (owner > 0) visible[owner]!--;
          visible[id]!++;
          zbuf[p] = o.z;
          instance[q] = id;
          semantic[q] = o.classIndex;
          inverseDepth[q] = inverse;
          const a = box.narrowX ? 0.5 : (((c + 0.5 - cx) * o.z) / f - (o.x - o.w / 2)) / o.w;
          objectColour(o, a, v, col);
          hazeInto(col, o.z, street);
          images[3 * q] = clamp01(col[0]);
          images[3 * q + 1] = clamp01(col[1]);
          images[3 * q + 2] = clamp01(col[2]);
        }
      }
      instances.push({
        id,
        classIndex: o.classIndex,
        depth: o.z,
        centroid: [0, 0],
        pixelCount: 0,
        bbox: [top, left, bottom, right],
        footprint: footprint.slice(0, (bottom - top) * bw),
      });
      break;
    }
  }

  // centroids of the visible pixels (each inside its own bbox), then the offsets towards them
  for (const inst of instances) {
    const [top, left, bottom, right] = inst.bbox;
    let sumR = 0;
    let sumC = 0;
    for (let r = top; r < bottom; r++) {
      for (let c = left; c < right; c++) {
        if (instance[off + r * W + c] !== inst.id) continue;
        sumR += r;
        sumC += c;
      }
    }
    inst.pixelCount = visible[inst.id]!;
    const cr = sumR / inst.pixelCount;
    const cc = sumC / inst.pixelCount;
    inst.centroid = [cr, cc];
    for (let r = top; r < bottom; r++) {
      for (let c = left; c < right; c++) {
        const q = off + r * W + c;
        if (instance[q] !== inst.id) continue;
        instanceOffset[2 * q] = cr - r;
        instanceOffset[2 * q + 1] = cc - c;
      }
    }
  }
  out.instances[index] = instances;

  if (depthHoles) {
    const hr = new Sfc32(seed, index, SALT_HOLES);
    const blobs = 1 + hr.int(4);
    for (let k = 0; k < blobs; k++) {
      let r0 = 0;
      let c0 = 0;
      let found = false;
      for (let t = 0; t < 20 && !found; t++) {
        r0 = hr.int(H);
        c0 = hr.int(W);
        found = semantic[off + r0 * W + c0] !== SKY;
      }
      const ry = hr.range(0.8, 3.5);
      const rx = hr.range(0.8, 4.5);
      if (!found) continue;
      const rMin = Math.max(0, Math.floor(r0 - ry));
      const rMax = Math.min(H - 1, Math.ceil(r0 + ry));
      const cMin = Math.max(0, Math.floor(c0 - rx));
      const cMax = Math.min(W - 1, Math.ceil(c0 + rx));
      for (let r = rMin; r <= rMax; r++) {
        for (let c = cMin; c <= cMax; c++) {
          const er = (r - r0) / ry;
          const ec = (c - c0) / rx;
          const q = off + r * W + c;
          if (er * er + ec * ec > 1 || semantic[q] === SKY) continue;
          depthMask[q] = 0;
          inverseDepth[q] = 0;
        }
      }
    }
  }

  if (noiseTable !== null) {
    // two Gaussian deviates per 32 random bits
    const nr = new Sfc32(seed, index, SALT_NOISE);
    const end = (off + hw) * 3;
    let q = off * 3;
    for (; q + 1 < end; q += 2) {
      const u = nr.nextUint32();
      images[q] = clamp01(images[q]! + noiseTable[u & 0xffff]!);
      images[q + 1] = clamp01(images[q + 1]! + noiseTable[u >>> 16]!);
    }
    if (q < end) images[q] = clamp01(images[q]! + noiseTable[nr.nextUint32() & 0xffff]!);
  }
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
}

/**
 * Generates `count` street scenes. Scene i depends only on (seed, i) and the options, so scene i is the
 * same whatever `count` is; use different seeds for train / validation / test sets.
 */
export function generateScenes(count: number, seed: number, options: SceneOptions = {}): SceneBatch {
  checkInteger('count', count, 1);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer in [0, 2^32 - 1], got ${seed}`);
  }
  const H = options.height ?? 64;
  const W = options.width ?? 128;
  const minObjects = options.minObjects ?? 2;
  const maxObjects = options.maxObjects ?? 8;
  const noise = options.noise ?? 0.03;
  const depthHoles = options.depthHoles ?? true;
  checkInteger('height', H, 16);
  checkInteger('width', W, 16);
  checkInteger('minObjects', minObjects, 0);
  checkInteger('maxObjects', maxObjects, 0);
  if (minObjects > maxObjects) {
    throw new RangeError(`minObjects (${minObjects}) must be <= maxObjects (${maxObjects})`);
  }
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0) {
    throw new RangeError(`noise must be a finite number >= 0, got ${noise}`);
  }
  if (typeof depthHoles !== 'boolean')
    throw new RangeError(`depthHoles must be a boolean, got ${String(depthHoles)}`);
  const hw = H * W;
  const out: SceneBatch = {
    count,
    height: H,
    width: W,
    images: new Float32Array(count * hw * 3),
    semantic: new Int32Array(count * hw),
    instance: new Int32Array(count * hw),
    instanceOffset: new Float32Array(count * hw * 2),
    inverseDepth: new Float32Array(count * hw),
    depthMask: new Uint8Array(count * hw),
    instances: new Array<SceneInstance[]>(count),
  };
  const scratch: Scratch = {
    zbuf: new Float64Array(hw),
    footprint: new Uint8Array(hw),
    colStart: new Int32Array(W),
    colCount: new Int32Array(W),
    hitZ: new Float64Array(4 * W),
    hitBox: new Int32Array(4 * W),
    hitX: new Uint8Array(4 * W),
    tmpZ: new Float64Array(64),
    tmpBox: new Int32Array(64),
    tmpX: new Uint8Array(64),
  };
  const noiseTable = noise > 0 ? scaledQuantiles(noise) : null;
  for (let i = 0; i < count; i++)
    renderScene(seed, i, H, W, minObjects, maxObjects, noiseTable, depthHoles, out, scratch);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Figures

function checkPlane(
  name: string,
  data: ArrayLike<number>,
  height: number,
  width: number,
  channels: number,
): void {
  checkInteger('height', height, 1);
  checkInteger('width', width, 1);
  if (data.length !== height * width * channels) {
    throw new RangeError(
      `${name} has length ${data.length}, expected ${height}×${width}×${channels} = ${height * width * channels}`,
    );
  }
}

function checkMask(mask: ArrayLike<number> | undefined, height: number, width: number): void {
  if (mask !== undefined && mask.length !== height * width) {
    throw new RangeError(`mask has length ${mask.length}, expected ${height}×${width} = ${height * width}`);
  }
}

/** HSV (all in [0, 1]) to RGB bytes written at `out[q..q+2]`. */
function hsvInto(h: number, s: number, v: number, out: Uint8ClampedArray, q: number): void {
  const h6 = frac(h) * 6;
  const i = Math.floor(h6);
  const f = h6 - i;
  const p = v * (1 - s);
  const qq = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  const [r, g, b] =
    i === 0
      ? [v, t, p]
      : i === 1
        ? [qq, v, p]
        : i === 2
          ? [p, v, t]
          : i === 3
            ? [p, qq, v]
            : i === 4
              ? [t, p, v]
              : [v, p, qq];
  out[q] = Math.round(r * 255);
  out[q + 1] = Math.round(g * 255);
  out[q + 2] = Math.round(b * 255);
}

/** The RGBA bytes (H·W·4) of image `index` of a batch. */
export function sceneImageRgba(batch: SceneBatch, index: number): Uint8ClampedArray {
  if (!Number.isInteger(index) || index < 0 || index >= batch.count) {
    throw new RangeError(`index must be an integer in [0, ${batch.count - 1}], got ${index}`);
  }
  const hw = batch.height * batch.width;
  const out = new Uint8ClampedArray(hw * 4);
  const base = index * hw * 3;
  for (let p = 0; p < hw; p++) {
    out[4 * p] = Math.round(batch.images[base + 3 * p]! * 255);
    out[4 * p + 1] = Math.round(batch.images[base + 3 * p + 1]! * 255);
    out[4 * p + 2] = Math.round(batch.images[base + 3 * p + 2]! * 255);
    out[4 * p + 3] = 255;
  }
  return out;
}

/** Semantic labels (H·W) as RGBA with `palette` (default `SCENE_PALETTE`); `IGNORE_LABEL` and unknown labels are black. */
export function semanticRgba(
  labels: ArrayLike<number>,
  height: number,
  width: number,
  palette: readonly (readonly [number, number, number])[] = SCENE_PALETTE,
): Uint8ClampedArray {
  checkPlane('labels', labels, height, width, 1);
  const out = new Uint8ClampedArray(height * width * 4);
  for (let p = 0; p < labels.length; p++) {
    const colour = palette[labels[p]!];
    if (colour !== undefined) {
      out[4 * p] = colour[0];
      out[4 * p + 1] = colour[1];
      out[4 * p + 2] = colour[2];
    }
    out[4 * p + 3] = 255;
  }
  return out;
}

/** Viridis at nine evenly spaced stops (matplotlib's values, rounded to bytes). */
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/**
 * Inverse depth (H·W) as RGBA through a viridis colormap on [0, max] (0 = far/sky is dark purple,
 * near is yellow). `max` defaults to the largest labelled value; pixels with `mask` 0 (and non-finite
 * values) are black.
 */
export function inverseDepthRgba(
  invDepth: ArrayLike<number>,
  height: number,
  width: number,
  max?: number,
  mask?: ArrayLike<number>,
): Uint8ClampedArray {
  checkPlane('invDepth', invDepth, height, width, 1);
  checkMask(mask, height, width);
  let top = max ?? 0;
  if (max === undefined) {
    for (let p = 0; p < invDepth.length; p++) {
      const v = invDepth[p]!;
      if ((mask === undefined || mask[p] !== 0) && Number.isFinite(v) && v > top) top = v;
    }
  }
  if (!(top > 0)) top = 1;
  const out = new Uint8ClampedArray(height * width * 4);
  const last = VIRIDIS.length - 1;
  for (let p = 0; p < invDepth.length; p++) {
    out[4 * p + 3] = 255;
    const v = invDepth[p]!;
    if ((mask !== undefined && mask[p] === 0) || !Number.isFinite(v)) continue;
    const t = clamp01(v / top) * last;
    const i = Math.min(last - 1, Math.floor(t));
    const f = t - i;
    const a = VIRIDIS[i]!;
    const b = VIRIDIS[i + 1]!;
    out[4 * p] = Math.round(a[0] + (b[0] - a[0]) * f);
    out[4 * p + 1] = Math.round(a[1] + (b[1] - a[1]) * f);
    out[4 * p + 2] = Math.round(a[2] + (b[2] - a[2]) * f);
  }
  return out;
}

/**
 * Centroid offsets (H·W·2, (row, col) pairs) as RGBA in the optical-flow style: hue = direction,
 * saturation = length / `maxLength` (default the longest masked-in offset), value 1, so a zero offset is
 * white. Pixels with `mask` 0 are black; pass the instance ids as the mask to black out the background.
 */
export function instanceOffsetRgba(
  offsets: ArrayLike<number>,
  height: number,
  width: number,
  maxLength?: number,
  mask?: ArrayLike<number>,
): Uint8ClampedArray {
  checkPlane('offsets', offsets, height, width, 2);
  checkMask(mask, height, width);
  const hw = height * width;
  let top = maxLength ?? 0;
  if (maxLength === undefined) {
    for (let p = 0; p < hw; p++) {
      if (mask !== undefined && mask[p] === 0) continue;
      const len = Math.hypot(offsets[2 * p]!, offsets[2 * p + 1]!);
      if (len > top) top = len;
    }
  }
  if (!(top > 0)) top = 1;
  const out = new Uint8ClampedArray(hw * 4);
  for (let p = 0; p < hw; p++) {
    out[4 * p + 3] = 255;
    if (mask !== undefined && mask[p] === 0) continue;
    const dr = offsets[2 * p]!;
    const dc = offsets[2 * p + 1]!;
    if (!Number.isFinite(dr) || !Number.isFinite(dc)) continue;
    const hue = Math.atan2(dr, dc) / (2 * Math.PI);
    hsvInto(hue, clamp01(Math.hypot(dr, dc) / top), 1, out, 4 * p);
  }
  return out;
}

/** Instance ids (H·W) as RGBA: a distinct colour per id (golden-ratio hue steps), 0 and negatives black. */
export function instanceIdRgba(ids: ArrayLike<number>, height: number, width: number): Uint8ClampedArray {
  checkPlane('ids', ids, height, width, 1);
  const out = new Uint8ClampedArray(height * width * 4);
  for (let p = 0; p < ids.length; p++) {
    out[4 * p + 3] = 255;
    const id = ids[p]!;
    if (!(id > 0)) continue;
    hsvInto(id * 0.618033988749895, id % 2 === 0 ? 0.85 : 0.6, id % 3 === 0 ? 0.8 : 1, out, 4 * p);
  }
  return out;
}
