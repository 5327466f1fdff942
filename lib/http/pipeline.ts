/**
 * The request pipeline every function shares: request ids, method dispatch (405), error translation and the headers
 * Graph puts on every response. A route's operations only say what happens; this module says how it is answered.
 */
import { randomUUID } from 'node:crypto';

import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

import {
    badRequest,
    errorBody,
    GraphError,
    internalServerError,
    methodNotAllowed,
    serviceUnavailable,
    tooManyRequests,
} from '../graph/errors.js';
import { ODATA_JSON, serviceRoot } from '../graph/odata.js';
import type { Caller } from '../platform/auth.js';
import { actorOf, type RequestScope, requestScopeOf } from '../platform/requestScope.js';
import type { Access, Services } from '../platform/services.js';
import { StoreError, type StoreRequest } from '../store/assignmentStore.js';
import type { BodyTiming } from './body.js';
import { compileTemplate, decodeParams, matchTemplate, PathDecodingError, pathSegments } from './routing.js';

export const HTTP_METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** What a client is told to wait when storage is unreachable: long enough for a failover or a restart. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

export interface OperationCall {
    request: HttpRequest;
    /** Route parameters, percent-decoded once. */
    params: Record<string, string>;
    /** The query string as sent, duplicates kept (hosts differ in how they fold them). */
    query: URLSearchParams;
    /** The service root as the client addressed it, e.g. `https://host/beta`. */
    root: string;
    services: Services;
    /** How the body is timed: hand it to the body readers (lib/http/body), so the store's budget waits for the body. */
    body: BodyTiming;
    /** Whose work this is, for telemetry ($batch runs its parts in the same invocation and trace). */
    scope: RequestScope;
    /** Who sent it; absent when authentication is off (a local run). */
    caller?: Caller;
}

export interface OperationResult {
    status: number;
    /** Sent as OData JSON. */
    body?: unknown;
    /**
     * A body already serialised in another media type (the service documents, a stream property's bytes); sent as is,
     * instead of `body`.
     */
    content?: { type: string; text: string | Uint8Array };
    headers?: Record<string, string>;
}

export type Operation = (call: OperationCall) => Promise<OperationResult>;

export interface Route {
    /** The function's name in Azure. */
    name: string;
    /** Route template under the `beta` prefix, in the Functions syntax. */
    template: string;
    operations: Partial<Record<HttpMethod, Operation>>;
    /** Served without a token: the service documents, which Graph too serves to anyone. */
    anonymous?: boolean;
    /** What the token must allow whatever the method, where the method does not say it ($batch: each part decides). */
    access?: Access;
    /** The operation keeps to `services.requestBudgetMs` itself ($batch: a part over time is a 503, not the batch). */
    ownBudget?: boolean;
    /**
     * The least budget the operation gets, where it waits on more than the store (a subscription's validation
     * handshake); lib/platform/config counts it in the request's limits.
     */
    minBudgetMs?: number;
}

/**
 * What the token must allow. A method the route does not serve needs only the read permission: its answer (405 and
 * `Allow`) tells a caller no more than a read would.
 */
const accessOf = (method: string, served: boolean): Access =>
    !served || method === 'GET' || method === 'HEAD' ? 'read' : 'write';

/** HEAD is GET without the body (RFC 9110 section 9.3.2), wherever GET is served. */
function operationFor(route: Route, method: string): Operation | undefined {
    return route.operations[method as HttpMethod] ?? (method === 'HEAD' ? route.operations.GET : undefined);
}

const PRINTABLE = /^[\x20-\x7e]{1,256}$/;

function clientRequestIdOf(request: HttpRequest, requestId: string): string {
    const sent = request.headers.get('client-request-id')?.trim();
    return sent && PRINTABLE.test(sent) ? sent : requestId;
}

function toGraphError(error: unknown): GraphError | undefined {
    if (error instanceof GraphError) {
        return error;
    }
    if (error instanceof PathDecodingError) {
        return badRequest(error.message);
    }
    if (error instanceof StoreError) {
        switch (error.kind) {
            case 'unavailable':
                return serviceUnavailable(UNAVAILABLE_RETRY_AFTER_SECONDS);
            case 'throttled': {
                // The SDK's retry-after may be missing or not a number: never send `Retry-After: NaN`.
                const ms = Number.isFinite(error.retryAfterMs) ? (error.retryAfterMs as number) : 1000;
                return tooManyRequests(Math.max(1, Math.ceil(ms / 1000)));
            }
            case 'notFound':
                return new GraphError('ResourceNotFound', 'The assignment does not exist.');
            case 'conflict':
                return new GraphError('Conflict', 'The request conflicts with a concurrent change; retry it.');
            case 'limitReached':
                return new GraphError('Conflict', `${error.message}; delete assignments before adding more.`);
            case 'preconditionFailed':
                return new GraphError('PreconditionFailed', 'The If-Match ETag does not match the current assignment.');
            case 'invalidContinuation':
                return badRequest('The $skiptoken is not valid.');
            case 'unexpected':
                return undefined;
        }
    }
    return undefined;
}

/**
 * Races an operation against the request's time budget, which runs while the operation works and waits while its
 * body arrives: the body has its own time (`body.timeoutMs`, a 408 past it), and the store gets its whole budget
 * once the body is in. When the budget runs out the client gets a 503, and the budget, a plain value the
 * operation's view of the store reads before each Cosmos call (lib/store/assignmentStore `forRequest`), is marked
 * expired: the operation may start no further call. A call already in flight is not cancelled, so a write may
 * still land: its client may retry, safely with an Idempotency-Key.
 */
async function withinBudget<T>(
    operation: (body: BodyTiming, budget?: StoreRequest['budget']) => Promise<T>,
    limits: { budgetMs: number | undefined; bodyTimeoutMs: number | undefined },
    onLateFailure: (error: unknown) => void,
): Promise<T> {
    const { budgetMs, bodyTimeoutMs } = limits;
    const timeout = bodyTimeoutMs === undefined ? {} : { timeoutMs: bodyTimeoutMs };
    if (budgetMs === undefined) {
        return await operation({ ...timeout, reading: () => undefined, read: () => undefined });
    }
    const budget = { expired: false, deadline: Date.now() + budgetMs };
    return await new Promise<T>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const start = () => {
            clearTimeout(timer);
            budget.deadline = Date.now() + budgetMs;
            timer = setTimeout(() => {
                budget.expired = true;
                reject(new StoreError('unavailable', `the request did not complete within ${budgetMs} ms`));
            }, budgetMs);
        };
        start();
        // The budget waits for a body only where the body has a time of its own: never both without a limit.
        const body: BodyTiming =
            bodyTimeoutMs === undefined
                ? { reading: () => undefined, read: () => undefined }
                : { ...timeout, reading: () => clearTimeout(timer), read: start };
        // Through a promise: an operation that throws at once rejects like one that fails later, its timer cleared.
        Promise.resolve()
            .then(() => operation(body, budget))
            .then(
                (value) => {
                    clearTimeout(timer);
                    resolve(value);
                },
                (error: unknown) => {
                    clearTimeout(timer);
                    if (budget.expired) {
                        onLateFailure(error); // answered already: logged, never an unhandled rejection
                    } else {
                        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passed on as it came
                        reject(error);
                    }
                },
            );
    });
}

function describe(error: unknown): string {
    if (error instanceof Error) {
        const cause = (error as { cause?: unknown }).cause;
        return `${error.stack ?? error.message}${cause instanceof Error ? `\ncaused by: ${cause.stack ?? cause.message}` : ''}`;
    }
    return String(error);
}

/**
 * What a host that routed the request itself already knows (lib/http/localHost): the URL it parsed and the route's
 * parameters, still encoded. The pipeline then neither parses the URL again nor matches the route a second time.
 */
export interface RoutedRequest {
    url: URL;
    params: Record<string, string>;
}

/** A Functions HTTP handler, which a host that routed the request may also hand what it knows. */
export type RouteHandler = (
    request: HttpRequest,
    context: InvocationContext,
    routed?: RoutedRequest,
) => Promise<HttpResponseInit>;

/** Wraps a route into a Functions HTTP handler. `services` is called per request so the app can create it lazily. */
export function createHttpHandler(route: Route, services: () => Services): RouteHandler {
    const compiled = compileTemplate(route.template);
    const allowed = HTTP_METHODS.filter((m) => route.operations[m]);
    // The configured public origin is parsed once, not on every request (it changes only with the settings).
    let publicOrigin: string | undefined;
    let publicRoot = '';
    const rootOf = (origin: string) => {
        if (origin !== publicOrigin) {
            publicRoot = serviceRoot(origin);
            publicOrigin = origin;
        }
        return publicRoot;
    };
    return async (request, context, routed) => {
        const requestId = randomUUID();
        const ids = { requestId, clientRequestId: clientRequestIdOf(request, requestId) };
        const current = services();
        let result: OperationResult;
        try {
            const operation = operationFor(route, request.method);
            let caller: Caller | undefined;
            if (!route.anonymous) {
                // First of all: without a token, nothing about the route (its methods, its parameters) is told, and
                // nothing is read or stored. The body is a stream no one has pulled yet.
                caller = await current.authenticator?.authenticate(
                    request.headers.get('authorization'),
                    route.access ?? accessOf(request.method, operation !== undefined),
                );
            }
            if (!operation) {
                throw methodNotAllowed(request.method, allowed);
            }
            const url = routed?.url ?? new URL(request.url);
            const params = decodeParams(
                routed?.params ?? matchTemplate(compiled, pathSegments(url.pathname) ?? []) ?? {},
            );
            // The request's view of the store: its budget and its scope travel as plain values, not in an
            // AsyncLocalStorage (which would hook every promise of the process).
            const scope: RequestScope = { ...requestScopeOf(requestId, context), actor: actorOf(caller) };
            result = await withinBudget(
                (body, budget) =>
                    operation({
                        request,
                        params,
                        query: url.searchParams,
                        root: current.publicOrigin !== undefined ? rootOf(current.publicOrigin) : `${url.origin}/beta`,
                        services: {
                            ...current,
                            store: current.store.forRequest({ scope, ...(budget ? { budget } : {}) }),
                        },
                        body,
                        scope,
                        ...(caller ? { caller } : {}),
                    }),
                {
                    budgetMs:
                        route.ownBudget || current.requestBudgetMs === undefined
                            ? undefined
                            : current.budgetIsRemainder
                              ? current.requestBudgetMs
                              : Math.max(current.requestBudgetMs, route.minBudgetMs ?? 0),
                    bodyTimeoutMs: current.bodyTimeoutMs,
                },
                (late) => context.warn(`request-id ${requestId}: finished after its budget: ${describe(late)}`),
            );
        } catch (error) {
            let graphError = toGraphError(error);
            if (graphError === undefined || graphError.status >= 500) {
                // Server-side detail stays in the log, keyed by the request-id the client was given.
                context.error(`request-id ${requestId}: ${request.method} ${route.name} failed: ${describe(error)}`);
            }
            graphError ??= internalServerError();
            result = {
                status: graphError.status,
                body: errorBody(graphError, ids, current.clock()),
                headers: graphError.headers,
            };
        }
        const [type, text] =
            result.content !== undefined
                ? [result.content.type, result.content.text]
                : result.body !== undefined
                  ? [ODATA_JSON, JSON.stringify(result.body)]
                  : [undefined, undefined];
        // Plain assignments, not spreads of conditional objects: this runs for every response.
        const headers: Record<string, string> = Object.assign({}, result.headers);
        headers['request-id'] = ids.requestId;
        headers['client-request-id'] = ids.clientRequestId;
        headers['OData-Version'] = '4.0';
        // No answer of this API is anything but what its Content-Type says (a payload is not a page).
        headers['X-Content-Type-Options'] = 'nosniff';
        if (type !== undefined) {
            headers['Content-Type'] = type;
        }
        // HEAD: the headers GET would send, without its body.
        return text === undefined || request.method === 'HEAD'
            ? { status: result.status, headers }
            : { status: result.status, headers, body: text };
    };
}

/**
 * Answers every method on paths no route serves, naming the first segment that leads nowhere, as Graph does
 * ("Resource not found for the segment 'x'.").
 */
export function unknownSegment(templates: readonly string[]): Partial<Record<HttpMethod, Operation>> {
    const compiled = templates.map(compileTemplate);
    const operation: Operation = ({ request }) => {
        const segments = pathSegments(new URL(request.url).pathname) ?? [];
        const index = segments.findIndex(
            (_, i) =>
                !compiled.some((t) =>
                    matchTemplate({ ...t, segments: t.segments.slice(0, i + 1) }, segments.slice(0, i + 1)),
                ),
        );
        // Every segment may lead somewhere (a path cut short, such as `officeConfiguration`): name the last one.
        const segment = segments[index === -1 ? segments.length - 1 : index] ?? '';
        return Promise.reject(
            segment === ''
                ? badRequest('Invalid request: the service root has no resource of its own.')
                : badRequest(`Resource not found for the segment '${safeDecode(segment)}'.`),
        );
    };
    return Object.fromEntries(HTTP_METHODS.map((m) => [m, operation]));
}

function safeDecode(segment: string): string {
    try {
        return decodeURIComponent(segment);
    } catch {
        return segment;
    }
}
