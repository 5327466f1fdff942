/**
 * Which API request a Cosmos DB call was made for. The pipeline (lib/http/pipeline) makes the request-id before anything else
 * and hands the scope down as a plain value, in the request's view of the store (lib/store/assignmentStore `forRequest`), which
 * gives it to the observer with each call. Telemetry puts the request-id on the dependency record (what a client
 * quotes in a support case) and the invocation's trace id (the operation id of the Functions host's own request
 * telemetry, which joins the two in Application Insights). A `$batch` part has a request-id of its own in the batch's
 * invocation and trace (lib/http/batch), so its calls join the batch's request telemetry. No AsyncLocalStorage: one
 * would put a hook on every promise of the process, and the scope is known where the store is called anyway.
 */
import { type AuditActor, UNAUTHENTICATED_ACTOR } from '../store/changeLog.js';
import type { Caller } from './auth.js';

export interface RequestScope {
    /** The request-id the pipeline answers with. */
    requestId: string;
    /** Who sent it, as the audit trail names them (lib/store/changeLog); absent outside requests. */
    actor?: AuditActor;
    invocationId: string;
    /** The invocation's W3C `traceparent`, when the host gave one; read only when a record is made (traceIdOf). */
    traceParent?: string;
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** The trace id of a `traceparent`, unless it is malformed or all zeros (invalid, per W3C Trace Context). */
export function traceIdOf(traceParent: string | null | undefined): string | undefined {
    const traceId = traceParent ? TRACEPARENT.exec(traceParent.trim().toLowerCase())?.[1] : undefined;
    return traceId && !/^0+$/.test(traceId) ? traceId : undefined;
}

/** The scope of one invocation, as the pipeline makes it. */
export function requestScopeOf(
    requestId: string,
    context: { invocationId: string; traceContext?: { traceParent?: string | null } },
): RequestScope {
    const traceParent = context.traceContext?.traceParent;
    return { requestId, invocationId: context.invocationId, ...(traceParent ? { traceParent } : {}) };
}

/** The audit trail's actor of an authenticated caller; `undefined` (authentication off) is said to be so. */
export function actorOf(caller: Caller | undefined): AuditActor {
    if (caller === undefined) {
        return UNAUTHENTICATED_ACTOR;
    }
    const delegated = caller.kind === 'delegated';
    return {
        auditActorType: delegated ? 'ItPro' : 'Application',
        type: delegated ? 'ItPro' : 'Application',
        userId: delegated ? (caller.objectId ?? null) : null,
        userPrincipalName: caller.userPrincipalName ?? null,
        applicationId: caller.applicationId ?? null,
        applicationDisplayName: caller.applicationDisplayName ?? null,
        servicePrincipalName: null,
        ipAddress: null,
        userPermissions: caller.granted ?? [],
    };
}
