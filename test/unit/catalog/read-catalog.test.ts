import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import type { CatalogEvent } from '../../../src/catalog/catalog-event.js';
import { readCatalog } from '../../../src/catalog/read-catalog.js';
import { resolveJob } from '../../../src/spec/resolve-job.js';
import type { ResolvedJob } from '../../../src/spec/resolved-job.js';
import { tempFiles } from '../spec/temp-files.js';

async function jobWith(file: string, content: string | Buffer, catalog: Record<string, unknown> = {}): Promise<ResolvedJob> {
  const dir = await tempFiles({ [file]: content });
  return resolveJob(
    {
      name: 'c',
      catalog: { path: file, key: 'sku', ...catalog },
      model: 'gemini-3.1-flash-image-preview',
      prompt: '{{title}}',
      output: { url: 'file://out' },
    },
    { file: path.join(dir, 'job.yaml') },
  );
}

async function collect(job: ResolvedJob): Promise<CatalogEvent[]> {
  const events: CatalogEvent[] = [];
  for await (const event of readCatalog(job)) events.push(event);
  return events;
}

/** Compact view: rows as [rowNumber, line, key, fields], rejections as [rowNumber, line, field, reason]. */
function summary(events: CatalogEvent[]): unknown[] {
  return events.map((event) =>
    event.kind === 'row'
      ? ['row', event.row.rowNumber, event.row.line, event.row.key, event.row.fields]
      : ['rejected', event.rejection.rowNumber, event.rejection.line, event.rejection.field, event.rejection.reason],
  );
}

async function readError(job: ResolvedJob): Promise<BunchError> {
  const error = await collect(job).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BunchError);
  return error as BunchError;
}

describe('readCatalog: CSV', () => {
  it('handles a BOM, CRLF, quoted commas and quoted newlines with start lines', async () => {
    const csv =
      '\uFEFFsku,title,notes\r\n' +
      'A1,"Tote, large","line one\r\nline two\r\nline three"\r\n' +
      '\r\n' +
      'B2,Mug,plain\r\n' +
      'C3,"Cap ""classic""",x\r\n';
    const job = await jobWith('p.csv', csv);
    expect(summary(await collect(job))).toEqual([
      ['row', 1, 2, 'A1', { sku: 'A1', title: 'Tote, large', notes: 'line one\nline two\nline three' }],
      ['row', 2, 6, 'B2', { sku: 'B2', title: 'Mug', notes: 'plain' }],
      ['row', 3, 7, 'C3', { sku: 'C3', title: 'Cap "classic"', notes: 'x' }],
    ]);
  });

  it('counts a key spelt with a combining accent as the same key as its precomposed spelling', async () => {
    // "Café" twice: "é" as one code point (NFC), then as "e" + U+0301 (NFD), as two exports write it.
    const csv = 'sku,title\nCaf\u00e9-1,One\nCafe\u0301-1,Two\nCafe\u0301-2,Three\nCaf\u00e9-2,Four\nCafe-1,Five\n';
    const job = await jobWith('p.csv', csv);
    expect(summary(await collect(job))).toEqual([
      ['row', 1, 2, 'Caf\u00e9-1', { sku: 'Caf\u00e9-1', title: 'One' }],
      ['rejected', 2, 3, 'sku', 'duplicate key "Cafe\u0301-1" (first seen in row 1; keys are compared in Unicode NFC, so accents composed differently are the same key)'],
      ['row', 3, 4, 'Cafe\u0301-2', { sku: 'Cafe\u0301-2', title: 'Three' }],
      ['rejected', 4, 5, 'sku', 'duplicate key "Caf\u00e9-2" (first seen in row 3; keys are compared in Unicode NFC, so accents composed differently are the same key)'],
      ['row', 5, 6, 'Cafe-1', { sku: 'Cafe-1', title: 'Five' }],
    ]);
  });

  it('uses the delimiter option and renames columns', async () => {
    const job = await jobWith('p.csv', 'SKU;Title;Price\nA;Chair;10,50\n', { key: 'sku', delimiter: ';', columns: { sku: 'SKU', title: 'Title' } });
    expect(summary(await collect(job))).toEqual([['row', 1, 2, 'A', { Price: '10,50', sku: 'A', title: 'Chair' }]]);
  });

  it('rejects missing keys, duplicates, empty required fields and wrong field counts, and goes on', async () => {
    const csv = 'sku,title\nA,One\n,No key\nA,Again\nB,\nC,Too,many\nD,Fine\n';
    const job = await jobWith('p.csv', csv, { required: ['title'] });
    const events = await collect(job);
    expect(summary(events)).toEqual([
      ['row', 1, 2, 'A', { sku: 'A', title: 'One' }],
      ['rejected', 2, 3, 'sku', 'no value in the key column `sku`'],
      ['rejected', 3, 4, 'sku', 'duplicate key "A" (first seen in row 1)'],
      ['rejected', 4, 5, 'title', 'required field `title` is empty'],
      ['rejected', 5, 6, undefined, 'has 3 fields but the header has 2'],
      ['row', 6, 7, 'D', { sku: 'D', title: 'Fine' }],
    ]);
    const rejection = events[2]?.kind === 'rejected' ? events[2].rejection : undefined;
    expect(rejection).toEqual({ file: path.join(path.dirname(job.source.file), 'p.csv'), rowNumber: 3, line: 4, key: 'A', field: 'sku', code: 'E_CATALOG_ROW', reason: 'duplicate key "A" (first seen in row 1)' });
  });

  it('keeps a stray quote as literal text instead of losing the rest of the file', async () => {
    const csv = 'sku,title\nA,One\nB,"bad"quote\nC,Three\n';
    const job = await jobWith('p.csv', csv);
    expect(summary(await collect(job))).toEqual([
      ['row', 1, 2, 'A', { sku: 'A', title: 'One' }],
      ['row', 2, 3, 'B', { sku: 'B', title: '"bad"quote' }],
      ['row', 3, 4, 'C', { sku: 'C', title: 'Three' }],
    ]);
  });

  it('forward-fills empty columns within a group only', async () => {
    const csv =
      'Handle,Title,Vendor,Variant SKU,Color\n' +
      'shirt,Linen Shirt,North,S-1,White\n' +
      'shirt,,,S-2,Blue\n' +
      'mug,Mug,Kiln,M-1,Black\n' +
      'mug,,,M-2,\n' +
      'cap,,,C-1,Red\n';
    const job = await jobWith('p.csv', csv, {
      key: 'sku',
      columns: { sku: 'Variant SKU', handle: 'Handle', title: 'Title' },
      forwardFill: ['title', 'Vendor'],
      forwardFillBy: 'handle',
    });
    expect(summary(await collect(job))).toEqual([
      ['row', 1, 2, 'S-1', { Vendor: 'North', Color: 'White', sku: 'S-1', handle: 'shirt', title: 'Linen Shirt' }],
      ['row', 2, 3, 'S-2', { Vendor: 'North', Color: 'Blue', sku: 'S-2', handle: 'shirt', title: 'Linen Shirt' }],
      ['row', 3, 4, 'M-1', { Vendor: 'Kiln', Color: 'Black', sku: 'M-1', handle: 'mug', title: 'Mug' }],
      // Color is not a forward-fill column: it stays empty.
      ['row', 4, 5, 'M-2', { Vendor: 'Kiln', Color: '', sku: 'M-2', handle: 'mug', title: 'Mug' }],
      // A new group never inherits the previous group's values.
      ['row', 5, 6, 'C-1', { Vendor: '', Color: 'Red', sku: 'C-1', handle: 'cap', title: '' }],
    ]);
  });

  it('forward-fills from the previous row when no group column is set', async () => {
    const job = await jobWith('p.csv', 'sku,brand\nA,Acme\nB,\nC,\n', { forwardFill: ['brand'] });
    expect(summary(await collect(job)).map((event) => (event as unknown[])[4])).toEqual([
      { sku: 'A', brand: 'Acme' },
      { sku: 'B', brand: 'Acme' },
      { sku: 'C', brand: 'Acme' },
    ]);
  });

  it('keeps a column named __proto__ as a plain field', async () => {
    const job = await jobWith('p.csv', 'sku,__proto__\nA,x\n');
    const [event] = await collect(job);
    expect(event?.kind === 'row' && Object.hasOwn(event.row.fields, '__proto__')).toBe(true);
  });

  it('fails the whole file when it is missing, empty, or the header lacks a configured column', async () => {
    const job = await jobWith('p.csv', 'sku,title\n');
    const missing = { ...job, catalog: { ...job.catalog, path: path.join(job.source.dir, 'nope.csv'), displayPath: 'nope.csv' } };
    const missingError = await readError(missing);
    expect(missingError.code).toBe('E_CATALOG_FILE');
    expect(missingError.message).toBe('nope.csv: no such file');

    const empty = await readError(await jobWith('p.csv', ''));
    expect(empty.code).toBe('E_CATALOG_FILE');
    expect(empty.message).toMatch(/p\.csv: is empty \(no header row\)$/);

    const noKey = await readError(await jobWith('p.csv', 'id,title\n1,x\n'));
    expect(noKey.message).toMatch(/p\.csv:1: catalog\.key names column "sku", which is not in the header \(id, title\)$/);

    const badRename = await readError(await jobWith('p.csv', 'sku,title\n', { columns: { name: 'Name' } }));
    expect(badRename.message).toMatch(/p\.csv:1: column "Name" \(renamed to "name"\) is not in the header \(sku, title\)$/);

    const duplicate = await readError(await jobWith('p.csv', 'sku,sku\n'));
    expect(duplicate.message).toMatch(/p\.csv:1: header names column "sku" twice$/);

    // Before: the file's own "title" column was dropped without a word, and every row failed later.
    const ontoExisting = await readError(await jobWith('p.csv', 'sku,title,brand\nA,Tote,North\n', { columns: { title: 'brand' } }));
    expect(ontoExisting.code).toBe('E_CATALOG_FILE');
    expect(ontoExisting.message).toMatch(
      /p\.csv:1: catalog\.columns renames "brand" to "title", but the header has a "title" column too \(its values would be lost\): rename or drop one of them$/,
    );
  });

  it('rejects rows holding bytes that are not UTF-8, or NUL, naming the field (before: U+FFFD went into keys and prompts)', async () => {
    const latin1 = Buffer.concat([Buffer.from('sku,title\nA1,Caf'), Buffer.from([0xe9]), Buffer.from('\nA'), Buffer.from([0xff]), Buffer.from(',Tote\nA3,Mug\nA4,Bo\u0000wl\n')]);
    const events = await collect(await jobWith('p.csv', latin1));
    expect(summary(events)).toEqual([
      ['rejected', 1, 2, 'title', 'field `title` holds bytes that are not UTF-8 (shown as \uFFFD); save the file as UTF-8'],
      ['rejected', 2, 3, 'sku', 'field `sku` holds bytes that are not UTF-8 (shown as \uFFFD); save the file as UTF-8'],
      ['row', 3, 4, 'A3', { sku: 'A3', title: 'Mug' }],
      ['rejected', 4, 5, 'title', 'field `title` holds a NUL character'],
    ]);
  });

  it('checks only the columns the job reads, and a forward-filled variant row inherits the rejection, not the product before', async () => {
    const csv = Buffer.concat([
      Buffer.from('sku,title,material,notes\nA1,Mug,ceramic,ok\nA2,,,ok\nB1,Caf'),
      Buffer.from([0xe9]),
      Buffer.from(' shirt,cotton,fine\nB2,,,x\nC1,Cap,wool,Caf'),
      Buffer.from([0xe9]),
      Buffer.from('\n'),
    ]);
    const events = await collect(await jobWith('p.csv', csv, { forwardFill: ['title', 'material'] }));
    expect(summary(events).map((event) => (event as unknown[]).slice(0, 4))).toEqual([
      ['row', 1, 2, 'A1'],
      ['row', 2, 3, 'A2'],
      ['rejected', 3, 4, 'title'],
      // Before the fix in review: B2 took A1's "Mug" (the fill skipped the rejected B1).
      ['rejected', 4, 5, 'title'],
      // `notes` is read by nothing in the job: its stray byte is left alone.
      ['row', 5, 6, 'C1'],
    ]);
  });

  it('rejects a record whose quote never closes and reads the rows after it (before: the rest of the file was one field)', async () => {
    const job = await jobWith('p.csv', 'sku,title\nA,One\nB,"never closed\nC,x\n');
    expect(summary(await collect(job))).toEqual([
      ['row', 1, 2, 'A', { sku: 'A', title: 'One' }],
      // Reported at line 3, where the record starts.
      ['rejected', 2, 3, undefined, 'malformed CSV record: a quote opened in this record is never closed (its line is left out; the rows after it are read)'],
      ['row', 3, 4, 'C', { sku: 'C', title: 'x' }],
    ]);
  });

  it('one never-closed quote in a long file costs that row only (before: every row after it was lost)', async () => {
    const rows = ['sku,title', 'A,one', '', 'B,"never closed'];
    for (let i = 0; i < 1000; i++) rows.push(`K${i},t${i}`);
    const events = await collect(await jobWith('p.csv', `${rows.join('\n')}\n`));
    // At line 4, where it starts (past the blank line csv-parse skips).
    expect(summary(events.filter((event) => event.kind === 'rejected')).map((event) => (event as unknown[]).slice(0, 3))).toEqual([['rejected', 2, 4]]);
    const keys = events.flatMap((event) => (event.kind === 'row' ? [event.row.key] : []));
    expect(keys).toEqual(['A', ...Array.from({ length: 1000 }, (_, i) => `K${i}`)]);
    // Row numbers stay dense and lines exact after the read again.
    expect(events.at(-1)).toMatchObject({ kind: 'row', row: { rowNumber: 1002, line: 1004, key: 'K999' } });
  });

  it('a quote opened on a later line of a multi-line record: read no further, and never loop', async () => {
    const events = summary(await collect(await jobWith('p.csv', 'sku,a,b\nA,"ok\nmulti","x\nB,1,2\n')));
    expect(events.map((event) => (event as unknown[]).slice(0, 3))).toEqual([
      ['rejected', 1, 2],
      ['rejected', 2, 2],
    ]);
    expect((events[1] as unknown[])[4]).toBe('malformed CSV record: a quote opened in this record is never closed: the rest of the file is not read');
  });

  it('rejects a record a stray opening quote ran into the next row, instead of losing that row silently', async () => {
    const csv = 'sku,title\nSKU-1,"Product 1"\nSKU-2,"Product 2 stray\nSKU-3,"Product 3"\nSKU-4,"Product 4"\n';
    const events = summary(await collect(await jobWith('p.csv', csv)));
    // Before: SKU-2 planned with the title `Product 2 stray\nSKU-3,"Product 3`, SKU-3 gone without a word.
    // (A guess: reading its inner lines as rows could invent rows from a valid multi-line value.)
    expect(events).toEqual([
      ['row', 1, 2, 'SKU-1', { sku: 'SKU-1', title: 'Product 1' }],
      [
        'rejected',
        2,
        3,
        undefined,
        'a quoted field runs over 1 line break and its line 4 reads like a record of its own: a quote opened in this record is probably never closed (the rows it ran over are not read)',
      ],
      ['row', 3, 5, 'SKU-4', { sku: 'SKU-4', title: 'Product 4' }],
    ]);
  });

  it('keeps a real multi-line value, commas and quotes inside it included', async () => {
    const csv = 'sku,title\nA,"Soft cotton,\nmachine washable, size ""M"""\nB,x\n';
    const events = summary(await collect(await jobWith('p.csv', csv)));
    expect(events).toEqual([
      ['row', 1, 2, 'A', { sku: 'A', title: 'Soft cotton,\nmachine washable, size "M"' }],
      ['row', 2, 4, 'B', { sku: 'B', title: 'x' }],
    ]);
  });

  it('counts a lone CR inside a quoted field as a line break, like csv-parse does', async () => {
    const events = summary(await collect(await jobWith('p.csv', 'sku,title\nA,"line one\rline two"\nB,x\nC,y\n')));
    // The CR counts as a line, as csv-parse (and most editors) count it; before, A was put at
    // line 3, where its record ends.
    expect(events.map((event) => (event as unknown[]).slice(0, 4))).toEqual([
      ['row', 1, 2, 'A'],
      ['row', 2, 4, 'B'],
      ['row', 3, 5, 'C'],
    ]);
  });
});

describe('readCatalog: JSON and JSONL', () => {
  const rows = [
    { sku: 'A', title: 'Chair', price: 12.5, tags: ['x', 'y'], dims: { w: 1 }, active: true, note: null },
    { sku: 'B', title: 'Desk' },
  ];

  it('streams a JSON array with element line numbers and stringified values', async () => {
    const text = `[\n  ${JSON.stringify(rows[0])},\n  {\n    "sku": "B",\n    "title": "Desk \\"pro\\", [v2]"\n  }\n]\n`;
    const job = await jobWith('p.json', text);
    expect(summary(await collect(job))).toEqual([
      ['row', 1, 2, 'A', { sku: 'A', title: 'Chair', price: '12.5', tags: '["x","y"]', dims: '{"w":1}', active: 'true', note: '' }],
      ['row', 2, 3, 'B', { sku: 'B', title: 'Desk "pro", [v2]' }],
    ]);
  });

  it('rejects non-object and invalid elements but keeps reading', async () => {
    const job = await jobWith('p.json', '[{"sku":"A"}, 42, "s", {"sku": }, {"sku":"B"}]');
    expect(summary(await collect(job))).toEqual([
      ['row', 1, 1, 'A', { sku: 'A' }],
      ['rejected', 2, 1, undefined, 'is 42, not an object'],
      ['rejected', 3, 1, undefined, 'is "s", not an object'],
      ['rejected', 4, 1, undefined, expect.stringMatching(/^not valid JSON: /)],
      ['row', 5, 1, 'B', { sku: 'B' }],
    ]);
  });

  it('takes numbers as written; a member named twice or nested too deeply rejects its row only (before: keys changed, a value dropped, the whole file failed)', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const text = [
      '[{"sku":12345678901234567890,"title":"a"},',
      '{"sku":12345678901234567891,"title":"b","price":1.0,"big":1e400},',
      '{"sku":"D1","title":"x","sku":"D2"},',
      `{"sku":"N1","title":${deep}},`,
      '{"sku":0.10000000000000001,"title":"c"}, {"sku":0.1,"title":"d","n":{"k":[1,"]"]},"z":-2,"p":19.90}]',
    ].join('\n');
    const job = await jobWith('p.json', text);
    expect(summary(await collect(job))).toEqual([
      ['row', 1, 1, '12345678901234567890', { sku: '12345678901234567890', title: 'a' }],
      // Numbers a double holds keep the text they always had (prompts and inputHashes of stored outputs unchanged).
      ['row', 2, 2, '12345678901234567891', { sku: '12345678901234567891', title: 'b', price: '1', big: '1e400' }],
      ['rejected', 3, 3, undefined, 'names member "sku" more than once'],
      ['rejected', 4, 4, undefined, 'member "title" is nested too deeply to read'],
      ['row', 5, 5, '0.10000000000000001', { sku: '0.10000000000000001', title: 'c' }],
      ['row', 6, 5, '0.1', { sku: '0.1', title: 'd', n: '{"k":[1,"]"]}', z: '-2', p: '19.9' }],
    ]);
    const lines = await jobWith('p.jsonl', '{"sku":12345678901234567891,"title":"a"}\n{"sku":"A","sku":"B"}\n');
    expect(summary(await collect(lines))).toEqual([
      ['row', 1, 1, '12345678901234567891', { sku: '12345678901234567891', title: 'a' }],
      ['rejected', 2, 2, undefined, 'names member "sku" more than once'],
    ]);
  });

  it('reads an array split across many small chunks', async () => {
    const many = Array.from({ length: 300 }, (_, index) => ({ sku: `K${index}`, title: `T ${index} ü 💡` }));
    const job = await jobWith('p.json', JSON.stringify(many, null, 1));
    const events = await collect(job);
    expect(events).toHaveLength(300);
    expect(events[299]).toEqual({ kind: 'row', row: { rowNumber: 300, line: expect.any(Number), key: 'K299', fields: { sku: 'K299', title: 'T 299 ü 💡' } } });
  });

  it.each([
    ['{"sku":"A"}', /p\.json:1: a JSON catalog must be an array of objects \(expected "\["\)$/],
    ['[{"sku":"A"},]', /p\.json:1: trailing comma before "\]"$/],
    ['[{"sku":"A"}\n{"sku":"B"}]', /p\.json:2: expected "," or "\]" but found "\{"$/],
    ['[{"sku":"A"}', /p\.json:1: ends before the closing "\]" of the array$/],
    ['[{"sku":"A"}] x', /p\.json:1: unexpected text after the closing "\]"$/],
    ['', /p\.json:1: is empty \(expected a JSON array\)$/],
  ])('fails the file on broken structure %j', async (text, message) => {
    const error = await readError(await jobWith('p.json', text));
    expect(error.code).toBe('E_CATALOG_FILE');
    expect(error.message).toMatch(message);
  });

  it('reads JSONL line by line, skipping blank lines, rejecting bad lines', async () => {
    const text = '\uFEFF{"sku":"A","title":"Chair"}\r\n\n{"sku":"B","n":3}\nnot json\n["arr"]\n{"title":"no key"}\n';
    const job = await jobWith('p.jsonl', text);
    expect(summary(await collect(job))).toEqual([
      ['row', 1, 1, 'A', { sku: 'A', title: 'Chair' }],
      ['row', 2, 3, 'B', { sku: 'B', n: '3' }],
      ['rejected', 3, 4, undefined, expect.stringMatching(/^not valid JSON: /)],
      ['rejected', 4, 5, undefined, 'is an array, not an object'],
      ['rejected', 5, 6, 'sku', 'no value in the key column `sku`'],
    ]);
  });
});
