/**
 * Replicas that trail the writes. The embedded server is one copy that every read sees at once; under Session
 * consistency Azure lets a read that carries no session token covering another client's write be served by a
 * replica that has not applied it yet. Every commit here takes the next LSN of the container (one physical
 * partition: one sequence), the versions of the documents that flowed through the simulator are kept for as long
 * as a lagging replica could still serve them, and a read at a given LSN is told which version it sees. Documents
 * whose history the simulator did not see (written behind its back, or evicted) are served as they are.
 */
import type { DocumentSummary } from './requestCharge.js';

/** A version whose content the simulator did not see (its body was not kept, or it predates what it saw). */
export const UNKNOWN = Symbol('unknown version');

/** A document as of one LSN: its body, or null when it did not exist. */
export type VersionBody = Record<string, unknown> | null | typeof UNKNOWN;

export interface Version {
    lsn: number;
    /** When it was committed, in ms (the simulator's clock). */
    at: number;
    body: VersionBody;
    /** For charges: the size and indexed terms, kept even when the body is not. */
    summary?: DocumentSummary;
}

/** A change of one commit. `before` says what preceded it when the simulator holds nothing older for the document. */
export interface Change {
    key: string;
    body: VersionBody;
    summary?: DocumentSummary;
    before: 'absent' | 'unknown';
}

interface Entry {
    versions: Version[];
    bytes: number;
}

export interface ReplicationOptions {
    /** How long a version stays servable to a lagging replica, in ms. */
    retainMs: () => number;
    /** About this many bytes of history at most (bodies kept, terms); the least recently touched documents go first. */
    maxBytes: number;
    now?: () => number;
}

/** The key of a document: its partition key (as sent in `x-ms-documentdb-partitionkey`) and its id. */
export function documentKey(partitionKey: string | undefined, id: string): string {
    return `${partitionKey ?? ''}\u0000${id}`;
}

/** A session token in the SDK's format (`<pkRangeId>:<version>#<globalLsn>`), for the container's one range. */
export function sessionToken(lsn: number): string {
    return `0:-1#${lsn}`;
}

/** The highest LSN a request's `x-ms-session-token` covers (any of its ranges), or undefined. */
export function sessionTokenLsn(header: string | string[] | undefined): number | undefined {
    let highest: number | undefined;
    for (const part of [header ?? []].flat().join(',').split(',')) {
        const vector = part.slice(part.indexOf(':') + 1);
        const lsn = Number(vector.split('#')[1]);
        if (Number.isFinite(lsn)) {
            highest = Math.max(highest ?? lsn, lsn);
        }
    }
    return highest;
}

export class Replication {
    /** The last LSN committed. */
    lsn = 0;
    readonly #documents = new Map<string, Entry>();
    /** `[at, lsn]` of recent commits, oldest first: which LSN a replica that trails by some time has. */
    readonly #commits: [number, number][] = [];
    #bytes = 0;
    readonly #options: ReplicationOptions;
    readonly #now: () => number;

    constructor(options: ReplicationOptions) {
        this.#options = options;
        this.#now = options.now ?? (() => performance.now());
    }

    /** Applies the changes of one successful write (a point write, or a whole batch) under one new LSN. */
    commit(changes: readonly Change[]): number {
        const at = this.#now();
        this.lsn += 1;
        const lsn = this.lsn;
        this.#commits.push([at, lsn]);
        this.#prune(at);
        for (const change of changes) {
            const entry = this.#touch(change.key);
            if (entry.versions.length === 0) {
                entry.versions.push({ lsn: 0, at: -Infinity, body: change.before === 'absent' ? null : UNKNOWN });
            }
            entry.versions.push({ lsn, at, body: change.body, ...(change.summary ? { summary: change.summary } : {}) });
            this.#trim(entry, at);
        }
        this.#evict();
        return lsn;
    }

    /** A document read fresh with no history here: it has been as it is since before anything tracked. */
    observe(key: string, body: VersionBody, summary: DocumentSummary | undefined): void {
        if (this.#documents.has(key)) {
            return;
        }
        const entry = this.#touch(key);
        entry.versions.push({ lsn: 0, at: -Infinity, body, ...(summary ? { summary } : {}) });
        this.#account(entry);
        this.#evict();
    }

    /** The latest version the simulator holds of a document, if any. */
    latest(key: string): Version | undefined {
        return this.#documents.get(key)?.versions.at(-1);
    }

    /** The LSN a replica that has everything committed up to `time` is at. */
    lsnAt(time: number): number {
        const commits = this.#commits;
        let low = 0;
        let high = commits.length - 1;
        let found = -1;
        while (low <= high) {
            const middle = (low + high) >> 1;
            if ((commits[middle]?.[0] ?? Infinity) <= time) {
                found = middle;
                low = middle + 1;
            } else {
                high = middle - 1;
            }
        }
        if (found >= 0) {
            return commits[found]?.[1] ?? this.lsn;
        }
        // Everything recorded is newer than `time`: the replica is just before the oldest commit recorded.
        return commits.length > 0 ? (commits[0]?.[1] ?? 1) - 1 : this.lsn;
    }

    /**
     * The version of a document a replica at `lsn` serves, or undefined when that is the latest one or the
     * simulator cannot tell (the body there is unknown, or it holds nothing for the document).
     */
    olderVersionAt(key: string, lsn: number): Version | undefined {
        const versions = this.#documents.get(key)?.versions;
        if (!versions || versions.length < 2) {
            return undefined;
        }
        for (let i = versions.length - 1; i >= 0; i -= 1) {
            const version = versions[i];
            if (version && version.lsn <= lsn) {
                return i === versions.length - 1 || version.body === UNKNOWN ? undefined : version;
            }
        }
        return undefined;
    }

    #touch(key: string): Entry {
        const entry = this.#documents.get(key) ?? { versions: [], bytes: 0 };
        // Map order is the eviction order: a touched document moves to the end.
        this.#documents.delete(key);
        this.#documents.set(key, entry);
        return entry;
    }

    /** Drops the versions no replica can serve any more: those older than the newest one before the horizon. */
    #trim(entry: Entry, now: number): void {
        const horizon = now - this.#options.retainMs();
        let keepFrom = 0;
        entry.versions.forEach((v, i) => {
            if (v.at <= horizon) {
                keepFrom = i;
            }
        });
        if (keepFrom > 0) {
            entry.versions.splice(0, keepFrom);
        }
        this.#account(entry);
    }

    /** What an entry holds, roughly: a body's size when it is kept, its terms, and some overhead per version. */
    #account(entry: Entry): void {
        let bytes = 0;
        for (const version of entry.versions) {
            bytes += version.body !== null && version.body !== UNKNOWN ? (version.summary?.size ?? 0) : 0;
            version.summary?.terms.forEach((term) => (bytes += 2 * term.length + 32));
            bytes += 96;
        }
        this.#bytes += bytes - entry.bytes;
        entry.bytes = bytes;
    }

    #prune(now: number): void {
        const horizon = now - this.#options.retainMs();
        let drop = 0;
        while (drop + 1 < this.#commits.length && (this.#commits[drop + 1]?.[0] ?? Infinity) <= horizon) {
            drop += 1;
        }
        if (drop > 0) {
            this.#commits.splice(0, drop);
        }
    }

    #evict(): void {
        for (const [key, entry] of this.#documents) {
            if (this.#bytes <= this.#options.maxBytes) {
                return;
            }
            this.#documents.delete(key);
            this.#bytes -= entry.bytes;
        }
    }
}
