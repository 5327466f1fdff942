/**
 * azure.yaml against what it deploys: the azd service must upload exactly the folder scripts/package.ts writes, build
 * it once per deploy, deploy it without a remote build, and run its hooks on Windows shells as well as POSIX ones.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { buildPackage, DEPLOY_DIR } from '../../scripts/package.js';
import { repoRoot } from './arm.js';

interface Hook {
    shell?: string;
    run?: string;
    windows?: Hook;
    posix?: Hook;
}

interface AzureYaml {
    infra: { provider: string; path: string; module: string };
    services: Record<
        string,
        {
            project: string;
            language: string;
            host: string;
            dist: string;
            remoteBuild?: boolean;
            hooks?: Record<string, Hook>;
        }
    >;
    hooks?: Record<string, Hook>;
}

const azureYaml = parse(readFileSync(path.join(repoRoot, 'azure.yaml'), 'utf8')) as AzureYaml;
const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
};
const api = azureYaml.services.api as AzureYaml['services'][string];

/** A shell command with every `npm run <script>` replaced by that script, recursively (what actually runs). */
function expand(command: string, depth = 0): string {
    expect(depth, 'npm scripts calling each other in a loop').toBeLessThan(10);
    return command.replace(/npm run ([\w:-]+)/g, (_, name: string) => {
        const script = manifest.scripts[name];
        expect(script, `package.json script ${name}`).toBeDefined();
        return `(${expand(script as string, depth + 1)})`;
    });
}

describe('azure.yaml', () => {
    const work: string[] = [];
    afterAll(async () => {
        await Promise.all(work.map((dir) => rm(dir, { recursive: true, force: true })));
    });

    it('deploys the api service to a function app from the folder scripts/package.ts writes, without a remote build', () => {
        expect(Object.keys(azureYaml.services)).toEqual(['api']);
        expect(api.host).toBe('function');
        expect(api.project).toBe('.');
        expect(path.resolve(repoRoot, api.project, api.dist)).toBe(DEPLOY_DIR);
        expect(api.remoteBuild).toBe(false);
        expect(azureYaml.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
    });

    it('azd accepts remoteBuild: false only when .funcignore keeps node_modules', () => {
        const ignored = readFileSync(path.join(repoRoot, '.funcignore'), 'utf8')
            .split(/\r?\n/)
            .map((line) => line.trim());
        expect(ignored.filter((line) => /^\/?node_modules\/?$/.test(line))).toEqual([]);
    });

    it('builds once per deploy: azd runs no npm step itself, the prepackage hook runs the one build', () => {
        // `custom` language: azd's own restore, build and package steps do nothing (for js/ts each runs npm).
        expect(api.language).toBe('custom');
        const hooks = { ...azureYaml.hooks, ...api.hooks };
        for (const platform of ['windows', 'posix'] as const) {
            const run = Object.values(hooks).map((hook) => hook[platform]?.run ?? hook.run ?? '');
            const tscBuilds =
                run
                    .map((c) => expand(c))
                    .join('\n')
                    .match(/tsc -p tsconfig\.build\.json/g) ?? [];
            expect(tscBuilds, platform).toHaveLength(1);
        }
        expect(expand('npm run package')).toContain('node dist/scripts/package.js');
        // preprovision (test/infra/azd-environment.test.ts) builds nothing.
        expect(Object.keys(hooks).sort()).toEqual(['prepackage', 'preprovision']);
    });

    it('runs every hook on Windows (pwsh) and POSIX (sh) shells, the same command (or script) on both', () => {
        const hooks = { ...azureYaml.hooks, ...api.hooks };
        expect(Object.keys(hooks).length).toBeGreaterThan(0);
        for (const [name, hook] of Object.entries(hooks)) {
            expect(hook.windows?.shell, name).toBe('pwsh');
            expect(hook.posix?.shell, name).toBe('sh');
            // A script comes as a .ps1 for pwsh and a .sh for sh, side by side.
            expect(hook.windows?.run?.replace(/\.ps1$/, ''), name).toBe(hook.posix?.run?.replace(/\.sh$/, ''));
            // azd's schema: with both platform sections, nothing else at the top of the hook.
            expect(Object.keys(hook).sort(), name).toEqual(['posix', 'windows']);
        }
    });

    it('what is deployed is a self-contained Functions app: host.json, a package.json whose main is there, no dependencies', async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'azd-package-'));
        work.push(dir);
        const result = await buildPackage(path.join(dir, 'deploy'), path.join(dir, 'deploy.zip'));
        const files = Object.keys(result.files).map((f) => f.split(path.sep).join('/'));
        expect(files).toEqual(expect.arrayContaining(['host.json', 'package.json', 'index.js']));
        expect(files.filter((f) => f.startsWith('node_modules/'))).toEqual([]);
        const deployed = JSON.parse(await readFile(path.join(result.dir, 'package.json'), 'utf8')) as {
            main: string;
            type: string;
            dependencies: Record<string, string>;
        };
        expect(files).toContain(deployed.main);
        expect(deployed.type).toBe('module');
        // Nothing for a remote build to install: consistent with remoteBuild: false.
        expect(deployed.dependencies).toEqual({});
        expect(await readFile(path.join(result.dir, 'host.json'), 'utf8')).toBe(
            await readFile(path.join(repoRoot, 'host.json'), 'utf8'),
        );
    }, 120_000);
});
