/**
 * The developer environment: .vscode/ (recommended extensions, a task and a launch configuration that debug the app
 * under `func start`, and the Functions extension's deploy of the bundle) and .devcontainer/ (Node.js 22, azd, Functions Core Tools, Bicep). Each file must parse (they are
 * JSONC: comments and trailing commas, read here by TypeScript's own JSONC reader) and name only paths that exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

import { DEPLOY_DIR } from '../../scripts/package.js';
import { repoRoot } from './arm.js';

const FILES = [
    '.vscode/extensions.json',
    '.vscode/settings.json',
    '.vscode/tasks.json',
    '.vscode/launch.json',
    '.devcontainer/devcontainer.json',
];

function readJsonc(file: string): Record<string, unknown> {
    const text = readFileSync(path.join(repoRoot, file), 'utf8');
    const { config, error } = ts.parseConfigFileTextToJson(file, text);
    expect(error && ts.flattenDiagnosticMessageText(error.messageText, '\n'), file).toBeUndefined();
    expect(config, file).toBeTypeOf('object');
    return config as Record<string, unknown>;
}

function strings(value: unknown): string[] {
    if (typeof value === 'string') return [value];
    if (Array.isArray(value)) return value.flatMap(strings);
    if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
    return [];
}

/**
 * A path the file names exists: `${workspaceFolder}/x` (up to the first glob), and repository scripts named in
 * commands. A built file (dist/**.js) counts when its TypeScript source exists: a clean clone has no dist/ yet.
 */
function missingPaths(config: Record<string, unknown>): string[] {
    const named = strings(config).flatMap((s) => [
        ...[...s.matchAll(/\$\{workspaceFolder\}\/([^\s"'*]+)/g)].map((m) => m[1] as string),
        ...[...s.matchAll(/\b((?:scripts|infra|test)\/[\w./-]+\.(?:sh|ts|json|bicep))\b/g)].map((m) => m[1] as string),
        ...[...s.matchAll(/'(local\.settings\.json\.sample)'/g)].map((m) => m[1] as string),
    ]);
    return named
        .map((p) => p.replace(/\/$/, ''))
        .filter((p) => {
            // dist/ itself is the build's output folder (tsconfig.build.json), present once `npm run build` ran.
            if (p === 'dist' || existsSync(path.join(repoRoot, p))) return false;
            const source = /^dist\/(.+)\.js$/.exec(p);
            return !(source && existsSync(path.join(repoRoot, `${source[1]}.ts`)));
        });
}

describe('developer environment', () => {
    it('the path check catches a path that does not exist', () => {
        expect(
            missingPaths({
                a: '${workspaceFolder}/scripts/start.ts',
                b: '${workspaceFolder}/dist/scripts/start.js',
                c: '${workspaceFolder}/dist/scripts/nope.js',
                d: 'npm ci && bash scripts/missing.sh',
                e: '${workspaceFolder}/dist/**/*.js',
            }),
        ).toEqual(['dist/scripts/nope.js', 'scripts/missing.sh']);
    });

    it.each(FILES)('%s is valid JSON(C) and names only paths that exist', (file) => {
        const config = readJsonc(file);
        expect(missingPaths(config)).toEqual([]);
    });

    it('recommends the Functions, azd and Bicep extensions, and the dev container installs the same', () => {
        const recommended = readJsonc('.vscode/extensions.json').recommendations as string[];
        for (const id of recommended) expect(id).toMatch(/^[\w-]+\.[\w-]+$/);
        expect(recommended).toEqual(
            expect.arrayContaining([
                'ms-azuretools.vscode-azurefunctions',
                'ms-azuretools.azure-dev',
                'ms-azuretools.vscode-bicep',
            ]),
        );
        const container = readJsonc('.devcontainer/devcontainer.json') as {
            customizations: { vscode: { extensions: string[] } };
        };
        expect([...container.customizations.vscode.extensions].sort()).toEqual([...recommended].sort());
    });

    it('F5 attaches to the Node.js worker of func start, on the port the task opens', () => {
        const tasks = readJsonc('.vscode/tasks.json').tasks as {
            label: string;
            type: string;
            command?: string;
            dependsOn?: string[];
            options?: { env?: Record<string, string> };
        }[];
        const labels = tasks.map((t) => t.label);
        for (const task of tasks) for (const dependency of task.dependsOn ?? []) expect(labels).toContain(dependency);
        const func = tasks.find((t) => t.type === 'func');
        expect(func?.command).toBe('host start');
        expect(func?.dependsOn).toContain('npm: build');
        const inspect = /--inspect=(\d+)/.exec(func?.options?.env?.languageWorkers__node__arguments ?? '');

        const configurations = readJsonc('.vscode/launch.json').configurations as {
            type: string;
            request: string;
            port?: number;
            preLaunchTask?: string;
        }[];
        for (const configuration of configurations) {
            if (configuration.preLaunchTask) expect(labels).toContain(configuration.preLaunchTask);
        }
        const attach = configurations.find((c) => c.request === 'attach' && c.preLaunchTask === func?.label);
        expect(attach?.type).toBe('node');
        expect(attach?.port).toBe(Number(inspect?.[1]));
        // The build task runs the package.json script of that name.
        const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
            scripts: Record<string, string>;
        };
        expect(manifest.scripts.build).toBeDefined();
    });

    it("VS Code's Functions deploy pushes the bundle (dist/deploy, as azd does), built first, not the repository root", () => {
        const settings = readJsonc('.vscode/settings.json');
        expect(path.resolve(repoRoot, settings['azureFunctions.deploySubpath'] as string)).toBe(DEPLOY_DIR);
        const tasks = readJsonc('.vscode/tasks.json').tasks as { label: string; type: string; script?: string }[];
        const task = tasks.find((t) => t.label === settings['azureFunctions.preDeployTask']);
        expect(task).toMatchObject({ type: 'npm', script: 'package' });
        const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
            scripts: Record<string, string>;
        };
        expect(manifest.scripts.package).toContain('node dist/scripts/package.js');
    });

    it('the dev container has Node.js 22, azd, Functions Core Tools and Bicep', () => {
        const container = readJsonc('.devcontainer/devcontainer.json') as {
            image: string;
            features: Record<string, Record<string, unknown>>;
            forwardPorts: number[];
            postCreateCommand: string;
        };
        expect(container.image).toMatch(/node:\d+-22-/);
        const features = Object.keys(container.features);
        expect(features.some((f) => f.startsWith('ghcr.io/azure/azure-dev/azd'))).toBe(true);
        expect(features.some((f) => f.includes('azure-functions-core-tools'))).toBe(true);
        const azureCli = Object.entries(container.features).find(([f]) => f.includes('features/azure-cli'));
        expect(azureCli?.[1]).toMatchObject({ installBicep: true });
        expect(container.forwardPorts).toContain(7071);
        expect(container.postCreateCommand).toContain('npm ci');
    });
});
