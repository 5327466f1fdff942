/**
 * The README and docs/ as a newcomer meets them: a README read in minutes, whose test command is the one CI runs and
 * whose Node.js version is package.json's; every setting the app reads documented in docs/settings.md, and nothing
 * there the app does not read; every link leading somewhere, every `npm run` a script, every path one the repository
 * ships. The sessions themselves run against the app in test/e2e/docs-sessions.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

const DOCS = [
    'README.md',
    ...readdirSync(path.join(root, 'docs'))
        .filter((file) => file.endsWith('.md'))
        .map((file) => `docs/${file}`),
];

/** Files the repository's own commands write (`npm run bench`), named in the docs but not shipped. */
const WRITTEN = ['bench/results.json', 'bench/store-costs.json'];

/** The text outside fenced code blocks, and the blocks themselves. */
function split(markdown: string): { prose: string; blocks: { lang: string; body: string }[] } {
    const blocks = [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
    return { prose: markdown.replace(/^```\w*\n[\s\S]*?^```$/gm, ''), blocks };
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
    heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');

const anchorsOf = (markdown: string) =>
    new Set([...split(markdown).prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));

describe('README.md', () => {
    const readme = read('README.md');

    it('is read in five minutes: at most 300 lines', () => {
        expect(readme.split('\n').length).toBeLessThanOrEqual(300);
    });

    it('gives `npm test` as its test command, the command .ci/run runs as "the README\'s test command"', () => {
        const commands = split(readme)
            .blocks.filter((b) => b.lang === 'sh')
            .flatMap((b) => b.body.split('\n'))
            .map((line) => line.replace(/\s+#.*$/, '').trim());
        expect(commands).toContain('npm test');
        expect(read('.ci/run')).toMatch(/^npm test\b/m);
        expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.test).toBe(
            'vitest run',
        );
    });

    it("names the Node.js version package.json's engines ask for, and what npm test needs", () => {
        const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
        const major = /^>=(\d+)/.exec(engines)?.[1];
        expect(major).toBeDefined();
        expect(readme).toContain(`Node.js ${major} or later`);
        expect(readme).not.toMatch(/Node\.js 20\b/);
        for (const need of ['.NET SDK', 'NuGet', 'npm', 'curl']) expect(readme).toContain(need);
    });
});

describe('docs/settings.md', () => {
    const config = read('lib/platform/config.ts');
    /** The first cell of every table row, where it is one `NAME` or several. */
    const documented = () =>
        new Set(
            [...read('docs/settings.md').matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) =>
                [...m[1]!.matchAll(/`([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*)/g)].map((n) => n[1]!),
            ),
        );

    it('documents every setting lib/platform/config.ts reads', () => {
        const names = new Set([
            ...[...config.matchAll(/\(\s*env,\s*'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!),
            ...[...config.matchAll(/\benv\.([A-Z][A-Za-z0-9_]+)/g)].map((m) => m[1]!),
        ]);
        expect(names.size).toBeGreaterThan(20);
        const table = documented();
        expect([...names].filter((name) => !table.has(name))).toEqual([]);
    });

    it('documents no setting the app does not read', () => {
        expect([...documented()].filter((name) => /^[A-Z]/.test(name) && !config.includes(name))).toEqual([]);
    });
});

describe.each(DOCS)('%s', (file) => {
    const markdown = read(file);
    const { prose, blocks } = split(markdown);
    const code = blocks.map((b) => b.body).join('\n');

    it('links only to files the repository has, and to headings they have', () => {
        const broken: string[] = [];
        for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
            if (/^(https?|mailto):/.test(target!)) continue;
            const [where, anchor] = target!.split('#') as [string, string | undefined];
            const linked = where === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), where));
            if (!existsSync(path.join(root, linked))) {
                broken.push(target!);
            } else if (anchor !== undefined && linked.endsWith('.md') && !anchorsOf(read(linked)).has(anchor)) {
                broken.push(target!);
            }
        }
        expect(broken).toEqual([]);
    });

    it('names only npm scripts package.json has', () => {
        const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
        const named = [...`${prose}\n${code}`.matchAll(/\bnpm run ([a-z][\w:-]*)/g)].map((m) => m[1]!);
        expect(named.filter((name) => !(name in scripts))).toEqual([]);
    });

    it('names only paths the repository ships (or its commands write)', () => {
        const paths = [
            ...`${prose}\n${code}`.matchAll(
                /(?<![\w./-])((?:scripts|test|lib|postman|infra|bench|functions|docs|\.ci|\.github|\.vscode|\.devcontainer)\/[\w./-]*\w)/g,
            ),
        ].map((m) => m[1]!);
        const missing = paths.filter(
            (p) => !WRITTEN.includes(p) && !existsSync(path.join(root, p)) && !existsSync(path.join(root, `${p}.ts`)),
        );
        expect(missing).toEqual([]);
    });
});
