/** Decodes PNG and JPEG files with sharp (libvips) to exactly the stored sample values (Node only). */
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import {
  checkDecodeOptions,
  toChannels,
  type DecodedImage,
  type DecodeImageOptions,
} from '../data/images/decode-png.js';
import { pngInfo, type PngInfo } from '../data/images/png-info.js';

/** The result and options types, shared with the pure-JS `decodePngJs`. */
export type { DecodedImage, DecodeImageOptions } from '../data/images/decode-png.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * How to get a PNG's stored samples out of libvips, which turns everything into sRGB (3 channels) unless
 * told otherwise and adds an alpha channel for tRNS: the pipeline, and which output channels to keep.
 */
function pngPlan(info: PngInfo): {
  pipeline: (s: Sharp) => Sharp;
  keep: (k: number) => number[];
} {
  const grey = info.colorType === 0 || info.colorType === 4;
  const alpha = info.colorType === 4 || info.colorType === 6;
  if (info.bitDepth === 16) {
    // a plain .raw() gives 8-bit sRGB; these keep all 16 bits (and grey as 1 channel, alpha if any)
    const space = grey ? 'grey16' : 'rgb16';
    return {
      pipeline: (s) => s.toColourspace(space).raw({ depth: 'ushort' }),
      keep: () => (grey ? (alpha ? [0, 1] : [0]) : alpha ? [0, 1, 2, 3] : [0, 1, 2]),
    };
  }
  if (info.colorType === 0) return { pipeline: (s) => s.extractChannel(0).raw(), keep: () => [0] };
  // 8-bit grey + alpha: toColourspace('b-w') drops the alpha, so take it from the RGBA output
  if (info.colorType === 4) return { pipeline: (s) => s.raw(), keep: (k) => (k === 2 ? [0, 1] : [0, 3]) };
  return { pipeline: (s) => s.raw(), keep: () => (alpha ? [0, 1, 2, 3] : [0, 1, 2]) };
}

/** Keeps channels `keep` of k-channel interleaved samples (the same array when that is all of them). */
function pick<T extends Uint8Array | Uint16Array>(data: T, k: number, keep: number[]): T {
  if (keep.length === k && keep.every((c, i) => c === i)) return data;
  const n = data.length / k;
  const out = new (data.constructor as new (length: number) => T)(n * keep.length);
  for (let p = 0; p < n; p++)
    for (let c = 0; c < keep.length; c++) out[p * keep.length + c] = data[p * k + keep[c]!]!;
  return out;
}

/**
 * Decodes a PNG (8- or 16-bit; grey, grey + alpha, RGB, RGBA, palette) or a JPEG with sharp to exactly
 * the stored values, with no colour management, gamma or EXIF rotation: 16-bit PNGs give a Uint16Array, others a
 * Uint8Array; by default the stored channels (palette images as RGB, tRNS transparency ignored), or 1 or
 * 3 with `options.channels` (see {@link DecodeImageOptions}). Gives the same result as
 * `decodePngJs` for PNGs. Unsupported, truncated or corrupt data is an Error saying what is wrong
 * (a JPEG's compressed data has no checksum, so damage there may go unnoticed).
 */
export async function decodeImage(bytes: Uint8Array, options?: DecodeImageOptions): Promise<DecodedImage> {
  checkDecodeOptions(options);
  const isPng = startsWith(bytes, PNG_SIGNATURE);
  const isJpeg = startsWith(bytes, [0xff, 0xd8, 0xff]);
  if (!isPng && !isJpeg) {
    throw new Error(
      bytes.length === 0 ? 'empty image data' : 'unsupported image format (expected PNG or JPEG data)',
    );
  }
  const info = isPng ? pngInfo(bytes) : undefined;
  const truncated = info
    ? !info.complete
    : bytes[bytes.length - 2] !== 0xff || bytes[bytes.length - 1] !== 0xd9;

  let raw: { data: Buffer; info: OutputInfo };
  let keep: number[];
  try {
    // failOn 'error' rejects truncated and corrupt files instead of padding them; ignoreIcc keeps an
    // embedded colour profile from converting the values (a P3 profile changed most of them)
    const image = sharp(bytes, { failOn: 'error', ignoreIcc: true });
    if (info) {
      const plan = pngPlan(info);
      raw = await plan.pipeline(image).toBuffer({ resolveWithObject: true });
      keep = plan.keep(raw.info.channels);
    } else {
      // greyscale JPEGs come out of .raw() as 3 channels; extract the one stored
      const grey = (await image.metadata()).channels === 1;
      raw = await (grey ? image.extractChannel(0) : image).raw().toBuffer({ resolveWithObject: true });
      keep = grey ? [0] : [0, 1, 2];
    }
  } catch (err) {
    if (truncated) {
      const what = info
        ? 'PNG file (it does not end with an IEND chunk'
        : 'JPEG file (no end-of-image marker';
      throw new Error(`truncated ${what}; ${message(err)})`);
    }
    throw new Error(`corrupt image data (${message(err)})`);
  }

  const { width, height, channels: k } = raw.info;
  if (info && (width !== info.width || height !== info.height)) {
    throw new Error(
      `sharp decoded ${width}×${height} pixels, but the PNG header says ${info.width}×${info.height}`,
    );
  }
  const wide = info?.bitDepth === 16;
  const buf = raw.data;
  if (buf.length !== width * height * k * (wide ? 2 : 1)) {
    throw new Error(`sharp returned ${buf.length} bytes for ${width}×${height} pixels of ${k} channels`);
  }
  let data: Uint8Array | Uint16Array;
  if (wide) {
    // native byte order, like Uint16Array; copy if the Buffer is not 2-byte aligned
    data =
      buf.byteOffset % 2 === 0
        ? new Uint16Array(buf.buffer, buf.byteOffset, buf.length / 2)
        : new Uint16Array(new Uint8Array(buf).buffer);
  } else {
    data = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  }
  const stored = pick(data, k, keep);
  const shaped = toChannels(stored, width, height, keep.length, options?.channels);
  return { width, height, channels: shaped.channels, bitDepth: wide ? 16 : 8, data: shaped.data };
}
