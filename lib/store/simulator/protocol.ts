/**
 * The Cosmos DB REST protocol as the simulator reads and writes it. Every other part of the simulator decides by the
 * kind of operation a request is (its latency, its fault rates, its charge, whether it commits), and that kind is
 * spread over the path, the method and a handful of `x-ms-*` headers; the errors it invents must look like Azure's,
 * which the SDK parses. Reading the one and writing the other live here, so that the rest deals in kinds and answers.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

export type OperationKind =
    'pointRead' | 'create' | 'upsert' | 'replace' | 'patch' | 'delete' | 'batch' | 'query' | 'metadata';

export const OPERATION_KINDS: readonly OperationKind[] = [
    'pointRead',
    'create',
    'upsert',
    'replace',
    'patch',
    'delete',
    'batch',
    'query',
    'metadata',
];

export const WRITE_KINDS = new Set<OperationKind>(['create', 'upsert', 'replace', 'patch', 'delete', 'batch']);

/** One operation of a transactional batch, as the SDK sends it. */
export interface BatchOperation {
    operationType?: string;
    id?: string;
    partitionKey?: string;
    ifMatch?: string;
    resourceBody?: unknown;
}

/** A request as an intercept rule sees it. */
export interface ObservedRequest {
    kind: OperationKind;
    method: string;
    path: string;
    /** The first component of `x-ms-documentdb-partitionkey`, parsed; undefined when there is none. */
    partitionKey: unknown;
    /** The document's id: from the path, or the body of a create or upsert. */
    id: string | undefined;
    /** The parsed JSON body; undefined when there is none. */
    body: unknown;
    /** A batch's operations. */
    operations: readonly BatchOperation[] | undefined;
}

export interface Answer {
    status: number;
    headers: Record<string, string | string[]>;
    body: Buffer;
}

export interface Classified {
    kind: OperationKind;
    db: string | undefined;
    coll: string | undefined;
    id: string | undefined;
    /** `x-ms-documentdb-partitionkey` as sent. */
    partitionKeyHeader: string | undefined;
    queryPlan: boolean;
    accountRead: boolean;
}

const STATUS_TEXT: Record<number, [code: string, message: string]> = {
    400: ['BadRequest', 'The consistency level requested is stronger than the account’s.'],
    404: ['NotFound', 'Entity with the specified id does not exist in the system.'],
    408: ['RequestTimeout', 'The request did not complete within the allotted time.'],
    410: ['Gone', 'The requested resource is no longer available at the server.'],
    429: [
        'TooManyRequests',
        'Request rate is large. More Request Units may be needed, so no changes were made. Please retry this ' +
            'request later. Learn more: http://aka.ms/cosmosdb-error-429',
    ],
    449: ['RetryWith', 'Conflicting request to resource has been attempted. Retry to avoid conflicts.'],
    503: ['ServiceUnavailable', 'The service is currently unavailable. Please retry the request.'],
};

const isTrue = (value: string | string[] | undefined) => String(value).toLowerCase() === 'true';

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
}

export function parseJson(buffer: Buffer): unknown {
    if (buffer.length === 0) {
        return undefined;
    }
    try {
        return JSON.parse(buffer.toString('utf8')) as unknown;
    } catch {
        return undefined;
    }
}

export function asObject(value: unknown): Record<string, unknown> | undefined {
    return value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
}

export function idOf(value: unknown): string | undefined {
    const id = asObject(value)?.id;
    return typeof id === 'string' ? id : undefined;
}

function parsePartitionKey(value: string | undefined): unknown {
    if (value === undefined) {
        return undefined;
    }
    const parsed = parseJson(Buffer.from(value));
    return Array.isArray(parsed) ? (parsed[0] as unknown) : parsed;
}

export function classify(request: IncomingMessage): Classified {
    const method = request.method ?? 'GET';
    const headers = request.headers;
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const segments = path.split('/').filter((s) => s !== '');
    const partitionKeyHeader = header(headers, 'x-ms-documentdb-partitionkey');
    const documents = segments[0] === 'dbs' && segments[2] === 'colls' && segments[4] === 'docs';
    const base = {
        db: documents ? decodeURIComponent(segments[1] ?? '') : undefined,
        coll: documents ? decodeURIComponent(segments[3] ?? '') : undefined,
        id: documents && segments[5] !== undefined ? decodeURIComponent(segments[5]) : undefined,
        partitionKeyHeader,
        queryPlan: false,
        accountRead: method === 'GET' && segments.length === 0,
    };
    if (!documents || segments.length > 6) {
        return { ...base, kind: 'metadata' };
    }
    if (base.id !== undefined) {
        const kinds: Record<string, OperationKind> = {
            GET: 'pointRead',
            PUT: 'replace',
            PATCH: 'patch',
            DELETE: 'delete',
        };
        return { ...base, kind: kinds[method] ?? 'metadata' };
    }
    if (method === 'GET') {
        return { ...base, kind: 'query' }; // a read feed or change feed: charged as a query of what it returns
    }
    if (isTrue(headers['x-ms-cosmos-is-query-plan-request'])) {
        return { ...base, kind: 'metadata', queryPlan: true };
    }
    if (isTrue(headers['x-ms-documentdb-isquery']) || header(headers, 'content-type') === 'application/query+json') {
        return { ...base, kind: 'query' };
    }
    if (isTrue(headers['x-ms-cosmos-is-batch-request'])) {
        return { ...base, kind: 'batch' };
    }
    return { ...base, kind: isTrue(headers['x-ms-documentdb-is-upsert']) ? 'upsert' : 'create' };
}

export function observe(classified: Classified, method: string, path: string, body: Buffer): ObservedRequest {
    const parsed = parseJson(body);
    const operations = classified.kind === 'batch' && Array.isArray(parsed) ? (parsed as BatchOperation[]) : undefined;
    return {
        kind: classified.kind,
        method,
        path,
        partitionKey: parsePartitionKey(classified.partitionKeyHeader),
        id: classified.id ?? (classified.kind === 'create' || classified.kind === 'upsert' ? idOf(parsed) : undefined),
        body: parsed,
        operations,
    };
}

export function cosmosError(status: number, extra: Record<string, string> = {}, message?: string): Answer {
    const [code, text] = STATUS_TEXT[status] ?? [String(status), 'The request failed.'];
    const activityId = randomUUID();
    return {
        status,
        headers: { 'content-type': 'application/json', 'x-ms-activity-id': activityId, ...extra },
        body: Buffer.from(
            JSON.stringify({
                code,
                message: `Message: {"Errors":[${JSON.stringify(message ?? text)}]}\r\nActivityId: ${activityId}`,
            }),
        ),
    };
}

export function readBody(request: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks)));
        request.on('error', reject);
    });
}
