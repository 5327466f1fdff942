/**
 * The audit trail, an extension of this service (Graph's officeConfiguration API has none): every acknowledged write,
 * newest first, shaped as Intune's `microsoft.graph.auditEvent` but declared in the service's own namespace
 * (AUDIT_NAMESPACE), never in Graph's. Each event is one record of the change log (lib/store/changeLog), the same
 * one delta query reads, so the two can never disagree; a refused write has none.
 */
import { badRequest, notFound } from '../graph/errors.js';
import {
    decodeSkipToken,
    encodeSkipToken,
    parseTop,
    PROCESS_SKIPTOKEN_KEY,
    readQueryOptions,
} from '../graph/queryOptions.js';
import type { Operation } from '../http/pipeline.js';
import {
    ASSIGNMENT_RESOURCE_TYPE,
    type AuditActor,
    type ChangedResource,
    type ChangeRecord,
    CONFIGURATION_RESOURCE_TYPE,
} from '../store/changeLog.js';
import { auditPage, auditRecord } from '../store/changeReader.js';
import { TENANT_PARTITION } from '../store/configurationStore.js';

/** The service's own schema namespace in $metadata: its types are not Graph's. */
export const AUDIT_NAMESPACE = 'officeConfigurationService';
export const AUDIT_EVENT_TYPE = `${AUDIT_NAMESPACE}.auditEvent`;
export const AUDIT_EVENTS_PATH = 'officeConfiguration/auditEvents';

/** Intune's category and component for a service's own events; this service has one of each. */
const CATEGORY = 'OfficeConfiguration';
const COMPONENT = 'OfficeConfiguration';

export const DEFAULT_AUDIT_TOP = 50;
const MAX_FILTER_LENGTH = 512;

const GRAPH_TYPE: Record<ChangedResource['type'], string> = {
    [CONFIGURATION_RESOURCE_TYPE]: 'microsoft.graph.officeClientConfiguration',
    [ASSIGNMENT_RESOURCE_TYPE]: 'microsoft.graph.officeClientConfigurationAssignment',
};

interface AuditResourceBody {
    displayName: string | null;
    modifiedProperties: { displayName: string; oldValue: string | null; newValue: string | null }[];
    type: string;
    auditResourceType: string;
    resourceId: string;
}

function resourceBody(
    resourceId: string,
    type: ChangedResource['type'],
    displayName: string | null,
    modifiedProperties: AuditResourceBody['modifiedProperties'],
): AuditResourceBody {
    return { displayName, modifiedProperties, type: GRAPH_TYPE[type], auditResourceType: GRAPH_TYPE[type], resourceId };
}

/** A record as its audit event: the write's resources, then what it was called on, then priorities it moved. */
export function auditEventOf(record: ChangeRecord): Record<string, unknown> {
    const resources: AuditResourceBody[] = record.resources.map((r) =>
        resourceBody(r.resourceId, r.type, r.displayName, r.modifiedProperties),
    );
    // An assignment's write names its configuration too: the partition it was written in, or the action's target.
    const parent =
        record.target ??
        (record.configurationId !== TENANT_PARTITION
            ? { resourceId: record.configurationId, type: CONFIGURATION_RESOURCE_TYPE }
            : undefined);
    if (parent) {
        resources.unshift(resourceBody(parent.resourceId, parent.type, null, []));
    }
    for (const [id, from, to] of record.priorityChanges ?? []) {
        resources.push(
            resourceBody(id, CONFIGURATION_RESOURCE_TYPE, null, [
                { displayName: 'priority', oldValue: String(from), newValue: String(to) },
            ]),
        );
    }
    const actor: AuditActor = record.actor;
    return {
        '@odata.type': `#${AUDIT_EVENT_TYPE}`,
        id: record.eventId,
        displayName: record.activityType,
        componentName: COMPONENT,
        actor,
        activity: record.activityType,
        activityDateTime: record.activityDateTime,
        activityType: record.activityType,
        activityOperationType: record.activityOperationType,
        // Only an acknowledged write has a record: a refused one changed nothing and is not an event.
        activityResult: 'Success',
        correlationId: record.correlationId,
        resources,
        category: CATEGORY,
    };
}

/** `YYYY-MM-DDThh:mm[:ss[.fraction]]` and `Z` or an offset: an OData DateTimeOffset literal. Linear. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** The `$filter` the trail takes: `activityDateTime` compared with `ge`, `le`, `gt`, `lt`, joined by `and`. */
export function parseAuditFilter(value: string): { from?: string; to?: string } {
    const refuse = () =>
        badRequest(
            `The $filter '${value.length > 80 ? `${value.slice(0, 80)}…` : value}' is not supported; filter on ` +
                "activityDateTime with 'ge', 'le', 'gt' or 'lt', joined by 'and' " +
                '(e.g. activityDateTime ge 2026-12-01T00:00:00Z and activityDateTime le 2026-12-02T00:00:00Z).',
        );
    if (value.length > MAX_FILTER_LENGTH) {
        throw refuse();
    }
    const words = value.trim().split(/\s+/);
    let from: string | undefined;
    let to: string | undefined;
    for (let i = 0; i < words.length; i += 4) {
        const [property, operator, literal, joiner] = words.slice(i, i + 4);
        if (
            property?.toLowerCase() !== 'activitydatetime' ||
            literal === undefined ||
            !DATE_TIME.test(literal) ||
            (joiner !== undefined && (joiner.toLowerCase() !== 'and' || i + 4 >= words.length))
        ) {
            throw refuse();
        }
        const at = new Date(literal);
        if (Number.isNaN(at.getTime())) {
            throw refuse();
        }
        switch (operator?.toLowerCase()) {
            case 'ge':
                from = max(from, at.toISOString());
                break;
            case 'gt':
                from = max(from, new Date(at.getTime() + 1).toISOString());
                break;
            case 'le':
                to = min(to, at.toISOString());
                break;
            case 'lt':
                to = min(to, new Date(at.getTime() - 1).toISOString());
                break;
            default:
                throw refuse();
        }
    }
    return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

const max = (a: string | undefined, b: string) => (a === undefined || b > a ? b : a);
const min = (a: string | undefined, b: string) => (a === undefined || b < a ? b : a);

/** `GET /officeConfiguration/auditEvents`: newest first, `$top`, `$skiptoken`, `$filter` on activityDateTime. */
export const listAuditEvents: Operation = async (call) => {
    const options = readQueryOptions(call.query, ['top', 'skiptoken', 'filter'], 'this resource');
    const top = parseTop(options.get('top'), DEFAULT_AUDIT_TOP);
    const filterText = options.get('filter');
    const filter = filterText !== undefined ? parseAuditFilter(filterText) : {};
    const key = call.services.skipTokenKey ?? PROCESS_SKIPTOKEN_KEY;
    // Bound to the filter as well: a page's token never continues another filter's list.
    const scope = `/${AUDIT_EVENTS_PATH} ${filter.from ?? ''} ${filter.to ?? ''}`;
    const skiptoken = options.get('skiptoken');
    const continuation = skiptoken !== undefined ? decodeSkipToken(key, scope, skiptoken) : undefined;
    const page = await auditPage(call.services.store, {
        top,
        ...filter,
        ...(continuation !== undefined ? { continuation } : {}),
    });
    const query = [`$top=${top}`, ...(filterText !== undefined ? [`$filter=${encodeURIComponent(filterText)}`] : [])];
    const next = page.continuation
        ? `${call.root}/${AUDIT_EVENTS_PATH}?${query.join('&')}&$skiptoken=${encodeURIComponent(encodeSkipToken(key, scope, page.continuation))}`
        : undefined;
    return {
        status: 200,
        body: {
            '@odata.context': `${call.root}/$metadata#${AUDIT_EVENTS_PATH}`,
            ...(next ? { '@odata.nextLink': next } : {}),
            value: page.records.map(auditEventOf),
        },
    };
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `GET /officeConfiguration/auditEvents/{id}`. */
export const getAuditEvent: Operation = async (call) => {
    const id = call.params.auditEventId ?? '';
    for (const [rawName] of call.query) {
        if (rawName.startsWith('$') && rawName.toLowerCase() !== '$format') {
            throw badRequest(`The query option '${rawName}' is not supported on this resource.`);
        }
    }
    const record = GUID.test(id) ? await auditRecord(call.services.store, id.toLowerCase()) : undefined;
    if (!record) {
        throw notFound(`No audit event with id '${id}' exists.`);
    }
    return {
        status: 200,
        body: { '@odata.context': `${call.root}/$metadata#${AUDIT_EVENTS_PATH}/$entity`, ...auditEventOf(record) },
    };
};
