/**
 * OData query options of the assignments and client configurations collections: `$top`, `$skiptoken`, `$count`, `$select`, each also accepted
 * without `$` and in any case, as Graph's beta endpoint does. Options the service does not implement are refused by
 * name rather than silently ignored, so that a client never mistakes an unfiltered page for a filtered one.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { badRequest } from './errors.js';
import { ASSIGNMENT_TYPE, CONFIGURATION_BASE_TYPE, OFFICE_CONFIGURATION_TYPE } from './schema.js';

export const DEFAULT_TOP = 100;
export const MAX_TOP = 999;
export const SELECTABLE = ['id', 'target'] as const;
export const CONFIGURATION_SELECTABLE = [
    'id',
    'displayName',
    'description',
    'priority',
    'checkinStatuses',
    'userCheckinSummary',
    'policyPayload',
    'userPreferencePayload',
] as const;
/**
 * The singleton's properties, and its navigation property: selecting `clientConfigurations` without `$expand`
 * returns nothing of it (OData JSON, minimal metadata), but names no unknown property either.
 */
export const OFFICE_CONFIGURATION_SELECTABLE = [
    'tenantCheckinStatuses',
    'tenantUserCheckinSummary',
    'clientConfigurations',
] as const;

/** What a resource's collection accepts beyond the common options. */
interface Shape {
    type: string;
    selectable: readonly string[];
    /** `$orderby` is accepted (on `priority` only) where the collection has an order of its own. */
    orderby: boolean;
}

const ASSIGNMENTS: Shape = { type: ASSIGNMENT_TYPE, selectable: SELECTABLE, orderby: false };
const CONFIGURATIONS: Shape = { type: CONFIGURATION_BASE_TYPE, selectable: CONFIGURATION_SELECTABLE, orderby: true };
const OFFICE_CONFIGURATION: Shape = {
    type: OFFICE_CONFIGURATION_TYPE,
    selectable: OFFICE_CONFIGURATION_SELECTABLE,
    orderby: false,
};

const UNSUPPORTED = ['filter', 'orderby', 'search', 'expand', 'skip', 'apply', 'compute', 'levels'];
const SYSTEM = ['top', 'skiptoken', 'count', 'select', 'format', ...UNSUPPORTED];

export interface CollectionOptions {
    top: number;
    continuation?: string;
    count: boolean;
    select?: string[];
}

type Scope = 'collection' | 'entity';

/** `$format`: JSON is all this service writes. */
function checkFormat(format: string | undefined): void {
    if (format !== undefined && !/^(json|application\/json)(;.*)?$/i.test(format)) {
        throw badRequest(`The $format '${format}' is not supported; use 'json'.`);
    }
}

/** Options a single entity accepts; the rest of the system options only make sense on a collection. */
const ENTITY_OPTIONS = new Set(['select', 'format']);

function systemOptions(query: URLSearchParams, scope: Scope, shape: Shape = ASSIGNMENTS): Map<string, string> {
    const options = new Map<string, string>();
    for (const [rawName, value] of query) {
        const name = rawName.replace(/^\$/, '').toLowerCase();
        if (!SYSTEM.includes(name)) {
            if (rawName.startsWith('$')) {
                throw badRequest(`The query option '${rawName}' is not supported.`);
            }
            continue; // custom query options are the client's business (OData 4.01, 5.2)
        }
        const orderby = name === 'orderby' && shape.orderby && scope === 'collection';
        if (!orderby && (UNSUPPORTED.includes(name) || (scope === 'entity' && !ENTITY_OPTIONS.has(name)))) {
            throw badRequest(`The query option '$${name}' is not supported on this resource.`);
        }
        if (options.has(name)) {
            throw badRequest(`The query option '$${name}' is given more than once.`);
        }
        options.set(name, value);
    }
    checkFormat(options.get('format'));
    return options;
}

function parseSelect(value: string | undefined, shape: Shape = ASSIGNMENTS): string[] | undefined {
    return parseSelectList(value, shape.selectable, shape.type);
}

/** `$select`: the properties named, each once, as the type spells them; undefined for all of them (none, or `*`). */
export function parseSelectList(
    value: string | undefined,
    selectable: readonly string[],
    typeName: string,
): string[] | undefined {
    if (value === undefined) {
        return undefined;
    }
    if (value.trim() === '*') {
        return undefined; // every property, as without $select
    }
    const properties: string[] = [];
    for (const raw of value.split(',')) {
        const name = raw.trim();
        const known = selectable.find((p) => p.toLowerCase() === name.toLowerCase());
        if (!known) {
            throw badRequest(`Could not find a property named '${name}' on type '${typeName}'.`);
        }
        if (!properties.includes(known)) {
            properties.push(known);
        }
    }
    return properties;
}

/**
 * The system query options of a resource that takes only `accepted` (names without `$`, lower case), and `$format`:
 * each by its lower-case name, once; any other `$` option is refused by name (`where` says on what), custom options
 * are the client's business.
 */
export function readQueryOptions(
    query: URLSearchParams,
    accepted: readonly string[],
    where: string,
): Map<string, string> {
    const options = new Map<string, string>();
    for (const [rawName, value] of query) {
        const name = rawName.replace(/^\$/, '').toLowerCase();
        if (!accepted.includes(name) && name !== 'format') {
            if (rawName.startsWith('$')) {
                throw badRequest(`The query option '${rawName}' is not supported on ${where}.`);
            }
            continue;
        }
        if (options.has(name)) {
            throw badRequest(`The query option '$${name}' is given more than once.`);
        }
        options.set(name, value);
    }
    checkFormat(options.get('format'));
    return options;
}

export function parseTop(value: string | undefined, fallback = DEFAULT_TOP): number {
    if (value === undefined) {
        return fallback;
    }
    if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > MAX_TOP) {
        throw badRequest(`The value '${value}' of $top is invalid; it must be a whole number from 1 to ${MAX_TOP}.`);
    }
    return Number(value);
}

function parseCount(value: string | undefined): boolean {
    if (value === undefined) {
        return false;
    }
    const lower = value.toLowerCase();
    if (lower !== 'true' && lower !== 'false') {
        throw badRequest(`The value '${value}' of $count is invalid; it must be true or false.`);
    }
    return lower === 'true';
}

/**
 * The skiptoken wraps Cosmos' continuation token with an HMAC bound to the configuration, under the deployment's key
 * (lib/platform/config SKIPTOKEN_KEY): a garbled, truncated, transplanted or forged token is refused as a bad request before
 * it reaches Cosmos.
 */
/** The key of services built without one (tests, benchmarks): valid for this process only. */
export const PROCESS_SKIPTOKEN_KEY = randomBytes(32);

function signature(key: Buffer, configurationId: string, payload: string): Buffer {
    return createHmac('sha256', key).update(`${configurationId}\n${payload}`).digest().subarray(0, 16);
}

export function encodeSkipToken(key: Buffer, configurationId: string, continuation: string): string {
    const payload = Buffer.from(continuation, 'utf8').toString('base64url');
    return `${payload}.${signature(key, configurationId, payload).toString('base64url')}`;
}

export function decodeSkipToken(key: Buffer, configurationId: string, token: string): string {
    const [payload, sent, extra] = token.split('.');
    const given = Buffer.from(sent ?? '', 'base64url');
    const expected = payload ? signature(key, configurationId, payload) : undefined;
    if (!expected || extra !== undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw badRequest('The $skiptoken is not valid for this collection.');
    }
    return Buffer.from(payload as string, 'base64url').toString('utf8');
}

export function parseCollectionOptions(
    query: URLSearchParams,
    configurationId: string,
    skipTokenKey: Buffer,
): CollectionOptions {
    const options = systemOptions(query, 'collection');
    const skiptoken = options.get('skiptoken');
    const select = parseSelect(options.get('select'));
    return {
        top: parseTop(options.get('top')),
        count: parseCount(options.get('count')),
        ...(skiptoken !== undefined ? { continuation: decodeSkipToken(skipTokenKey, configurationId, skiptoken) } : {}),
        ...(select ? { select } : {}),
    };
}

export function parseEntityOptions(query: URLSearchParams): { select?: string[] } {
    const select = parseSelect(systemOptions(query, 'entity').get('select'));
    return select ? { select } : {};
}

export function parseConfigurationEntityOptions(query: URLSearchParams): { select?: string[] } {
    const select = parseSelect(systemOptions(query, 'entity', CONFIGURATIONS).get('select'), CONFIGURATIONS);
    return select ? { select } : {};
}

/** The options of `GET /officeConfiguration`: `$select` of the singleton's own properties, and `$format`. */
export function parseOfficeConfigurationOptions(query: URLSearchParams): { select?: string[] } {
    const select = parseSelect(
        systemOptions(query, 'entity', OFFICE_CONFIGURATION).get('select'),
        OFFICE_CONFIGURATION,
    );
    return select ? { select } : {};
}

export interface ConfigurationListOptions {
    top: number;
    /** Where the page starts in the (possibly reversed) priority order. */
    offset: number;
    count: boolean;
    select?: string[];
    /** `$orderby=priority desc`: the last priority first. */
    descending: boolean;
}

/** The scope a configurations skiptoken is signed for: the collection and the direction it pages in. */
const configurationsScope = (descending: boolean) =>
    `/officeConfiguration/clientConfigurations ${descending ? 'desc' : 'asc'}`;

/** `priority`, `priority asc`, `priority desc` (one space or more; any case); anything else is refused. */
function parseOrderBy(value: string | undefined): boolean {
    if (value === undefined) {
        return false;
    }
    const match = /^\s*priority(?:\s+(asc|desc))?\s*$/i.exec(value.length <= 64 ? value : '');
    if (!match) {
        throw badRequest(
            `The $orderby '${value}' is not supported; the collection is ordered by 'priority' (asc or desc) only.`,
        );
    }
    return match[1]?.toLowerCase() === 'desc';
}

/**
 * The configurations collection pages through the tenant's priority order: the skiptoken is the next page's offset,
 * signed as the assignments' continuation is (bound to the collection and the direction).
 */
export function parseConfigurationOptions(query: URLSearchParams, skipTokenKey: Buffer): ConfigurationListOptions {
    const options = systemOptions(query, 'collection', CONFIGURATIONS);
    const descending = parseOrderBy(options.get('orderby'));
    const skiptoken = options.get('skiptoken');
    const select = parseSelect(options.get('select'), CONFIGURATIONS);
    let offset = 0;
    if (skiptoken !== undefined) {
        const decoded = decodeSkipToken(skipTokenKey, configurationsScope(descending), skiptoken);
        if (!/^\d{1,9}$/.test(decoded)) {
            throw badRequest('The $skiptoken is not valid for this collection.');
        }
        offset = Number(decoded);
    }
    return {
        top: parseTop(options.get('top')),
        offset,
        count: parseCount(options.get('count')),
        descending,
        ...(select ? { select } : {}),
    };
}

/** The query string of the configurations' next page. */
export function nextConfigurationsQuery(
    options: ConfigurationListOptions,
    skipTokenKey: Buffer,
    offset: number,
): string {
    const parts = [`$top=${options.top}`];
    if (options.descending) {
        parts.push('$orderby=priority%20desc');
    }
    if (options.count) {
        parts.push('$count=true');
    }
    if (options.select) {
        parts.push(`$select=${options.select.join(',')}`);
    }
    const token = encodeSkipToken(skipTokenKey, configurationsScope(options.descending), String(offset));
    parts.push(`$skiptoken=${encodeURIComponent(token)}`);
    return parts.join('&');
}

/** The query string of the next page: the client's own options, with the new skiptoken. */
export function nextPageQuery(options: CollectionOptions, skiptoken: string): string {
    const parts = [`$top=${options.top}`];
    if (options.count) {
        parts.push('$count=true');
    }
    if (options.select) {
        parts.push(`$select=${options.select.join(',')}`);
    }
    parts.push(`$skiptoken=${encodeURIComponent(skiptoken)}`);
    return parts.join('&');
}
