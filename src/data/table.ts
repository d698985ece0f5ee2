/**
 * Tables read from CSV text or a JSON array of records: one column of cells per name, every cell a
 * finite number, a string or null (missing). Browser-safe: no `node:` imports.
 *
 * Every problem with the input is a {@link DataError} whose one-line message names the file and, where
 * there is one, the row as the user sees it (`line N` of a CSV file, `record N` of a JSON array) and
 * the column.
 */
import Papa from 'papaparse';

/** A cell: a finite number, a (trimmed, non-empty) string, or null for a missing value. */
export type Cell = number | string | null;

export interface Table {
  /** The file name, for messages. */
  source: string;
  columns: string[];
  cells: Record<string, Cell[]>;
  rowCount: number;
  /** Data row i as the user sees it: `line N` (CSV, header = line 1) or `record N` (JSON, 1-based). */
  rowLabel(i: number): string;
}

/** A problem with the user's data; the message is meant to be shown as is (one line, no stack). */
export class DataError extends Error {
  override name = 'DataError';
}

/** Cell texts (after trimming) that mean "missing". */
export const MISSING_TOKENS: readonly string[] = ['', 'NA', 'N/A', 'null', '.', 'NaN', 'nan'];

const MISSING = new Set(MISSING_TOKENS);
const NUMBER_LITERAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY_LITERAL = /^[+-]?inf(?:inity)?$/i;

/** A value quoted for a message: single-quoted, on one line, at most ~40 characters. */
export function showValue(value: unknown): string {
  let s = String(value).replace(/\r?\n|\r/g, '\\n');
  if (s.length > 40) s = `${s.slice(0, 37)}...`;
  return `'${s}'`;
}

/** `penguins.csv line 7, column 'Body Mass (g)'`: where a cell is, for messages. */
export function cellWhere(table: Pick<Table, 'source' | 'rowLabel'>, row: number, column: string): string {
  return `${table.source} ${table.rowLabel(row)}, column '${column}'`;
}

function columnList(columns: readonly string[]): string {
  return columns.map((c) => `'${c}'`).join(', ');
}

/** `<file>: column 'x' not found; columns are: 'a', 'b'` (prefixed with what the column was meant to be). */
export function columnNotFound(table: Table, what: string | null, column: string): DataError {
  return new DataError(
    `${table.source}: ${what ? `${what} ` : ''}column '${column}' not found; columns are: ${columnList(table.columns)}`,
  );
}

/**
 * Converts one cell's text: trimmed; a missing token → null; a finite number literal → number;
 * `Infinity`, `inf` or a literal that overflows → DataError; anything else → the trimmed string.
 */
export function parseCell(raw: string, where: () => string): Cell {
  const text = raw.trim();
  if (MISSING.has(text)) return null;
  if (INFINITY_LITERAL.test(text)) {
    throw new DataError(`${where()}: Infinity is not a valid value (got ${showValue(text)})`);
  }
  if (NUMBER_LITERAL.test(text)) {
    const n = Number(text);
    if (!Number.isFinite(n)) {
      throw new DataError(`${where()}: Infinity is not a valid value (${showValue(text)} is too large)`);
    }
    return n;
  }
  return text;
}

/** Builds a {@link Table}; `labels[i]` names data row i (default `row i+1`). */
export function createTable(
  source: string,
  columns: string[],
  cells: Record<string, Cell[]>,
  labels?: (i: number) => string,
): Table {
  const rowCount = columns.length > 0 ? (cells[columns[0]!]?.length ?? 0) : 0;
  for (const c of columns) {
    if (!Object.prototype.hasOwnProperty.call(cells, c) || cells[c]!.length !== rowCount) {
      throw new RangeError(`createTable: column '${c}' must have ${rowCount} cells`);
    }
  }
  return { source, columns, cells, rowCount, rowLabel: labels ?? ((i) => `row ${i + 1}`) };
}

function emptyCells(): Record<string, Cell[]> {
  // no prototype: a column may be called '__proto__' or 'constructor'
  return Object.create(null) as Record<string, Cell[]>;
}

function lineBreaks(text: string, from = 0, to = text.length): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function quoteProblem(error: Papa.ParseError): string {
  if (error.code === 'MissingQuotes') return 'a quoted field is never closed (missing closing ")';
  if (error.code === 'InvalidQuotes') return 'malformed quoted field (text after its closing ")';
  return error.message;
}

export interface CsvOptions {
  /** The field delimiter: ',' (default) or '\t' for TSV, ';' … */
  delimiter?: string;
}

/**
 * Parses CSV text with a header row. Cells are trimmed; missing tokens become null and finite number
 * literals numbers. Blank lines are skipped; quoted fields, CRLF and a UTF-8 BOM are handled.
 */
export function parseCsv(text: string, source: string, options: CsvOptions = {}): Table {
  // one kind of line break (papaparse guesses one per file; mixed endings would merge lines), no BOM
  const normalized = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).replace(/\r\n?/g, '\n');
  if (normalized.trim() === '') throw new DataError(`${source} is empty`);

  let header: string[] | undefined;
  const lines: number[] = [];
  const raw: string[][] = [];
  let failure: DataError | undefined;
  let cursorBefore = 0;
  let breaksBefore = 0; // line breaks in normalized[0, cursorBefore)

  Papa.parse<string[]>(normalized, {
    header: false,
    delimiter: options.delimiter ?? ',',
    newline: '\n',
    skipEmptyLines: 'greedy',
    dynamicTyping: false,
    step(results, parser) {
      const cursor = results.meta.cursor;
      const breaks = breaksBefore + lineBreaks(normalized, cursorBefore, cursor);
      const error = results.errors[0];
      if (error) {
        const at = error.index ?? cursorBefore;
        const line = 1 + lineBreaks(normalized, 0, Math.min(at, normalized.length));
        failure = new DataError(`${source} line ${line}: ${quoteProblem(error)}`);
        parser.abort();
        return;
      }
      const fields = results.data;
      // the row ends on the line before `cursor` when a line break ends it, else on the last line
      const terminated = cursor > 0 && normalized[cursor - 1] === '\n';
      const endLine = terminated ? breaks : breaks + 1;
      const inner = fields.reduce((n, f) => n + lineBreaks(f), 0);
      const line = endLine - inner;
      cursorBefore = cursor;
      breaksBefore = breaks;
      if (!header) {
        header = fields.map((f) => f.trim());
        const seen = new Set<string>();
        for (let k = 0; k < header.length; k++) {
          const name = header[k]!;
          if (name === '') {
            failure = new DataError(
              `${source} line ${line}: column ${k + 1} of the header has no name` +
                (header.length > 1 ? ` (the header is ${columnList(header)})` : ''),
            );
            parser.abort();
            return;
          }
          if (seen.has(name)) {
            failure = new DataError(`${source}: column '${name}' appears twice in the header`);
            parser.abort();
            return;
          }
          seen.add(name);
        }
        return;
      }
      if (fields.length !== header.length) {
        failure = new DataError(
          `${source} line ${line} has ${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${header.length}`,
        );
        parser.abort();
        return;
      }
      lines.push(line);
      raw.push(fields);
    },
  });
  if (failure) throw failure;
  if (!header) throw new DataError(`${source} is empty`);
  if (raw.length === 0) throw new DataError(`${source} has a header but no data rows`);

  const columns = header;
  const cells = emptyCells();
  const rowLabel = (i: number) => `line ${lines[i] ?? '?'}`;
  columns.forEach((name, k) => {
    const column: Cell[] = new Array<Cell>(raw.length);
    for (let i = 0; i < raw.length; i++) {
      column[i] = parseCell(raw[i]![k]!, () => `${source} line ${lines[i]}, column '${name}'`);
    }
    cells[name] = column;
  });
  return createTable(source, columns, cells, rowLabel);
}

function jsonErrorMessage(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /at position (\d+)/.exec(message);
  if (!match || /\(line \d+/.test(message)) return message;
  const position = Number(match[1]);
  const before = text.slice(0, position);
  const line = lineBreaks(before.replace(/\r\n?/g, '\n')) + 1;
  const column = position - Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r'));
  return `${message} (line ${line}, column ${column})`;
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length === 0 ? 'an empty object' : `an object with keys ${columnList(keys.slice(0, 5))}`;
  }
  return `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses a JSON array of flat records. Columns are the union of the records' keys in first-seen order;
 * a record without a key is missing that value. Strings are converted as CSV cells are, booleans become
 * 'true'/'false', null is missing; nested objects or arrays are errors.
 */
export function parseJsonRecords(text: string, source: string): Table {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new DataError(`${source} is empty`);
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    throw new DataError(`${source} is not valid JSON: ${jsonErrorMessage(err, body)}`);
  }
  if (!Array.isArray(data)) {
    throw new DataError(
      `${source} is not a JSON array of records (found ${describeJson(data)}; expected [{...}, {...}, ...])`,
    );
  }
  if (data.length === 0) throw new DataError(`${source} contains no records (an empty array)`);

  const columns: string[] = [];
  const known = new Set<string>();
  data.forEach((record: unknown, i) => {
    if (!isPlainObject(record)) {
      throw new DataError(`${source} record ${i + 1} is not an object (found ${describeJson(record)})`);
    }
    for (const key of Object.keys(record)) {
      if (known.has(key)) continue;
      if (key.trim() === '') throw new DataError(`${source} record ${i + 1} has a field with an empty name`);
      known.add(key);
      columns.push(key);
    }
  });
  if (columns.length === 0) throw new DataError(`${source}: the records have no fields`);

  const records = data as Record<string, unknown>[];
  const cells = emptyCells();
  for (const name of columns) {
    const column: Cell[] = new Array<Cell>(records.length);
    for (let i = 0; i < records.length; i++) {
      const where = () => `${source} record ${i + 1}, column '${name}'`;
      const record = records[i]!;
      const value = Object.prototype.hasOwnProperty.call(record, name) ? record[name] : null;
      if (value === null || value === undefined) column[i] = null;
      else if (typeof value === 'number') {
        // JSON.parse turns 1e400 into Infinity
        if (!Number.isFinite(value)) throw new DataError(`${where()}: Infinity is not a valid value`);
        column[i] = value;
      } else if (typeof value === 'string') column[i] = parseCell(value, where);
      else if (typeof value === 'boolean') column[i] = value ? 'true' : 'false';
      else {
        throw new DataError(
          `${where()}: nested ${Array.isArray(value) ? 'arrays' : 'objects'} are not supported (records must be flat)`,
        );
      }
    }
    cells[name] = column;
  }
  return createTable(source, columns, cells, (i) => `record ${i + 1}`);
}

function requireColumn(table: Table, column: string): Cell[] {
  if (!table.columns.includes(column)) throw columnNotFound(table, null, column);
  return table.cells[column]!;
}

/**
 * 'numeric' iff every non-missing cell is a number (numeric text was converted when parsing); a column
 * with no value at all is a DataError.
 */
export function inferColumnKind(table: Table, column: string): 'numeric' | 'categorical' {
  const cells = requireColumn(table, column);
  let values = 0;
  for (const cell of cells) {
    if (cell === null) continue;
    if (typeof cell !== 'number') return 'categorical';
    values++;
  }
  if (values === 0)
    throw new DataError(`${table.source}: column '${column}' has no values (every row is missing)`);
  return 'numeric';
}

/** The column as numbers (null = missing); text names the first row that has it. */
export function columnNumbers(table: Table, column: string): (number | null)[] {
  const cells = requireColumn(table, column);
  return cells.map((cell, i) => {
    if (cell === null || typeof cell === 'number') return cell;
    throw new DataError(`${cellWhere(table, i, column)}: expected a number, got ${showValue(cell)}`);
  });
}
