import { decode, encode } from 'fast-png';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodePngJs } from '../data/images/decode-png.js';
import { decodeImage } from './image-decode.js';
import { samples, png, PALETTE, pack, chunkOffset, insertChunk } from '../../test/png-bytes.js';

const W = 37;
const H = 23;
const index = Array.from({ length: W * H }, (_, i) => (i * 3 + (i >> 5)) % PALETTE.length);

/** Every kind of PNG the decoders handle, each with the samples stored in it (palette: as RGB). */
const FIXTURES: [string, Uint8Array, Uint8Array | Uint16Array][] = [
  ...(
    [
      [1, 8],
      [1, 16],
      [2, 8],
      [2, 16],
      [3, 8],
      [3, 16],
      [4, 8],
      [4, 16],
    ] as const
  ).map(([channels, depth]): [string, Uint8Array, Uint8Array | Uint16Array] => {
    const { data, bytes } = png(W, H, channels, depth);
    return [`${depth}-bit ${['grey', 'grey+alpha', 'RGB', 'RGBA'][channels - 1]}`, bytes, data];
  }),
  [
    'palette (8-bit indices)',
    encode({ width: W, height: H, data: Uint8Array.from(index), depth: 8, channels: 1, palette: PALETTE }),
    Uint8Array.from(index.flatMap((i) => PALETTE[i]!)),
  ],
  [
    'palette (4-bit indices)',
    encode({ width: W, height: H, data: pack(index, W, H, 4), depth: 4, channels: 1, palette: PALETTE }),
    Uint8Array.from(index.flatMap((i) => PALETTE[i]!)),
  ],
  [
    'palette with alpha',
    encode({
      width: W,
      height: H,
      data: Uint8Array.from(index),
      depth: 8,
      channels: 1,
      palette: PALETTE.map((c, i) => [...c, 255 - i * 40]),
    }),
    Uint8Array.from(index.flatMap((i) => PALETTE[i]!)),
  ],
  ...[1, 2, 4].map((depth): [string, Uint8Array, Uint8Array] => {
    const values = Array.from({ length: W * H }, (_, i) => (i * 7) % (1 << depth));
    const bytes = encode({
      width: W,
      height: H,
      data: pack(values, W, H, depth),
      depth: depth as 1 | 2 | 4,
      channels: 1,
    });
    return [`${depth}-bit grey`, bytes, Uint8Array.from(values, (v) => (v * 255) / ((1 << depth) - 1))];
  }),
  (() => {
    const data = samples(W * H * 3, 8);
    const bytes = encode({ width: W, height: H, data, depth: 8, channels: 3 }, { interlace: 'Adam7' });
    return ['Adam7-interlaced RGB', bytes, data] as [string, Uint8Array, Uint8Array];
  })(),
  (() => {
    const { data, bytes } = png(W, H, 1, 8);
    return ['grey with tRNS', insertChunk(bytes, 'tRNS', new Uint8Array([0, data[5]!])), data];
  })(),
  (() => {
    const { data, bytes } = png(W, H, 1, 16);
    return [
      '16-bit grey with tRNS',
      insertChunk(bytes, 'tRNS', new Uint8Array([data[5]! >> 8, data[5]! & 255])),
      data,
    ];
  })(),
  (() => {
    const { data, bytes } = png(W, H, 3, 8);
    const trns = new Uint8Array([0, data[0]!, 0, data[1]!, 0, data[2]!]);
    return ['RGB with tRNS', insertChunk(bytes, 'tRNS', trns), data];
  })(),
  (() => {
    const { data, bytes } = png(W, H, 3, 8);
    const gama = new Uint8Array([0, 0x01, 0x86, 0xa0]); // gamma 1.0: must not be applied
    return ['RGB with gAMA 1.0', insertChunk(bytes, 'gAMA', gama), data];
  })(),
];

describe('decodeImage (sharp)', () => {
  it.each(FIXTURES)(
    'decodes a %s PNG to exactly the stored values, like fast-png',
    async (_name, bytes, stored) => {
      const img = await decodeImage(bytes);
      expect(img.data).toEqual(stored);
      expect(img).toEqual(decodePngJs(bytes));
      expect(img).toMatchObject({ width: W, height: H, channels: stored.length / (W * H) });
      expect(img.data).toBeInstanceOf(stored instanceof Uint16Array ? Uint16Array : Uint8Array);
      expect(img.bitDepth).toBe(stored instanceof Uint16Array ? 16 : 8);
    },
  );

  it.each(FIXTURES)('decodes a %s PNG with channels: 3 like fast-png', async (_name, bytes) => {
    const img = await decodeImage(bytes, { channels: 3 });
    expect(img.channels).toBe(3);
    expect(img).toEqual(decodePngJs(bytes, { channels: 3 }));
  });

  it.each(FIXTURES.filter(([name]) => /grey/.test(name)))(
    'decodes a %s PNG with channels: 1 like fast-png',
    async (_name, bytes) => {
      const img = await decodeImage(bytes, { channels: 1 });
      expect(img.channels).toBe(1);
      expect(img).toEqual(decodePngJs(bytes, { channels: 1 }));
    },
  );

  it('replicates grey and drops alpha for channels: 3', async () => {
    const grey = png(6, 5, 1, 8);
    expect(Array.from((await decodeImage(grey.bytes, { channels: 3 })).data)).toEqual(
      Array.from(grey.data).flatMap((v) => [v, v, v]),
    );
    const rgba = png(6, 5, 4, 16);
    const rgb = await decodeImage(rgba.bytes, { channels: 3 });
    expect(rgb).toMatchObject({ channels: 3, bitDepth: 16 });
    expect(Array.from(rgb.data)).toEqual(Array.from(rgba.data).filter((_, i) => i % 4 !== 3));
  });

  it('reads a colour image as 1 channel only when R = G = B', async () => {
    const grey = samples(6 * 5, 8);
    const greyRgb = encode({
      width: 6,
      height: 5,
      data: Uint8Array.from([...grey].flatMap((v) => [v, v, v])),
      depth: 8,
      channels: 3,
    });
    expect(await decodeImage(greyRgb, { channels: 1 })).toEqual({
      width: 6,
      height: 5,
      channels: 1,
      bitDepth: 8,
      data: grey,
    });
    await expect(decodeImage(png(6, 5, 3, 8).bytes, { channels: 1 })).rejects.toThrow(
      'cannot decode a colour image to 1 channel: R, G and B differ',
    );
  });

  it('ignores an embedded colour profile', async () => {
    const data = samples(W * H * 3, 8);
    // sharp converts the values to Display P3 and embeds that profile
    const p3 = await sharp(data, { raw: { width: W, height: H, channels: 3 } })
      .withIccProfile('p3')
      .png()
      .toBuffer();
    const stored = decode(p3).data;
    expect(decode(p3).iccEmbeddedProfile).toBeDefined();
    expect((await decodeImage(p3)).data).toEqual(stored);
    expect(await decodeImage(p3)).toEqual(decodePngJs(p3));
    // without ignoreIcc sharp would have converted them back to sRGB
    expect(new Uint8Array(await sharp(p3).raw().toBuffer())).not.toEqual(stored);
  });

  it('decodes JPEGs: colour to 3 channels, greyscale to 1', async () => {
    const data = samples(W * H * 3, 8);
    const input = { raw: { width: W, height: H, channels: 3 as const } };
    const jpeg = await sharp(data, input).jpeg({ quality: 90 }).toBuffer();
    const img = await decodeImage(jpeg);
    expect(img).toMatchObject({ width: W, height: H, channels: 3, bitDepth: 8 });
    expect(img.data).toEqual(new Uint8Array(await sharp(jpeg).raw().toBuffer()));

    const greyJpeg = await sharp(data, input).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer();
    const grey = await decodeImage(greyJpeg);
    expect(grey).toMatchObject({ width: W, height: H, channels: 1, bitDepth: 8 });
    const asRgb = await decodeImage(greyJpeg, { channels: 3 });
    expect(Array.from(asRgb.data)).toEqual(Array.from(grey.data).flatMap((v) => [v, v, v]));
    expect(asRgb.data).toEqual(new Uint8Array(await sharp(greyJpeg).raw().toBuffer()));
  });

  it('rejects a PNG truncated by 100 bytes', async () => {
    const { bytes } = png(64, 48, 3, 8);
    await expect(decodeImage(bytes.subarray(0, bytes.length - 100))).rejects.toThrow(
      /^truncated PNG file \(it does not end with an IEND chunk; .+\)$/,
    );
  });

  it('rejects a PNG with bytes flipped inside IDAT', async () => {
    const { bytes } = png(64, 48, 3, 8);
    const idat = chunkOffset(bytes, 'IDAT');
    for (const at of [idat + 100, idat + Math.floor((bytes.length - idat) / 2)]) {
      const flipped = bytes.slice();
      flipped[at]! ^= 0x55;
      await expect(decodeImage(flipped)).rejects.toThrow(/^corrupt image data \(.+\)$/);
      expect(() => decodePngJs(flipped)).toThrow(/^corrupt PNG data/);
    }
  });

  it('rejects truncated JPEGs, unknown formats and bad options', async () => {
    const jpeg = await sharp(samples(64 * 48 * 3, 8), { raw: { width: 64, height: 48, channels: 3 } })
      .jpeg()
      .toBuffer();
    await expect(decodeImage(jpeg.subarray(0, jpeg.length - 100))).rejects.toThrow(
      /^truncated JPEG file \(no end-of-image marker; .+\)$/,
    );
    await expect(decodeImage(new TextEncoder().encode('GIF89a is not supported'))).rejects.toThrow(
      'unsupported image format (expected PNG or JPEG data)',
    );
    await expect(decodeImage(new Uint8Array(0))).rejects.toThrow('empty image data');
    const { bytes } = png(8, 8, 1, 8);
    await expect(decodeImage(bytes.subarray(0, 30))).rejects.toThrow('truncated PNG header');
    const badHeader = bytes.slice();
    badHeader[16]! ^= 1;
    await expect(decodeImage(badHeader)).rejects.toThrow('corrupt PNG header (IHDR checksum does not match)');
    await expect(decodeImage(bytes, { channels: 4 as 3 })).rejects.toThrow(
      new RangeError('options.channels must be 1 or 3, got 4'),
    );
  });
});
