/**
 * The shape of lib/: one folder a concern, arrows running one way. `functions/` wires `http/` (the pipeline and its
 * hosts) to `resources/` (one module per resource), which use `store/` (Cosmos DB); `graph/` (Graph and OData
 * conventions) and `platform/` (config, auth, telemetry, logging, services) sit below. No module imports itself back
 * through others, however long the way round.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const LIB = fileURLToPath(new URL('../../lib', import.meta.url));

/** Each lib/ module (path relative to lib/, without extension) and the lib/ modules it imports, types included. */
function importGraph(): Map<string, string[]> {
    const graph = new Map<string, string[]>();
    for (const entry of readdirSync(LIB, { withFileTypes: true, recursive: true })) {
        if (!entry.isFile() || !entry.name.endsWith('.ts')) {
            continue;
        }
        const file = join(entry.parentPath, entry.name);
        const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
        const imports: string[] = [];
        for (const statement of source.statements) {
            const specifier =
                (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
                statement.moduleSpecifier &&
                ts.isStringLiteral(statement.moduleSpecifier)
                    ? statement.moduleSpecifier.text
                    : undefined;
            if (specifier?.startsWith('.')) {
                imports.push(moduleName(resolve(dirname(file), specifier)));
            }
        }
        graph.set(moduleName(file), imports);
    }
    return graph;
}

function moduleName(path: string): string {
    return relative(LIB, path).replace(/\.(d\.ts|ts|js)$/, '');
}

const folderOf = (module: string) => module.split('/')[0] ?? '';

/** Folders each folder may import from, besides itself. */
const ALLOWED: Record<string, string[]> = {
    graph: [],
    platform: ['graph', 'store', 'notifications'],
    store: ['graph', 'platform'],
    http: ['graph', 'platform', 'store'],
    resources: ['graph', 'platform', 'store', 'http', 'notifications'],
    jobs: ['graph', 'platform', 'store', 'notifications'],
    notifications: ['graph', 'store'],
};

describe('lib/', () => {
    const graph = importGraph();

    it('is folders by concern, each module in one of them', () => {
        expect(graph.size).toBeGreaterThan(20);
        for (const module of graph.keys()) {
            expect(Object.keys(ALLOWED), module).toContain(folderOf(module));
        }
    });

    it('imports only downwards: graph/ nothing, store/ and platform/ never http/ or resources/', () => {
        const wrong = [...graph].flatMap(([module, imports]) =>
            imports
                .filter((i) => folderOf(i) !== folderOf(module) && !ALLOWED[folderOf(module)]?.includes(folderOf(i)))
                .map((i) => `${module} → ${i}`),
        );
        expect(wrong).toEqual([]);
    });

    it('has no import circle, types included', () => {
        const circles: string[] = [];
        const state = new Map<string, 'open' | 'done'>();
        const visit = (module: string, path: string[]) => {
            if (state.get(module) === 'done') {
                return;
            }
            if (state.get(module) === 'open') {
                circles.push([...path.slice(path.indexOf(module)), module].join(' → '));
                return;
            }
            state.set(module, 'open');
            for (const next of graph.get(module) ?? []) {
                visit(next, [...path, module]);
            }
            state.set(module, 'done');
        };
        [...graph.keys()].forEach((m) => visit(m, []));
        expect(circles).toEqual([]);
    });
});
