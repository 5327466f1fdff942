/**
 * The `$metadata` document: well-formed CSDL that declares every type, property, navigation and action the
 * responses name, so that a context URL such as `$metadata#officeConfiguration/clientConfigurations('c')/assignments`
 * resolves in it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';

import { CSDL_XML } from '../../../lib/graph/csdl.js';
import {
    actionResultContext,
    collectionContext,
    configurationEntityContext,
    configurationsContext,
    entityContext,
    officeConfigurationContext,
} from '../../../lib/graph/odata.js';
import { CONFIGURATION_SELECTABLE, SELECTABLE } from '../../../lib/graph/queryOptions.js';
import {
    assignActionSchema,
    ASSIGNMENT_TYPE,
    BASE_TARGET_TYPE,
    CONFIGURATION_BASE_TYPE,
    CONFIGURATION_TYPES,
    GROUP_TARGET_TYPE,
    NAMESPACE,
    OFFICE_CONFIGURATION_TYPE,
    updatePrioritiesSchema,
} from '../../../lib/graph/schema.js';

interface Named {
    Name: string;
    Type: string;
}
interface StructuredType {
    Name: string;
    BaseType?: string;
    Abstract?: string;
    Key?: { PropertyRef: { Name: string }[] };
    Property?: Named[];
    NavigationProperty?: (Named & { ContainsTarget?: string })[];
}
interface Action {
    Name: string;
    IsBound: string;
    Parameter: Named[];
    ReturnType?: { Type: string };
}
interface Schema {
    Namespace: string;
    Alias: string;
    xmlns: string;
    EntityType: StructuredType[];
    ComplexType: StructuredType[];
    Action: Action[];
    EntityContainer: { Name: string; Singleton: Named[] };
}

const ARRAYS = new Set([
    'EntityType',
    'ComplexType',
    'Property',
    'NavigationProperty',
    'Action',
    'Parameter',
    'PropertyRef',
    'Singleton',
]);
const parsed = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) => ARRAYS.has(name),
}).parse(CSDL_XML) as {
    'edmx:Edmx': { Version: string; 'xmlns:edmx': string; 'edmx:DataServices': { Schema: Schema } };
};
const edmx = parsed['edmx:Edmx'];
const schema = edmx['edmx:DataServices'].Schema;

/** `graph.x` and `microsoft.graph.x` name the same type; `Collection(T)` is a collection of T. */
function qualified(type: string): { name: string; collection: boolean } {
    const collection = /^Collection\((.+)\)$/.exec(type);
    const name = collection ? (collection[1] as string) : type;
    return { name: name.replace(/^graph\./, `${NAMESPACE}.`), collection: collection !== null };
}

const types = new Map<string, StructuredType & { kind: 'entity' | 'complex' }>([
    ...schema.EntityType.map((t) => [`${NAMESPACE}.${t.Name}`, { ...t, kind: 'entity' as const }] as const),
    ...schema.ComplexType.map((t) => [`${NAMESPACE}.${t.Name}`, { ...t, kind: 'complex' as const }] as const),
]);

function typeOf(name: string) {
    const type = types.get(qualified(name).name);
    expect(type, `type ${name}`).toBeDefined();
    return type!;
}

/** The type and its base types, nearest first. */
function lineage(name: string): StructuredType[] {
    const type = typeOf(name);
    return [type, ...(type.BaseType ? lineage(type.BaseType) : [])];
}

const properties = (name: string) => lineage(name).flatMap((t) => t.Property ?? []);
const navigation = (name: string) => lineage(name).flatMap((t) => t.NavigationProperty ?? []);

/** Follows a context URL's path (`officeConfiguration/clientConfigurations('c')/assignments`) through the model. */
function resolveContext(url: string): { type: string; select: string[] } {
    const fragment = decodeURIComponent(url.slice(url.indexOf('#') + 1)).replace(/\/\$entity$/, '');
    const [first, ...rest] = fragment.split('/');
    const singleton = schema.EntityContainer.Singleton.find((s) => s.Name === first);
    expect(singleton, `singleton ${first}`).toBeDefined();
    let type = qualified(singleton!.Type).name;
    let select: string[] = [];
    for (const segment of rest) {
        const [, name, selectList] = /^(\w+)(?:\('.*'\))?(?:\(([\w,]+)\))?$/.exec(segment) ?? [];
        const property = navigation(type).find((p) => p.Name === name);
        expect(property, `navigation ${name} of ${type}`).toBeDefined();
        expect(property!.ContainsTarget).toBe('true');
        type = qualified(property!.Type).name;
        select = selectList ? selectList.split(',') : [];
    }
    return { type, select };
}

describe('$metadata (CSDL)', () => {
    it('is a well-formed OData 4.0 CSDL document of the microsoft.graph schema', () => {
        expect(XMLValidator.validate(CSDL_XML)).toBe(true);
        expect(edmx.Version).toBe('4.0');
        expect(edmx['xmlns:edmx']).toBe('http://docs.oasis-open.org/odata/ns/edmx');
        expect(schema).toMatchObject({
            Namespace: 'microsoft.graph',
            Alias: 'graph',
            xmlns: 'http://docs.oasis-open.org/odata/ns/edm',
        });
        expect(schema.EntityContainer.Singleton).toEqual([
            { Name: 'officeConfiguration', Type: 'microsoft.graph.officeConfiguration' },
        ]);
    });

    it('declares the assignment entity with its key and properties, and both target types', () => {
        const assignment = typeOf(ASSIGNMENT_TYPE);
        expect(assignment.kind).toBe('entity');
        const key = lineage(ASSIGNMENT_TYPE)
            .find((t) => t.Key)
            ?.Key?.PropertyRef.map((r) => r.Name);
        expect(key).toEqual(['id']);
        const byName = new Map(properties(ASSIGNMENT_TYPE).map((p) => [p.Name, qualified(p.Type).name]));
        expect(byName.get('id')).toBe('Edm.String');
        expect(byName.get('target')).toBe(BASE_TARGET_TYPE);
        expect(SELECTABLE.every((name) => byName.has(name))).toBe(true);

        expect(typeOf(BASE_TARGET_TYPE)).toMatchObject({ kind: 'complex', Abstract: 'true' });
        const group = typeOf(GROUP_TARGET_TYPE);
        expect(group.kind).toBe('complex');
        expect(qualified(group.BaseType ?? '').name).toBe(BASE_TARGET_TYPE);
        expect(properties(GROUP_TARGET_TYPE).map((p) => p.Name)).toContain('groupId');
    });

    it('resolves the context URLs the responses carry', () => {
        const root = 'https://host/beta';
        expect(resolveContext(entityContext(root, "cfg 1 (ü) 'x'"))).toEqual({ type: ASSIGNMENT_TYPE, select: [] });
        expect(resolveContext(collectionContext(root, 'cfg-1', ['id', 'target']))).toEqual({
            type: ASSIGNMENT_TYPE,
            select: ['id', 'target'],
        });
        // The configurations' own: the singleton, the collection (with $select), one configuration.
        expect(resolveContext(officeConfigurationContext(root))).toEqual({
            type: OFFICE_CONFIGURATION_TYPE,
            select: [],
        });
        expect(resolveContext(configurationsContext(root, ['id', 'priority']))).toEqual({
            type: CONFIGURATION_BASE_TYPE,
            select: ['id', 'priority'],
        });
        expect(resolveContext(configurationEntityContext(root))).toEqual({ type: CONFIGURATION_BASE_TYPE, select: [] });
        const configurationProperties = properties(CONFIGURATION_BASE_TYPE).map((p) => p.Name);
        expect(CONFIGURATION_SELECTABLE.every((name) => configurationProperties.includes(name))).toBe(true);
        for (const concrete of CONFIGURATION_TYPES) {
            expect(qualified(typeOf(concrete).BaseType ?? '').name).toBe(CONFIGURATION_BASE_TYPE);
        }
        expect(typeOf(CONFIGURATION_BASE_TYPE).Abstract).toBe('true');
        const action = /#Collection\((.+)\)$/.exec(actionResultContext(root));
        expect(typeOf(action?.[1] ?? '').kind).toBe('entity');
        expect(action?.[1]).toBe(ASSIGNMENT_TYPE);
    });

    it('declares the updatePriorities action bound to the collection, with the parameters the body schema names', () => {
        const action = schema.Action.find((a) => a.Name === 'updatePriorities');
        expect(action?.IsBound).toBe('true');
        const [binding, ...rest] = action!.Parameter;
        expect(qualified(binding!.Type)).toEqual({ name: CONFIGURATION_BASE_TYPE, collection: true });
        expect(rest.map((p) => p.Name)).toEqual(Object.keys(updatePrioritiesSchema.properties));
        expect(action?.ReturnType).toBeUndefined();
    });

    it('declares the assign action bound to a configuration, with the parameter the body schema names', () => {
        const assign = schema.Action.find((a) => a.Name === 'assign');
        expect(assign?.IsBound).toBe('true');
        const [binding, ...rest] = assign!.Parameter;
        expect(qualified(binding!.Type).name).toBe(`${NAMESPACE}.officeClientConfiguration`);
        expect(rest.map((p) => p.Name)).toEqual(Object.keys(assignActionSchema.properties));
        expect(qualified(rest[0]!.Type)).toEqual({ name: ASSIGNMENT_TYPE, collection: true });
        expect(qualified(assign!.ReturnType!.Type)).toEqual({ name: ASSIGNMENT_TYPE, collection: true });
    });

    it('leaves no type reference dangling', () => {
        const references = [
            ...[...types.values()].flatMap((t) => [
                ...(t.BaseType ? [t.BaseType] : []),
                ...(t.Property ?? []).map((p) => p.Type),
                ...(t.NavigationProperty ?? []).map((p) => p.Type),
            ]),
            ...schema.Action.flatMap((a) => [
                ...a.Parameter.map((p) => p.Type),
                ...(a.ReturnType ? [a.ReturnType.Type] : []),
            ]),
            ...schema.EntityContainer.Singleton.map((s) => s.Type),
        ].map((type) => qualified(type).name);
        expect(references.length).toBeGreaterThan(20);
        for (const name of references) {
            expect(name.startsWith('Edm.') || types.has(name), name).toBe(true);
        }
    });

    // Graph's excerpt, verbatim, kept in the repo so the check runs everywhere (its first line says where it comes
    // from: microsoftgraph/msgraph-metadata, beta_metadata.xml of 2021-07-13). The team's reference copy lives outside
    // the repository (shared/reference/graph-beta-office-configuration.csdl.xml, beside the checkout); its SHA-256,
    // recorded here on 2026-12-03 when the two files were identical, stands in for it, so the fixture cannot drift
    // from the reference unnoticed. Change the fixture only with a new excerpt from Graph, and record its hash anew.
    const fixture = fileURLToPath(new URL('../../fixtures/graph-beta-office-configuration.csdl.xml', import.meta.url));
    const REFERENCE_SHA256 = '6be01dd8342b87e0431c85ce5967b3e4a5f4787c0787f10ec43ac5180de591f4';
    it('keeps the fixture identical to the reference copy (by its recorded SHA-256)', () => {
        expect(createHash('sha256').update(readFileSync(fixture)).digest('hex')).toBe(REFERENCE_SHA256);
    });

    it('copies every definition verbatim from the Graph excerpt', () => {
        const excerpt = new Set(readFileSync(fixture, 'utf8').split('\n'));
        const lines = CSDL_XML.split('\n');
        const definitions = lines.slice(
            lines.findIndex((l) => l.includes('<Schema ')) + 1,
            lines.findIndex((l) => l.includes('<EntityContainer')),
        );
        expect(definitions.length).toBeGreaterThan(40);
        expect(definitions.filter((line) => !excerpt.has(line))).toEqual([]);
    });
});
