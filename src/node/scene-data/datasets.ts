/**
 * Scene datasets on disk, streamed: the official Cityscapes layout, and `folders` — images/, semantic/,
 * instance/, depth/ with matching file stems and a dataset.json — for people's own data. Opening a
 * split lists its frames and checks every file's header (presence, PNG signature, size, bit depth,
 * channels, a complete file, the camera json) without decoding; frames are decoded (sharp, off the main
 * thread) only when training or evaluation asks for them. Every problem is a SceneDataError whose
 * message starts with the file it is about. Node-only.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import { decode as decodePng } from 'fast-png';
import { pngHeaderInfo, pngInfo, type PngInfo } from '../../data/images/png-info.js';
import {
  transformFrame,
  type FrameTransform,
  type RawSceneFrame,
  type SceneFrame,
  type SceneSource,
} from '../../scenes/data.js';
import { decodeImage } from '../image-decode.js';
import {
  CITYSCAPES_CLASSES,
  CITYSCAPES_PALETTE,
  CITYSCAPES_THING_CLASSES,
  cityscapesInstances,
  cityscapesInverseDepth,
  cityscapesSemantic,
  LabelValueError,
  parseCityscapesCamera,
  type CityscapesCamera,
} from './cityscapes.js';

export const SCENE_DATA_FORMATS = ['cityscapes', 'folders'] as const;
export type SceneDataFormat = (typeof SCENE_DATA_FORMATS)[number];

/** A dataset file is missing, unreadable or holds bad data; the message starts with the file. */
export class SceneDataError extends Error {
  override name = 'SceneDataError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

export interface OpenSceneDataOptions {
  /** Default: detected (leftImg8bit/ → cityscapes, dataset.json → folders). */
  format?: SceneDataFormat;
  /** Default 'train'. */
  split?: string;
  /** Frames come out at this size. */
  height: number;
  width: number;
  /** Leave bad frames out (reported through `onSkip`) instead of failing. */
  skipBad?: boolean;
  onSkip?: (error: SceneDataError) => void;
}

/** A dataset split on disk as a SceneSource. */
export interface SceneDataset extends SceneSource {
  readonly format: SceneDataFormat;
  readonly root: string;
  readonly split: string;
  /** Frames left out when opening with `skipBad`. */
  readonly skipped: readonly SceneDataError[];
}

/** One frame's files (absent kinds undefined). */
interface FrameFiles {
  image: string;
  semantic?: string;
  instance?: string;
  depth?: string;
  camera?: string;
}

/** How one format turns decoded samples into a raw frame. */
interface Encoding {
  classes: readonly string[];
  thingClasses: readonly number[];
  palette?: readonly (readonly [number, number, number])[];
  /** Bit depths each label PNG may have. */
  semanticDepths: readonly number[];
  instanceDepths: readonly number[];
  depthDepths: readonly number[];
  semantic(samples: Uint8Array | Uint16Array): Int32Array;
  instance(samples: Uint8Array | Uint16Array): Int32Array;
  depth(
    samples: Uint8Array | Uint16Array,
    camera: CityscapesCamera | undefined,
  ): { inverseDepth: Float32Array; mask: Uint8Array };
}

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Which layout `root` has. */
export async function detectSceneDataFormat(root: string): Promise<SceneDataFormat> {
  if (!(await isDirectory(root))) throw new SceneDataError(root, 'no such folder');
  if (await isDirectory(join(root, 'leftImg8bit'))) return 'cityscapes';
  if (await exists(join(root, 'dataset.json'))) return 'folders';
  throw new SceneDataError(
    root,
    'neither a Cityscapes folder (no leftImg8bit/) nor a folders dataset (no dataset.json); --format forces one',
  );
}

/** Opens split `options.split` of the dataset at `root`, checking every frame's files (see the module doc). */
export async function openSceneData(root: string, options: OpenSceneDataOptions): Promise<SceneDataset> {
  const format = options.format ?? (await detectSceneDataFormat(root));
  if (!(SCENE_DATA_FORMATS as readonly string[]).includes(format))
    throw new SceneDataError(root, `unknown format '${String(format)}' (${SCENE_DATA_FORMATS.join(', ')})`);
  const split = options.split ?? 'train';
  const { frames, encoding, labels } =
    format === 'cityscapes' ? await listCityscapes(root, split) : await listFolders(root, split);
  const skipped: SceneDataError[] = [];
  const good: FrameFiles[] = [];
  // headers are checked a few files at a time: small reads, many files
  for (let k = 0; k < frames.length; k += 32) {
    const chunk = frames.slice(k, k + 32);
    const results = await Promise.allSettled(chunk.map((f) => checkFrame(f, encoding)));
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return good.push(chunk[i]!);
      const err = r.reason as unknown;
      if (!(err instanceof SceneDataError) || !options.skipBad) throw err;
      skipped.push(err);
      options.onSkip?.(err);
    });
  }
  if (good.length === 0)
    throw new SceneDataError(root, `split '${split}': every one of the ${frames.length} frames is bad`);
  const { height, width } = options;
  return {
    format,
    root,
    split,
    skipped,
    size: good.length,
    height,
    width,
    classes: encoding.classes,
    thingClasses: encoding.thingClasses,
    ...(encoding.palette ? { palette: encoding.palette } : {}),
    labels,
    describe: (i) => good[i]?.image ?? `frame ${i}`,
    async frame(i: number, transform?: FrameTransform): Promise<SceneFrame> {
      const files = good[i];
      if (files === undefined) throw new RangeError(`frame ${i} is outside the ${good.length} frames`);
      return transformFrame(await readFrame(files, encoding), height, width, transform);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Listing

async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch {
    return [];
  }
}

function emptySplit(path: string, split: string): SceneDataError {
  return new SceneDataError(path, `no images in split '${split}' (empty split)`);
}

/** ROOT/<type>/<split>/<city>/<city>_<seq>_<frame>_<suffix>; label kinds whose split folder is absent are not trained. */
async function listCityscapes(
  root: string,
  split: string,
): Promise<{ frames: FrameFiles[]; encoding: Encoding; labels: SceneSource['labels'] }> {
  const imageDir = join(root, 'leftImg8bit', split);
  if (!(await isDirectory(imageDir))) throw emptySplit(imageDir, split);
  const gt = await isDirectory(join(root, 'gtFine', split));
  const disparity = await isDirectory(join(root, 'disparity', split));
  const frames: FrameFiles[] = [];
  for (const city of await listDir(imageDir)) {
    for (const name of await listDir(join(imageDir, city))) {
      if (!name.endsWith('_leftImg8bit.png')) continue;
      const stem = name.slice(0, -'_leftImg8bit.png'.length);
      const f: FrameFiles = { image: join(imageDir, city, name) };
      if (gt) {
        f.semantic = join(root, 'gtFine', split, city, `${stem}_gtFine_labelIds.png`);
        f.instance = join(root, 'gtFine', split, city, `${stem}_gtFine_instanceIds.png`);
      }
      if (disparity) {
        f.depth = join(root, 'disparity', split, city, `${stem}_disparity.png`);
        f.camera = join(root, 'camera', split, city, `${stem}_camera.json`);
      }
      frames.push(f);
    }
  }
  if (frames.length === 0) throw emptySplit(imageDir, split);
  return {
    frames,
    labels: { semantic: gt, instance: gt, depth: disparity },
    encoding: {
      classes: CITYSCAPES_CLASSES,
      thingClasses: CITYSCAPES_THING_CLASSES,
      palette: CITYSCAPES_PALETTE,
      semanticDepths: [8],
      instanceDepths: [16],
      depthDepths: [16],
      semantic: cityscapesSemantic,
      instance: cityscapesInstances,
      depth: (samples, camera) => cityscapesInverseDepth(samples, camera!),
    },
  };
}

/** dataset.json of the `folders` layout. */
const folderDatasetSchema = z.strictObject({
  /** Class names, index = the value in semantic/ PNGs. */
  classes: z.array(z.string().min(1)).min(2, 'at least two classes are needed'),
  /** Classes whose objects have instances (names from `classes`). */
  thingClasses: z.array(z.string()).default([]),
  /** The semantic/ value of unlabelled pixels; default 255. */
  ignore: z.number().int().min(0).max(65535).default(255),
  depth: z
    .strictObject({
      /** What the 16-bit depth/ values v hold: inverse depth v/scale, depth v/scale, or disparity v/scale (px) with `baselineFx`. */
      encoding: z.enum(['inverse', 'depth', 'disparity']),
      scale: z.number().positive(),
      /** The value of unlabelled pixels; default 0. */
      invalid: z.number().int().min(0).max(65535).default(0),
      /** baseline (m) × focal length (px), for `disparity`. */
      baselineFx: z.number().positive().optional(),
    })
    .refine((d) => d.encoding !== 'disparity' || d.baselineFx !== undefined, {
      message: "encoding 'disparity' needs baselineFx",
      path: ['baselineFx'],
    })
    .optional(),
});
export type FolderDatasetSpec = z.output<typeof folderDatasetSchema>;

async function readFolderSpec(root: string): Promise<FolderDatasetSpec> {
  const path = join(root, 'dataset.json');
  const raw = await readJsonFile(path, 'cannot read the file (a folders dataset needs its dataset.json)');
  const parsed = folderDatasetSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new SceneDataError(path, `${i.path.join('.') || '(top level)'}: ${i.message}`);
  }
  const spec = parsed.data;
  for (const t of spec.thingClasses)
    if (!spec.classes.includes(t)) throw new SceneDataError(path, `thingClasses: '${t}' is not in classes`);
  if (spec.ignore < spec.classes.length)
    throw new SceneDataError(
      path,
      `ignore: ${spec.ignore} is a class index (there are ${spec.classes.length} classes)`,
    );
  return spec;
}

/** ROOT/dataset.json and ROOT/<split>/{images,semantic,instance,depth}/<stem>.<ext>. */
async function listFolders(
  root: string,
  split: string,
): Promise<{ frames: FrameFiles[]; encoding: Encoding; labels: SceneSource['labels'] }> {
  const spec = await readFolderSpec(root);
  const base = join(root, split);
  const imageDir = join(base, 'images');
  const kinds = {
    semantic: await isDirectory(join(base, 'semantic')),
    instance: await isDirectory(join(base, 'instance')),
    depth: await isDirectory(join(base, 'depth')),
  };
  if (kinds.depth && spec.depth === undefined)
    throw new SceneDataError(join(root, 'dataset.json'), `depth: missing, but ${join(base, 'depth')} exists`);
  const frames: FrameFiles[] = [];
  for (const name of await listDir(imageDir)) {
    const ext = IMAGE_EXTENSIONS.find((e) => name.toLowerCase().endsWith(e));
    if (!ext) continue;
    const stem = name.slice(0, -ext.length);
    const f: FrameFiles = { image: join(imageDir, name) };
    if (kinds.semantic) f.semantic = join(base, 'semantic', `${stem}.png`);
    if (kinds.instance) f.instance = join(base, 'instance', `${stem}.png`);
    if (kinds.depth) f.depth = join(base, 'depth', `${stem}.png`);
    frames.push(f);
  }
  if (frames.length === 0) throw emptySplit(imageDir, split);
  const C = spec.classes.length;
  const ignore = spec.ignore;
  const depth = spec.depth;
  return {
    frames,
    labels: kinds,
    encoding: {
      classes: spec.classes,
      thingClasses: spec.thingClasses.map((t) => spec.classes.indexOf(t)),
      semanticDepths: [8, 16],
      instanceDepths: [8, 16],
      depthDepths: [16],
      semantic: (samples) => {
        const out = new Int32Array(samples.length);
        for (let p = 0; p < samples.length; p++) {
          const v = samples[p]!;
          if (v === ignore) out[p] = -1;
          else if (v < C) out[p] = v;
          else
            throw new LabelValueError(
              `label value ${v} at pixel ${p} is neither a class (0–${C - 1}) nor the ignore value ${ignore}`,
            );
        }
        return out;
      },
      instance: (samples) => Int32Array.from(samples),
      depth: (samples) => {
        const { encoding, scale, invalid, baselineFx } = depth!;
        const inverseDepth = new Float32Array(samples.length);
        const mask = new Uint8Array(samples.length);
        for (let p = 0; p < samples.length; p++) {
          const v = samples[p]!;
          if (v === invalid) continue;
          const x = v / scale;
          const inv = encoding === 'inverse' ? x : encoding === 'depth' ? 1 / x : x / baselineFx!;
          if (!Number.isFinite(inv)) continue; // depth 0: no measurement
          inverseDepth[p] = inv;
          mask[p] = 1;
        }
        return { inverseDepth, mask };
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Checking and reading

async function headerOf(file: string): Promise<PngInfo> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    throw new SceneDataError(file, 'missing (no such file)');
  }
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(Math.min(33, size));
    await handle.read(head, 0, head.length, 0);
    const tail = new Uint8Array(Math.min(12, size));
    await handle.read(tail, 0, tail.length, size - tail.length);
    return pngHeaderInfo(head, tail);
  } catch (err) {
    throw err instanceof SceneDataError ? err : new SceneDataError(file, (err as Error).message);
  } finally {
    await handle.close();
  }
}

function checkLabelHeader(file: string, info: PngInfo, what: string, depths: readonly number[]): void {
  if (!info.complete) throw new SceneDataError(file, 'truncated PNG (it does not end with an IEND chunk)');
  if (info.channels !== 1)
    throw new SceneDataError(
      file,
      `${what} must be a 1-channel (greyscale) PNG, this one has ${info.channels} channels`,
    );
  if (!depths.includes(info.bitDepth))
    throw new SceneDataError(
      file,
      `${what} PNG must be ${depths.join(' or ')}-bit, this one is ${info.bitDepth}-bit`,
    );
}

/** Checks a frame's files without decoding them; throws the first problem. */
async function checkFrame(f: FrameFiles, encoding: Encoding): Promise<void> {
  let size: { width: number; height: number };
  if (f.image.toLowerCase().endsWith('.png')) {
    const info = await headerOf(f.image);
    if (!info.complete)
      throw new SceneDataError(f.image, 'truncated PNG (it does not end with an IEND chunk)');
    if (info.bitDepth !== 8 && info.bitDepth !== 16)
      throw new SceneDataError(f.image, `images must be 8- or 16-bit, this one is ${info.bitDepth}-bit`);
    size = info;
  } else {
    try {
      const meta = await sharp(f.image).metadata();
      size = { width: meta.width, height: meta.height };
    } catch (err) {
      throw new SceneDataError(f.image, `not a readable image (${(err as Error).message})`);
    }
  }
  const labels: [string | undefined, string, readonly number[]][] = [
    [f.semantic, 'a semantic label', encoding.semanticDepths],
    [f.instance, 'an instance label', encoding.instanceDepths],
    [f.depth, 'a depth label', encoding.depthDepths],
  ];
  for (const [file, what, depths] of labels) {
    if (file === undefined) continue;
    if (!(await exists(file))) throw new SceneDataError(file, `missing: the label file of ${f.image}`);
    const info = await headerOf(file);
    checkLabelHeader(file, info, what, depths);
    checkSameSize(file, info, f.image, size);
  }
  if (f.camera !== undefined) await readCamera(f.camera);
}

type Size = { width: number; height: number };

/** A label must have its image's size (checked from the headers at open, and again when decoded). */
function checkSameSize(file: string, label: Size, image: string, imageSize: Size): void {
  if (label.width !== imageSize.width || label.height !== imageSize.height)
    throw new SceneDataError(
      file,
      `${label.width}×${label.height} px, but its image ${image} is ${imageSize.width}×${imageSize.height}`,
    );
}

/** A JSON file's value; `unreadable` is the problem reported when it cannot be read. */
async function readJsonFile(file: string, unreadable: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new SceneDataError(file, unreadable);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SceneDataError(file, `not valid JSON (${(err as Error).message})`);
  }
}

async function readCamera(file: string): Promise<CityscapesCamera> {
  const raw = await readJsonFile(file, 'missing: the camera file that depth from disparity needs');
  try {
    return parseCityscapesCamera(raw);
  } catch (err) {
    throw new SceneDataError(file, (err as Error).message);
  }
}

async function decodeFile(
  file: string,
  channels: 1 | 3,
): Promise<{ data: Uint8Array | Uint16Array; width: number; height: number }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new SceneDataError(file, 'missing or unreadable');
  }
  try {
    // a palette label PNG (VOC style) holds its labels as the palette indices: read those, not colours
    if (channels === 1 && bytes[25] === 3 && pngInfo(bytes).colorType === 3) {
      const d = decodePng(bytes);
      if (d.depth !== 8) throw new Error(`palette labels must be 8-bit, this one is ${d.depth}-bit`);
      return { data: d.data as Uint8Array, width: d.width, height: d.height };
    }
    return await decodeImage(bytes, { channels });
  } catch (err) {
    throw new SceneDataError(file, (err as Error).message);
  }
}

/** Decodes a frame's files into label arrays at the stored resolution. */
async function readFrame(f: FrameFiles, encoding: Encoding): Promise<RawSceneFrame> {
  const convert = async <T>(
    file: string,
    decode: (s: Uint8Array | Uint16Array) => T,
  ): Promise<{ value: T; width: number; height: number }> => {
    const d = await decodeFile(file, 1);
    try {
      return { value: decode(d.data), width: d.width, height: d.height };
    } catch (err) {
      throw new SceneDataError(file, (err as Error).message);
    }
  };
  const [image, semantic, instance, camera] = await Promise.all([
    decodeFile(f.image, 3),
    f.semantic ? convert(f.semantic, (v) => encoding.semantic(v)) : undefined,
    f.instance ? convert(f.instance, (v) => encoding.instance(v)) : undefined,
    f.camera ? readCamera(f.camera) : undefined,
  ]);
  const depth = f.depth ? await convert(f.depth, (s) => encoding.depth(s, camera)) : undefined;
  for (const [file, l] of [
    [f.semantic, semantic],
    [f.instance, instance],
    [f.depth, depth],
  ] as const) {
    if (l) checkSameSize(file!, l, f.image, image);
  }
  const raw: RawSceneFrame = {
    height: image.height,
    width: image.width,
    image: image.data,
    imageScale: image.data instanceof Uint16Array ? 1 / 65535 : 1 / 255,
  };
  if (semantic) raw.semantic = semantic.value;
  if (instance) raw.instance = instance.value;
  if (depth) {
    raw.inverseDepth = depth.value.inverseDepth;
    raw.depthMask = depth.value.mask;
  }
  return raw;
}
