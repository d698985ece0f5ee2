/** PNG bytes for the image tests: deterministic samples, hand-packed low bit depths, chunk surgery. */
import { encode, type IndexedColors } from 'fast-png';

/** Deterministic samples covering the whole range (16-bit ones with both bytes varying). */
export function samples(n: number, depth: 8 | 16): Uint8Array | Uint16Array {
  return depth === 16
    ? Uint16Array.from({ length: n }, (_, i) => (i * 40993 + 7) % 65536)
    : Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256);
}

export function png(width: number, height: number, channels: number, depth: 8 | 16) {
  const data = samples(width * height * channels, depth);
  return { data, bytes: encode({ width, height, data, depth, channels }) };
}

export const PALETTE: IndexedColors = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [10, 20, 30],
  [200, 100, 50],
];

/** Packs one sample per pixel of `depth` bits (1, 2, 4) into PNG rows. */
export function pack(values: number[], width: number, height: number, depth: number): Uint8Array {
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
export function crc32(bytes: Uint8Array): number {
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
export function chunkOffset(bytes: Uint8Array, type: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let off = 8; off < bytes.length; off += 12 + view.getUint32(off)) {
    if (String.fromCharCode(...bytes.subarray(off + 4, off + 8)) === type) return off;
  }
  throw new Error(`no ${type} chunk`);
}

/** `bytes` with a chunk inserted before the first IDAT. */
export function insertChunk(bytes: Uint8Array, type: string, data: Uint8Array): Uint8Array {
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
