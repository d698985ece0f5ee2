import { encode } from 'fast-png';
import { samples, png, PALETTE, pack, chunkOffset, insertChunk } from '../../../test/png-bytes.js';
import { describe, expect, it } from 'vitest';
import { decodePngJs, toChannels } from './decode-png.js';

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
