/**
 * Infrastructure tests: compile infra/main.bicep with the Bicep CLI, lint it, and check the compiled ARM template
 * against the app's own constants (database, container, partition key, app settings) and the security baseline.
 *
 * The CLI comes from BICEP_CLI, else .tools/bicep (scripts/install-bicep.sh), else `bicep` on PATH. Without one,
 * every test here is skipped and the reason is printed: never a silent pass.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { beforeAll, describe, expect, it } from 'vitest';

import { AZURE_APP_SETTINGS, DEFAULT_COSMOS_CONTAINER, DEFAULT_COSMOS_DATABASE } from '../../lib/config.js';
import { PARTITION_KEY_PATH } from '../../lib/store.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const CLI_TIMEOUT_MS = 120_000;

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const mainBicep = path.join(repoRoot, 'infra', 'main.bicep');
const parametersFile = path.join(repoRoot, 'infra', 'main.parameters.json');

function isExecutable(file: string): boolean {
    try {
        accessSync(file, constants.X_OK);
        return true;
    } catch {
        return false;
    }
}

function runs(file: string): boolean {
    try {
        execFileSync(file, ['--version'], { stdio: 'pipe', timeout: CLI_TIMEOUT_MS });
        return true;
    } catch {
        return false;
    }
}

/** The Bicep CLI to use, or the reason there is none. An explicit BICEP_CLI is used as given (and fails loudly). */
function locateBicep(): { cli: string; reason?: undefined } | { cli?: undefined; reason: string } {
    const fromEnv = process.env.BICEP_CLI;
    if (fromEnv) return { cli: fromEnv };
    const tried: string[] = [];
    const local = path.join(repoRoot, '.tools', 'bicep');
    tried.push(local);
    if (isExecutable(local) && runs(local)) return { cli: local };
    for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
        const candidate = path.join(dir, 'bicep');
        if (isExecutable(candidate) && runs(candidate)) return { cli: candidate };
    }
    tried.push('bicep on PATH');
    return {
        reason: `no Bicep CLI found (BICEP_CLI unset; tried ${tried.join(', ')}). Run scripts/install-bicep.sh (needs dotnet) or set BICEP_CLI.`,
    };
}

const bicep = locateBicep();
if (!bicep.cli) console.warn(`infra tests skipped: ${bicep.reason}`);

function runBicep(args: string[]): string {
    return execFileSync(bicep.cli as string, args, {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: CLI_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
    });
}

// ---------------------------------------------------------------------------------------------------------------
// A small evaluator for the ARM template language functions Bicep emits, so that a value in a nested deployment
// (a module) can be traced back to a literal: module parameter -> caller's variable or parameter -> its default.
// What it cannot evaluate (reference(), uniqueString(), ...) stays an Unresolved value, rendered as '?' in strings.
// ---------------------------------------------------------------------------------------------------------------

class Unresolved {
    constructor(readonly expression: string) {}
    toString(): string {
        return '?';
    }
}

type Value = unknown;

/** A value as text: strings as they are, anything else as JSON (Unresolved parts as '?'). */
function text(value: Value): string {
    if (typeof value === 'string') return value;
    if (value instanceof Unresolved) return '?';
    return JSON.stringify(value, (_key, v: unknown) => (v instanceof Unresolved ? '?' : v)) ?? String(value);
}

interface Scope {
    params: Map<string, Value>;
    variables: JsonObject;
}

type Node =
    | { kind: 'string'; value: string }
    | { kind: 'number'; value: number }
    | { kind: 'call'; name: string; args: Node[] }
    | { kind: 'property'; target: Node; name: string }
    | { kind: 'index'; target: Node; index: Node };

function parseExpression(input: string): Node {
    let pos = 0;
    const skipSpace = (): void => {
        while (pos < input.length && /\s/.test(input[pos] as string)) pos++;
    };
    const expect = (ch: string): void => {
        skipSpace();
        if (input[pos] !== ch) throw new Error(`expected '${ch}' at ${pos} in ${input}`);
        pos++;
    };
    const primary = (): Node => {
        skipSpace();
        const ch = input[pos];
        if (ch === "'") {
            let value = '';
            pos++;
            for (;;) {
                if (pos >= input.length) throw new Error(`unterminated string in ${input}`);
                if (input[pos] === "'") {
                    if (input[pos + 1] === "'") {
                        value += "'";
                        pos += 2;
                        continue;
                    }
                    pos++;
                    break;
                }
                value += input[pos];
                pos++;
            }
            return { kind: 'string', value };
        }
        const number = /^-?\d+/.exec(input.slice(pos));
        if (number) {
            pos += number[0].length;
            return { kind: 'number', value: Number(number[0]) };
        }
        const ident = /^[A-Za-z_][\w]*/.exec(input.slice(pos));
        if (!ident) throw new Error(`unexpected '${ch}' at ${pos} in ${input}`);
        pos += ident[0].length;
        expect('(');
        const args: Node[] = [];
        skipSpace();
        if (input[pos] === ')') pos++;
        else {
            for (;;) {
                args.push(postfix());
                skipSpace();
                if (input[pos] === ',') {
                    pos++;
                    continue;
                }
                expect(')');
                break;
            }
        }
        return { kind: 'call', name: ident[0].toLowerCase(), args };
    };
    const postfix = (): Node => {
        let node = primary();
        for (;;) {
            skipSpace();
            if (input[pos] === '.') {
                pos++;
                const name = /^[\w$]+/.exec(input.slice(pos));
                if (!name) throw new Error(`bad property at ${pos} in ${input}`);
                pos += name[0].length;
                node = { kind: 'property', target: node, name: name[0] };
            } else if (input[pos] === '[') {
                pos++;
                const index = postfix();
                expect(']');
                node = { kind: 'index', target: node, index };
            } else return node;
        }
    };
    const node = postfix();
    skipSpace();
    if (pos !== input.length) throw new Error(`trailing input at ${pos} in ${input}`);
    return node;
}

function isResolved(value: Value): boolean {
    if (value instanceof Unresolved) return false;
    if (Array.isArray(value)) return value.every(isResolved);
    if (value !== null && typeof value === 'object') return Object.values(value).every(isResolved);
    return true;
}

function evaluateNode(node: Node, scope: Scope, source: string): Value {
    switch (node.kind) {
        case 'string':
        case 'number':
            return node.value;
        case 'property':
        case 'index': {
            const target = evaluateNode(node.target, scope, source);
            const key = node.kind === 'property' ? node.name : evaluateNode(node.index, scope, source);
            if (target instanceof Unresolved || key instanceof Unresolved) return new Unresolved(source);
            if (target !== null && typeof target === 'object' && (typeof key === 'string' || typeof key === 'number')) {
                const found = (target as Record<string, Value>)[key];
                return found === undefined ? new Unresolved(source) : found;
            }
            return new Unresolved(source);
        }
        case 'call': {
            const args = (): Value[] => node.args.map((arg) => evaluateNode(arg, scope, source));
            const first = (): Value => evaluateNode(node.args[0] as Node, scope, source);
            switch (node.name) {
                case 'parameters': {
                    const name = first();
                    return typeof name === 'string' && scope.params.has(name)
                        ? scope.params.get(name)
                        : new Unresolved(source);
                }
                case 'variables': {
                    const name = first();
                    if (typeof name !== 'string' || !(name in scope.variables)) return new Unresolved(source);
                    return resolve(scope.variables[name] as Json, scope);
                }
                case 'format': {
                    const [format, ...rest] = args();
                    if (typeof format !== 'string') return new Unresolved(source);
                    return format.replace(/\{(\d+)(?::[^}]*)?\}/g, (_, i: string) => text(rest[Number(i)]));
                }
                case 'concat': {
                    const values = args();
                    if (values.every((v) => Array.isArray(v))) return (values as Value[][]).flat();
                    return values.map(text).join('');
                }
                case 'createobject': {
                    const values = args();
                    const result: Record<string, Value> = {};
                    for (let i = 0; i + 1 < values.length; i += 2) result[text(values[i])] = values[i + 1];
                    return result;
                }
                case 'createarray':
                    return args();
                case 'union': {
                    const values = args();
                    if (!values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) {
                        return new Unresolved(source);
                    }
                    return Object.assign({}, ...(values as object[]));
                }
                case 'if': {
                    const [condition, whenTrue, whenFalse] = args();
                    if (typeof condition !== 'boolean') return new Unresolved(source);
                    return condition ? whenTrue : whenFalse;
                }
                case 'equals': {
                    const [a, b] = args();
                    if (!isResolved(a) || !isResolved(b)) return new Unresolved(source);
                    return JSON.stringify(a) === JSON.stringify(b);
                }
                case 'not': {
                    const value = first();
                    return typeof value === 'boolean' ? !value : new Unresolved(source);
                }
                case 'empty': {
                    const value = first();
                    if (value instanceof Unresolved) return new Unresolved(source);
                    if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
                    if (value === null) return true;
                    if (typeof value === 'object') return Object.keys(value).length === 0;
                    return new Unresolved(source);
                }
                case 'tolower': {
                    const value = first();
                    return typeof value === 'string' ? value.toLowerCase() : new Unresolved(source);
                }
                case 'true':
                    return true;
                case 'false':
                    return false;
                case 'null':
                    return null;
                // Identifiers keep their arguments readable, e.g. resourceId(Microsoft.X/y, ?, 0000-...).
                case 'resourceid':
                case 'subscriptionresourceid':
                case 'extensionresourceid':
                    return `${node.name}(${args().map(text).join(', ')})`;
                default:
                    return new Unresolved(source);
            }
        }
    }
}

function evaluateString(source: string, scope: Scope): Value {
    if (source.startsWith('[[')) return source.slice(1);
    if (!(source.startsWith('[') && source.endsWith(']'))) return source;
    const body = source.slice(1, -1);
    return evaluateNode(parseExpression(body), scope, body);
}

/** Deep evaluation of a template value in a scope. */
function resolve(value: Json, scope: Scope): Value {
    if (typeof value === 'string') return evaluateString(value, scope);
    if (Array.isArray(value)) return value.map((item) => resolve(item, scope));
    if (value !== null && typeof value === 'object') {
        const result: Record<string, Value> = {};
        for (const [key, item] of Object.entries(value))
            result[text(evaluateString(key, scope))] = resolve(item, scope);
        return result;
    }
    return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Walking the compiled template, nested deployments (modules) included.
// ---------------------------------------------------------------------------------------------------------------

interface FoundResource {
    type: string;
    /** Where it sits: module names from the top, e.g. ['cosmos']. */
    path: string[];
    raw: JsonObject;
    scope: Scope;
}

interface FoundOutput {
    name: string;
    path: string[];
    raw: JsonObject;
}

interface FoundParameter {
    name: string;
    path: string[];
    raw: JsonObject;
}

interface Walked {
    resources: FoundResource[];
    outputs: FoundOutput[];
    parameters: FoundParameter[];
}

function asObject(value: Json | undefined): JsonObject {
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function resourcesOf(template: JsonObject): JsonObject[] {
    const resources = template.resources;
    const list = Array.isArray(resources) ? resources : Object.values(asObject(resources));
    return list.map(asObject);
}

function walkTemplate(template: JsonObject, scope: Scope, modulePath: string[], into: Walked): Walked {
    for (const [name, raw] of Object.entries(asObject(template.parameters))) {
        into.parameters.push({ name, path: modulePath, raw: asObject(raw) });
    }
    for (const [name, raw] of Object.entries(asObject(template.outputs))) {
        into.outputs.push({ name, path: modulePath, raw: asObject(raw) });
    }
    for (const resource of resourcesOf(template)) {
        if (resource.existing === true) continue;
        const type = text(resource.type ?? null);
        into.resources.push({ type, path: modulePath, raw: resource, scope });
        const properties = asObject(resource.properties);
        if (type.toLowerCase() === 'microsoft.resources/deployments' && properties.template) {
            const inner = asObject(properties.template);
            const passed = asObject(properties.parameters);
            const innerScope: Scope = { params: new Map(), variables: asObject(inner.variables) };
            for (const [param, definition] of Object.entries(asObject(inner.parameters))) {
                const given = asObject(passed[param]);
                if ('value' in given) innerScope.params.set(param, resolve(given.value ?? null, scope));
                else if ('defaultValue' in asObject(definition)) {
                    innerScope.params.set(param, resolve(asObject(definition).defaultValue as Json, innerScope));
                }
            }
            walkTemplate(inner, innerScope, [...modulePath, text(resolve(resource.name ?? null, scope))], into);
        }
    }
    return into;
}

/** Walk with the root parameters at their defaults, overridden by `overrides` (e.g. required ones). */
function walk(template: JsonObject, overrides: Record<string, Value> = {}): Walked {
    const scope: Scope = { params: new Map(), variables: asObject(template.variables) };
    for (const [name, definition] of Object.entries(asObject(template.parameters))) {
        if (name in overrides) scope.params.set(name, overrides[name]);
        else if ('defaultValue' in asObject(definition)) {
            scope.params.set(name, resolve(asObject(definition).defaultValue as Json, scope));
        }
    }
    return walkTemplate(template, scope, [], { resources: [], outputs: [], parameters: [] });
}

function ofType(walked: Walked, type: string): FoundResource[] {
    return walked.resources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
}

function single(walked: Walked, type: string): FoundResource {
    const found = ofType(walked, type);
    expect(
        found.map((r) => r.type),
        `exactly one ${type}`,
    ).toHaveLength(1);
    return found[0] as FoundResource;
}

/** The resolved value at a dotted path of a resource, e.g. 'properties.resource.partitionKey.paths'. */
function valueAt(resource: FoundResource, dotted: string): Value {
    let value: Json | undefined = resource.raw;
    for (const key of dotted.split('.')) value = asObject(value)[key];
    return value === undefined ? undefined : resolve(value, resource.scope);
}

function lastNameSegment(resource: FoundResource): string {
    return (
        text(resolve(resource.raw.name ?? null, resource.scope))
            .split('/')
            .pop() ?? ''
    );
}

/** True unless the resource has a condition that evaluates to false. */
function deployed(resource: FoundResource): boolean {
    return !('condition' in resource.raw) || valueAt(resource, 'condition') !== false;
}

// Values for the root parameters that have no default (azd supplies them from main.parameters.json).
const REQUIRED_PARAMETERS = {
    environmentName: 'test',
    location: 'westeurope',
    authAudience: 'api://office-configuration-assignments',
};

describe.skipIf(!bicep.cli)('infra/main.bicep', () => {
    let compiled: JsonObject;
    let walked: Walked;

    beforeAll(() => {
        compiled = JSON.parse(runBicep(['build', mainBicep, '--stdout'])) as JsonObject;
        walked = walk(compiled, REQUIRED_PARAMETERS);
    }, CLI_TIMEOUT_MS);

    it('builds at subscription scope and creates the resource group rg-<environmentName>', () => {
        expect(text(compiled.$schema ?? null)).toContain('subscriptionDeploymentTemplate.json');
        const rg = single(walked, 'Microsoft.Resources/resourceGroups');
        expect(valueAt(rg, 'name')).toBe('rg-test');
        const modules = ofType(walked, 'Microsoft.Resources/deployments');
        expect(modules.length).toBeGreaterThan(0);
        for (const module of modules) expect(module.raw.properties).toHaveProperty('template');
    });

    it(
        'lints with zero warnings and zero errors',
        () => {
            const sarif = JSON.parse(runBicep(['lint', mainBicep, '--diagnostics-format', 'sarif'])) as {
                runs: { results: { ruleId?: string; level?: string; message: { text: string } }[] }[];
            };
            const results = sarif.runs.flatMap((run) => run.results);
            expect(results.map((r) => `${r.level ?? 'warning'} ${r.ruleId ?? ''}: ${r.message.text}`)).toEqual([]);
        },
        CLI_TIMEOUT_MS,
    );

    it('keeps every API version recent (use-recent-api-versions is on in bicepconfig.json)', () => {
        const config = JSON.parse(readFileSync(path.join(repoRoot, 'infra', 'bicepconfig.json'), 'utf8')) as {
            analyzers: { core: { enabled: boolean; rules: Record<string, { level: string }> } };
        };
        expect(config.analyzers.core.enabled).toBe(true);
        expect(config.analyzers.core.rules['use-recent-api-versions']?.level).toMatch(/^(warning|error)$/);
        for (const [rule, setting] of Object.entries(config.analyzers.core.rules)) {
            expect(setting.level, rule).toMatch(/^(warning|error)$/);
        }
        expect(readFileSync(mainBicep, 'utf8')).not.toContain('br/public:');
    });

    describe('Cosmos DB', () => {
        it('partitions the container by PARTITION_KEY_PATH from lib/store.ts (Hash, version 2)', () => {
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            expect(valueAt(container, 'properties.resource.partitionKey')).toEqual({
                paths: [PARTITION_KEY_PATH],
                kind: 'Hash',
                version: 2,
            });
        });

        it('lets the idempotency-key records expire by their own ttl (defaultTtl -1)', () => {
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            expect(valueAt(container, 'properties.resource.defaultTtl')).toBe(-1);
        });

        it('names the database and container after DEFAULT_COSMOS_DATABASE / DEFAULT_COSMOS_CONTAINER', () => {
            const database = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases');
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            expect(lastNameSegment(database)).toBe(DEFAULT_COSMOS_DATABASE);
            expect(valueAt(database, 'properties.resource.id')).toBe(DEFAULT_COSMOS_DATABASE);
            expect(lastNameSegment(container)).toBe(DEFAULT_COSMOS_CONTAINER);
            expect(valueAt(container, 'properties.resource.id')).toBe(DEFAULT_COSMOS_CONTAINER);
            const params = asObject(compiled.parameters);
            expect(asObject(params.cosmosDatabaseName).defaultValue).toBe(DEFAULT_COSMOS_DATABASE);
            expect(asObject(params.cosmosContainerName).defaultValue).toBe(DEFAULT_COSMOS_CONTAINER);
        });

        it('indexes only the partition key and id', () => {
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            const policy = valueAt(container, 'properties.resource.indexingPolicy') as {
                includedPaths: { path: string }[];
                excludedPaths: { path: string }[];
            };
            expect(policy.excludedPaths.map((p) => p.path)).toContain('/*');
            expect(policy.includedPaths.map((p) => p.path).sort()).toEqual([`${PARTITION_KEY_PATH}/?`, '/id/?'].sort());
        });

        it('turns off local (key) auth, requires TLS 1.2 and is serverless by default', () => {
            const account = single(walked, 'Microsoft.DocumentDB/databaseAccounts');
            expect(valueAt(account, 'properties.disableLocalAuth')).toBe(true);
            expect(valueAt(account, 'properties.minimalTlsVersion')).toBe('Tls12');
            expect(valueAt(account, 'properties.capabilities')).toEqual([{ name: 'EnableServerless' }]);
            const container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            expect(valueAt(container, 'properties.options')).toEqual({});
        });

        it('switches to autoscale throughput on the container when cosmosThroughputMode is autoscale', () => {
            const autoscale = walk(compiled, {
                ...REQUIRED_PARAMETERS,
                cosmosThroughputMode: 'autoscale',
                cosmosAutoscaleMaxThroughput: 4000,
            });
            const account = single(autoscale, 'Microsoft.DocumentDB/databaseAccounts');
            expect(valueAt(account, 'properties.capabilities')).toEqual([]);
            const container = single(autoscale, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
            expect(valueAt(container, 'properties.options')).toEqual({ autoscaleSettings: { maxThroughput: 4000 } });
        });

        it('grants Cosmos DB Built-in Data Contributor through sqlRoleAssignments, the deployer only when given', () => {
            const assignments = ofType(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments');
            expect(assignments.length).toBeGreaterThanOrEqual(1);
            for (const assignment of assignments) {
                expect(text(valueAt(assignment, 'properties.roleDefinitionId'))).toContain(
                    '00000000-0000-0000-0000-000000000002',
                );
            }
            // principalId defaults to '': only the app's identity is assigned.
            expect(assignments.filter(deployed)).toHaveLength(1);
            const withDeployer = walk(compiled, { ...REQUIRED_PARAMETERS, principalId: 'deployer-object-id' });
            const forDeployer = ofType(withDeployer, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments')
                .filter(deployed)
                .filter((a) => valueAt(a, 'properties.principalId') === 'deployer-object-id');
            expect(forDeployer).toHaveLength(1);
            // Data-plane access is never granted through ARM role assignments.
            const armRoles = ofType(walked, 'Microsoft.Authorization/roleAssignments');
            expect(JSON.stringify(armRoles.map((r) => r.raw))).not.toContain('00000000-0000-0000-0000-000000000002');
        });
    });

    describe('function app', () => {
        it('runs on the Flex Consumption plan (FC1, Linux)', () => {
            const plan = single(walked, 'Microsoft.Web/serverfarms');
            expect(valueAt(plan, 'sku')).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
            expect(valueAt(plan, 'properties.reserved')).toBe(true);
        });

        it('runs Node.js 22 with identity-based deployment storage', () => {
            const site = single(walked, 'Microsoft.Web/sites');
            expect(text(valueAt(site, 'kind'))).toMatch(/functionapp/);
            expect(text(valueAt(site, 'kind'))).toMatch(/linux/);
            expect(valueAt(site, 'properties.functionAppConfig.runtime')).toEqual({ name: 'node', version: '22' });
            const storage = valueAt(site, 'properties.functionAppConfig.deployment.storage') as {
                type: string;
                authentication: { type: string };
            };
            expect(storage.type).toBe('blobContainer');
            expect(storage.authentication.type).toBe('UserAssignedIdentity');
            const scale = valueAt(site, 'properties.functionAppConfig.scaleAndConcurrency') as Record<string, Value>;
            expect(typeof scale.maximumInstanceCount).toBe('number');
            expect(typeof scale.instanceMemoryMB).toBe('number');
        });

        it('is HTTPS only, TLS 1.2, no FTP, tagged azd-service-name: api', () => {
            const site = single(walked, 'Microsoft.Web/sites');
            expect(valueAt(site, 'properties.httpsOnly')).toBe(true);
            expect(valueAt(site, 'properties.siteConfig.minTlsVersion')).toBe('1.2');
            expect(valueAt(site, 'properties.siteConfig.ftpsState')).toBe('Disabled');
            expect(valueAt(site, 'tags')).toMatchObject({ 'azd-service-name': 'api' });
        });

        it('sets every app setting in AZURE_APP_SETTINGS from lib/config.ts, identity-based, without keys', () => {
            const settings = ofType(walked, 'Microsoft.Web/sites/config').filter((c) =>
                lastNameSegment(c).endsWith('appsettings'),
            );
            const site = single(walked, 'Microsoft.Web/sites');
            const fromConfig = Object.assign(
                {},
                ...settings.map((c) => valueAt(c, 'properties') as Record<string, Value>),
            ) as Record<string, Value>;
            const fromSiteConfig = (
                (valueAt(site, 'properties.siteConfig.appSettings') ?? []) as {
                    name: string;
                    value: Value;
                }[]
            ).reduce<Record<string, Value>>((all, s) => ({ ...all, [s.name]: s.value }), {});
            const appSettings = { ...fromSiteConfig, ...fromConfig };
            const names = Object.keys(appSettings);

            for (const name of AZURE_APP_SETTINGS) expect(names, `app setting ${name}`).toContain(name);
            expect(appSettings.COSMOS_DATABASE).toBe(DEFAULT_COSMOS_DATABASE);
            expect(appSettings.COSMOS_CONTAINER).toBe(DEFAULT_COSMOS_CONTAINER);
            expect(appSettings.AUTH_AUDIENCE).toBe(REQUIRED_PARAMETERS.authAudience);
            expect(appSettings.AzureWebJobsStorage__credential).toBe('managedidentity');
            expect(names).toEqual(
                expect.arrayContaining(['AzureWebJobsStorage__accountName', 'AzureWebJobsStorage__clientId']),
            );
            expect(text(appSettings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING)).toMatch(
                /^ClientId=.+;Authorization=AAD$/,
            );
            expect(names.filter((n) => /key|secret|password/i.test(n))).toEqual([]);
            expect(names.filter((n) => n === 'AzureWebJobsStorage' || n.endsWith('__connectionString'))).toEqual([]);
        });
    });

    describe('storage, monitoring, roles', () => {
        it('storage: no shared keys, no public blobs, HTTPS and TLS 1.2 only', () => {
            const storage = single(walked, 'Microsoft.Storage/storageAccounts');
            expect(valueAt(storage, 'properties.allowSharedKeyAccess')).toBe(false);
            expect(valueAt(storage, 'properties.allowBlobPublicAccess')).toBe(false);
            expect(valueAt(storage, 'properties.supportsHttpsTrafficOnly')).toBe(true);
            expect(valueAt(storage, 'properties.minimumTlsVersion')).toBe('TLS1_2');
            expect(ofType(walked, 'Microsoft.Storage/storageAccounts/blobServices/containers')).toHaveLength(1);
        });

        it('Application Insights: workspace-based, local auth off', () => {
            const appInsights = single(walked, 'Microsoft.Insights/components');
            expect(valueAt(appInsights, 'properties.DisableLocalAuth')).toBe(true);
            single(walked, 'Microsoft.OperationalInsights/workspaces');
        });

        it('grants Storage Blob Data Owner and Monitoring Metrics Publisher to the identity', () => {
            const roles = ofType(walked, 'Microsoft.Authorization/roleAssignments')
                .filter(deployed)
                .map((r) => text(valueAt(r, 'properties.roleDefinitionId')));
            expect(roles.some((r) => r.includes('b7e6dc6d-f1e8-4753-8033-0f276bb0955b'))).toBe(true);
            expect(roles.some((r) => r.includes('3913510d-42f4-4e42-8a64-420c390055eb'))).toBe(true);
            single(walked, 'Microsoft.ManagedIdentity/userAssignedIdentities');
        });

        it('tags every tracked resource with azd-env-name', () => {
            const tracked = walked.resources.filter((r) => 'location' in r.raw);
            expect(tracked.length).toBeGreaterThan(5);
            for (const resource of tracked) {
                expect(valueAt(resource, 'tags'), `${resource.type} tags`).toMatchObject({ 'azd-env-name': 'test' });
            }
        });
    });

    describe('parameters and outputs', () => {
        it('documents every parameter of every template', () => {
            const undocumented = walked.parameters
                .filter((p) => typeof asObject(p.raw.metadata).description !== 'string')
                .map((p) => [...p.path, p.name].join('/'));
            expect(undocumented).toEqual([]);
        });

        it('gives no secret in any output, nested modules included', () => {
            expect(walked.outputs.length).toBeGreaterThan(0);
            const secretWords = /key|secret|password|connectionstring|listkeys/i;
            for (const output of walked.outputs) {
                const where = [...output.path, output.name].join('/');
                expect(text(output.raw.type ?? null).toLowerCase(), where).not.toMatch(/^secure(string|object)$/);
                expect(output.name, where).not.toMatch(secretWords);
                expect(JSON.stringify(output.raw.value), where).not.toMatch(secretWords);
            }
        });

        it('outputs what azd and the API clients need', () => {
            const outputs = asObject(compiled.outputs);
            for (const name of [
                'AZURE_LOCATION',
                'AZURE_TENANT_ID',
                'AZURE_RESOURCE_GROUP',
                'AZURE_FUNCTION_APP_NAME',
                'API_BASE_URL',
                'COSMOS_ACCOUNT_NAME',
                'COSMOS_ENDPOINT',
                'COSMOS_DATABASE',
                'COSMOS_CONTAINER',
                'API_IDENTITY_CLIENT_ID',
            ]) {
                expect(outputs, name).toHaveProperty(name);
            }
            expect(text(asObject(outputs.API_BASE_URL).value ?? null)).toMatch(/^\[format\('https:\/\/\{0\}\/beta'/);
        });

        it('main.parameters.json supplies every required parameter and names only real ones', () => {
            const file = JSON.parse(readFileSync(parametersFile, 'utf8')) as { parameters: Record<string, unknown> };
            const declared = asObject(compiled.parameters);
            const required = Object.entries(declared)
                .filter(([, definition]) => !('defaultValue' in asObject(definition)))
                .map(([name]) => name);
            for (const name of required) expect(Object.keys(file.parameters), name).toContain(name);
            for (const name of Object.keys(file.parameters)) expect(Object.keys(declared), name).toContain(name);
        });
    });
});
