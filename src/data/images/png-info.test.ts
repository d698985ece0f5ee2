import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { pngHeaderInfo, pngInfo } from './png-info.js';

function png(width: number, height: number, channels: number, depth: 8 | 16): Uint8Array {
  const n = width * height * channels;
  const data = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (i * 37) % 200;
  return encode({ width, height, data, depth, channels });
}

describe('pngInfo', () => {
  it.each([
    [1, 8, 0],
    [1, 16, 0],
    [2, 8, 4],
    [3, 8, 2],
    [3, 16, 2],
    [4, 8, 6],
    [4, 16, 6],
  ] as const)('reads %i channel(s) at %i bits (colour type %i)', (channels, depth, colorType) => {
    expect(pngInfo(png(7, 5, channels, depth))).toEqual({
      width: 7,
      height: 5,
      bitDepth: depth,
      colorType,
      channels,
      complete: true,
    });
  });

  it('reads a palette image as one channel (the indices)', () => {
    const data = new Uint8Array(12).map((_, i) => i % 2);
    const bytes = encode({
      width: 4,
      height: 3,
      data,
      depth: 8,
      channels: 1,
      palette: [
        [255, 0, 0],
        [0, 0, 255],
      ],
    });
    expect(pngInfo(bytes)).toMatchObject({ width: 4, height: 3, bitDepth: 8, colorType: 3, channels: 1 });
  });

  it('reports a file that does not end with IEND as incomplete', () => {
    const bytes = png(20, 10, 3, 8);
    expect(pngInfo(bytes.subarray(0, bytes.length - 1)).complete).toBe(false);
    expect(pngInfo(bytes.subarray(0, 40))).toMatchObject({ width: 20, height: 10, complete: false });
    const trailing = new Uint8Array(bytes.length + 3);
    trailing.set(bytes);
    expect(pngInfo(trailing).complete).toBe(false);
  });

  it('rejects data that is not a PNG header', () => {
    const bytes = png(4, 4, 3, 8);
    expect(() => pngInfo(new TextEncoder().encode('GIF89a, certainly not a PNG file at all'))).toThrow(
      'not a PNG file (bad signature)',
    );
    expect(() => pngInfo(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toThrow('not a PNG file (bad signature)');
    expect(() => pngInfo(bytes.subarray(0, 20))).toThrow('truncated PNG header');
    expect(() => pngInfo(bytes.subarray(0, 5))).toThrow('truncated PNG header');
    expect(() => pngInfo(new Uint8Array(0))).toThrow('truncated PNG header');

    const badType = bytes.slice();
    badType[12] = 0x69; // 'iHDR'
    expect(() => pngInfo(badType)).toThrow('first chunk is "iHDR", not IHDR');
    const badLength = bytes.slice();
    badLength[11] = 12;
    expect(() => pngInfo(badLength)).toThrow('IHDR chunk has length 12, not 13');
    const badCrc = bytes.slice();
    badCrc[17]! ^= 1; // width changed, checksum not
    expect(() => pngInfo(badCrc)).toThrow('IHDR checksum does not match');
  });
});

describe('pngHeaderInfo', () => {
  it('gives the same answer from the first 33 and last 12 bytes as pngInfo from the whole file', () => {
    const bytes = png(300, 2, 4, 16);
    expect(pngHeaderInfo(bytes.subarray(0, 33), bytes.subarray(bytes.length - 12))).toEqual(pngInfo(bytes));
    // a longer tail is fine: only its last 12 bytes count
    expect(pngHeaderInfo(bytes.subarray(0, 33), bytes.subarray(bytes.length - 64)).complete).toBe(true);
    expect(pngHeaderInfo(bytes.subarray(0, 33), bytes.subarray(0, 40)).complete).toBe(false);
  });
});
