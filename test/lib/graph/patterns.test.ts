/**
 * Every pattern the request path applies to client input must run in time linear in the input: a backtracking pattern
 * blocks the event loop, and no request budget can fire while it does. Each pattern meets the inputs that make
 * ambiguous patterns backtrack (long runs of the characters the pattern itself names, with and without a tail that
 * makes the match fail at the very end), and must take no more than a few times what a plain input of the same length
 * takes, measured in the same run. A quadratic pattern takes thousands of times as long at these lengths. Besides the
 * schemas' patterns, every regular expression literal in lib/ is found with the TypeScript parser and held to the same
 * rule, so a new one cannot slip onto the request path untested.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

import { ANNOTATION_PATTERN, bodySchemas, GUID_PATTERN } from '../../../lib/graph/schema.js';
import { validateBody } from '../../../lib/graph/validation.js';

const LENGTH = 60_000;
/** Work allowed over the plain input; a linear pattern stays near 1, the old annotation pattern was over 1,000. */
const RATIO = 25;

/** Fastest of several runs: the least disturbed by the machine's other work. */
function fastest(run: () => void, times = 5): number {
    let best = Infinity;
    for (let i = 0; i < times; i += 1) {
        const start = process.hrtime.bigint();
        run();
        best = Math.min(best, Number(process.hrtime.bigint() - start));
    }
    return best;
}

/** Every `pattern` and `patternProperties` key in a schema, and the format patterns the validators are built with. */
function patternsOf(schema: unknown, found = new Set<string>([GUID_PATTERN])): Set<string> {
    if (Array.isArray(schema)) {
        schema.forEach((s) => patternsOf(s, found));
    } else if (schema !== null && typeof schema === 'object') {
        for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
            if (key === 'pattern' && typeof value === 'string') {
                found.add(value);
            } else if (key === 'patternProperties' && value !== null && typeof value === 'object') {
                Object.keys(value).forEach((p) => found.add(p));
            }
            patternsOf(value, found);
        }
    }
    return found;
}

/**
 * Runs of each character a pattern names, alone and alternating, after each prefix that leads the match on (none,
 * `x@`, the pattern's own literal start such as `bearer`) and before each tail that can make it fail at the very end.
 */
function adversarialInputs(pattern: string): string[] {
    const named = new Set(pattern.replace(/\\./g, (escape) => escape.slice(1)).match(/[^\\^$()[\]{}?*+|]/g) ?? []);
    const alphabet = [...new Set([...named, 'a', '0', '.', '@', '-', ' ', '"'])];
    const lead = /^\^?((?:[\w/-]|\\.)*)/.exec(pattern)?.[1]?.replace(/\\(.)/g, '$1') ?? '';
    const prefixes = [...new Set(['', 'x@', lead])];
    const tails = ['', '@', '!', '\n', '"'];
    const inputs: string[] = [];
    for (const prefix of prefixes) {
        for (const c of alphabet) {
            for (const tail of tails) {
                inputs.push(`${prefix}${c.repeat(LENGTH)}${tail}`);
            }
            for (const d of alphabet) {
                inputs.push(
                    `${prefix}${`${c}${d}`.repeat(LENGTH / 2)}@`,
                    `${prefix}${`${c}${d}`.repeat(LENGTH / 2)}\n`,
                );
            }
        }
    }
    return inputs;
}

/** The worst input of `regex` over its own adversarial inputs, as a multiple of a linear scan of the same length. */
function worstRatio(regex: RegExp): { ratio: number; input: string } {
    const yardstick = new RegExp('^[^@]*$', 'u');
    const baseline = Math.max(
        fastest(() => yardstick.test(`${'a'.repeat(LENGTH)}@`)),
        20_000,
    );
    let worst = { input: '', ns: 0 };
    for (const input of adversarialInputs(regex.source)) {
        const ns = fastest(() => regex.test(input), 3);
        if (ns > worst.ns) {
            worst = { input, ns };
        }
    }
    return {
        ratio: worst.ns / baseline,
        input: `${JSON.stringify(worst.input.slice(0, 12))}… (${worst.input.length})`,
    };
}

/** Regular expression literals in the TypeScript files under `dir`, as `file: /source/flags`. */
function regexLiterals(dir: string): { where: string; regex: RegExp }[] {
    const found: { where: string; regex: RegExp }[] = [];
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
        if (!entry.isFile() || !entry.name.endsWith('.ts')) {
            continue;
        }
        const file = join(entry.parentPath, entry.name);
        const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
        const visit = (node: ts.Node): void => {
            if (ts.isRegularExpressionLiteral(node)) {
                const slash = node.text.lastIndexOf('/');
                // Without g and y the regex keeps no state between calls; what it matches is the same.
                const flags = node.text.slice(slash + 1).replace(/[gy]/g, '');
                found.push({
                    where: `${entry.name}: ${node.text}`,
                    regex: new RegExp(node.text.slice(1, slash), flags),
                });
            }
            ts.forEachChild(node, visit);
        };
        visit(source);
    }
    return found;
}

describe('every regular expression literal in lib/', () => {
    const literals = regexLiterals(fileURLToPath(new URL('../../../lib', import.meta.url)));

    it('are found (the scan works)', () => {
        expect(literals.length).toBeGreaterThan(20);
    });

    it.each(literals.map((l) => [l.where, l.regex] as const))(
        '%s runs in linear time on its worst inputs',
        (_, regex) => {
            const worst = worstRatio(regex);
            expect(worst.ratio, `worst input ${worst.input}`).toBeLessThan(RATIO);
        },
    );
});

describe('the patterns applied to request bodies', () => {
    const patterns = [...new Set(Object.values(bodySchemas).flatMap((s) => [...patternsOf(s)]))];

    it('include the annotation pattern and the GUID pattern', () => {
        expect(patterns).toContain(ANNOTATION_PATTERN);
        expect(patterns).toContain(GUID_PATTERN);
    });

    it.each(patterns)('%s runs in linear time on its worst inputs', (pattern) => {
        // ajv compiles patterns with the u flag.
        const worst = worstRatio(new RegExp(pattern, 'u'));
        expect(worst.ratio, `worst input ${worst.input}`).toBeLessThan(RATIO);
    });
});

describe('validating a 64 KiB body', () => {
    const target = { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' };
    const plain = { target, ['a'.repeat(LENGTH)]: 1 };
    const adversarial = [
        { target, [`x@${'.'.repeat(LENGTH)}@`]: 1 },
        { target, [`@${'a.'.repeat(LENGTH / 2)}@`]: 1 },
        { target: { ...target, [`x@${'.'.repeat(LENGTH)}@`]: 1 } },
    ];

    it('takes no more than a few times as long for names built to make patterns backtrack', () => {
        const baseline = Math.max(
            fastest(() => validateBody('create', plain)),
            50_000,
        );
        for (const body of adversarial) {
            expect(fastest(() => validateBody('create', body)) / baseline).toBeLessThan(RATIO);
        }
    });

    it('refuses an over-long property name once, without echoing it', () => {
        const result = validateBody('create', adversarial[0]);
        expect(result).toEqual({
            valid: false,
            details: [
                {
                    code: 'InvalidPropertyName',
                    message: "A property name in 'the request body' is longer than 256 characters.",
                    target: '',
                },
            ],
        });
    });
});
