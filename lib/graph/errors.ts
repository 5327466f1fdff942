/**
 * Graph errors: the one place that knows the status, code and body of every error the service returns. Handlers
 * throw a GraphError; lib/http/pipeline turns it (or anything else thrown) into the Graph error body.
 */

export interface GraphErrorDetail {
    code: string;
    message: string;
    target?: string;
}

export type GraphErrorCode =
    | 'BadRequest'
    | 'InvalidAuthenticationToken'
    | 'Authorization_RequestDenied'
    | 'ResourceNotFound'
    | 'MethodNotAllowed'
    | 'RequestTimeout'
    | 'Conflict'
    | 'SyncStateNotFound'
    | 'PreconditionFailed'
    | 'RequestEntityTooLarge'
    | 'UnsupportedMediaType'
    | 'UnprocessableEntity'
    | 'FailedDependency'
    | 'RequestHeaderFieldsTooLarge'
    | 'TooManyRequests'
    | 'ServiceUnavailable'
    | 'InternalServerError';

const STATUS: Record<GraphErrorCode, number> = {
    BadRequest: 400,
    InvalidAuthenticationToken: 401,
    Authorization_RequestDenied: 403,
    ResourceNotFound: 404,
    MethodNotAllowed: 405,
    RequestTimeout: 408,
    Conflict: 409,
    /** Delta query: the token is older than what the change log keeps (lib/graph/deltaQuery). */
    SyncStateNotFound: 410,
    PreconditionFailed: 412,
    RequestEntityTooLarge: 413,
    UnsupportedMediaType: 415,
    UnprocessableEntity: 422,
    FailedDependency: 424,
    RequestHeaderFieldsTooLarge: 431,
    TooManyRequests: 429,
    ServiceUnavailable: 503,
    InternalServerError: 500,
};

export class GraphError extends Error {
    readonly status: number;

    constructor(
        readonly code: GraphErrorCode,
        message: string,
        readonly details: GraphErrorDetail[] = [],
        /** Extra response headers: `Allow`, `Retry-After`, `WWW-Authenticate`. */
        readonly headers: Record<string, string> = {},
    ) {
        super(message);
        this.name = 'GraphError';
        this.status = STATUS[code];
    }
}

export const badRequest = (message: string, details?: GraphErrorDetail[]) =>
    new GraphError('BadRequest', message, details);

export const notFound = (message: string) => new GraphError('ResourceNotFound', message);

export const methodNotAllowed = (method: string, allow: readonly string[]) =>
    new GraphError('MethodNotAllowed', `The HTTP method '${method}' is not allowed on this resource.`, [], {
        Allow: allow.join(', '),
    });

export const serviceUnavailable = (retryAfterSeconds: number) =>
    new GraphError(
        'ServiceUnavailable',
        'The service is temporarily unavailable. Retry the request after the time given in Retry-After.',
        [],
        { 'Retry-After': String(retryAfterSeconds) },
    );

export const tooManyRequests = (retryAfterSeconds: number) =>
    new GraphError('TooManyRequests', 'Too many requests. Retry the request after the time given in Retry-After.', [], {
        'Retry-After': String(retryAfterSeconds),
    });

/** The attributes of an RFC 6750 `WWW-Authenticate: Bearer` challenge. */
export interface BearerChallenge {
    realm: string;
    /** Absent when the request carried no token at all (RFC 6750 section 3.1). */
    error?: 'invalid_token' | 'insufficient_scope';
    description?: string;
    scope?: string;
}

// RFC 6750 allows these characters in attribute values; anything else is dropped rather than escaped.
const quoted = (value: string) => `"${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '')}"`;

export function bearerChallenge(challenge: BearerChallenge): string {
    const attributes: [string, string | undefined][] = [
        ['realm', challenge.realm],
        ['error', challenge.error],
        ['error_description', challenge.description],
        ['scope', challenge.scope],
    ];
    const present = attributes.filter((a): a is [string, string] => a[1] !== undefined);
    return `Bearer ${present.map(([name, value]) => `${name}=${quoted(value)}`).join(', ')}`;
}

export const invalidAuthenticationToken = (message: string, challenge: BearerChallenge) =>
    new GraphError('InvalidAuthenticationToken', message, [], { 'WWW-Authenticate': bearerChallenge(challenge) });

export const requestDenied = (message: string, challenge: BearerChallenge) =>
    new GraphError('Authorization_RequestDenied', message, [], { 'WWW-Authenticate': bearerChallenge(challenge) });

export const internalServerError = () =>
    new GraphError('InternalServerError', 'An unexpected error occurred. Quote the request-id when reporting it.');

export interface GraphErrorBody {
    error: {
        code: string;
        message: string;
        details?: GraphErrorDetail[];
        innerError: { date: string; 'request-id': string; 'client-request-id': string };
    };
}

/** Graph writes `date` in UTC to the second, without a zone designator. */
export function graphDate(now: Date): string {
    return now.toISOString().slice(0, 19);
}

export function errorBody(
    error: GraphError,
    ids: { requestId: string; clientRequestId: string },
    now: Date,
): GraphErrorBody {
    return {
        error: {
            code: error.code,
            message: error.message,
            ...(error.details.length > 0 ? { details: error.details } : {}),
            innerError: { date: graphDate(now), 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId },
        },
    };
}
