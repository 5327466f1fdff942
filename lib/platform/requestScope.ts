/**
 * Which API request a Cosmos DB call was made for, without passing it from the handler down to the store: an
 * AsyncLocalStorage scope entered around each function invocation. Telemetry reads it to put the request-id on a
 * dependency record (what a client quotes in a support case) and the invocation's trace id (the operation id of the
 * Functions host's own request telemetry, which joins the two in Application Insights).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

import type { HttpHandler, HttpResponseInit } from '@azure/functions';

export interface RequestScope {
    /** The request-id the pipeline answered with: lib/http makes it, so it is known once the handler returns. */
    requestId?: string;
    invocationId: string;
    /** Trace id of the invocation's W3C `traceparent`, when the host gave one. */
    traceId?: string;
}

interface OpenScope extends RequestScope {
    /** Records waiting for the request-id; undefined once the handler has answered. */
    waiting?: (() => void)[];
}

const storage = new AsyncLocalStorage<OpenScope>();

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

function traceIdOf(traceParent: string | null | undefined): string | undefined {
    const traceId = traceParent ? TRACEPARENT.exec(traceParent.trim().toLowerCase())?.[1] : undefined;
    return traceId && !/^0+$/.test(traceId) ? traceId : undefined;
}

function requestIdOf(response: HttpResponseInit | undefined): string | undefined {
    const headers = response?.headers;
    if (headers === undefined) {
        return undefined;
    }
    return new Headers(headers as ConstructorParameters<typeof Headers>[0]).get('request-id') ?? undefined;
}

/**
 * Calls `record` with the current request's scope: at once when its request-id is known or when there is no scope,
 * else as soon as the handler has answered. Calls made during a request are few, so holding them costs nothing.
 */
export function withRequestScope(record: (scope: RequestScope | undefined) => void): void {
    const scope = storage.getStore();
    if (scope?.waiting) {
        scope.waiting.push(() => record(scope));
    } else {
        record(scope);
    }
}

/**
 * Runs a function's handler inside a request scope. Calls that end after the answer (an operation past its time
 * budget) find the scope settled and are recorded at once, still with the request-id.
 */
export function instrumentHandler(handler: HttpHandler): HttpHandler {
    return async (request, context) => {
        const traceId = traceIdOf(context.traceContext?.traceParent);
        const scope: OpenScope = { invocationId: context.invocationId, ...(traceId ? { traceId } : {}), waiting: [] };
        let response: HttpResponseInit | undefined;
        try {
            response = await storage.run(scope, () => handler(request, context));
            return response;
        } finally {
            const requestId = requestIdOf(response);
            if (requestId !== undefined) {
                scope.requestId = requestId;
            }
            const waiting = scope.waiting ?? [];
            scope.waiting = undefined;
            for (const record of waiting) {
                record();
            }
        }
    };
}
