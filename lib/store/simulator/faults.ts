/**
 * The failures a request can meet before it reaches the backend. A race test needs a fault on the one request it is
 * about (this create's answer lost, that DELETE committed late), which chance would hit once in thousands of runs:
 * intercept rules aim one there. Azure also answers 408/410/449/503 now and then, to any request, at the profile's
 * rates; those are drawn here from their own random stream, so that changing a rate does not shift the latencies a
 * seed replays.
 */
import { type CosmosProfile, type FaultGroup, TRANSIENT_STATUSES, type TransientStatus } from './profile.js';
import { type Answer, cosmosError, idOf, type ObservedRequest, type OperationKind, WRITE_KINDS } from './protocol.js';

export type InterceptAction =
    /**
     * A write held unanswered until the client gives up (its request times out or is aborted) or `holdMs` passes
     * (then the connection is reset), and applied `afterMs` later; its answer is discarded.
     */
    | { type: 'lateCommit'; afterMs: number; holdMs?: number }
    /** Applied, then the connection is destroyed without an answer (a reset after commit). */
    | { type: 'lostAnswer' }
    /** Answered with this status, without being applied. */
    | { type: 'status'; status: number; retryAfterMs?: number; substatus?: number }
    /** Forwarded this much later. */
    | { type: 'delay'; ms: number };

export interface InterceptRule {
    kind?: OperationKind | readonly OperationKind[];
    /** Compared with the request's parsed partition key (its first component). */
    partitionKey?: unknown;
    /** The document's id; a batch matches when one of its operations names it. */
    id?: string;
    where?: (request: ObservedRequest) => boolean;
    action: InterceptAction;
    /** How many requests the rule hits before it retires; default 1. */
    times?: number;
}

export interface InterceptHandle {
    readonly hits: number;
    remove(): void;
}

const FAULT_GROUP: Record<OperationKind, FaultGroup | undefined> = {
    pointRead: 'reads',
    create: 'writes',
    upsert: 'writes',
    replace: 'writes',
    patch: 'writes',
    delete: 'writes',
    batch: 'batches',
    query: 'queries',
    metadata: undefined,
};

function matches(rule: InterceptRule, request: ObservedRequest): boolean {
    const kinds = rule.kind === undefined ? undefined : [rule.kind].flat();
    if (kinds && !kinds.includes(request.kind)) {
        return false;
    }
    if (rule.partitionKey !== undefined && JSON.stringify(rule.partitionKey) !== JSON.stringify(request.partitionKey)) {
        return false;
    }
    if (rule.id !== undefined) {
        const ids = request.operations ? request.operations.map((op) => op.id ?? idOf(op.resourceBody)) : [request.id];
        if (!ids.includes(rule.id)) {
            return false;
        }
    }
    return rule.where?.(request) ?? true;
}

/** The rules in force, first added first tried; a rule past its `times` stays listed but no longer matches. */
export class InterceptRules {
    readonly #entries: { rule: InterceptRule; hits: number }[] = [];

    add(rule: InterceptRule): InterceptHandle {
        const entry = { rule, hits: 0 };
        const entries = this.#entries;
        entries.push(entry);
        return {
            get hits() {
                return entry.hits;
            },
            remove() {
                const index = entries.indexOf(entry);
                if (index >= 0) {
                    entries.splice(index, 1);
                }
            },
        };
    }

    /**
     * The action of the first rule the request meets, counted as a hit. `observe` parses the request's body: it is
     * called only when there are rules, so that a run without any does not pay for it.
     */
    take(observe: () => ObservedRequest): InterceptAction | undefined {
        if (this.#entries.length === 0) {
            return undefined;
        }
        const observed = observe();
        const entry = this.#entries.find((r) => r.hits < (r.rule.times ?? 1) && matches(r.rule, observed));
        if (entry) {
            entry.hits += 1;
        }
        return entry?.rule.action;
    }
}

/** The transient status chance answers this request with, at the profile's rates; undefined: none. */
export function pickFault(
    profile: CosmosProfile,
    kind: OperationKind,
    random: () => number,
): TransientStatus | undefined {
    const group = FAULT_GROUP[kind];
    if (!group) {
        return undefined;
    }
    const rates = profile.faults.rates[group];
    let draw = random();
    for (const status of TRANSIENT_STATUSES) {
        // 449 only ever answers a write.
        const rate = status === 449 && !WRITE_KINDS.has(kind) ? 0 : rates[status];
        if (draw < rate) {
            return status;
        }
        draw -= rate;
    }
    return undefined;
}

/** An injected answer: no charge, and the substatus Azure gives a transient status unless one is asked for. */
export function faultAnswer(profile: CosmosProfile, status: number, substatus?: number, retryAfterMs?: number): Answer {
    const transient = (TRANSIENT_STATUSES as readonly number[]).includes(status);
    const sub = substatus ?? (transient ? profile.faults.substatus[status as TransientStatus] : undefined);
    return cosmosError(status, {
        'x-ms-request-charge': '0.00',
        ...(sub ? { 'x-ms-substatus': String(sub) } : {}),
        ...(retryAfterMs !== undefined ? { 'x-ms-retry-after-ms': String(retryAfterMs) } : {}),
    });
}
