/**
 * Scene data as streams: a source of labelled frames (generated scenes in memory, or dataset folders
 * read from disk by the Node readers), frame geometry (resize, zoom-crop, flip applied to the image and
 * every label alike), and endless seeded minibatches for `Trainer.fitDataset` with the next batches
 * loading while the current step runs. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { SCENE_CLASSES, SCENE_PALETTE, THING_CLASSES, type SceneBatch } from '../data/synthetic/scenes.js';
import { resizeBilinearArea, resizeNearest, type Crop } from '../data/images/resample.js';
import { NumpyRandomState, type RandomStateSnapshot } from '../random/numpy-random-state.js';
import type { ResumableStream, TrainingData } from '../train/batches.js';
import { orderedTasks, type SceneTask } from './model.js';

/** One labelled frame at the training resolution, flat row-major arrays. */
export interface SceneFrame {
  height: number;
  width: number;
  /** [H, W, 3] RGB in [0, 1]. */
  image: Float32Array;
  /** [H, W] class index, −1 = ignore. Absent: the frame has no semantic labels. */
  semantic?: Int32Array;
  /** [H, W] instance id (any positive integer, unique per object in the frame), 0 = none. Absent: no instance labels. */
  instance?: Int32Array;
  /** [H, W] inverse depth in 1/m (or the dataset's unit). Absent: no depth labels. */
  inverseDepth?: Float32Array;
  /** [H, W] 1 where `inverseDepth` is labelled. */
  depthMask?: Uint8Array;
}

/** A frame before geometry: labels as read, at the file's resolution. */
export interface RawSceneFrame {
  height: number;
  width: number;
  /** [H, W, 3] RGB; multiplied by `imageScale` (e.g. 1/255 for 8-bit) to reach [0, 1]. */
  image: ArrayLike<number>;
  imageScale: number;
  semantic?: Int32Array;
  instance?: Int32Array;
  inverseDepth?: Float32Array;
  depthMask?: Uint8Array;
}

/** A random zoom-crop and flip, drawn per frame. */
export interface FrameTransform {
  /** ≥ 1: the crop is 1/zoom of the frame on each side, resized back (objects look `zoom` × nearer). */
  zoom: number;
  /** Where the crop sits in the free space, 0 (top/left) … 1 (bottom/right). */
  top: number;
  left: number;
  /** Mirror horizontally. */
  flip: boolean;
}

/** Training augmentation: zoom drawn uniformly in [1, maxZoom], and a coin flip for the mirror. */
export interface SceneAugmentation {
  /** Default 1.5; 1 = no zoom. */
  maxZoom?: number;
  /** Default true. */
  flip?: boolean;
}

/** Labelled frames by index; `frame` resolves at `height`×`width`, transformed if asked. */
export interface SceneSource {
  readonly size: number;
  readonly height: number;
  readonly width: number;
  /** Class names, index = label. */
  readonly classes: readonly string[];
  /** Classes whose pixels carry instances (for the instance masks' clustering). */
  readonly thingClasses: readonly number[];
  /** Display colours per class. */
  readonly palette?: readonly (readonly [number, number, number])[];
  /** Which label kinds the source has at all. */
  readonly labels: { semantic: boolean; instance: boolean; depth: boolean };
  /** Frame `index`; rejects with an Error naming the file when the frame's data are bad. */
  frame(index: number, transform?: FrameTransform): Promise<SceneFrame>;
  /** What frame `index` is, for messages (e.g. its image file). */
  describe(index: number): string;
}

/**
 * Resizes a raw frame to `height`×`width` through `transform` (zoom-crop and flip; none = the whole
 * frame): the image by area/bilinear resampling, labels nearest-neighbour; a zoom by r multiplies
 * inverse depth by r (things look r times nearer).
 */
export function transformFrame(
  raw: RawSceneFrame,
  height: number,
  width: number,
  transform?: FrameTransform,
): SceneFrame {
  const { height: h, width: w } = raw;
  const zoom = transform?.zoom ?? 1;
  if (!(zoom >= 1)) throw new RangeError(`zoom must be ≥ 1, got ${zoom}`);
  const ch = h / zoom;
  const cw = w / zoom;
  const crop: Crop = {
    top: (transform?.top ?? 0) * (h - ch),
    left: (transform?.left ?? 0) * (w - cw),
    height: ch,
    width: cw,
  };
  const flip = transform?.flip ?? false;
  const same = zoom === 1 && !flip && h === height && w === width;
  // (the typed-array constructor converts natively; Float32Array.from iterates)
  const image = same
    ? new Float32Array(raw.image)
    : resizeBilinearArea(raw.image, h, w, 3, crop, height, width, flip);
  if (raw.imageScale !== 1) for (let i = 0; i < image.length; i++) image[i]! *= raw.imageScale;
  const nearest = <T extends Int32Array | Uint8Array | Float32Array>(a: T): T =>
    same ? (a.slice() as T) : resizeNearest(a, h, w, 1, crop, height, width, flip);
  const frame: SceneFrame = { height, width, image };
  if (raw.semantic) frame.semantic = nearest(raw.semantic);
  if (raw.instance) frame.instance = nearest(raw.instance);
  if (raw.inverseDepth) {
    const d = nearest(raw.inverseDepth);
    if (zoom !== 1) for (let i = 0; i < d.length; i++) d[i]! *= zoom;
    frame.inverseDepth = d;
    frame.depthMask = raw.depthMask ? nearest(raw.depthMask) : Uint8Array.from(d, (v) => (v > 0 ? 1 : 0));
  }
  return frame;
}

/**
 * Per-pixel (dy, dx) from each instance pixel to its instance's centroid (the mean of its pixels'
 * row and column), 0 elsewhere: [H, W, 2]. Computed from the ids after any geometry, so a flip
 * negates dx and a zoom scales the vectors by itself.
 */
export function instanceOffsets(ids: ArrayLike<number>, height: number, width: number): Float32Array {
  // runs of one id are common along a row: the last entry found is tried before the map
  const sums = new Map<number, [number, number, number]>();
  let lastId = 0;
  let last: [number, number, number] = [0, 0, 0];
  for (let r = 0, p = 0; r < height; r++) {
    for (let c = 0; c < width; c++, p++) {
      const id = ids[p]!;
      if (id <= 0) continue;
      if (id !== lastId) {
        lastId = id;
        let s = sums.get(id);
        if (s === undefined) sums.set(id, (s = [0, 0, 0]));
        last = s;
      }
      last[0] += r;
      last[1] += c;
      last[2]++;
    }
  }
  const centroids = new Map<number, [number, number]>();
  for (const [id, [sr, sc, n]] of sums) centroids.set(id, [sr / n, sc / n]);
  const out = new Float32Array(height * width * 2);
  lastId = 0;
  let centroid: [number, number] = [0, 0];
  for (let r = 0, p = 0; r < height; r++) {
    for (let c = 0; c < width; c++, p++) {
      const id = ids[p]!;
      if (id <= 0) continue;
      if (id !== lastId) {
        lastId = id;
        centroid = centroids.get(id)!;
      }
      out[2 * p] = centroid[0] - r;
      out[2 * p + 1] = centroid[1] - c;
    }
  }
  return out;
}

/** Generated scenes (or any SceneBatch) as a source; frames at the batch's own size unless told. */
export function memorySceneSource(
  data: SceneBatch,
  options: { height?: number; width?: number; name?: string } = {},
): SceneSource {
  const { height: H, width: W } = data;
  const P = H * W;
  const name = options.name ?? 'scene';
  return {
    size: data.count,
    height: options.height ?? H,
    width: options.width ?? W,
    classes: SCENE_CLASSES,
    thingClasses: THING_CLASSES,
    palette: SCENE_PALETTE,
    labels: { semantic: true, instance: true, depth: true },
    describe: (i) => `${name} ${i}`,
    frame(i, transform) {
      if (!Number.isInteger(i) || i < 0 || i >= data.count)
        return Promise.reject(new RangeError(`scene index ${i} is outside the ${data.count} scenes`));
      return Promise.resolve(
        transformFrame(
          {
            height: H,
            width: W,
            image: data.images.subarray(i * P * 3, (i + 1) * P * 3),
            imageScale: 1,
            semantic: data.semantic.subarray(i * P, (i + 1) * P),
            instance: data.instance.subarray(i * P, (i + 1) * P),
            inverseDepth: data.inverseDepth.subarray(i * P, (i + 1) * P),
            depthMask: data.depthMask.subarray(i * P, (i + 1) * P),
          },
          this.height,
          this.width,
          transform,
        ),
      );
    },
  };
}

/**
 * Frames as one SceneBatch (what the metrics and figures read): missing label kinds become ignored
 * pixels (−1), no instances and an all-zero depth mask. Instance ids are renumbered 1… per frame.
 */
export function framesToSceneBatch(frames: readonly SceneFrame[]): SceneBatch {
  if (frames.length === 0) throw new RangeError('framesToSceneBatch: no frames');
  const { height: H, width: W } = frames[0]!;
  const P = H * W;
  const n = frames.length;
  const out: SceneBatch = {
    count: n,
    height: H,
    width: W,
    images: new Float32Array(n * P * 3),
    semantic: new Int32Array(n * P).fill(-1),
    instance: new Int32Array(n * P),
    instanceOffset: new Float32Array(n * P * 2),
    inverseDepth: new Float32Array(n * P),
    depthMask: new Uint8Array(n * P),
    instances: frames.map(() => []),
  };
  frames.forEach((f, k) => {
    if (f.height !== H || f.width !== W)
      throw new RangeError(`framesToSceneBatch: frame ${k} is ${f.height}×${f.width}, frame 0 ${H}×${W}`);
    out.images.set(f.image, k * P * 3);
    if (f.semantic) out.semantic.set(f.semantic, k * P);
    if (f.instance) {
      const ids = new Map<number, number>();
      for (let p = 0; p < P; p++) {
        const v = f.instance[p]!;
        if (v <= 0) continue;
        let id = ids.get(v);
        if (id === undefined) ids.set(v, (id = ids.size + 1));
        out.instance[k * P + p] = id;
      }
      out.instanceOffset.set(instanceOffsets(f.instance, H, W), k * P * 2);
    }
    if (f.inverseDepth) {
      out.inverseDepth.set(f.inverseDepth, k * P);
      out.depthMask.set(f.depthMask ?? new Uint8Array(P).fill(1), k * P);
    }
  });
  return out;
}

/**
 * One training batch from frames: x = images [B, H, W, 3]; per task in SCENE_TASKS order the target
 * (semantic int32 labels [B, H, W]; instance vectors [B, H, W, 2]; inverse depth [B, H, W, 1]) and its
 * mask [B, H, W, 1] (0 on ignored pixels, non-instance pixels, unlabelled depth, and everywhere in a
 * frame that lacks that kind of label).
 */
export function sceneTrainingBatch(
  frames: readonly SceneFrame[],
  tasks: readonly SceneTask[],
  numClasses: number,
): TrainingData {
  const { height: H, width: W } = frames[0]!;
  const P = H * W;
  const B = frames.length;
  const image = new Float32Array(B * P * 3);
  frames.forEach((f, b) => image.set(f.image, b * P * 3));
  const targets: tf.Tensor[] = [];
  const masks: tf.Tensor[] = [];
  for (const task of orderedTasks(tasks)) {
    const mask = new Float32Array(B * P);
    if (task === 'semantic') {
      const labels = new Int32Array(B * P).fill(-1);
      frames.forEach((f, b) => {
        const semantic = f.semantic;
        if (!semantic) return;
        for (let p = 0, q = b * P; p < P; p++, q++) {
          const l = semantic[p]!;
          if (l >= 0 && l < numClasses) {
            labels[q] = l;
            mask[q] = 1;
          }
        }
      });
      targets.push(tf.tensor3d(labels, [B, H, W], 'int32'));
    } else if (task === 'instance') {
      const offsets = new Float32Array(B * P * 2);
      frames.forEach((f, b) => {
        const instance = f.instance;
        if (!instance) return;
        offsets.set(instanceOffsets(instance, H, W), b * P * 2);
        for (let p = 0, q = b * P; p < P; p++, q++) mask[q] = instance[p]! > 0 ? 1 : 0;
      });
      targets.push(tf.tensor4d(offsets, [B, H, W, 2]));
    } else {
      const depth = new Float32Array(B * P);
      frames.forEach((f, b) => {
        if (!f.inverseDepth) return;
        depth.set(f.inverseDepth, b * P);
        if (f.depthMask) mask.set(f.depthMask, b * P);
        else mask.fill(1, b * P, (b + 1) * P);
      });
      targets.push(tf.tensor4d(depth, [B, H, W, 1]));
    }
    masks.push(tf.tensor4d(mask, [B, H, W, 1]));
  }
  return { x: tf.tensor4d(image, [B, H, W, 3]), targets, masks };
}

export interface SceneBatchOptions {
  tasks: readonly SceneTask[];
  /** Frames per batch, ≥ 2 (batch norm needs two samples). */
  batchSize: number;
  /** Seed of the frame order: a fresh seeded permutation whenever the current one has too few left. */
  seed?: number;
  /** Random zoom-crop and flip per frame (default none); drawn from a stream seeded by `seed`. */
  augment?: SceneAugmentation | false;
  /** Batches loading ahead of the one being trained on; default 2. */
  prefetch?: number;
  /**
   * Frames decoding at once; default 4 (sharp's thread pool). Bounds memory: a full-size Cityscapes frame
   * takes ≈ 45 MB while it is decoded and resized.
   */
  concurrency?: number;
  /** Skip frames whose data are bad instead of failing; `onSkip` hears of each. */
  skipBad?: boolean;
  onSkip?: (index: number, error: Error) => void;
}

/**
 * Where a `sceneBatches` stream stands: the frame order's random state before its current permutation,
 * the position in it, the augmentation stream's state and the frames skipped as bad. Plain JSON.
 */
export interface SceneStreamState {
  permOrigin: RandomStateSnapshot;
  cursor: number;
  draws: RandomStateSnapshot;
  bad: number[];
}

function checkStreamState(state: unknown, size: number): SceneStreamState {
  const s = state as Partial<SceneStreamState> | null;
  if (
    !s ||
    typeof s !== 'object' ||
    !s.permOrigin ||
    !s.draws ||
    !Number.isInteger(s.cursor) ||
    s.cursor! < 0 ||
    s.cursor! > size ||
    !Array.isArray(s.bad)
  )
    throw new Error(`not the state of a scene batch stream over ${size} frames`);
  return s as SceneStreamState;
}

/** Stream offset between the frame order's and the augmentation's random streams. */
const AUGMENT_STREAM = 0x5eed;

/**
 * Endless minibatches of `source` for `Trainer.fitDataset`: frames in seeded random order (a new
 * permutation when fewer than a batch remain, as the epoch-free scene loop always did), optionally
 * augmented, loaded `prefetch` batches ahead so that file reads and decoding overlap training. Each
 * yielded batch's tensors are the consumer's to dispose (fitDataset does). Resumable: the position after
 * the last batch handed out can be saved (`checkpointState`) and a new iterator started from it
 * (`restoreState`), giving the same batches as the uninterrupted stream (frames skipped as bad aside).
 */
export function sceneBatches(
  source: SceneSource,
  options: SceneBatchOptions,
): AsyncIterable<TrainingData> & ResumableStream {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 2)
    throw new RangeError(`batchSize must be an integer ≥ 2 (batch norm needs two samples), got ${batchSize}`);
  if (batchSize > source.size)
    throw new RangeError(`batchSize ${batchSize} exceeds the ${source.size} frames of the data`);
  const prefetch = options.prefetch ?? 2;
  if (!Number.isInteger(prefetch) || prefetch < 0)
    throw new RangeError(`prefetch must be an integer ≥ 0, got ${prefetch}`);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
  const limit = limiter(concurrency);
  const augment = options.augment === false ? undefined : options.augment;
  const maxZoom = augment?.maxZoom ?? 1.5;
  if (augment && !(maxZoom >= 1)) throw new RangeError(`augment.maxZoom must be ≥ 1, got ${maxZoom}`);
  const numClasses = source.classes.length;
  const seed = options.seed ?? 0;

  let resumeAt: SceneStreamState | undefined;
  let consumed: SceneStreamState | undefined;
  return {
    checkpointState(): SceneStreamState | undefined {
      return consumed ?? resumeAt;
    },
    restoreState(state: unknown): void {
      resumeAt = checkStreamState(state, source.size);
      consumed = undefined;
    },
    [Symbol.asyncIterator]() {
      const order = new NumpyRandomState(seed);
      const draws = new NumpyRandomState((seed + AUGMENT_STREAM) >>> 0);
      let permOrigin = order.getState();
      let perm = order.permutation(source.size);
      let cursor = 0;
      const bad = new Set<number>();
      if (resumeAt) {
        permOrigin = resumeAt.permOrigin;
        order.setState(permOrigin);
        perm = order.permutation(source.size);
        cursor = resumeAt.cursor;
        draws.setState(resumeAt.draws);
        resumeAt.bad.forEach((i) => bad.add(i));
      }
      /** Where the stream stands now: enough to draw exactly the same batches from here on. */
      const snapshot = (): SceneStreamState => ({
        permOrigin,
        cursor,
        draws: draws.getState(),
        bad: [...bad],
      });
      const refill = () => {
        if (bad.size > source.size - batchSize)
          throw new Error(`fewer than ${batchSize} good frames are left (${bad.size} skipped as bad)`);
        permOrigin = order.getState();
        perm = order.permutation(source.size);
        cursor = 0;
      };
      /** The next frame index; a batch starts on a fresh permutation when fewer than a batch remain. */
      const nextIndex = (batchStart: boolean): number => {
        if (batchStart && cursor + batchSize > perm.length) refill();
        for (;;) {
          if (cursor >= perm.length) refill();
          const i = perm[cursor++]!;
          if (!bad.has(i)) return i;
        }
      };
      const transform = (): FrameTransform | undefined => {
        if (!augment) return undefined;
        // four draws per frame, in this order
        const zoom = 1 + (maxZoom - 1) * draws.random();
        const top = draws.random();
        const left = draws.random();
        const flip = draws.random() < 0.5 && (augment.flip ?? true);
        return { zoom, top, left, flip };
      };
      const load = async (): Promise<{ frames: SceneFrame[]; after: SceneStreamState }> => {
        // indices and transforms are drawn now, in order, so the stream does not depend on timing
        const picks = Array.from({ length: batchSize }, (_, k) => ({
          index: nextIndex(k === 0),
          t: transform(),
        }));
        const after = snapshot();
        const frames: SceneFrame[] = [];
        while (picks.length > 0) {
          const results = await Promise.allSettled(picks.map((p) => limit(() => source.frame(p.index, p.t))));
          const retry: typeof picks = [];
          results.forEach((r, k) => {
            if (r.status === 'fulfilled') frames.push(r.value);
            else {
              const err = r.reason instanceof Error ? r.reason : new Error(String(r.reason));
              if (!options.skipBad) throw err;
              bad.add(picks[k]!.index);
              options.onSkip?.(picks[k]!.index, err);
              retry.push({ index: nextIndex(false), t: transform() });
            }
          });
          picks.splice(0, picks.length, ...retry);
        }
        return { frames, after };
      };
      const queue: Promise<{ frames: SceneFrame[]; after: SceneStreamState }>[] = [];
      const fill = () => {
        while (queue.length < prefetch + 1) {
          const p = load();
          p.catch(() => undefined); // rejections surface when awaited, in order
          queue.push(p);
        }
      };
      return {
        async next(): Promise<IteratorResult<TrainingData>> {
          fill();
          const { frames, after } = await queue.shift()!;
          fill();
          consumed = after;
          return { done: false, value: sceneTrainingBatch(frames, options.tasks, numClasses) };
        },
        return(): Promise<IteratorResult<TrainingData>> {
          queue.length = 0;
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
}

/** Runs at most `n` of the functions given to it at once, the others queued in order. */
function limiter(n: number): <T>(run: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(run: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await run();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/**
 * Frames `indices` of a source, loaded `concurrency` at a time, in order, untransformed: for evaluation
 * and figures, a chunk at a time so that memory stays bounded.
 */
export async function loadFrames(
  source: SceneSource,
  indices: readonly number[],
  concurrency = 8,
): Promise<SceneFrame[]> {
  const out: SceneFrame[] = [];
  for (let k = 0; k < indices.length; k += concurrency)
    out.push(...(await Promise.all(indices.slice(k, k + concurrency).map((i) => source.frame(i)))));
  return out;
}
