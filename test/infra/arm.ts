/**
 * For the infra tests: find (or install) and run the Bicep CLI, and read the ARM template it compiles. A small evaluator for the
 * template language functions Bicep emits traces a value in a nested deployment (a module) back to a literal: module
 * parameter -> caller's variable or parameter -> its default, through lambdas and user-defined functions. What it
 * cannot evaluate (reference(), uniqueString(), ...) stays an Unresolved value, rendered as '?' in strings.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect } from 'vitest';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const CLI_TIMEOUT_MS = 120_000;

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

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

/** Restoring the Bicep CLI from NuGet the first time (a download of about 50 MB). */
export const INSTALL_TIMEOUT_MS = 600_000;

const LOCAL_BICEP = path.join(repoRoot, '.tools', 'bicep');

function found(): string | undefined {
    if (isExecutable(LOCAL_BICEP) && runs(LOCAL_BICEP)) return LOCAL_BICEP;
    for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
        const candidate = path.join(dir, 'bicep');
        if (isExecutable(candidate) && runs(candidate)) return candidate;
    }
    return undefined;
}

let cli: string | undefined;

/**
 * The Bicep CLI: BICEP_CLI as given, else .tools/bicep, else `bicep` on PATH. When none runs, scripts/install-bicep.sh
 * restores .tools/bicep from NuGet, as test/e2e/kiota.test.ts installs Kiota, so a clean clone's `npm test` runs
 * every infra test. Where that cannot be done (no dotnet, no NuGet) it throws, with the script's own words: the tests
 * fail, loudly, rather than skip.
 */
export function bicepCli(): string {
    if (cli) return cli;
    if (process.env.BICEP_CLI) return (cli = process.env.BICEP_CLI);
    let installed = found();
    if (!installed) {
        let said: string;
        try {
            said = execFileSync('bash', [path.join(repoRoot, 'scripts', 'install-bicep.sh')], {
                cwd: repoRoot,
                encoding: 'utf8',
                stdio: ['ignore', 'pipe', 'pipe'],
                timeout: INSTALL_TIMEOUT_MS,
            });
        } catch (error) {
            const {
                stdout = '',
                stderr = '',
                message,
            } = error as { stdout?: string; stderr?: string; message: string };
            said = `${stdout}${stderr}` || message;
        }
        installed = found();
        if (!installed) {
            throw new Error(
                'No Bicep CLI: BICEP_CLI is unset, neither .tools/bicep nor `bicep` on PATH runs, and ' +
                    `scripts/install-bicep.sh could not install one (it needs dotnet and NuGet): ${said.trim()}`,
            );
        }
    }
    return (cli = installed);
}

export function runBicep(args: string[]): string {
    return execFileSync(bicepCli(), args, {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: CLI_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
    });
}

export class Unresolved {
    constructor(readonly expression: string) {}
    toString(): string {
        return '?';
    }
}

export type Value = unknown;

/** A user-defined function (Bicep `func`), as the template's `functions` section declares it. */
interface UserFunction {
    params: string[];
    body: Json;
}

interface Scope {
    params: Map<string, Value>;
    variables: JsonObject;
    functions: Map<string, UserFunction>;
    /** The variables of the lambdas being evaluated, innermost last. */
    locals?: Map<string, Value>;
}

type Lambda = (...args: Value[]) => Value;

/** A value as text: strings as they are, anything else as JSON (Unresolved parts as '?'). */
export function text(value: Value): string {
    if (typeof value === 'string') return value;
    if (value instanceof Unresolved) return '?';
    return JSON.stringify(value, (_key, v: unknown) => (v instanceof Unresolved ? '?' : v)) ?? String(value);
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
        // Dotted names are user-defined functions: __bicep.isGuid(...).
        const ident = /^[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)?(?=\s*\()/.exec(input.slice(pos));
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

/**
 * A resource id as ARM writes it, for resourceId() and friends: `/subscriptions/{subscriptionId}/resourceGroups/
 * {resourceGroup}/providers/NS/type/name/child/name`. Placeholders stand for the deployment's own scope.
 */
function resourceIdText(kind: 'resourceid' | 'subscriptionresourceid', args: Value[]): string {
    const typeAt = args.findIndex((a) => typeof a === 'string' && a.includes('/'));
    const type = text(args[typeAt]);
    const names = args.slice(typeAt + 1).map(text);
    const [namespace, ...types] = type.split('/');
    const segments = types.flatMap((t, i) => [t, names[i] ?? '?']).join('/');
    const scope =
        kind === 'subscriptionresourceid'
            ? '/subscriptions/{subscriptionId}'
            : '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}';
    return `${scope}/providers/${namespace}/${segments}`;
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
        case 'call':
            return evaluateCall(node, scope, source);
    }
}

function evaluateCall(node: Extract<Node, { kind: 'call' }>, scope: Scope, source: string): Value {
    const args = (): Value[] => node.args.map((arg) => evaluateNode(arg, scope, source));
    const first = (): Value => evaluateNode(node.args[0] as Node, scope, source);
    const unresolved = new Unresolved(source);
    const userFunction = scope.functions.get(node.name);
    if (userFunction) {
        const values = args();
        const params = new Map(userFunction.params.map((name, i) => [name, values[i]]));
        // A function sees only its own parameters (and the other functions).
        return resolve(userFunction.body, { params, variables: {}, functions: scope.functions });
    }
    switch (node.name) {
        case 'parameters': {
            const name = first();
            return typeof name === 'string' && scope.params.has(name) ? scope.params.get(name) : unresolved;
        }
        case 'variables': {
            const name = first();
            if (typeof name !== 'string' || !(name in scope.variables)) return unresolved;
            return resolve(scope.variables[name] as Json, scope);
        }
        case 'lambda': {
            const names = node.args.slice(0, -1).map((arg) => evaluateNode(arg, scope, source) as string);
            const body = node.args[node.args.length - 1] as Node;
            const lambda: Lambda = (...values) => {
                const locals = new Map(scope.locals);
                names.forEach((name, i) => locals.set(name, values[i]));
                return evaluateNode(body, { ...scope, locals }, source);
            };
            return lambda;
        }
        case 'lambdavariables': {
            const name = first();
            return typeof name === 'string' && scope.locals?.has(name) ? scope.locals.get(name) : unresolved;
        }
        case 'map':
        case 'filter': {
            const [list, fn] = args();
            if (!Array.isArray(list) || typeof fn !== 'function') return unresolved;
            const items = list as Value[];
            const lambda = fn as Lambda;
            if (node.name === 'map') return items.map((item, i) => lambda(item, i));
            const kept = items.map((item, i) => [item, lambda(item, i)] as const);
            if (kept.some(([, keep]) => typeof keep !== 'boolean')) return unresolved;
            return kept.filter(([, keep]) => keep).map(([item]) => item);
        }
        case 'format': {
            const [format, ...rest] = args();
            if (typeof format !== 'string') return unresolved;
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
            if (!values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) return unresolved;
            return Object.assign({}, ...(values as object[]));
        }
        case 'if': {
            // Lazy, as ARM's if(): only the branch taken is evaluated.
            const condition = first();
            if (typeof condition !== 'boolean') return unresolved;
            return evaluateNode(node.args[condition ? 1 : 2] as Node, scope, source);
        }
        case 'equals': {
            const [a, b] = args();
            if (!isResolved(a) || !isResolved(b)) return unresolved;
            return JSON.stringify(a) === JSON.stringify(b);
        }
        case 'and':
        case 'or': {
            const values = args();
            if (!values.every((v) => typeof v === 'boolean')) return unresolved;
            return node.name === 'and' ? values.every(Boolean) : values.some(Boolean);
        }
        case 'not': {
            const value = first();
            return typeof value === 'boolean' ? !value : unresolved;
        }
        case 'empty': {
            const value = first();
            if (value instanceof Unresolved) return unresolved;
            if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
            if (value === null) return true;
            if (typeof value === 'object') return Object.keys(value).length === 0;
            return unresolved;
        }
        case 'length': {
            const value = first();
            if (typeof value === 'string' || Array.isArray(value)) return value.length;
            if (value !== null && typeof value === 'object' && !(value instanceof Unresolved)) {
                return Object.keys(value).length;
            }
            return unresolved;
        }
        case 'contains': {
            const [container, item] = args();
            if (!isResolved(container) || !isResolved(item)) return unresolved;
            if (typeof container === 'string') return container.includes(text(item));
            if (Array.isArray(container)) return container.some((v) => JSON.stringify(v) === JSON.stringify(item));
            if (container !== null && typeof container === 'object') return text(item) in container;
            return unresolved;
        }
        case 'split': {
            const [value, separator] = args();
            return typeof value === 'string' && typeof separator === 'string' ? value.split(separator) : unresolved;
        }
        case 'join': {
            const [list, separator] = args();
            return Array.isArray(list) && typeof separator === 'string' ? list.map(text).join(separator) : unresolved;
        }
        case 'trim': {
            const value = first();
            return typeof value === 'string' ? value.trim() : unresolved;
        }
        case 'replace': {
            const [value, from, to] = args();
            return [value, from, to].every((v) => typeof v === 'string')
                ? (value as string).split(from as string).join(to as string)
                : unresolved;
        }
        case 'range': {
            const [start, count] = args();
            return typeof start === 'number' && typeof count === 'number'
                ? Array.from({ length: count }, (_, i) => start + i)
                : unresolved;
        }
        case 'substring': {
            const [value, start, length] = args();
            if (typeof value !== 'string' || typeof start !== 'number') return unresolved;
            const end = typeof length === 'number' ? start + length : value.length;
            // ARM fails on a range outside the string rather than clipping it.
            if (start < 0 || end > value.length) throw new Error(`substring out of range in ${source}`);
            return value.slice(start, end);
        }
        case 'take':
        case 'skip': {
            const [value, count] = args();
            if ((typeof value !== 'string' && !Array.isArray(value)) || typeof count !== 'number') return unresolved;
            return node.name === 'take' ? value.slice(0, Math.max(0, count)) : value.slice(Math.max(0, count));
        }
        case 'first': {
            const value = first();
            if (typeof value === 'string') return value.slice(0, 1);
            return Array.isArray(value) ? value[0] : unresolved;
        }
        case 'add': {
            const [a, b] = args();
            return typeof a === 'number' && typeof b === 'number' ? a + b : unresolved;
        }
        case 'tolower': {
            const value = first();
            return typeof value === 'string' ? value.toLowerCase() : unresolved;
        }
        case 'string': {
            const value = first();
            return isResolved(value) ? (typeof value === 'string' ? value : JSON.stringify(value)) : unresolved;
        }
        case 'true':
            return true;
        case 'false':
            return false;
        case 'null':
            return null;
        case 'resourceid':
        case 'subscriptionresourceid':
            return resourceIdText(node.name, args());
        case 'extensionresourceid':
            return `${node.name}(${args().map(text).join(', ')})`;
        default:
            return unresolved;
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

export interface FoundResource {
    type: string;
    /** Where it sits: module names from the top, e.g. ['cosmos']. */
    path: string[];
    raw: JsonObject;
    scope: Scope;
    /** False when a module holding it is not deployed (its condition is false). */
    inDeployedModule: boolean;
}

interface FoundNamed {
    name: string;
    path: string[];
    raw: JsonObject;
}

export interface Walked {
    resources: FoundResource[];
    outputs: FoundNamed[];
    parameters: FoundNamed[];
    /** The root scope: its variables can be evaluated with `variable()`. */
    scope: Scope;
}

export function asObject(value: Json | undefined): JsonObject {
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function resourcesOf(template: JsonObject): JsonObject[] {
    const resources = template.resources;
    const list = Array.isArray(resources) ? resources : Object.values(asObject(resources));
    return list.map(asObject);
}

function functionsOf(template: JsonObject): Map<string, UserFunction> {
    const functions = new Map<string, UserFunction>();
    for (const namespace of Array.isArray(template.functions) ? template.functions.map(asObject) : []) {
        for (const [name, member] of Object.entries(asObject(namespace.members))) {
            const definition = asObject(member);
            functions.set(`${text(namespace.namespace ?? null)}.${name}`.toLowerCase(), {
                params: (Array.isArray(definition.parameters) ? definition.parameters : []).map((p) =>
                    text(asObject(p).name ?? null),
                ),
                body: asObject(definition.output).value ?? null,
            });
        }
    }
    return functions;
}

function walkTemplate(
    template: JsonObject,
    scope: Scope,
    modulePath: string[],
    into: Walked,
    inDeployedModule = true,
): Walked {
    for (const [name, raw] of Object.entries(asObject(template.parameters))) {
        into.parameters.push({ name, path: modulePath, raw: asObject(raw) });
    }
    for (const [name, raw] of Object.entries(asObject(template.outputs))) {
        into.outputs.push({ name, path: modulePath, raw: asObject(raw) });
    }
    for (const resource of resourcesOf(template)) {
        if (resource.existing === true) continue;
        const type = text(resource.type ?? null);
        const found: FoundResource = { type, path: modulePath, raw: resource, scope, inDeployedModule };
        into.resources.push(found);
        const properties = asObject(resource.properties);
        if (type.toLowerCase() === 'microsoft.resources/deployments' && properties.template) {
            const inner = asObject(properties.template);
            const passed = asObject(properties.parameters);
            const innerScope: Scope = {
                params: new Map(),
                variables: asObject(inner.variables),
                functions: functionsOf(inner),
            };
            for (const [param, definition] of Object.entries(asObject(inner.parameters))) {
                const entry = passed[param];
                if (typeof entry === 'string') {
                    // The whole { value } object is one expression, e.g. if(cond, createObject('value', x), ...).
                    const evaluated = resolve(entry, scope);
                    innerScope.params.set(
                        param,
                        evaluated !== null && typeof evaluated === 'object' && 'value' in evaluated
                            ? evaluated.value
                            : new Unresolved(entry),
                    );
                    continue;
                }
                const given = asObject(entry);
                if ('value' in given) innerScope.params.set(param, resolve(given.value ?? null, scope));
                else if ('defaultValue' in asObject(definition)) {
                    innerScope.params.set(param, resolve(asObject(definition).defaultValue as Json, innerScope));
                }
            }
            const name = text(resolve(resource.name ?? null, scope));
            walkTemplate(inner, innerScope, [...modulePath, name], into, deployed(found));
        }
    }
    return into;
}

/** Walk with the root parameters at their defaults, overridden by `overrides` (e.g. required ones). */
export function walk(template: JsonObject, overrides: Record<string, Value> = {}): Walked {
    const scope: Scope = {
        params: new Map(),
        variables: asObject(template.variables),
        functions: functionsOf(template),
    };
    for (const [name, definition] of Object.entries(asObject(template.parameters))) {
        if (name in overrides) scope.params.set(name, overrides[name]);
        else if ('defaultValue' in asObject(definition)) {
            scope.params.set(name, resolve(asObject(definition).defaultValue as Json, scope));
        }
    }
    return walkTemplate(template, scope, [], { resources: [], outputs: [], parameters: [], scope });
}

/** A root variable, evaluated with the walk's parameters. */
export function variable(walked: Walked, name: string): Value {
    return resolve(`[variables('${name}')]`, walked.scope);
}

export function ofType(walked: Walked, type: string): FoundResource[] {
    return walked.resources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
}

export function single(walked: Walked, type: string): FoundResource {
    const found = ofType(walked, type).filter(deployed);
    expect(
        found.map((r) => r.type),
        `exactly one ${type}`,
    ).toHaveLength(1);
    return found[0] as FoundResource;
}

/** The resolved value at a dotted path of a resource, e.g. 'properties.resource.partitionKey.paths'. */
export function valueAt(resource: FoundResource, dotted: string): Value {
    let value: Json | undefined = resource.raw;
    for (const key of dotted.split('.')) value = asObject(value)[key];
    return value === undefined ? undefined : resolve(value, resource.scope);
}

export function resourceName(resource: FoundResource): string {
    return text(resolve(resource.raw.name ?? null, resource.scope));
}

export function lastNameSegment(resource: FoundResource): string {
    return resourceName(resource).split('/').pop() ?? '';
}

/** The resource's id as resourceId() writes it in its own resource group. */
export function idOf(resource: FoundResource): string {
    return resourceIdText('resourceid', [resource.type, ...resourceName(resource).split('/')]);
}

/** What the resource waits for, as resource ids (dependsOn entries evaluated). */
export function dependsOn(resource: FoundResource): string[] {
    const list = resource.raw.dependsOn;
    return (Array.isArray(list) ? list : []).map((entry) => text(resolve(entry, resource.scope)));
}

/** True unless the resource (or the module holding it) has a condition that evaluates to false. */
export function deployed(resource: FoundResource): boolean {
    return resource.inDeployedModule && (!('condition' in resource.raw) || valueAt(resource, 'condition') !== false);
}
