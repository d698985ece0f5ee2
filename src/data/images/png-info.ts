/** Reads a PNG file's header (size, bit depth, colour type) without decoding it. Browser-safe. */

/** What a PNG's IHDR chunk says about its pixels, and whether the file ends with an IEND chunk. */
export interface PngInfo {
  width: number;
  height: number;
  /** Bits per sample: 1, 2, 4, 8 or 16 (for palette images, bits per index). */
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  colorType: number;
  /** Samples per pixel as stored: 1 grey, 3 RGB, 1 palette (indices), 2 grey + alpha, 4 RGBA. */
  channels: number;
  /** The bytes end with an IEND chunk, so the file is probably not truncated. */
  complete: boolean;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IEND = [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];
/** Signature (8) + IHDR length (4), type (4), data (13) and CRC (4). */
const HEADER_BYTES = 33;

/** Colour type → [samples per pixel, allowed bit depths] (PNG spec, table 11.1). */
const COLOR_TYPES: ReadonlyMap<number, readonly [number, readonly number[]]> = new Map([
  [0, [1, [1, 2, 4, 8, 16]]],
  [2, [3, [8, 16]]],
  [3, [1, [1, 2, 4, 8]]],
  [4, [2, [8, 16]]],
  [6, [4, [8, 16]]],
]);

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function uint32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0
  );
}

/**
 * Reads a PNG's header from the first 33 bytes of the file (`head`; more is fine) and checks its end
 * from the last 12 (`tail`; only its last 12 bytes are looked at), so a file can be checked without
 * reading it whole. Throws an Error saying what is wrong when `head` is not a valid PNG header.
 */
export function pngHeaderInfo(head: Uint8Array, tail: Uint8Array): PngInfo {
  const n = Math.min(head.length, SIGNATURE.length);
  for (let i = 0; i < n; i++) {
    if (head[i] !== SIGNATURE[i]) throw new Error('not a PNG file (bad signature)');
  }
  if (head.length < HEADER_BYTES) {
    throw new Error(
      `truncated PNG header (${head.length} bytes, a PNG starts with at least ${HEADER_BYTES})`,
    );
  }
  const length = uint32(head, 8);
  const type = String.fromCharCode(head[12]!, head[13]!, head[14]!, head[15]!);
  if (type !== 'IHDR')
    throw new Error(`corrupt PNG header (first chunk is ${JSON.stringify(type)}, not IHDR)`);
  if (length !== 13) throw new Error(`corrupt PNG header (IHDR chunk has length ${length}, not 13)`);
  if (crc32(head.subarray(12, 29)) !== uint32(head, 29)) {
    throw new Error('corrupt PNG header (IHDR checksum does not match)');
  }
  const width = uint32(head, 16);
  const height = uint32(head, 20);
  const bitDepth = head[24]!;
  const colorType = head[25]!;
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new Error(`corrupt PNG header (invalid size ${width}×${height})`);
  }
  const kind = COLOR_TYPES.get(colorType);
  if (!kind) throw new Error(`corrupt PNG header (invalid colour type ${colorType})`);
  const [channels, depths] = kind;
  if (!depths.includes(bitDepth)) {
    throw new Error(`corrupt PNG header (bit depth ${bitDepth} is not allowed for colour type ${colorType})`);
  }
  const end = tail.subarray(Math.max(0, tail.length - IEND.length));
  const complete = end.length === IEND.length && IEND.every((b, i) => end[i] === b);
  return { width, height, bitDepth, colorType, channels, complete };
}

/** Reads the header of a whole PNG file held in memory (see {@link pngHeaderInfo}). */
export function pngInfo(bytes: Uint8Array): PngInfo {
  return pngHeaderInfo(
    bytes.subarray(0, HEADER_BYTES),
    bytes.subarray(Math.max(0, bytes.length - IEND.length)),
  );
}
