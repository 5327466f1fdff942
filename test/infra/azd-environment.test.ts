/**
 * What azd keeps between provisions, and what it does before one (azure.yaml's preprovision hook):
 * - SKIPTOKEN_KEY, the key that signs $skiptokens, is made once and kept in the azd environment; main.parameters.json
 *   passes it to the secure parameter, and the Bicep makes none (a newGuid() default ended every @odata.nextLink
 *   already handed out at each `azd provision`). `azd pipeline config` copies it to a CI secret (pipeline.secrets).
 * - The Microsoft.Web and Microsoft.App resource providers are registered (Flex Consumption's VNet integration needs
 *   Microsoft.App), through ARM with azd's own sign-in.
 * - azure.yaml requires an azd that knows `language: custom` and `remoteBuild`.
 * The POSIX hook runs here against stand-ins for azd and curl; the PowerShell one is checked for the same steps.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { asObject, bicepCli, CLI_TIMEOUT_MS, INSTALL_TIMEOUT_MS, type JsonObject, repoRoot, runBicep } from './arm.js';

interface Hook {
    shell?: string;
    run?: string;
    windows?: Hook;
    posix?: Hook;
}

const azureYaml = parse(readFileSync(path.join(repoRoot, 'azure.yaml'), 'utf8')) as {
    requiredVersions?: { azd?: string };
    hooks?: Record<string, Hook>;
    pipeline?: { secrets?: string[]; variables?: string[] };
};

const parameters = JSON.parse(readFileSync(path.join(repoRoot, 'infra', 'main.parameters.json'), 'utf8')) as {
    parameters: Record<string, { value: unknown }>;
};

/** `language: custom` for a service: azd 1.20.0 (Azure/azure-dev#5771); `remoteBuild` for Flex: 1.23.5 (#6748). */
const AZD_FOR_CUSTOM_AND_REMOTE_BUILD = [1, 23, 5];

function compareVersions(a: number[], b: number[]): number {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const d = (a[i] ?? 0) - (b[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}

describe('SKIPTOKEN_KEY: kept in the azd environment, not made anew by each deployment', () => {
    it('main.parameters.json passes SKIPTOKEN_KEY from the azd environment, with no default', () => {
        expect(parameters.parameters.skipTokenKey?.value).toBe('${SKIPTOKEN_KEY}');
    });

    it(
        'the compiled template makes no key: skipTokenKey is a secure parameter without a default, and no newGuid()',
        () => {
            bicepCli(); // installs it first where it is missing (test/infra/arm.ts)
            const compiled = JSON.parse(
                runBicep(['build', path.join(repoRoot, 'infra', 'main.bicep'), '--stdout']),
            ) as JsonObject;
            const skipTokenKey = asObject(asObject(compiled.parameters).skipTokenKey);
            expect(skipTokenKey.type).toBe('securestring');
            expect(skipTokenKey.minLength).toBe(32);
            expect(skipTokenKey).not.toHaveProperty('defaultValue');
            expect(JSON.stringify(compiled)).not.toMatch(/newGuid\(/i);
        },
        INSTALL_TIMEOUT_MS + CLI_TIMEOUT_MS,
    );

    it('azure.yaml: a preprovision hook for both platforms, and `azd pipeline config` makes it a CI secret', () => {
        const hook = azureYaml.hooks?.preprovision;
        expect(hook?.posix).toEqual({ shell: 'sh', run: './scripts/azd-preprovision.sh' });
        expect(hook?.windows).toEqual({ shell: 'pwsh', run: './scripts/azd-preprovision.ps1' });
        for (const script of ['scripts/azd-preprovision.sh', 'scripts/azd-preprovision.ps1']) {
            expect(existsSync(path.join(repoRoot, script)), script).toBe(true);
        }
        expect(azureYaml.pipeline?.secrets).toContain('SKIPTOKEN_KEY');
    });
});

describe('azure.yaml: the azd it needs and the resource providers', () => {
    it('requires an azd that knows `language: custom` and `remoteBuild` for Flex Consumption (>= 1.23.5)', () => {
        const range = azureYaml.requiredVersions?.azd ?? '';
        const match = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(range);
        expect(match, `requiredVersions.azd: ${range}`).not.toBeNull();
        const version = (match as RegExpExecArray).slice(1).map(Number);
        expect(compareVersions(version, AZD_FOR_CUSTOM_AND_REMOTE_BUILD)).toBeGreaterThanOrEqual(0);
    });

    it('both hook scripts register Microsoft.App and Microsoft.Web and keep SKIPTOKEN_KEY the same way', () => {
        for (const script of ['scripts/azd-preprovision.sh', 'scripts/azd-preprovision.ps1']) {
            const source = readFileSync(path.join(repoRoot, script), 'utf8');
            expect(source, script).toMatch(/Microsoft\.Web\W+Microsoft\.App/);
            expect(source, script).toContain('/register');
            expect(source, script).toContain('https://management.azure.com');
            expect(source, script).toContain('2021-04-01');
            expect(source, script).toContain('azd auth token --output json');
            expect(source, script).toContain('azd env get-value SKIPTOKEN_KEY');
            expect(source, script).toMatch(/azd env set SKIPTOKEN_KEY/);
            expect(source, script).toMatch(/GITHUB_ACTIONS/);
        }
    });
});

describe.skipIf(process.platform === 'win32')('scripts/azd-preprovision.sh, against stand-ins for azd and curl', () => {
    let work: string;
    const TOKEN = 'fake-arm-token-7f3a';

    beforeAll(() => {
        work = mkdtempSync(path.join(tmpdir(), 'azd-preprovision-'));
        const bin = path.join(work, 'bin');
        const fakes: Record<string, string> = {
            // azd: the environment's SKIPTOKEN_KEY is $FAKE_STORED; every call is logged.
            azd: `#!/bin/sh
echo "azd $*" >> "$FAKE_LOG"
case "$1 $2" in
"env get-value") if [ -n "\${FAKE_STORED:-}" ]; then echo "$FAKE_STORED"; else echo "ERROR: key not found" >&2; exit 1; fi ;;
"env set") exit 0 ;;
"auth token") printf '{\\n  "token": "%s",\\n  "expiresOn": "2030-01-01T00:00:00Z"\\n}\\n' "${TOKEN}" ;;
*) exit 2 ;;
esac
`,
            // curl: providers in $FAKE_REGISTERED (or registered by a POST) answer Registered; headers come on stdin.
            curl: `#!/bin/sh
headers=$(cat)
url=""; for a in "$@"; do url="$a"; done
ns=$(echo "$url" | sed 's#.*/providers/\\([^/?]*\\).*#\\1#')
echo "curl $* <<< $headers" >> "$FAKE_LOG"
case "$url" in
*/register\\?*) touch "$FAKE_STATE/$ns"; echo '{"registrationState":"Registering"}' ;;
*) if [ -f "$FAKE_STATE/$ns" ] || echo " \${FAKE_REGISTERED:-} " | grep -q " $ns "; then s=Registered; else s=NotRegistered; fi
   printf '{\\n  "namespace": "%s",\\n  "registrationState": "%s"\\n}\\n' "$ns" "$s" ;;
esac
`,
        };
        mkdirSync(bin);
        for (const [name, body] of Object.entries(fakes)) {
            writeFileSync(path.join(bin, name), body);
            chmodSync(path.join(bin, name), 0o755);
        }
    });

    afterAll(() => rmSync(work, { recursive: true, force: true }));

    let run = 0;
    const hook = (env: Record<string, string>) => {
        run++;
        const log = path.join(work, `log-${run}`);
        const state = path.join(work, `state-${run}`);
        mkdirSync(state);
        writeFileSync(log, '');
        // Not the test process's environment: GITHUB_ACTIONS (CI runs these tests) would change what the hook does.
        const result = spawnSync('sh', [path.join(repoRoot, 'scripts', 'azd-preprovision.sh')], {
            cwd: repoRoot,
            encoding: 'utf8',
            env: {
                PATH: `${path.join(work, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
                FAKE_LOG: log,
                FAKE_STATE: state,
                REGISTER_WAIT_SECONDS: '0',
                REGISTER_WAIT_TRIES: '3',
                ...env,
            },
        });
        const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
        return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
    };
    const setKey = (calls: string[]) => calls.filter((c) => c.startsWith('azd env set SKIPTOKEN_KEY'));
    const SUBSCRIPTION = { AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001' };
    const REGISTERED = { FAKE_REGISTERED: 'Microsoft.Web Microsoft.App' };

    it('makes SKIPTOKEN_KEY once: a random 64-hex-digit key when the environment has none, none when it has one', () => {
        const first = hook({ ...SUBSCRIPTION, ...REGISTERED });
        expect(first.status, first.stderr).toBe(0);
        const [set, ...more] = setKey(first.calls);
        expect(more).toEqual([]);
        expect(set).toMatch(/^azd env set SKIPTOKEN_KEY [0-9a-f]{64}$/);
        const second = hook({ ...SUBSCRIPTION, ...REGISTERED });
        expect(setKey(second.calls)[0]).not.toBe(set); // random

        const kept = hook({ ...SUBSCRIPTION, ...REGISTERED, FAKE_STORED: 'a'.repeat(64) });
        expect(kept.status, kept.stderr).toBe(0);
        expect(setKey(kept.calls)).toEqual([]);
    });

    it('outside CI: keeps a key passed in the process environment, so a later provision without it reuses it', () => {
        const passed = hook({ ...SUBSCRIPTION, ...REGISTERED, SKIPTOKEN_KEY: 'c'.repeat(64) });
        expect(passed.status, passed.stderr).toBe(0);
        expect(setKey(passed.calls)).toEqual([`azd env set SKIPTOKEN_KEY ${'c'.repeat(64)}`]);
    });

    it('in CI: uses the secret passed in, and fails rather than make a key that would last one run', () => {
        const withSecret = hook({
            ...SUBSCRIPTION,
            ...REGISTERED,
            GITHUB_ACTIONS: 'true',
            SKIPTOKEN_KEY: 'b'.repeat(64),
        });
        expect(withSecret.status, withSecret.stderr).toBe(0);
        expect(setKey(withSecret.calls)).toEqual([]);

        const without = hook({ ...SUBSCRIPTION, ...REGISTERED, GITHUB_ACTIONS: 'true' });
        expect(without.status).toBe(1);
        expect(without.stderr).toContain('SKIPTOKEN_KEY is not set');
        expect(setKey(without.calls)).toEqual([]);
    });

    it('registers Microsoft.App (and Microsoft.Web) when not registered, with the token on stdin only', () => {
        const result = hook({ ...SUBSCRIPTION, FAKE_STORED: 'a'.repeat(64), FAKE_REGISTERED: 'Microsoft.Web' });
        expect(result.status, result.stderr).toBe(0);
        const curls = result.calls.filter((c) => c.startsWith('curl '));
        const posts = curls.filter((c) => c.includes(' -X POST '));
        expect(posts).toHaveLength(1);
        expect(posts[0]).toContain(
            'https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.App/register?api-version=2021-04-01',
        );
        for (const call of curls) {
            const [argv, stdin] = call.split(' <<< ');
            expect(argv).not.toContain(TOKEN);
            expect(stdin).toBe(`Authorization: Bearer ${TOKEN}`);
        }
        expect(result.stdout).toContain('Resource provider Microsoft.App: registered.');

        const nothingToDo = hook({ ...SUBSCRIPTION, ...REGISTERED, FAKE_STORED: 'a'.repeat(64) });
        expect(nothingToDo.status, nothingToDo.stderr).toBe(0);
        expect(nothingToDo.calls.filter((c) => c.includes(' -X POST '))).toEqual([]);
    });

    it('without a subscription yet (azd provision before azd up chose one): warns, registers nothing, goes on', () => {
        const result = hook({ FAKE_STORED: 'a'.repeat(64) });
        expect(result.status, result.stderr).toBe(0);
        expect(result.stderr).toContain('az provider register --namespace Microsoft.App');
        expect(result.calls.filter((c) => c.startsWith('curl '))).toEqual([]);
        expect(result.calls.filter((c) => c.startsWith('azd auth'))).toEqual([]);
    });
});
