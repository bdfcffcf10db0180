import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Folders of `src/` form layers: an import from one folder into another is an edge, and the graph
 * must have no cycle, so each concept can be read (and changed) knowing only what is below it.
 * Imports are read with TypeScript's own pre-processor (type-only imports count too: they couple
 * the folders as much as any other).
 */
const srcRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

function folderOf(file: string): string {
  return path.relative(srcRoot, file).split(path.sep)[0] ?? '';
}

function folderGraph(): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(srcRoot)) {
    const from = folderOf(file);
    for (const imported of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!imported.fileName.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), imported.fileName);
      if (!target.startsWith(srcRoot + path.sep)) continue;
      const to = folderOf(target);
      if (to === from) continue;
      const targets = edges.get(from) ?? new Map<string, string>();
      // Remember one file that makes the edge, for the failure message.
      if (!targets.has(to)) targets.set(to, `${path.relative(srcRoot, file)} → ${imported.fileName}`);
      edges.set(from, targets);
    }
  }
  return edges;
}

/** Every cycle found by a depth-first search, as folder paths with the file making each edge. */
function cycles(edges: Map<string, Map<string, string>>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (folder: string) => {
    state.set(folder, 'open');
    stack.push(folder);
    for (const [next, via] of edges.get(folder) ?? []) {
      if (state.get(next) === 'open') {
        const loop = stack.slice(stack.indexOf(next));
        found.push([...loop, next].join(' → ') + `  (e.g. ${via})`);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(folder, 'done');
  };
  for (const folder of [...edges.keys()].sort()) if (!state.has(folder)) visit(folder);
  return found;
}

describe('folder layering of src/', () => {
  it('has no import cycle between folders', () => {
    expect(cycles(folderGraph())).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const edges = new Map([
      ['a', new Map([['b', 'a/x.ts → ../b/y.js']])],
      ['b', new Map([['a', 'b/y.ts → ../a/x.js']])],
    ]);
    expect(cycles(edges)).toEqual(['a → b → a  (e.g. b/y.ts → ../a/x.js)']);
  });
});
