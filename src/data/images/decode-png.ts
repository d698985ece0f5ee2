/** Decodes PNG files in pure JavaScript (fast-png), to exactly the stored sample values. Browser-safe. */
import { convertIndexedToRgb, decode, type DecodedPng } from 'fast-png';
import { pngInfo, type PngInfo } from './png-info.js';

/** A decoded image: interleaved samples, row-major H×W×channels, at the bit depth of the file. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: number;
  bitDepth: 8 | 16;
  data: Uint8Array | Uint16Array;
}

/** What to decode to: by default the channels stored in the file (palette images as RGB). */
export interface DecodeImageOptions {
  /** 1: grey (alpha dropped; a colour image only if R = G = B everywhere); 3: RGB (grey replicated, alpha dropped). */
  channels?: 1 | 3;
}

/** Throws a RangeError unless `options.channels` is absent, 1 or 3. */
export function checkDecodeOptions(options: DecodeImageOptions | undefined): void {
  const channels = options?.channels;
  if (channels !== undefined && channels !== 1 && channels !== 3) {
    throw new RangeError(`options.channels must be 1 or 3, got ${String(channels)}`);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Turns `stored` samples per pixel (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA) into the channels asked for
 * (see {@link DecodeImageOptions}); the same array when nothing changes. Shared by the Node (sharp) and
 * pure-JS decoders so both give the same answer.
 */
export function toChannels<T extends Uint8Array | Uint16Array>(
  data: T,
  width: number,
  height: number,
  stored: number,
  want: 1 | 3 | undefined,
): { data: T; channels: number } {
  const n = width * height;
  if (data.length !== n * stored) {
    throw new RangeError(
      `${data.length} samples do not make ${width}×${height} pixels of ${stored} channels`,
    );
  }
  if (want === undefined || want === stored) return { data, channels: stored };
  const out = new (data.constructor as new (length: number) => T)(n * want);
  if (want === 3) {
    if (stored <= 2) {
      // grey (+ alpha): replicate the grey sample
      for (let p = 0; p < n; p++) {
        const v = data[p * stored]!;
        out[3 * p] = v;
        out[3 * p + 1] = v;
        out[3 * p + 2] = v;
      }
    } else {
      // RGBA: drop alpha
      for (let p = 0; p < n; p++) {
        out[3 * p] = data[4 * p]!;
        out[3 * p + 1] = data[4 * p + 1]!;
        out[3 * p + 2] = data[4 * p + 2]!;
      }
    }
    return { data: out, channels: 3 };
  }
  // want 1: the grey sample, or red when the image is grey stored as colour
  for (let p = 0; p < n; p++) {
    const i = p * stored;
    const v = data[i]!;
    if (stored >= 3 && (data[i + 1] !== v || data[i + 2] !== v)) {
      throw new Error(
        `cannot decode a colour image to 1 channel: R, G and B differ (first at pixel x=${p % width}, y=${Math.floor(p / width)})`,
      );
    }
    out[p] = v;
  }
  return { data: out, channels: 1 };
}

/** Grey samples of 1, 2 or 4 bits, packed in bytes row by row, unpacked and scaled to 0–255 as libpng does. */
function unpackGrey(packed: ArrayLike<number>, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  if (packed.length !== rowBytes * height) throw new Error('wrong amount of pixel data');
  const mask = (1 << depth) - 1;
  const scale = 255 / mask;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)]!;
      out[y * width + x] = ((byte >> (8 - depth - (bit & 7))) & mask) * scale;
    }
  }
  return out;
}

/** fast-png's result as interleaved 8- or 16-bit samples with the stored channels (palette → RGB). */
function storedSamples(png: DecodedPng, info: PngInfo): { data: Uint8Array | Uint16Array; stored: number } {
  const { width, height } = png;
  if (info.colorType === 3) {
    const rgb = convertIndexedToRgb(png);
    // a palette with tRNS expands to RGBA: keep RGB, as for grey and RGB images with tRNS
    return {
      data: rgb.length === width * height * 4 ? toChannels(rgb, width, height, 4, 3).data : rgb,
      stored: 3,
    };
  }
  if (info.bitDepth < 8) return { data: unpackGrey(png.data, width, height, info.bitDepth), stored: 1 };
  const data = png.data;
  if (data instanceof Uint16Array) return { data, stored: info.channels };
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.length);
  return { data: bytes, stored: info.channels };
}

/**
 * Decodes a PNG (8- or 16-bit; grey, grey + alpha, RGB, RGBA or palette) with fast-png to exactly the
 * stored values: 16-bit files give a Uint16Array, others a Uint8Array (1-, 2- and 4-bit grey scaled to
 * 0–255, palette expanded to RGB). tRNS transparency and colour profiles are ignored. Throws an Error
 * saying what is wrong for data that is not a PNG, truncated or corrupt (checksums are checked).
 */
export function decodePngJs(bytes: Uint8Array, options?: DecodeImageOptions): DecodedImage {
  checkDecodeOptions(options);
  const info = pngInfo(bytes);
  let png: DecodedPng;
  let samples: { data: Uint8Array | Uint16Array; stored: number };
  try {
    png = decode(bytes, { checkCrc: true });
    samples = storedSamples(png, info);
    if (samples.data.length !== png.width * png.height * samples.stored) {
      throw new Error('wrong amount of pixel data');
    }
  } catch (err) {
    if (!info.complete)
      throw new Error(`truncated PNG file (it does not end with an IEND chunk; ${message(err)})`);
    throw new Error(`corrupt PNG data (${message(err)})`);
  }
  const { data, channels } = toChannels(
    samples.data,
    png.width,
    png.height,
    samples.stored,
    options?.channels,
  );
  return { width: png.width, height: png.height, channels, bitDepth: info.bitDepth === 16 ? 16 : 8, data };
}
