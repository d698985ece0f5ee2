import { describe, expect, it } from 'vitest';
import {
  DataError,
  MISSING_TOKENS,
  columnNumbers,
  createTable,
  inferColumnKind,
  parseCsv,
  parseJsonRecords,
  type Table,
} from './table.js';

function labels(table: Table): string[] {
  return Array.from({ length: table.rowCount }, (_, i) => table.rowLabel(i));
}

/** The DataError thrown by `fn`, checked to be one line. */
function dataError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    const message = (err as DataError).message;
    expect(message).not.toContain('\n');
    expect((err as DataError).name).toBe('DataError');
    return message;
  }
  throw new Error('expected a DataError');
}

describe('parseCsv', () => {
  it('reads a header and typed, trimmed cells', () => {
    const t = parseCsv('name, mass ,ok\n a ,1.5,x\nb, -2e3 ,y\n', 'p.csv');
    expect(t.source).toBe('p.csv');
    expect(t.columns).toEqual(['name', 'mass', 'ok']);
    expect(t.rowCount).toBe(2);
    expect(t.cells['name']).toEqual(['a', 'b']);
    expect(t.cells['mass']).toEqual([1.5, -2000]);
    expect(labels(t)).toEqual(['line 2', 'line 3']);
  });

  it('turns every missing token into null', () => {
    const text = 'a,b\n' + MISSING_TOKENS.map((m) => `${m},1`).join('\n') + '\n  NA  ,2\n';
    const t = parseCsv(text, 'm.csv');
    expect(t.cells['a']).toEqual(new Array(MISSING_TOKENS.length + 1).fill(null));
    expect(MISSING_TOKENS).toEqual(['', 'NA', 'N/A', 'null', '.', 'NaN', 'nan']);
  });

  it('keeps text that only looks like a number as text', () => {
    const q = parseCsv('a\n"1,5"\n0x10\n1e\n+.5\n007\n', 'n.csv');
    expect(q.cells['a']).toEqual(['1,5', '0x10', '1e', 0.5, 7]);
  });

  it('handles quoted fields with delimiters, quotes and line breaks, and numbers lines physically', () => {
    const text = 'id,note\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,end\n';
    const t = parseCsv(text, 'q.csv');
    expect(t.cells['note']).toEqual(['a, b', 'say "hi"', 'two\nlines', 'end']);
    expect(labels(t)).toEqual(['line 2', 'line 3', 'line 4', 'line 6']);
  });

  it('handles CRLF, a BOM and blank lines anywhere', () => {
    const text = '\uFEFFa,b\r\n\r\n1,2\r\n   \r\n3,"x\r\ny"\r\n4,5\r\n\r\n\r\n';
    const t = parseCsv(text, 'w.csv');
    expect(t.columns).toEqual(['a', 'b']);
    expect(t.cells['a']).toEqual([1, 3, 4]);
    expect(t.cells['b']).toEqual([2, 'x\ny', 5]);
    expect(labels(t)).toEqual(['line 3', 'line 5', 'line 7']);
  });

  it('handles a last line without a line break and mixed line endings', () => {
    const t = parseCsv('a,b\r\n1,2\n3,4\r5,6', 'mix.csv');
    expect(t.cells['b']).toEqual([2, 4, 6]);
    expect(labels(t)).toEqual(['line 2', 'line 3', 'line 4']);
  });

  it('reads tab-delimited text', () => {
    const t = parseCsv('a\tb c\n1\tx, y\n', 't.tsv', { delimiter: '\t' });
    expect(t.columns).toEqual(['a', 'b c']);
    expect(t.cells['b c']).toEqual(['x, y']);
  });

  it('copes with columns called like Object.prototype members', () => {
    const t = parseCsv('__proto__,constructor\n1,2\n', 'o.csv');
    expect(t.cells['__proto__']).toEqual([1]);
    expect(t.cells['constructor']).toEqual([2]);
  });

  it('rejects an empty file and a whitespace-only file', () => {
    expect(dataError(() => parseCsv('', 'e.csv'))).toBe('e.csv is empty');
    expect(dataError(() => parseCsv('\uFEFF \n\r\n', 'e.csv'))).toBe('e.csv is empty');
  });

  it('rejects a header without data rows', () => {
    expect(dataError(() => parseCsv('a,b\n\n\n', 'h.csv'))).toBe('h.csv has a header but no data rows');
  });

  it('rejects ragged rows, naming the line', () => {
    expect(dataError(() => parseCsv('a,b\n1,2\n\n3,4,5\n', 'r.csv'))).toBe(
      'r.csv line 4 has 3 fields, the header has 2',
    );
    expect(dataError(() => parseCsv('a,b\n1,2\n3\n', 'r.csv'))).toBe(
      'r.csv line 3 has 1 field, the header has 2',
    );
  });

  it('rejects duplicate and empty column names', () => {
    expect(dataError(() => parseCsv('x,y, x\n1,2,3\n', 'd.csv'))).toBe(
      "d.csv: column 'x' appears twice in the header",
    );
    expect(dataError(() => parseCsv(',a,b\n0,1,2\n', 'n.csv'))).toBe(
      "n.csv line 1: column 1 of the header has no name (the header is '', 'a', 'b')",
    );
    expect(dataError(() => parseCsv('a,b,\n1,2,3\n', 'n.csv'))).toMatch(
      /^n\.csv line 1: column 3 of the header/,
    );
  });

  it('rejects infinite values, naming line and column', () => {
    for (const v of ['Infinity', '-Infinity', 'inf', '-INF', '1e999']) {
      expect(dataError(() => parseCsv(`a,mass\n1,2\n2,${v}\n`, 'i.csv'))).toMatch(
        /^i\.csv line 3, column 'mass': Infinity is not a valid value/,
      );
    }
  });

  it('names the line of an unterminated or malformed quote', () => {
    expect(dataError(() => parseCsv('a,b\n1,2\n3,"4\n5,6\n', 'u.csv'))).toBe(
      'u.csv line 3: a quoted field is never closed (missing closing ")',
    );
    expect(dataError(() => parseCsv('a,b\n1,2\n"x"y,2\n', 'u.csv'))).toMatch(
      /^u\.csv line 3: malformed quoted field/,
    );
  });
});

describe('parseJsonRecords', () => {
  it('reads records, unions keys in first-seen order and converts values', () => {
    const text = JSON.stringify([
      { a: 1, b: 'x' },
      { b: ' 2.5 ', c: true },
      { a: null, c: false, b: 'NA' },
    ]);
    const t = parseJsonRecords(text, 'r.json');
    expect(t.columns).toEqual(['a', 'b', 'c']);
    expect(t.cells['a']).toEqual([1, null, null]);
    expect(t.cells['b']).toEqual(['x', 2.5, null]);
    expect(t.cells['c']).toEqual([null, 'true', 'false']);
    expect(labels(t)).toEqual(['record 1', 'record 2', 'record 3']);
  });

  it('rejects invalid JSON with the line and column of the problem', () => {
    expect(dataError(() => parseJsonRecords('[{"a": 1},\n {"a": 2,}]', 'bad.json'))).toMatch(
      /^bad\.json is not valid JSON: .*\(line 2, column \d+\)$/,
    );
    expect(dataError(() => parseJsonRecords('  ', 'bad.json'))).toBe('bad.json is empty');
  });

  it('rejects a non-array, an empty array and non-object records', () => {
    expect(dataError(() => parseJsonRecords('{"data": []}', 'o.json'))).toBe(
      "o.json is not a JSON array of records (found an object with keys 'data'; expected [{...}, {...}, ...])",
    );
    expect(dataError(() => parseJsonRecords('[]', 'o.json'))).toBe(
      'o.json contains no records (an empty array)',
    );
    expect(dataError(() => parseJsonRecords('[{"a":1}, 5]', 'o.json'))).toBe(
      'o.json record 2 is not an object (found a number)',
    );
    expect(dataError(() => parseJsonRecords('[{"a":1}, [1]]', 'o.json'))).toBe(
      'o.json record 2 is not an object (found an array)',
    );
    expect(dataError(() => parseJsonRecords('[{}, {}]', 'o.json'))).toBe(
      'o.json: the records have no fields',
    );
  });

  it('rejects nested values and infinities, naming record and column', () => {
    expect(dataError(() => parseJsonRecords('[{"a":1},{"a":{"b":2}}]', 'n.json'))).toBe(
      "n.json record 2, column 'a': nested objects are not supported (records must be flat)",
    );
    expect(dataError(() => parseJsonRecords('[{"a":[1]}]', 'n.json'))).toMatch(
      /^n\.json record 1, column 'a': nested arrays/,
    );
    expect(dataError(() => parseJsonRecords('[{"a":1},{"a":"Infinity"}]', 'n.json'))).toMatch(
      /^n\.json record 2, column 'a': Infinity is not a valid value/,
    );
    expect(dataError(() => parseJsonRecords('[{"a":1e999}]', 'n.json'))).toBe(
      "n.json record 1, column 'a': Infinity is not a valid value",
    );
  });
});

describe('inferColumnKind and columnNumbers', () => {
  const t = parseCsv('x,y,z,w\n1,a,,1\n2,3,NA,heavy\n,b,.,3\n', 'k.csv');

  it('calls a column numeric iff every value is a number', () => {
    expect(inferColumnKind(t, 'x')).toBe('numeric');
    expect(inferColumnKind(t, 'y')).toBe('categorical');
    expect(dataError(() => inferColumnKind(t, 'z'))).toBe(
      "k.csv: column 'z' has no values (every row is missing)",
    );
    expect(dataError(() => inferColumnKind(t, 'nope'))).toMatch(
      /^k\.csv: column 'nope' not found; columns are: 'x'/,
    );
  });

  it('returns numbers with nulls, or names the first text cell', () => {
    expect(columnNumbers(t, 'x')).toEqual([1, 2, null]);
    expect(dataError(() => columnNumbers(t, 'w'))).toBe(
      "k.csv line 3, column 'w': expected a number, got 'heavy'",
    );
  });

  it('createTable checks column lengths', () => {
    expect(() => createTable('t', ['a', 'b'], { a: [1], b: [] })).toThrow(RangeError);
    expect(createTable('t', ['a'], { a: [1, 2] }).rowLabel(1)).toBe('row 2');
  });
});
