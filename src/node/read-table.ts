/** Reads a CSV, TSV or JSON table file (Node only). */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { DataError, parseCsv, parseJsonRecords, type Table } from '../data/table.js';

function decode(bytes: Uint8Array, path: string): string {
  // UTF-16 with a byte-order mark (Excel's "Unicode text"); otherwise UTF-8, strictly
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const head = bytes.subarray(0, 8192);
  if (head.includes(0)) throw new DataError(`${path} is a binary file, not CSV, TSV or JSON text`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(`${path} is not valid UTF-8 text; save it as UTF-8 and try again`);
  }
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Reads a table file: `.csv`, `.tsv` (tab-delimited) or `.json` (an array of records) by extension;
 * any other extension is sniffed (`[` or `{` first → JSON; a first line with tabs and no commas → TSV;
 * else CSV). The table's `source` is `path` as given. Every problem is a {@link DataError}.
 */
export async function readTableFile(path: string): Promise<Table> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new DataError(`file not found: ${path}`);
    throw new DataError(`cannot read ${path}: ${reason(err)}`);
  }
  if (info.isDirectory()) throw new DataError(`${path} is a directory, not a data file`);
  if (!info.isFile()) throw new DataError(`${path} is not a regular file`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new DataError(`cannot read ${path}: ${reason(err)}`);
  }
  const text = decode(bytes, path);
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return parseJsonRecords(text, path);
  if (ext === '.csv') return parseCsv(text, path);
  if (ext === '.tsv' || ext === '.tab') return parseCsv(text, path, { delimiter: '\t' });
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (body.startsWith('[') || body.startsWith('{')) return parseJsonRecords(text, path);
  const firstLine = body.split(/\r\n?|\n/, 1)[0] ?? '';
  if (firstLine.includes('\t') && !firstLine.includes(',')) return parseCsv(text, path, { delimiter: '\t' });
  return parseCsv(text, path);
}
