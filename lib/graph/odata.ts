/**
 * OData shaping: context URLs, entity and collection bodies (assignments and client configurations), and the headers
 * Graph puts on every response.
 */
import { servedMediaType } from './mediaType.js';
import {
    ASSIGNMENT_TYPE,
    type AssignmentTarget,
    bareTypeName,
    PAYLOAD_PROPERTIES,
    type PayloadProperty,
} from './schema.js';

export const ODATA_JSON =
    'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** The service root as clients address it, e.g. `https://host/beta`, from a URL or an origin. */
export function serviceRoot(urlOrOrigin: string): string {
    return `${new URL(urlOrOrigin).origin}/beta`;
}

/** OData key literal: a string in single quotes, quotes doubled; unsafe characters percent-encoded for a URL. */
function keyLiteral(key: string): string {
    return `'${encodeURIComponent(key.replace(/'/g, "''"))}'`;
}

export function assignmentsPath(configurationId: string): string {
    return `officeConfiguration/clientConfigurations/${encodeURIComponent(configurationId)}/assignments`;
}

/** Absolute URL of one assignment: the `Location` of a create. */
export function assignmentUrl(root: string, configurationId: string, id: string): string {
    return `${root}/${assignmentsPath(configurationId)}/${encodeURIComponent(id)}`;
}

function assignmentsContext(root: string, configurationId: string): string {
    return `${root}/$metadata#officeConfiguration/clientConfigurations(${keyLiteral(configurationId)})/assignments`;
}

export function entityContext(root: string, configurationId: string, select?: readonly string[]): string {
    return `${assignmentsContext(root, configurationId)}${selectSuffix(select)}/$entity`;
}

export function collectionContext(root: string, configurationId: string, select?: readonly string[]): string {
    return `${assignmentsContext(root, configurationId)}${selectSuffix(select)}`;
}

/** The `assign` action returns a collection that belongs to no entity set. */
export function actionResultContext(root: string): string {
    return `${root}/$metadata#Collection(${ASSIGNMENT_TYPE})`;
}

function selectSuffix(select?: readonly string[]): string {
    return select && select.length > 0 ? `(${select.join(',')})` : '';
}

export interface Assignment {
    id: string;
    target: AssignmentTarget;
}

/** An assignment as Graph writes it: its type, then the selected properties; never a storage field. */
export function assignmentResource(assignment: Assignment, select?: readonly string[]): Record<string, unknown> {
    const all = !select || select.length === 0;
    return {
        '@odata.type': `#${ASSIGNMENT_TYPE}`,
        ...(all || select.includes('id') ? { id: assignment.id } : {}),
        ...(all || select.includes('target') ? { target: targetResource(assignment.target) } : {}),
    };
}

/** Graph writes `@odata.type` with its `#`, whichever spelling the client sent (both are accepted on input). */
function targetResource(target: AssignmentTarget): AssignmentTarget {
    return { ...target, '@odata.type': `#${bareTypeName(target['@odata.type'])}` };
}

export const CONFIGURATIONS_PATH = 'officeConfiguration/clientConfigurations';

/** Absolute URL of one client configuration: the `Location` of a create. */
export function configurationUrl(root: string, id: string): string {
    return `${root}/${CONFIGURATIONS_PATH}/${encodeURIComponent(id)}`;
}

export function configurationEntityContext(root: string, select?: readonly string[]): string {
    return `${root}/$metadata#${CONFIGURATIONS_PATH}${selectSuffix(select)}/$entity`;
}

export function configurationsContext(root: string, select?: readonly string[]): string {
    return `${root}/$metadata#${CONFIGURATIONS_PATH}${selectSuffix(select)}`;
}

export function officeConfigurationContext(root: string, select?: readonly string[]): string {
    return `${root}/$metadata#officeConfiguration${selectSuffix(select)}`;
}

/** What a configuration's stream property is, as the entity tells it: never the bytes. */
export interface MediaInfo {
    contentType: string;
    etag: string;
}

export interface ClientConfiguration {
    id: string;
    /** Bare type name: `microsoft.graph.windowsOfficeClientConfiguration`. */
    odataType: string;
    displayName?: string | null;
    description?: string | null;
    priority: number;
    payloads: Partial<Record<PayloadProperty, MediaInfo>>;
}

/** No check-in is recorded by this service: every summary counts zero. */
export const EMPTY_CHECKIN_SUMMARY = { failedUserCount: 0, succeededUserCount: 0 } as const;

/**
 * A configuration as Graph writes it. Stream properties are OData media annotations (OData JSON format 4.01,
 * section 8.1) present only when the stream has content: read and edit links to the bytes, their media type and ETag.
 */
export function configurationResource(
    root: string,
    configuration: ClientConfiguration,
    select?: readonly string[],
): Record<string, unknown> {
    const all = !select || select.length === 0;
    const wanted = (name: string) => all || select.includes(name);
    const resource: Record<string, unknown> = { '@odata.type': `#${bareTypeName(configuration.odataType)}` };
    if (wanted('id')) {
        resource.id = configuration.id;
    }
    if (wanted('displayName')) {
        resource.displayName = configuration.displayName ?? null;
    }
    if (wanted('description')) {
        resource.description = configuration.description ?? null;
    }
    if (wanted('priority')) {
        resource.priority = configuration.priority;
    }
    if (wanted('checkinStatuses')) {
        resource.checkinStatuses = [];
    }
    if (wanted('userCheckinSummary')) {
        resource.userCheckinSummary = { ...EMPTY_CHECKIN_SUMMARY };
    }
    for (const property of PAYLOAD_PROPERTIES) {
        const media = configuration.payloads[property];
        if (media && wanted(property)) {
            const link = `${configurationUrl(root, configuration.id)}/${property}`;
            resource[`${property}@odata.mediaReadLink`] = link;
            resource[`${property}@odata.mediaEditLink`] = link;
            resource[`${property}@odata.mediaContentType`] = servedMediaType(media.contentType);
            resource[`${property}@odata.mediaEtag`] = media.etag;
        }
    }
    return resource;
}
