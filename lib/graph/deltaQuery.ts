/**
 * Delta query's tokens and options (learn.microsoft.com/graph/delta-query-overview). A round is either the initial
 * one, paging the current state, or one of changes since a number of the collection's change log
 * (lib/store/changeLog). Both kinds of link carry a token that is opaque to the client and signed as `$skiptoken` is
 * (lib/graph/queryOptions), bound to the collection: a forged, truncated or transplanted token is a 400. Each token
 * says when the state it stands for was read, and the log's retention then (records written since keep the `ttl` of
 * that retention, whatever the setting says later): one older than either retention is a 410, as Graph answers a
 * token it no longer knows, and the client starts over.
 *
 * - `$deltatoken` (a deltaLink): `d.{number}.{issued}.{retention}`: the changes after `number`.
 * - `$skiptoken` of the initial round: `i.{number}.{issued}.{retention}.{position}`: the next page of the current
 *   state, whose round ends on a deltaLink with `number`, the log's number before the round's first read.
 * - `$skiptoken` of a round of changes: `c.{number}.{issued}.{retention}`: more changes after `number`.
 */
import { badRequest, GraphError } from './errors.js';
import { decodeSkipToken, encodeSkipToken, parseSelectList, readQueryOptions } from './queryOptions.js';

/** Where a token stands: the log's number, when it was read (ms since the epoch), the retention then (seconds). */
export interface Stamp {
    sequence: number;
    issued: number;
    retention: number;
}

export type DeltaPosition =
    ({ kind: 'initial'; position: string } & Stamp) | ({ kind: 'changes' } & Stamp) | { kind: 'latest' };

export interface DeltaOptions {
    /** Where the round goes on; absent: a new initial round. */
    position?: DeltaPosition;
    select?: string[];
    /** Items a page holds at most (`Prefer: odata.maxpagesize`). */
    pageSize: number;
}

export const DEFAULT_DELTA_PAGE_SIZE = 100;
export const MAX_DELTA_PAGE_SIZE = 999;

const NUMBER = /^\d{1,15}$/;
/** A position: an offset in the order, or a base64url continuation of Cosmos DB's (up to 4 KB). */
const POSITION = /^[A-Za-z0-9_-]{0,6000}$/;

const stamped = (stamp: Stamp) => `${stamp.sequence}.${stamp.issued}.${stamp.retention}`;

/** The delta token of a state read at `stamp`. */
export function encodeDeltaToken(key: Buffer, scope: string, stamp: Stamp): string {
    return encodeSkipToken(key, deltaScope(scope), `d.${stamped(stamp)}`);
}

export function encodeInitialToken(key: Buffer, scope: string, stamp: Stamp, position: string): string {
    return encodeSkipToken(key, deltaScope(scope), `i.${stamped(stamp)}.${position}`);
}

export function encodeChangesToken(key: Buffer, scope: string, stamp: Stamp): string {
    return encodeSkipToken(key, deltaScope(scope), `c.${stamped(stamp)}`);
}

/** Signed for delta on one collection: a list's `$skiptoken` never passes for a delta's, nor the reverse. */
const deltaScope = (scope: string) => `delta ${scope}`;

function invalid(option: string): GraphError {
    return badRequest(`The ${option} is not valid for this delta query; start over with a request without a token.`);
}

function decode(key: Buffer, scope: string, option: '$deltatoken' | '$skiptoken', token: string): DeltaPosition {
    let text: string;
    try {
        text = decodeSkipToken(key, deltaScope(scope), token);
    } catch {
        throw invalid(option);
    }
    const [kind, sequence = '', issued = '', retention = '', position, extra] = text.split('.');
    if (!NUMBER.test(sequence) || !NUMBER.test(issued) || !NUMBER.test(retention) || extra !== undefined) {
        throw invalid(option);
    }
    const numbers = { sequence: Number(sequence), issued: Number(issued), retention: Number(retention) };
    if (option === '$deltatoken' && kind === 'd' && position === undefined) {
        return { kind: 'changes', ...numbers };
    }
    if (option === '$skiptoken' && kind === 'c' && position === undefined) {
        return { kind: 'changes', ...numbers };
    }
    if (option === '$skiptoken' && kind === 'i' && position !== undefined && POSITION.test(position)) {
        return { kind: 'initial', ...numbers, position };
    }
    throw invalid(option);
}

/**
 * The options of a delta request: `$deltatoken` or `$skiptoken` (not both), `$select`, and the page size from
 * `Prefer: odata.maxpagesize`. Any other system query option is refused by name.
 */
export function parseDeltaOptions(
    query: URLSearchParams,
    prefer: ReadonlyMap<string, string>,
    key: Buffer,
    scope: string,
    selectable: readonly string[],
    typeName: string,
): DeltaOptions {
    const options = readQueryOptions(query, ['deltatoken', 'skiptoken', 'select'], 'a delta query');
    const deltatoken = options.get('deltatoken');
    const skiptoken = options.get('skiptoken');
    if (deltatoken !== undefined && skiptoken !== undefined) {
        throw badRequest('A delta query takes a $deltatoken or a $skiptoken, not both.');
    }
    let position: DeltaPosition | undefined;
    if (deltatoken !== undefined) {
        position =
            deltatoken.toLowerCase() === 'latest' ? { kind: 'latest' } : decode(key, scope, '$deltatoken', deltatoken);
    } else if (skiptoken !== undefined) {
        position = decode(key, scope, '$skiptoken', skiptoken);
    }
    const select = parseSelectList(options.get('select'), selectable, typeName);
    return {
        ...(position ? { position } : {}),
        ...(select ? { select } : {}),
        pageSize: pageSizeOf(prefer.get('odata.maxpagesize')),
    };
}

/** `odata.maxpagesize` is a preference: a value the service cannot honour is ignored, as RFC 7240 says. */
function pageSizeOf(value: string | undefined): number {
    if (value === undefined || !/^\d{1,6}$/.test(value) || Number(value) < 1) {
        return DEFAULT_DELTA_PAGE_SIZE;
    }
    return Math.min(Number(value), MAX_DELTA_PAGE_SIZE);
}

/**
 * A token older than the retention, now or when it was issued (its records keep that one's `ttl`): the log may no
 * longer hold all that happened since it.
 */
export function checkRetention(position: DeltaPosition | undefined, now: number, retentionSeconds: number): void {
    const limit = position && position.kind !== 'latest' ? Math.min(retentionSeconds, position.retention) : Infinity;
    if (position && position.kind !== 'latest' && now - position.issued > limit * 1000) {
        throw new GraphError(
            'SyncStateNotFound',
            `The delta token is older than the change log's retention (${formatDays(retentionSeconds)}); ` +
                'start over with a delta request without a token.',
        );
    }
}

function formatDays(seconds: number): string {
    const days = seconds / 86_400;
    return Number.isInteger(days) ? `${days} days` : `${seconds} seconds`;
}
