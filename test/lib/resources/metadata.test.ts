/**
 * The `$metadata` document: well-formed CSDL that declares every type, property, navigation, action and function the
 * responses name, so that a context URL such as `$metadata#officeConfiguration/clientConfigurations('c')/assignments`
 * resolves in it: Graph's schema (its definitions verbatim, plus the delta functions in Graph's own form and Graph's
 * `subscription` type with its entity set) and the service's own schema for what Graph does not have (the audit trail).
 */
import { createHash, randomUUID } from 'node:crypto';
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
    SUBSCRIPTION_TYPE,
    updatePrioritiesSchema,
} from '../../../lib/graph/schema.js';
import {
    AUDIT_EVENT_TYPE,
    AUDIT_EVENTS_PATH,
    AUDIT_NAMESPACE,
    auditEventOf,
} from '../../../lib/resources/auditEvents.js';
import { subscriptionResource, SUBSCRIPTIONS_PATH } from '../../../lib/resources/subscriptions.js';
import {
    ASSIGNMENT_RESOURCE_TYPE,
    CONFIGURATION_RESOURCE_TYPE,
    DEFAULT_CHANGE_LOG,
    toRecord,
    UNAUTHENTICATED_ACTOR,
} from '../../../lib/store/changeLog.js';
import { storedSubscription } from '../../helpers/subscriptions.js';

interface Named {
    Name: string;
    Type: string;
}
interface StructuredType {
    Name: string;
    BaseType?: string;
    Abstract?: string;
    Key?: { PropertyRef: { Name: string }[] };
    Property?: (Named & { Nullable?: string })[];
    NavigationProperty?: (Named & { ContainsTarget?: string })[];
}
interface Operation {
    Name: string;
    IsBound: string;
    IsComposable?: string;
    Parameter: Named[];
    ReturnType?: { Type: string };
}
interface Schema {
    Namespace: string;
    Alias?: string;
    xmlns: string;
    EntityType: StructuredType[];
    ComplexType: StructuredType[];
    Action?: Operation[];
    Function?: Operation[];
    EntityContainer?: { Name: string; Singleton: Named[]; EntitySet?: { Name: string; EntityType: string }[] };
}

const ARRAYS = new Set([
    'Schema',
    'EntityType',
    'ComplexType',
    'Property',
    'NavigationProperty',
    'Action',
    'Function',
    'Parameter',
    'PropertyRef',
    'Singleton',
    'EntitySet',
]);
const parsed = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    // Elements only: an EntitySet's `EntityType` attribute shares an element's name.
    isArray: (name, _path, _leaf, isAttribute) => !isAttribute && ARRAYS.has(name),
}).parse(CSDL_XML) as {
    'edmx:Edmx': { Version: string; 'xmlns:edmx': string; 'edmx:DataServices': { Schema: Schema[] } };
};
const edmx = parsed['edmx:Edmx'];
const schemas = edmx['edmx:DataServices'].Schema;
const schema = schemas.find((s) => s.Namespace === NAMESPACE)!;
/** The service's own schema: what Graph does not have. */
const service = schemas.find((s) => s.Namespace === AUDIT_NAMESPACE)!;
const operations = (kind: 'Action' | 'Function') => schemas.flatMap((s) => s[kind] ?? []);

/** `graph.x` and `microsoft.graph.x` name the same type; `Collection(T)` is a collection of T. */
function qualified(type: string): { name: string; collection: boolean } {
    const collection = /^Collection\((.+)\)$/.exec(type);
    const name = collection ? (collection[1] as string) : type;
    return { name: name.replace(/^graph\./, `${NAMESPACE}.`), collection: collection !== null };
}

const types = new Map<string, StructuredType & { kind: 'entity' | 'complex' }>(
    schemas.flatMap((s) => [
        ...s.EntityType.map((t) => [`${s.Namespace}.${t.Name}`, { ...t, kind: 'entity' as const }] as const),
        ...s.ComplexType.map((t) => [`${s.Namespace}.${t.Name}`, { ...t, kind: 'complex' as const }] as const),
    ]),
);

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
const propertyType = (type: string, name: string) => properties(type).find((p) => p.Name === name)?.Type;

/** The service's own types derived from `type`: where it declares what it adds to one of Graph's. */
const extensionsOf = (type: string) =>
    service.EntityType.filter((t) => qualified(t.BaseType ?? '').name === type).map(
        (t) => `${AUDIT_NAMESPACE}.${t.Name}`,
    );

/**
 * Follows a context URL's path (`officeConfiguration/clientConfigurations('c')/assignments`) through the model, from
 * the container's singleton or entity set its first segment names (`subscriptions`). A
 * navigation property the type lacks is looked for on the service's extension of it: the service's shorthand for
 * `officeConfiguration/officeConfigurationService.officeConfiguration/auditEvents` (lib/graph/csdl says why).
 * `/$delta` (a delta response) ends on the collection the delta function is bound to.
 */
function resolveContext(url: string): { type: string; select: string[]; via?: string; delta?: boolean } {
    const fragment = decodeURIComponent(url.slice(url.indexOf('#') + 1)).replace(/\/\$entity$/, '');
    const delta = fragment.endsWith('/$delta');
    const [first, ...rest] = fragment.replace(/\/\$delta$/, '').split('/');
    const singleton = schema.EntityContainer!.Singleton.find((s) => s.Name === first);
    const entitySet = schema.EntityContainer!.EntitySet?.find((s) => s.Name === first);
    expect(singleton ?? entitySet, `singleton or entity set ${first}`).toBeDefined();
    let type = qualified(singleton ? singleton.Type : entitySet!.EntityType).name;
    let select: string[] = [];
    let via: string | undefined;
    for (const segment of rest) {
        const [, name, selectList] = /^(\w+)(?:\('.*'\))?(?:\(([\w,]+)\))?$/.exec(segment) ?? [];
        let property = navigation(type).find((p) => p.Name === name);
        if (!property) {
            via = extensionsOf(type).find((extension) => navigation(extension).some((p) => p.Name === name));
            property = via ? navigation(via).find((p) => p.Name === name) : undefined;
        }
        expect(property, `navigation ${name} of ${type}`).toBeDefined();
        expect(property!.ContainsTarget).toBe('true');
        type = qualified(property!.Type).name;
        select = selectList ? selectList.split(',') : [];
    }
    return { type, select, ...(via ? { via } : {}), ...(delta ? { delta } : {}) };
}

/** Graph's form of a delta function (as in its v1.0 CSDL), bound to a collection of `type`, returning one. */
const deltaDeclaration = (type: string) => [
    '      <Function Name="delta" IsBound="true">',
    `        <Parameter Name="bindingParameter" Type="Collection(graph.${type.slice(NAMESPACE.length + 1)})" />`,
    `        <ReturnType Type="Collection(graph.${type.slice(NAMESPACE.length + 1)})" />`,
    '      </Function>',
];

/**
 * Graph's `subscription` entity type and entity set, verbatim from Graph's published CSDL (microsoftgraph/
 * msgraph-metadata, clean_v10_metadata/cleanMetadata.xml of 2026-08-04; lib/graph/csdl says why not the 2021 beta
 * excerpt's). Change these lines only with Graph's own.
 */
const SUBSCRIPTION_DECLARATION = [
    '      <EntityType Name="subscription" BaseType="graph.entity">',
    '        <Property Name="applicationId" Type="Edm.String" />',
    '        <Property Name="changeType" Type="Edm.String" Nullable="false" />',
    '        <Property Name="clientState" Type="Edm.String" />',
    '        <Property Name="creatorId" Type="Edm.String" />',
    '        <Property Name="encryptionCertificate" Type="Edm.String" />',
    '        <Property Name="encryptionCertificateId" Type="Edm.String" />',
    '        <Property Name="expirationDateTime" Type="Edm.DateTimeOffset" Nullable="false" />',
    '        <Property Name="includeResourceData" Type="Edm.Boolean" />',
    '        <Property Name="latestSupportedTlsVersion" Type="Edm.String" />',
    '        <Property Name="lifecycleNotificationUrl" Type="Edm.String" />',
    '        <Property Name="notificationQueryOptions" Type="Edm.String" />',
    '        <Property Name="notificationUrl" Type="Edm.String" Nullable="false" />',
    '        <Property Name="notificationUrlAppId" Type="Edm.String" />',
    '        <Property Name="resource" Type="Edm.String" Nullable="false" />',
    '      </EntityType>',
];
const SUBSCRIPTIONS_ENTITY_SET = '        <EntitySet Name="subscriptions" EntityType="microsoft.graph.subscription" />';

describe('$metadata (CSDL)', () => {
    it("is a well-formed OData 4.0 CSDL document of Graph's schema and the service's own", () => {
        expect(XMLValidator.validate(CSDL_XML)).toBe(true);
        expect(edmx.Version).toBe('4.0');
        expect(edmx['xmlns:edmx']).toBe('http://docs.oasis-open.org/odata/ns/edmx');
        expect(schemas.map((s) => s.Namespace)).toEqual(['microsoft.graph', AUDIT_NAMESPACE]);
        expect(schema).toMatchObject({
            Namespace: 'microsoft.graph',
            Alias: 'graph',
            xmlns: 'http://docs.oasis-open.org/odata/ns/edm',
        });
        // Graph's container, as Graph declares it: the one container of the document, the singleton of Graph's type,
        // and Graph's entity set of subscriptions.
        expect(schema.EntityContainer!.Singleton).toEqual([
            { Name: 'officeConfiguration', Type: 'microsoft.graph.officeConfiguration' },
        ]);
        expect(schema.EntityContainer!.EntitySet).toEqual([
            { Name: SUBSCRIPTIONS_PATH, EntityType: SUBSCRIPTION_TYPE },
        ]);
        expect(service).toMatchObject({ xmlns: 'http://docs.oasis-open.org/odata/ns/edm' });
        expect(service.EntityContainer).toBeUndefined();
        expect(service.Alias).toBeUndefined();
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
        const action = schema.Action!.find((a) => a.Name === 'updatePriorities');
        expect(action?.IsBound).toBe('true');
        const [binding, ...rest] = action!.Parameter;
        expect(qualified(binding!.Type)).toEqual({ name: CONFIGURATION_BASE_TYPE, collection: true });
        expect(rest.map((p) => p.Name)).toEqual(Object.keys(updatePrioritiesSchema.properties));
        expect(action?.ReturnType).toBeUndefined();
    });

    it('declares the assign action bound to a configuration, with the parameter the body schema names', () => {
        const assign = schema.Action!.find((a) => a.Name === 'assign');
        expect(assign?.IsBound).toBe('true');
        const [binding, ...rest] = assign!.Parameter;
        expect(qualified(binding!.Type).name).toBe(`${NAMESPACE}.officeClientConfiguration`);
        expect(rest.map((p) => p.Name)).toEqual(Object.keys(assignActionSchema.properties));
        expect(qualified(rest[0]!.Type)).toEqual({ name: ASSIGNMENT_TYPE, collection: true });
        expect(qualified(assign!.ReturnType!.Type)).toEqual({ name: ASSIGNMENT_TYPE, collection: true });
    });

    it('declares delta on both collections as Graph declares its delta functions, resolving the $delta contexts', () => {
        const deltas = schema.Function!.filter((f) => f.Name === 'delta');
        expect(deltas.map((f) => qualified(f.Parameter[0]!.Type))).toEqual([
            { name: CONFIGURATION_BASE_TYPE, collection: true },
            { name: ASSIGNMENT_TYPE, collection: true },
        ]);
        for (const delta of deltas) {
            expect(delta).toMatchObject({ IsBound: 'true', Parameter: [{ Name: 'bindingParameter' }] });
            expect(delta.Parameter).toHaveLength(1);
            // Not composable, as Graph's: nothing is addressed after `delta`.
            expect(delta.IsComposable).toBeUndefined();
            expect(delta.ReturnType?.Type).toBe(delta.Parameter[0]!.Type);
        }
        // The context URLs lib/resources/delta writes end on the collection the function is bound to.
        const root = 'https://host/beta';
        expect(resolveContext(`${configurationsContext(root)}/$delta`)).toEqual({
            type: CONFIGURATION_BASE_TYPE,
            select: [],
            delta: true,
        });
        expect(resolveContext(`${collectionContext(root, 'cfg-1')}/$delta`)).toEqual({
            type: ASSIGNMENT_TYPE,
            select: [],
            delta: true,
        });
    });

    it("declares the audit event in the service's own namespace, with what the service writes and no more", () => {
        expect(service.Namespace).toBe(AUDIT_NAMESPACE);
        expect(AUDIT_EVENT_TYPE).toBe(`${AUDIT_NAMESPACE}.auditEvent`);
        const record = toRecord(
            'cfg-1',
            7,
            {
                activityType: 'Patch officeClientConfigurationAssignment',
                activityOperationType: 'Patch',
                resources: [
                    {
                        resourceId: 'a-1',
                        type: ASSIGNMENT_RESOURCE_TYPE,
                        displayName: null,
                        modifiedProperties: [{ displayName: 'target', oldValue: null, newValue: '{}' }],
                    },
                ],
                target: { resourceId: 'cfg-1', type: CONFIGURATION_RESOURCE_TYPE },
            },
            { actor: UNAUTHENTICATED_ACTOR, correlationId: randomUUID() },
            DEFAULT_CHANGE_LOG,
            randomUUID(),
            new Date(),
            [['cfg-2', 1, 2]],
        );
        const event = auditEventOf(record) as Record<string, unknown> & {
            actor: Record<string, unknown>;
            resources: (Record<string, unknown> & { modifiedProperties: Record<string, unknown>[] })[];
        };
        expect(event['@odata.type']).toBe(`#${AUDIT_EVENT_TYPE}`);
        const names = (type: string) =>
            properties(type)
                .map((p) => p.Name)
                .sort();
        const audit = (name: string) => `${AUDIT_NAMESPACE}.${name}`;
        expect(typeOf(AUDIT_EVENT_TYPE).kind).toBe('entity');
        expect(qualified(typeOf(AUDIT_EVENT_TYPE).BaseType!).name).toBe(`${NAMESPACE}.entity`);
        expect(names(AUDIT_EVENT_TYPE)).toEqual(
            Object.keys(event)
                .filter((k) => k !== '@odata.type')
                .sort(),
        );
        expect(names(audit('auditActor'))).toEqual(Object.keys(event.actor).sort());
        expect(names(audit('auditResource'))).toEqual(Object.keys(event.resources[0]!).sort());
        expect(names(audit('auditProperty'))).toEqual(Object.keys(event.resources[1]!.modifiedProperties[0]!).sort());
        // Typed as Intune's: the complex types, a DateTimeOffset, a Guid (the request-id).
        expect(propertyType(AUDIT_EVENT_TYPE, 'actor')).toBe(audit('auditActor'));
        expect(qualified(propertyType(AUDIT_EVENT_TYPE, 'resources')!)).toEqual({
            name: audit('auditResource'),
            collection: true,
        });
        expect(qualified(propertyType(audit('auditResource'), 'modifiedProperties')!)).toEqual({
            name: audit('auditProperty'),
            collection: true,
        });
        expect(propertyType(AUDIT_EVENT_TYPE, 'activityDateTime')).toBe('Edm.DateTimeOffset');
        expect(new Date(event.activityDateTime as string).toISOString()).toBe(event.activityDateTime);
        expect(propertyType(AUDIT_EVENT_TYPE, 'correlationId')).toBe('Edm.Guid');
        expect(event.correlationId).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/);
        expect(qualified(propertyType(audit('auditActor'), 'userPermissions')!)).toEqual({
            name: 'Edm.String',
            collection: true,
        });
    });

    it("hangs auditEvents off officeConfiguration through the service's own derived type, Graph's left as it is", () => {
        const extension = `${AUDIT_NAMESPACE}.officeConfiguration`;
        expect(extensionsOf(OFFICE_CONFIGURATION_TYPE)).toEqual([extension]);
        expect(typeOf(extension).Property).toBeUndefined();
        expect(typeOf(extension).NavigationProperty).toEqual([
            { Name: 'auditEvents', Type: `Collection(${AUDIT_EVENT_TYPE})`, ContainsTarget: 'true' },
        ]);
        expect(navigation(OFFICE_CONFIGURATION_TYPE).map((p) => p.Name)).toEqual(['clientConfigurations']);
        const root = 'https://host/beta';
        const list = `${root}/$metadata#${AUDIT_EVENTS_PATH}`;
        expect(resolveContext(list)).toEqual({ type: AUDIT_EVENT_TYPE, select: [], via: extension });
        expect(resolveContext(`${list}/$entity`)).toEqual({ type: AUDIT_EVENT_TYPE, select: [], via: extension });
    });

    it("declares Graph's subscription with what a subscription response carries, resolving its context URLs", () => {
        expect(typeOf(SUBSCRIPTION_TYPE).kind).toBe('entity');
        expect(qualified(typeOf(SUBSCRIPTION_TYPE).BaseType!).name).toBe(`${NAMESPACE}.entity`);
        const response = subscriptionResource(storedSubscription());
        expect(
            properties(SUBSCRIPTION_TYPE)
                .map((p) => p.Name)
                .sort(),
        ).toEqual(Object.keys(response).sort());
        expect(propertyType(SUBSCRIPTION_TYPE, 'expirationDateTime')).toBe('Edm.DateTimeOffset');
        expect(propertyType(SUBSCRIPTION_TYPE, 'includeResourceData')).toBe('Edm.Boolean');
        expect(typeof response.includeResourceData).toBe('boolean');
        // Graph's required ones: what every create must send, and what every response carries.
        const required = properties(SUBSCRIPTION_TYPE)
            .filter((p) => p.Nullable === 'false')
            .map((p) => p.Name)
            .sort();
        expect(required).toEqual(['changeType', 'expirationDateTime', 'id', 'notificationUrl', 'resource']);
        // The context URLs lib/resources/subscriptions writes: the entity set, and one entity of it.
        const root = 'https://host/beta';
        const list = `${root}/$metadata#${SUBSCRIPTIONS_PATH}`;
        expect(resolveContext(list)).toEqual({ type: SUBSCRIPTION_TYPE, select: [] });
        expect(resolveContext(`${list}/$entity`)).toEqual({ type: SUBSCRIPTION_TYPE, select: [] });
    });

    it('leaves no type reference dangling', () => {
        const references = [
            ...[...types.values()].flatMap((t) => [
                ...(t.BaseType ? [t.BaseType] : []),
                ...(t.Property ?? []).map((p) => p.Type),
                ...(t.NavigationProperty ?? []).map((p) => p.Type),
            ]),
            ...[...operations('Action'), ...operations('Function')].flatMap((a) => [
                ...a.Parameter.map((p) => p.Type),
                ...(a.ReturnType ? [a.ReturnType.Type] : []),
            ]),
            ...schema.EntityContainer!.Singleton.map((s) => s.Type),
            ...(schema.EntityContainer!.EntitySet ?? []).map((s) => s.EntityType),
        ].map((type) => qualified(type).name);
        expect(references.length).toBeGreaterThan(40);
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

    it("copies every definition of Graph's schema verbatim from the Graph excerpt, the service's additions aside", () => {
        const excerpt = new Set(readFileSync(fixture, 'utf8').split('\n'));
        const lines = CSDL_XML.split('\n');
        const definitions = lines.slice(
            lines.findIndex((l) => l.includes(`<Schema Namespace="${NAMESPACE}"`)) + 1,
            lines.findIndex((l) => l.includes('<EntityContainer')),
        );
        // The service's additions to Graph's schema, one block after Graph's actions that ends the definitions: the
        // delta functions in Graph's own form (the 2021 excerpt has none for these collections), then Graph's
        // subscription type, verbatim from Graph's current CSDL (the excerpt leaves it out).
        const first = definitions.findIndex((l) => l.includes('<Function'));
        const additions = [
            ...deltaDeclaration(CONFIGURATION_BASE_TYPE),
            ...deltaDeclaration(ASSIGNMENT_TYPE),
            ...SUBSCRIPTION_DECLARATION,
        ];
        expect(definitions.slice(first)).toEqual(additions);
        expect(definitions.slice(first - 1, first)).toEqual(['      </Action>']);
        const graphs = definitions.slice(0, first);
        expect(graphs.length).toBeGreaterThan(40);
        expect(graphs.filter((line) => !excerpt.has(line))).toEqual([]);
        // And the container is Graph's too: the singleton's line from the excerpt, the subscriptions' from Graph's CSDL.
        const container = lines.slice(
            lines.findIndex((l) => l.includes('<EntityContainer')) + 1,
            lines.findIndex((l) => l.includes('</EntityContainer>')),
        );
        expect(container.filter((line) => !excerpt.has(line))).toEqual([SUBSCRIPTIONS_ENTITY_SET]);
    });
});
