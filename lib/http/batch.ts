/**
 * Graph JSON batching (`POST /beta/$batch`): up to 20 requests in one round trip, each answered as if it had been
 * sent alone. Every part is turned back into an HTTP request and handed to the handler of the route table that
 * would have served it (lib/http/pipeline `createHttpHandler`): the same auth, validation, limits, idempotency and
 * error mapping, and a request-id of its own (under which telemetry records its Cosmos DB calls, in the batch's
 * invocation and trace). The batch adds only what Graph's batching defines: the envelope, the `dependsOn` order (424
 * when a dependency failed) and bounded concurrency. There is no batch-wide atomicity.
 */
import { randomUUID } from 'node:crypto';

import functions, {
    type HttpHandler,
    type HttpRequestInit,
    type HttpResponseInit,
    type InvocationContext as Context,
} from '@azure/functions';

import { badRequest, errorBody, GraphError, internalServerError, serviceUnavailable } from '../graph/errors.js';
import { ODATA_JSON } from '../graph/odata.js';
import type { RequestScope } from '../platform/requestScope.js';
import type { Logger, Services } from '../platform/services.js';
import { isJsonMediaType, readJsonBody } from './body.js';
import { createHttpHandler, type Operation, type Route, UNAVAILABLE_RETRY_AFTER_SECONDS } from './pipeline.js';
import { firstMatch, pathSegments, type RankedRoute, rankRoutes, ROUTE_PREFIX } from './routing.js';

// The package is CommonJS built by a bundler: Node's ESM loader cannot see these two as named exports.
const { HttpRequest, InvocationContext } = functions;

/** The batch route's template; a part addressed to it is a nested batch, which Graph refuses. */
export const BATCH_TEMPLATE = '$batch';

/** Graph's limit. */
export const MAX_BATCH_REQUESTS = 20;

/**
 * Graph publishes no byte limit for a batch. Room for 20 parts at the single-request limit (64 KiB, which every
 * part still meets on its own), with their URLs and headers: 2 MiB.
 */
export const MAX_BATCH_BODY_BYTES = 2 * 1024 * 1024;

/** Parts served at once: Graph's own figure for a batch (it runs about four at a time). */
export const BATCH_CONCURRENCY = 4;

/** Longest inner `url`, as a URL anywhere: more is a 400 for that part. */
const MAX_URL_LENGTH = 2048;

/**
 * Headers of a part that describe the batch's own connection or framing, not the part: dropped, and the part gets
 * its own. `Authorization` is not among them: a part that carries one is refused (see `innerHeaders`).
 */
const CONNECTION_HEADERS = new Set([
    'host',
    'content-length',
    'transfer-encoding',
    'connection',
    'keep-alive',
    'upgrade',
    'expect',
    'te',
    'trailer',
    'proxy-connection',
]);

const REQUEST_PROPERTIES = new Set(['id', 'method', 'url', 'headers', 'body', 'dependsOn']);
const METHOD = /^[A-Za-z]{1,16}$/;
/** Printable ASCII without white space or `\`: a URL a client encoded. */
const URL_CHARACTERS = /^[\x21-\x5b\x5d-\x7e]+$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

export interface BatchRequest {
    id: string;
    method: string;
    url: string;
    headers: Record<string, string>;
    /** Absent when the part has no `body` member (a JSON `null` is a body). */
    body?: { value: unknown };
    dependsOn: string[];
}

export interface BatchResponse {
    id: string;
    status: number;
    headers: Record<string, string>;
    body?: unknown;
}

const describeValue = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);
const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
/** Ids are compared without regard to case, as Graph does. */
const key = (id: string) => id.toLowerCase();

function parseRequest(value: unknown, index: number): BatchRequest {
    const where = `Request ${index + 1} of the batch`;
    if (!isObject(value)) {
        throw badRequest(`${where} is ${describeValue(value)}; a JSON object is expected.`);
    }
    const unknown = Object.keys(value).find((name) => !REQUEST_PROPERTIES.has(name));
    if (unknown !== undefined) {
        throw badRequest(`${where} has the unknown property '${unknown.slice(0, 64)}'.`);
    }
    const { id, method, url, headers, dependsOn } = value;
    if (typeof id !== 'string' || id === '' || id.length > 128) {
        throw badRequest(`${where} needs an 'id': a string of 1 to 128 characters.`);
    }
    const named = `Request '${id}'`;
    if (typeof method !== 'string' || !METHOD.test(method)) {
        throw badRequest(`${named} needs a 'method': an HTTP method such as GET, POST, PATCH or DELETE.`);
    }
    if (typeof url !== 'string' || url === '') {
        throw badRequest(`${named} needs a 'url': a URL relative to the service root.`);
    }
    if (headers !== undefined && !(isObject(headers) && Object.values(headers).every((v) => typeof v === 'string'))) {
        throw badRequest(`${named}: 'headers' must be a JSON object of strings.`);
    }
    if (dependsOn !== undefined && !(Array.isArray(dependsOn) && dependsOn.every((d) => typeof d === 'string'))) {
        throw badRequest(`${named}: 'dependsOn' must be an array of request ids.`);
    }
    return {
        id,
        method: method.toUpperCase(),
        url,
        headers: (headers ?? {}) as Record<string, string>,
        ...('body' in value ? { body: { value: value.body } } : {}),
        // Deduplicated (as ids compare): a dependsOn that names one id a million times is one dependency.
        dependsOn: [...new Map((dependsOn ?? []).map((d) => [key(d), d])).values()],
    };
}

/** Kahn's algorithm over at most 20 requests: whatever cannot be ordered is on a cycle or waits on one. */
function findCycle(requests: readonly BatchRequest[]): string[] {
    const waiting = new Map(requests.map((r) => [key(r.id), new Set(r.dependsOn.map(key))]));
    for (let progress = true; progress;) {
        progress = false;
        for (const [id, deps] of waiting) {
            if ([...deps].every((d) => !waiting.has(d))) {
                waiting.delete(id);
                progress = true;
            }
        }
    }
    return requests.filter((r) => waiting.has(key(r.id))).map((r) => r.id);
}

/**
 * The envelope's rules, all a 400 for the whole batch that names the problem: nothing runs unless the batch as a
 * whole is well formed. What is wrong with one part's own request (its URL, its headers) is that part's 400.
 */
export function parseBatch(json: unknown): BatchRequest[] {
    if (!isObject(json) || !Array.isArray(json.requests)) {
        throw badRequest("The batch must be a JSON object with a 'requests' array.");
    }
    const unknown = Object.keys(json).find((name) => name !== 'requests');
    if (unknown !== undefined) {
        throw badRequest(`The batch has the unknown property '${unknown.slice(0, 64)}'.`);
    }
    const raw = json.requests as unknown[];
    if (raw.length === 0) {
        throw badRequest('The batch has no requests.');
    }
    if (raw.length > MAX_BATCH_REQUESTS) {
        throw badRequest(`The batch has ${raw.length} requests; at most ${MAX_BATCH_REQUESTS} are allowed.`);
    }
    const requests = raw.map(parseRequest);
    const ids = new Set<string>();
    for (const request of requests) {
        if (ids.has(key(request.id))) {
            throw badRequest(`The id '${request.id}' is used by more than one request of the batch.`);
        }
        ids.add(key(request.id));
    }
    for (const request of requests) {
        const missing = request.dependsOn.find((d) => !ids.has(key(d)));
        if (missing !== undefined) {
            throw badRequest(
                `Request '${request.id}' depends on '${missing.slice(0, 128)}', which is not in the batch.`,
            );
        }
    }
    const cycle = findCycle(requests);
    if (cycle.length > 0) {
        throw badRequest(`The dependsOn of requests ${cycle.map((id) => `'${id}'`).join(', ')} form a cycle.`);
    }
    return requests;
}

type Entry = RankedRoute<Route>;

const isNestedBatch = (entry: Entry) => entry.route.template.toLowerCase() === BATCH_TEMPLATE;

/**
 * The part's absolute URL under the batch's own origin, or the reason it cannot be one. Relative to the service
 * root only: no scheme, no `//host`, no fragment, no dot segments that would climb out of `/beta`.
 */
function innerUrl(origin: string, relative: string): URL | string {
    if (relative.length > MAX_URL_LENGTH) {
        return `The url is longer than ${MAX_URL_LENGTH} characters.`;
    }
    if (!URL_CHARACTERS.test(relative) || relative.includes('#')) {
        return "The url must be a percent-encoded path and query, without white space, '\\' or a fragment.";
    }
    if (SCHEME.test(relative) || relative.startsWith('//')) {
        return "The url must be relative to the service root, such as '/officeConfiguration/clientConfigurations/{id}/assignments'.";
    }
    const path = relative.replace(/^\//, '');
    const [pathOnly = ''] = path.split('?', 1);
    if (pathOnly.split('/').some((s) => ['.', '..'].includes(s.replace(/%2e/gi, '.')))) {
        return "The url must not contain '.' or '..' segments.";
    }
    const url = new URL(`${origin}/${ROUTE_PREFIX}/${path}`);
    return pathSegments(url.pathname) === undefined ? 'The url is not under the service root.' : url;
}

/** The part's headers and the batch's token. Throws the reason a header cannot be sent. */
function innerHeaders(request: BatchRequest, authorization: string | null): Headers {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
        const lower = name.toLowerCase();
        if (lower === 'authorization') {
            // One identity per batch: a part may not speak for another caller than the batch's token.
            throw badRequest("A request in a batch must not carry 'Authorization': the batch's token applies to all.");
        }
        if (CONNECTION_HEADERS.has(lower)) {
            continue;
        }
        try {
            headers.append(name, value);
        } catch {
            throw badRequest(`The header '${name.slice(0, 64)}' is not a valid HTTP header.`);
        }
    }
    if (authorization !== null) {
        headers.set('authorization', authorization);
    }
    return headers;
}

/** Standard base64, padded: a string of four-character groups. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A JSON body as bytes, not as a string: fetch gives a string body the Content-Type `text/plain;charset=UTF-8` when
 * the part has none, and the part's operation would then answer about (or store as) a type its client never sent.
 */
function jsonBytes(value: unknown): Uint8Array {
    try {
        return Buffer.from(JSON.stringify(value));
    } catch {
        // JSON.parse takes any depth; JSON.stringify recurses, and a body nested a million deep overflows it.
        throw badRequest('The body is nested too deeply.');
    }
}

/** The part as the request it stands for. Throws a GraphError, or a TypeError for a method fetch refuses. */
function innerRequest(part: BatchRequest, url: URL, authorization: string | null): Request {
    if (part.body !== undefined && (part.method === 'GET' || part.method === 'HEAD')) {
        throw badRequest(`A ${part.method} request has no body.`);
    }
    const headers = innerHeaders(part, authorization);
    let body: Uint8Array | undefined;
    const contentType = headers.get('content-type');
    if (part.body !== undefined && contentType !== null && !isJsonMediaType(contentType)) {
        // Any other media type travels base64-encoded, as Graph's batching writes it (and as answers come back).
        if (typeof part.body.value !== 'string' || !BASE64.test(part.body.value)) {
            throw badRequest(`A body of type '${contentType.slice(0, 64)}' must be a base64 string.`);
        }
        body = Buffer.from(part.body.value, 'base64');
    } else if (part.body !== undefined) {
        body = jsonBytes(part.body.value);
    }
    return new Request(url, {
        method: part.method,
        headers,
        ...(body === undefined ? {} : { body }),
    });
}

/** A part the batch answers itself (refused, not run): the same shape and headers as the pipeline's errors. */
function errorResponse(request: BatchRequest, error: GraphError, now: Date): BatchResponse {
    const requestId = randomUUID();
    const sent = Object.entries(request.headers).find(([name]) => name.toLowerCase() === 'client-request-id')?.[1];
    const ids = {
        requestId,
        clientRequestId: sent !== undefined && /^[\x20-\x7e]{1,256}$/.test(sent) ? sent : requestId,
    };
    return {
        id: request.id,
        status: error.status,
        headers: {
            ...error.headers,
            'request-id': ids.requestId,
            'client-request-id': ids.clientRequestId,
            'OData-Version': '4.0',
            'Content-Type': ODATA_JSON,
        },
        body: errorBody(error, ids, now),
    };
}

/** A part's answer as Graph writes it: a JSON body as JSON, anything else (the CSDL, a payload) base64-encoded. */
function toBatchResponse(id: string, init: HttpResponseInit): BatchResponse {
    const headers = { ...(init.headers as Record<string, string> | undefined) };
    const status = init.status ?? 200;
    if (init.body instanceof Uint8Array) {
        return { id, status, headers, body: Buffer.from(init.body).toString('base64') };
    }
    if (typeof init.body !== 'string') {
        return { id, status, headers };
    }
    const type = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
    return {
        id,
        status,
        headers,
        body: /^application\/json\b/i.test(type)
            ? (JSON.parse(init.body) as unknown)
            : Buffer.from(init.body).toString('base64'),
    };
}

/**
 * A part runs within the batch's invocation and trace: its context carries both, so that its Cosmos DB calls are
 * recorded as the batch's top-level calls are, in the operation of the host's request telemetry for the `$batch`
 * (and its invocation), each with the part's own request-id. A fresh invocation id and no trace would put every
 * call of a part in an operation of its own, which nothing else in Application Insights belongs to.
 */
function partContext(routeName: string, batch: RequestScope | undefined, logger: Logger): Context {
    return new InvocationContext({
        invocationId: batch?.invocationId ?? randomUUID(),
        functionName: routeName,
        ...(batch?.traceParent ? { traceContext: { traceParent: batch.traceParent } } : {}),
        logHandler: (level, ...args) => {
            const line = `[$batch ${routeName}] ${args.map(String).join(' ')}`;
            if (level === 'error' || level === 'critical') {
                logger.error(line);
            } else if (level === 'warning') {
                logger.warn(line);
            }
        },
    });
}

const succeeded = (response: BatchResponse) => response.status >= 200 && response.status < 300;

/**
 * The `$batch` operation over a route table. `routes` is read at the first batch, not before, so that the table may
 * hold the batch route itself (functions/routes.ts).
 */
export function batchOperation(routes: () => readonly Route[]): Operation {
    let entries: Entry[] | undefined;
    return async ({ request, services, scope, body }) => {
        entries ??= rankRoutes(routes());
        const requests = parseBatch(await readJsonBody(request, MAX_BATCH_BODY_BYTES, body));
        // The batch keeps to one request's budget, from when its body is in: each part has what is left of it when
        // it starts, so the batch answers in time, however slow its parts.
        const deadline = services.requestBudgetMs === undefined ? undefined : Date.now() + services.requestBudgetMs;
        const origin = new URL(request.url).origin;
        const targets = new Map<string, { entry: Entry; url: URL } | GraphError>();
        for (const part of requests) {
            const url = innerUrl(origin, part.url);
            if (typeof url === 'string') {
                targets.set(key(part.id), badRequest(`Request '${part.id}': ${url}`));
                continue;
            }
            const segments = pathSegments(url.pathname) ?? [];
            const entry = firstMatch(entries, segments)?.entry;
            if (entry === undefined) {
                throw new Error(`no route, not even the catch-all, serves ${url.pathname}`);
            }
            if (isNestedBatch(entry)) {
                throw badRequest(`Request '${part.id}' is a $batch; batches cannot be nested.`);
            }
            targets.set(key(part.id), { entry, url });
        }
        const authorization = request.headers.get('authorization');

        const serve = async (part: BatchRequest): Promise<BatchResponse> => {
            const target = targets.get(key(part.id));
            if (target === undefined || target instanceof GraphError) {
                return errorResponse(part, target ?? badRequest('The request has no target.'), services.clock());
            }
            const remaining = deadline === undefined ? undefined : deadline - Date.now();
            if (remaining !== undefined && remaining <= 0) {
                return errorResponse(part, serviceUnavailable(UNAVAILABLE_RETRY_AFTER_SECONDS), services.clock());
            }
            let native: Request;
            try {
                native = innerRequest(part, target.url, authorization);
            } catch (error) {
                const refused =
                    error instanceof GraphError
                        ? error
                        : badRequest(`The HTTP method '${part.method}' is not supported.`);
                return errorResponse(part, refused, services.clock());
            }
            const partServices: Services = { ...services, requestBudgetMs: remaining, budgetIsRemainder: true };
            const handler: HttpHandler = createHttpHandler(target.entry.route, () => partServices);
            const context = partContext(target.entry.route.name, scope, services.logger);
            const init = (await handler(new HttpRequest({ nativeRequest: native } as HttpRequestInit), context)) as
                HttpResponseInit | undefined;
            return toBatchResponse(part.id, init ?? { status: 500 });
        };

        // `serve` answers every part itself; should it ever throw, that part is a 500 and the batch still answers.
        const serveSafely = (part: BatchRequest) =>
            serve(part).catch((error: unknown) => {
                services.logger.error(`$batch: request '${part.id}' failed: ${String(error)}`);
                return errorResponse(part, internalServerError(), services.clock());
            });
        const responses = await schedule(requests, serveSafely, (part) =>
            errorResponse(
                part,
                new GraphError('FailedDependency', `Request '${part.id}' was not run: a request it depends on failed.`),
                services.clock(),
            ),
        );
        return { status: 200, body: { responses } };
    };
}

/**
 * Runs the parts in `dependsOn` order, at most BATCH_CONCURRENCY at once. A part whose dependency did not succeed
 * is not run: it gets `failed(part)`, and so in turn do the parts that depend on it. Answers are in request order.
 */
export function schedule(
    requests: readonly BatchRequest[],
    /** Never rejects. */
    serve: (part: BatchRequest) => Promise<BatchResponse>,
    failed: (part: BatchRequest) => BatchResponse,
    concurrency = BATCH_CONCURRENCY,
): Promise<BatchResponse[]> {
    const done = new Map<string, BatchResponse>();
    const started = new Set<string>();
    let running = 0;
    return new Promise((resolve) => {
        const pump = () => {
            // At most 20 parts: a few passes over them, until nothing more can start or be settled.
            for (let changed = true; changed;) {
                changed = false;
                for (const part of requests) {
                    const id = key(part.id);
                    if (started.has(id)) {
                        continue;
                    }
                    const deps = part.dependsOn.map((d) => done.get(key(d)));
                    if (deps.some((d) => d !== undefined && !succeeded(d))) {
                        started.add(id);
                        done.set(id, failed(part));
                        changed = true;
                    } else if (deps.every((d) => d !== undefined) && running < concurrency) {
                        started.add(id);
                        running += 1;
                        void serve(part).then((response) => {
                            done.set(id, response);
                            running -= 1;
                            pump();
                        });
                    }
                }
            }
            if (done.size === requests.length) {
                resolve(requests.map((r) => done.get(key(r.id)) as BatchResponse));
            }
        };
        pump();
    });
}
