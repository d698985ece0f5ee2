import { encode, type IndexedColors } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { decodePngJs, toChannels } from './decode-png.js';

/** Deterministic samples covering the whole range (16-bit ones with both bytes varying). */
function samples(n: number, depth: 8 | 16): Uint8Array | Uint16Array {
  return depth === 16
    ? Uint16Array.from({ length: n }, (_, i) => (i * 40993 + 7) % 65536)
    : Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256);
}

function png(width: number, height: number, channels: number, depth: 8 | 16) {
  const data = samples(width * height * channels, depth);
  return { data, bytes: encode({ width, height, data, depth, channels }) };
}

const PALETTE: IndexedColors = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [10, 20, 30],
  [200, 100, 50],
];

/** Packs one sample per pixel of `depth` bits (1, 2, 4) into PNG rows. */
function pack(values: number[], width: number, height: number, depth: number): Uint8Array {
  const rowBytes = Math.ceil((width * depth) / 8);
  const out = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      out[y * rowBytes + (bit >> 3)]! |= values[y * width + x]! << (8 - depth - (bit & 7));
    }
  return out;
}

let crcTable: number[] | undefined;
function crc32(bytes: Uint8Array): number {
  crcTable ??= Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Byte offset of the first chunk of `type`. */
function chunkOffset(bytes: Uint8Array, type: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let off = 8; off < bytes.length; off += 12 + view.getUint32(off)) {
    if (String.fromCharCode(...bytes.subarray(off + 4, off + 8)) === type) return off;
  }
  throw new Error(`no ${type} chunk`);
}

/** `bytes` with a chunk inserted before the first IDAT. */
function insertChunk(bytes: Uint8Array, type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(
    Array.from(type, (ch) => ch.charCodeAt(0)),
    4,
  );
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  const at = chunkOffset(bytes, 'IDAT');
  return Uint8Array.from([...bytes.subarray(0, at), ...chunk, ...bytes.subarray(at)]);
}

describe('decodePngJs', () => {
  it.each([
    [1, 8],
    [1, 16],
    [2, 8],
    [2, 16],
    [3, 8],
    [3, 16],
    [4, 8],
    [4, 16],
  ] as const)('decodes %i channel(s) at %i bits to exactly the stored values', (channels, depth) => {
    const { data, bytes } = png(13, 7, channels, depth);
    const img = decodePngJs(bytes);
    expect(img).toEqual({ width: 13, height: 7, channels, bitDepth: depth, data });
    expect(img.data).toBeInstanceOf(depth === 16 ? Uint16Array : Uint8Array);
  });

  it('expands palette images to RGB, dropping palette alpha', () => {
    const width = 7;
    const height = 3;
    const index = Array.from({ length: width * height }, (_, i) => (i * 3) % PALETTE.length);
    const rgb = Uint8Array.from(index.flatMap((i) => PALETTE[i]!));
    const eight = encode({
      width,
      height,
      data: Uint8Array.from(index),
      depth: 8,
      channels: 1,
      palette: PALETTE,
    });
    expect(decodePngJs(eight)).toEqual({ width, height, channels: 3, bitDepth: 8, data: rgb });
    const four = encode({
      width,
      height,
      data: pack(index, width, height, 4),
      depth: 4,
      channels: 1,
      palette: PALETTE,
    });
    expect(decodePngJs(four).data).toEqual(rgb);
    const withAlpha = PALETTE.map((c, i) => [...c, i * 50]);
    const alpha = encode({
      width,
      height,
      data: Uint8Array.from(index),
      depth: 8,
      channels: 1,
      palette: withAlpha,
    });
    expect(decodePngJs(alpha)).toEqual({ width, height, channels: 3, bitDepth: 8, data: rgb });
  });

  it.each([1, 2, 4])('scales %i-bit grey to 0–255 as libpng does', (depth) => {
    const width = 11;
    const height = 3;
    const values = Array.from({ length: width * height }, (_, i) => (i * 5) % (1 << depth));
    const bytes = encode({
      width,
      height,
      data: pack(values, width, height, depth),
      depth: depth as 1 | 2 | 4,
      channels: 1,
    });
    const img = decodePngJs(bytes);
    expect(img).toMatchObject({ width, height, channels: 1, bitDepth: 8 });
    expect(Array.from(img.data)).toEqual(values.map((v) => (v * 255) / ((1 << depth) - 1)));
  });

  it('decodes Adam7-interlaced files', () => {
    const data = samples(17 * 9 * 3, 8);
    const bytes = encode({ width: 17, height: 9, data, depth: 8, channels: 3 }, { interlace: 'Adam7' });
    expect(decodePngJs(bytes).data).toEqual(data);
  });

  it('ignores tRNS transparency on grey and RGB images', () => {
    const { data, bytes } = png(5, 4, 1, 8);
    const withTrns = insertChunk(bytes, 'tRNS', new Uint8Array([0, data[3]!]));
    expect(decodePngJs(withTrns)).toEqual({ width: 5, height: 4, channels: 1, bitDepth: 8, data });
  });

  it('gives 3 channels with channels: 3 (grey replicated, alpha dropped)', () => {
    const grey = png(4, 3, 1, 16);
    const g3 = decodePngJs(grey.bytes, { channels: 3 });
    expect(g3).toMatchObject({ channels: 3, bitDepth: 16 });
    expect(Array.from(g3.data)).toEqual(Array.from(grey.data).flatMap((v) => [v, v, v]));
    const ga = png(4, 3, 2, 8);
    expect(Array.from(decodePngJs(ga.bytes, { channels: 3 }).data)).toEqual(
      Array.from(ga.data).flatMap((v, i) => (i % 2 === 0 ? [v, v, v] : [])),
    );
    const rgba = png(4, 3, 4, 8);
    expect(Array.from(decodePngJs(rgba.bytes, { channels: 3 }).data)).toEqual(
      Array.from(rgba.data).filter((_, i) => i % 4 !== 3),
    );
    const rgb = png(4, 3, 3, 8);
    expect(decodePngJs(rgb.bytes, { channels: 3 }).data).toEqual(rgb.data);
  });

  it('gives 1 channel with channels: 1 (alpha dropped; colour only when R = G = B)', () => {
    const ga = png(4, 3, 2, 16);
    const g = decodePngJs(ga.bytes, { channels: 1 });
    expect(g).toMatchObject({ channels: 1, bitDepth: 16 });
    expect(Array.from(g.data)).toEqual(Array.from(ga.data).filter((_, i) => i % 2 === 0));
    const grey = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const plain = encode({ width: 4, height: 3, data: grey, depth: 8, channels: 1 });
    expect(decodePngJs(plain, { channels: 1 })).toEqual(decodePngJs(plain));
    const greyRgb = encode({
      width: 4,
      height: 3,
      data: Uint8Array.from([...grey].flatMap((v) => [v, v, v])),
      depth: 8,
      channels: 3,
    });
    expect(decodePngJs(greyRgb, { channels: 1 })).toEqual({
      width: 4,
      height: 3,
      channels: 1,
      bitDepth: 8,
      data: grey,
    });
    expect(() => decodePngJs(png(4, 3, 3, 8).bytes, { channels: 1 })).toThrow(
      'cannot decode a colour image to 1 channel: R, G and B differ (first at pixel x=0, y=0)',
    );
  });

  it('rejects truncated, corrupt and non-PNG data with a reason', () => {
    const { bytes } = png(64, 40, 3, 8);
    expect(() => decodePngJs(bytes.subarray(0, bytes.length - 100))).toThrow(
      /^truncated PNG file \(it does not end with an IEND chunk; /,
    );
    const flipped = bytes.slice();
    const idat = chunkOffset(bytes, 'IDAT');
    for (let k = 0; k < 8; k++) flipped[idat + 200 + k]! ^= 0x5a;
    expect(() => decodePngJs(flipped)).toThrow(/^corrupt PNG data \(.*CRC mismatch for chunk IDAT/);
    expect(() => decodePngJs(new TextEncoder().encode('definitely not a PNG file, just text'))).toThrow(
      'not a PNG file (bad signature)',
    );
    expect(() => decodePngJs(bytes.subarray(0, 20))).toThrow('truncated PNG header');
    expect(() => decodePngJs(bytes, { channels: 2 as 1 })).toThrow(
      new RangeError('options.channels must be 1 or 3, got 2'),
    );
  });
});

describe('toChannels', () => {
  it('returns the same array when nothing changes and checks the sample count', () => {
    const data = new Uint8Array(12);
    expect(toChannels(data, 2, 2, 3, undefined).data).toBe(data);
    expect(toChannels(data, 2, 2, 3, 3).data).toBe(data);
    expect(() => toChannels(data, 2, 2, 4, 3)).toThrow('12 samples do not make 2×2 pixels of 4 channels');
  });
});
