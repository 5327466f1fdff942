/**
 * Request-body validation: the validators are ajv's standalone code, generated from the schemas of lib/graph/schema at build
 * time (scripts/build-validators.ts), so nothing compiles at start-up. Each violation becomes one Graph error detail
 * whose `target` is the property's dotted path (`target.groupId`).
 */
import type { ErrorObject } from 'ajv';

import type { GraphErrorDetail } from './errors.js';
import type { GeneratedValidator } from './generated/validators.js';
import * as generated from './generated/validators.js';
import { type BodyKind, bodySchemas, MAX_PROPERTY_NAME_LENGTH } from './schema.js';

export type { BodyKind } from './schema.js';

const validators: Record<BodyKind, GeneratedValidator> = {
    create: generated.create,
    update: generated.update,
    assign: generated.assign,
    createConfiguration: generated.createConfiguration,
    updateConfiguration: generated.updateConfiguration,
    updatePriorities: generated.updatePriorities,
    createSubscription: generated.createSubscription,
    updateSubscription: generated.updateSubscription,
};

export const BODY_KINDS = Object.keys(bodySchemas) as BodyKind[];

/** The schema a body kind is checked against (its validator was generated from it): what the OpenAPI description must publish. */
export function bodySchema(kind: BodyKind): unknown {
    return bodySchemas[kind];
}

export type ValidationResult = { valid: true } | { valid: false; details: GraphErrorDetail[] };

export function validateBody(kind: BodyKind, body: unknown): ValidationResult {
    const readOnly = readOnlyDetails(kind, body);
    if (readOnly.length > 0) {
        return { valid: false, details: readOnly };
    }
    const validate = validators[kind];
    if (validate(body)) {
        return { valid: true };
    }
    return { valid: false, details: toDetails(validate.errors ?? []) };
}

/**
 * Properties the schema marks `readOnly` (the service computes them): set in a body, each is named, rather than
 * silently dropped or reported as unknown. Only the body's own properties: no schema nests one deeper.
 */
function readOnlyDetails(kind: BodyKind, body: unknown): GraphErrorDetail[] {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return [];
    }
    return readOnlyProperties[kind]
        .filter((name) => Object.hasOwn(body, name))
        .map((name) => ({
            code: 'ReadOnlyProperty',
            message: `The property '${name}' of type '${titleOf(kind)}' is read-only: the service computes it.`,
            target: name,
        }));
}

type DescribedSchema = { title?: string; properties?: Record<string, { readOnly?: boolean }> };
const titleOf = (kind: BodyKind) => (bodySchemas[kind] as DescribedSchema).title ?? '';

/** Each kind's read-only property names, listed once rather than on every request. */
const readOnlyProperties = Object.fromEntries(
    BODY_KINDS.map((kind) => [
        kind,
        Object.entries((bodySchemas[kind] as DescribedSchema).properties ?? {})
            .filter(([, property]) => property.readOnly === true)
            .map(([name]) => name),
    ]),
) as Record<BodyKind, string[]>;

/** The patterns that stand for lengths and encodings (lib/graph/schema.ts), as words. */
function patternViolation(error: ErrorObject, where: string, path: string): GraphErrorDetail {
    const pattern = String((error.params as { pattern?: unknown }).pattern);
    const length = /^\^\[\\s\\S\]\{0,(\d+)\}\$$/.exec(pattern);
    if (length) {
        return {
            code: 'InvalidValue',
            message: `The value of '${where}' is longer than ${length[1]} characters.`,
            target: path,
        };
    }
    if ((error.parentSchema as { contentEncoding?: unknown } | undefined)?.contentEncoding === 'base64') {
        return { code: 'InvalidValue', message: `The value of '${where}' is not base64.`, target: path };
    }
    return otherViolation(error, where, path);
}

/** `/target/groupId` → `target.groupId`; `/officeConfigurationAssignments/0/target` → `officeConfigurationAssignments[0].target`. */
function dottedPath(instancePath: string, child?: string): string {
    const segments = instancePath
        .split('/')
        .slice(1)
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (child !== undefined) {
        segments.push(child);
    }
    return segments.reduce((path, s) => (/^\d+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s), '');
}

function quoted(value: unknown): string {
    return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function typeOf(error: ErrorObject): string {
    const title = (error.parentSchema as { title?: unknown } | undefined)?.title;
    return typeof title === 'string' ? title : 'the request body';
}

function toDetail(error: ErrorObject): GraphErrorDetail | undefined {
    const path = dottedPath(error.instancePath);
    const where = path || 'the request body';
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
        case 'required': {
            const property = String(params.missingProperty);
            return {
                code: 'MissingProperty',
                message: `The property '${property}' is required on type '${typeOf(error)}'.`,
                target: dottedPath(error.instancePath, property),
            };
        }
        case 'additionalProperties': {
            const property = String(params.additionalProperty);
            if (property.length > MAX_PROPERTY_NAME_LENGTH) {
                return undefined; // reported once, by `propertyNames`, without echoing the whole name
            }
            return {
                code: 'UnknownProperty',
                message: `The property '${property}' does not exist on type '${typeOf(error)}'.`,
                target: dottedPath(error.instancePath, property),
            };
        }
        case 'propertyNames':
            return {
                code: 'InvalidPropertyName',
                message: `A property name in '${where}' is longer than ${MAX_PROPERTY_NAME_LENGTH} characters.`,
                target: path,
            };
        case 'pattern':
            // The name's own check under `propertyNames`, which reports it.
            return error.propertyName !== undefined ? undefined : patternViolation(error, where, path);
        case 'type':
            if (path === '' && params.type === 'object') {
                const sent = Array.isArray(error.data)
                    ? 'an array'
                    : error.data === null
                      ? 'null'
                      : `a ${typeof error.data}`;
                return {
                    code: 'InvalidType',
                    message: `The request body must be a JSON object; it is ${sent}.`,
                    target: path,
                };
            }
            return {
                code: 'InvalidType',
                message: `The value of '${where}' must be of type ${String(params.type)}.`,
                target: path,
            };
        case 'enum':
            return {
                code: 'InvalidValue',
                message: `The value ${quoted(error.data)} of '${where}' is not one of ${(params.allowedValues as unknown[]).map(quoted).join(', ')}.`,
                target: path,
            };
        case 'format':
            return {
                code: 'InvalidValue',
                message: `The value ${quoted(error.data)} of '${where}' is not a valid GUID.`,
                target: path,
            };
        case 'minimum':
        case 'maximum':
            return {
                code: 'InvalidValue',
                message: `The value ${quoted(error.data)} of '${where}' must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}.`,
                target: path,
            };
        case 'maxItems':
            return {
                code: 'TooManyItems',
                message: `'${where}' has more than ${String(params.limit)} items.`,
                target: path,
            };
        case 'discriminator': {
            if (params.error !== 'mapping') {
                return undefined; // the missing or non-string tag is reported by `required` or `type`
            }
            const names = (error.parentSchema as { oneOf: { title: string }[] }).oneOf.map((s) => s.title);
            return {
                code: 'InvalidValue',
                message: `The value ${quoted(params.tagValue)} of '${dottedPath(error.instancePath, '@odata.type')}' is not a known type; expected one of ${names.map(quoted).join(', ')}.`,
                target: dottedPath(error.instancePath, '@odata.type'),
            };
        }
        default:
            return otherViolation(error, where, path);
    }
}

function otherViolation(error: ErrorObject, where: string, path: string): GraphErrorDetail {
    return { code: 'InvalidValue', message: `The value of '${where}' ${error.message ?? 'is invalid'}.`, target: path };
}

function toDetails(errors: ErrorObject[]): GraphErrorDetail[] {
    const seen = new Set<string>();
    const details: GraphErrorDetail[] = [];
    for (const error of errors) {
        const detail = toDetail(error);
        const key = detail && `${detail.code} ${detail.target ?? ''}`;
        if (detail && key && !seen.has(key)) {
            seen.add(key);
            details.push(detail);
        }
    }
    return details;
}
