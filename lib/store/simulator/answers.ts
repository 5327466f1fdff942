/**
 * What Azure makes of a request that reaches its storage. The embedded server's answer is the right document but
 * the wrong everything else: it charges 1 RU, carries no session token Azure's SDK can use, and is always the latest
 * version. Here each answer gets the charge Azure would give it (by size, indexed terms and consistency), each write
 * commits the next LSN of the container, in the order the backend applied them, and a read by a client whose session
 * does not cover a write may be served by a replica that has not applied it yet.
 */
import type { IncomingMessage } from 'node:http';

import type { BackendClient } from './backendClient.js';
import { KeyedQueue } from './keyedQueue.js';
import { CONSISTENCY_LEVELS, type ConsistencyLevel, type CosmosProfile } from './profile.js';
import {
    type Answer,
    asObject,
    type BatchOperation,
    type Classified,
    cosmosError,
    header,
    idOf,
    parseJson,
    WRITE_KINDS,
} from './protocol.js';
import { type Change, documentKey, type Replication, sessionToken, sessionTokenLsn, UNKNOWN } from './replication.js';
import {
    createCharge,
    deleteCharge,
    type DocumentSummary,
    patchCharge,
    pointReadCharge,
    queryCharge,
    replaceCharge,
    roundCharge,
    summarize,
} from './requestCharge.js';
import type { Stats } from './stats.js';
import type { ThroughputBudget } from './throughput.js';

/** What the simulator adds to a forwarded answer: its charge, and the session token it carries. */
interface Outcome {
    answer: Answer;
    charge: number;
    /** The LSN the answer's session token reports; undefined: no token (metadata). */
    lsn: number | undefined;
}

/** What answers depend on; the getters are read at each answer, since `configure` and `resetStats` replace them. */
export interface AnswerContext {
    profile(): CosmosProfile;
    stats(): Stats;
    /** The simulator's endpoint, which the account read names in place of the backend's. */
    endpoint(): string;
    backend: BackendClient;
    budget: ThroughputBudget;
    replication: Replication;
    /** The random stream that picks a lagging replica. */
    replicaRandom: () => number;
}

export interface Answers {
    /** Forwards a request, serialized with the other writes of its logical partition, and adds Azure's headers. */
    apply(request: IncomingMessage, classified: Classified, body: Buffer): Promise<Answer>;
}

/** The level a read is served at, or undefined when it asks for more than the account's (a 400 in Azure). */
export function readLevel(profile: CosmosProfile, request: IncomingMessage): ConsistencyLevel | undefined {
    const account = profile.consistency.defaultLevel;
    const requested = header(request.headers, 'x-ms-consistency-level') as ConsistencyLevel | undefined;
    if (requested === undefined || !CONSISTENCY_LEVELS.includes(requested)) {
        return account;
    }
    if (CONSISTENCY_LEVELS.indexOf(requested) < CONSISTENCY_LEVELS.indexOf(account)) {
        return undefined;
    }
    return profile.consistency.honorRequestLevel ? requested : account;
}

const readsFromQuorum = (level: ConsistencyLevel) => level === 'Strong' || level === 'BoundedStaleness';

/** Bodies are kept only while a lagging replica could serve them: they are what a stale read returns. */
const keepsBodies = (profile: CosmosProfile) =>
    profile.replication.lagMs > 0 && profile.replication.staleReplicaProbability > 0;

function summaryOf(profile: CosmosProfile, document: unknown, size?: number): DocumentSummary {
    return summarize(document, profile.charges.indexingPolicy, size);
}

function patchOperations(body: unknown): number {
    if (Array.isArray(body)) {
        return body.length;
    }
    const operations = asObject(body)?.operations;
    return Array.isArray(operations) ? operations.length : 1;
}

export function createAnswers(context: AnswerContext): Answers {
    const { backend, budget, replication } = context;
    const writes = new KeyedQueue();

    function pointRead(request: IncomingMessage, classified: Classified, answer: Answer, level: ConsistencyLevel) {
        const profile = context.profile();
        const charges = profile.charges;
        const multiplier = readsFromQuorum(level) ? profile.consistency.strongReadChargeMultiplier : 1;
        const key = documentKey(classified.partitionKeyHeader, classified.id ?? '');
        let served = answer;
        let lsn = replication.lsn;
        const { lagMs, staleReplicaProbability } = profile.replication;
        const conditional = request.headers['if-none-match'] !== undefined;
        if (!readsFromQuorum(level) && !conditional && lagMs > 0 && context.replicaRandom() < staleReplicaProbability) {
            const token = level === 'Session' ? (sessionTokenLsn(request.headers['x-ms-session-token']) ?? 0) : 0;
            lsn = Math.max(token, replication.lsnAt(performance.now() - lagMs));
            const older = replication.olderVersionAt(key, lsn);
            // A 404 with a substatus is about the container, not the document: nothing older to serve.
            const itemAnswer = answer.status === 200 || (answer.status === 404 && !answer.headers['x-ms-substatus']);
            if (older && older.body !== UNKNOWN && itemAnswer) {
                context.stats().staleReads += 1;
                served =
                    older.body === null
                        ? cosmosError(404)
                        : {
                              status: 200,
                              headers: {
                                  ...answer.headers,
                                  'content-type': 'application/json',
                                  ...(typeof older.body._etag === 'string' ? { etag: older.body._etag } : {}),
                              },
                              body: Buffer.from(JSON.stringify(older.body)),
                          };
            }
        }
        if (served === answer && answer.status === 200) {
            const document = parseJson(answer.body);
            if (!replication.latest(key)) {
                replication.observe(
                    key,
                    keepsBodies(profile) ? (asObject(document) ?? UNKNOWN) : UNKNOWN,
                    summaryOf(profile, document, answer.body.length),
                );
            }
        }
        const charge =
            served.status === 200
                ? pointReadCharge(charges, served.body.length, multiplier)
                : roundCharge(charges.failedRequest * multiplier);
        return { answer: served, charge, lsn };
    }

    /** A point write's charge and commit. */
    function pointWrite(classified: Classified, requestBody: Buffer, answer: Answer): Outcome {
        const profile = context.profile();
        const charges = profile.charges;
        if (answer.status < 200 || answer.status >= 300) {
            return { answer, charge: charges.failedRequest, lsn: replication.lsn };
        }
        const kind = classified.kind;
        const sent = kind === 'patch' || kind === 'delete' ? undefined : parseJson(requestBody);
        const returned = kind === 'delete' ? undefined : asObject(parseJson(answer.body));
        const document = returned ?? asObject(sent);
        const id = classified.id ?? idOf(document) ?? '';
        const key = documentKey(classified.partitionKeyHeader, id);
        const before = replication.latest(key)?.summary;
        const summary =
            kind === 'delete' || !document
                ? undefined
                : summaryOf(profile, document, returned ? answer.body.length : undefined);
        const created = kind === 'create' || (kind === 'upsert' && answer.status === 201);
        let charge: number;
        if (kind === 'delete') {
            charge = deleteCharge(charges, before);
        } else if (!summary) {
            charge = charges.failedRequest; // no body to measure (a minimal answer to a patch)
        } else if (created) {
            charge = createCharge(charges, summary);
        } else if (kind === 'patch') {
            charge = patchCharge(charges, before, summary, patchOperations(parseJson(requestBody)));
        } else {
            charge = replaceCharge(charges, before, summary);
        }
        const body = kind === 'delete' ? null : document && keepsBodies(profile) ? document : UNKNOWN;
        const lsn = replication.commit([
            { key, body, ...(summary ? { summary } : {}), before: created ? 'absent' : 'unknown' },
        ]);
        return { answer, charge, lsn };
    }

    /** A transactional batch: each operation's charge in its result, their sum in the header, one LSN if it commits. */
    function batch(classified: Classified, requestBody: Buffer, answer: Answer): Outcome {
        const profile = context.profile();
        const charges = profile.charges;
        const parsedOperations = parseJson(requestBody);
        const parsedResults = parseJson(answer.body);
        if (!Array.isArray(parsedOperations) || !Array.isArray(parsedResults)) {
            return { answer, charge: charges.failedRequest, lsn: replication.lsn };
        }
        const operations = parsedOperations as BatchOperation[];
        const results = parsedResults as Record<string, unknown>[];
        const committed = answer.status < 300 && results.every((r) => Number(r.statusCode) < 400);
        const failedAt = committed ? -1 : results.findIndex((r) => Number(r.statusCode) >= 400 && r.statusCode !== 424);
        const pending = new Map<string, DocumentSummary | undefined>();
        const changes: Change[] = [];
        const costs = operations.map((operation, index) => {
            const result = asObject(results[index]) ?? {};
            if (!committed && index >= failedAt) {
                return index === failedAt ? charges.failedRequest : 0;
            }
            // Operations before a failure ran and were rolled back: charged as run, from what they sent.
            const resourceBody = committed
                ? (asObject(result.resourceBody) ?? asObject(operation.resourceBody))
                : undefined;
            const type = operation.operationType?.toLowerCase();
            const sentBody = asObject(operation.resourceBody);
            const document = resourceBody ?? (type === 'patch' ? undefined : sentBody);
            const id = operation.id ?? idOf(document) ?? '';
            const key = documentKey(operation.partitionKey ?? classified.partitionKeyHeader, id);
            const before = pending.has(key) ? pending.get(key) : replication.latest(key)?.summary;
            const summary = document ? summaryOf(profile, document) : before;
            const created = type === 'create' || (type === 'upsert' && Number(result.statusCode) === 201);
            const remember = (next: DocumentSummary | undefined, body: Record<string, unknown> | null | undefined) => {
                pending.set(key, next);
                if (committed) {
                    changes.push({
                        key,
                        body: body === null ? null : body && keepsBodies(profile) ? body : UNKNOWN,
                        ...(next ? { summary: next } : {}),
                        before: created ? 'absent' : 'unknown',
                    });
                }
            };
            switch (type) {
                case 'read':
                    return pointReadCharge(charges, summary?.size ?? 0);
                case 'delete':
                    remember(undefined, null);
                    return deleteCharge(charges, before);
                case 'patch': {
                    remember(summary, resourceBody);
                    const after = summary ?? { size: 1024, terms: new Set<string>() };
                    return patchCharge(charges, before, after, patchOperations(operation.resourceBody));
                }
                default: {
                    if (!summary) {
                        return charges.failedRequest;
                    }
                    remember(summary, document);
                    return created ? createCharge(charges, summary) : replaceCharge(charges, before, summary);
                }
            }
        });
        const lsn = changes.length > 0 ? replication.commit(changes) : replication.lsn;
        results.forEach((result, index) => {
            if (asObject(result)) {
                result.requestCharge = costs[index] ?? 0;
            }
        });
        const charge = roundCharge(costs.reduce((a, b) => a + b, 0));
        return { answer: { ...answer, body: Buffer.from(JSON.stringify(results)) }, charge, lsn };
    }

    function query(answer: Answer, level: ConsistencyLevel): Outcome {
        const profile = context.profile();
        const multiplier = readsFromQuorum(level) ? profile.consistency.strongReadChargeMultiplier : 1;
        const documents = asObject(parseJson(answer.body))?.Documents;
        const sizes = Array.isArray(documents) ? documents.map((d) => Buffer.byteLength(JSON.stringify(d) ?? '')) : [];
        const charge =
            answer.status === 200
                ? queryCharge(profile.charges, sizes, multiplier)
                : roundCharge(profile.charges.failedRequest * multiplier);
        // Queries are served fresh: serving one as a lagging replica would need every document's state at an
        // LSN, and the simulator holds only those it saw, so it could not tell which others matched then.
        return { answer, charge, lsn: replication.lsn };
    }

    /** The account read reports the profile's consistency and this endpoint, not the backend's. */
    function metadata(request: IncomingMessage, classified: Classified, answer: Answer): Outcome {
        const profile = context.profile();
        const charge = classified.queryPlan ? profile.charges.queryPlan : profile.charges.metadata;
        const json = asObject(parseJson(answer.body));
        if (classified.accountRead && answer.status === 200 && json) {
            json.userConsistencyPolicy = {
                ...asObject(json.userConsistencyPolicy),
                defaultConsistencyLevel: profile.consistency.defaultLevel,
            };
            const endpoint = context.endpoint();
            for (const list of ['writableLocations', 'readableLocations']) {
                const locations = json[list];
                if (Array.isArray(locations)) {
                    json[list] = locations.map((l) => ({ ...asObject(l), databaseAccountEndpoint: endpoint }));
                }
            }
            return { answer: { ...answer, body: Buffer.from(JSON.stringify(json)) }, charge, lsn: undefined };
        }
        // A container's `_rid`, as it goes by.
        if (json && typeof json._rid === 'string' && typeof json.id === 'string') {
            const segments =
                (request.url ?? '')
                    .split('?')[0]
                    ?.split('/')
                    .filter((s) => s !== '') ?? [];
            if (segments[0] === 'dbs' && segments[2] === 'colls') {
                backend.rememberCollectionRid(
                    `dbs/${decodeURIComponent(segments[1] ?? '')}/colls/${json.id}`,
                    json._rid,
                );
            }
        }
        return { answer, charge, lsn: undefined };
    }

    function processAnswer(request: IncomingMessage, classified: Classified, body: Buffer, answer: Answer): Outcome {
        const profile = context.profile();
        const level = readLevel(profile, request) ?? profile.consistency.defaultLevel;
        switch (classified.kind) {
            case 'pointRead':
                return pointRead(request, classified, answer, level);
            case 'query':
                return query(answer, level);
            case 'batch':
                return batch(classified, body, answer);
            case 'metadata':
                return metadata(request, classified, answer);
            default:
                return pointWrite(classified, body, answer);
        }
    }

    /** The headers Azure adds to a document request's answer: its charge, session token and owner. */
    function finish(classified: Classified, outcome: Outcome, rid: string | undefined): Answer {
        const headers = outcome.answer.headers;
        headers['x-ms-request-charge'] = outcome.charge.toFixed(2);
        if (classified.db !== undefined && classified.coll !== undefined) {
            if (rid !== undefined) {
                headers['x-ms-content-path'] = rid;
                headers['x-ms-alt-content-path'] = `dbs/${classified.db}/colls/${classified.coll}`;
            }
            if (outcome.lsn !== undefined) {
                headers['x-ms-session-token'] = sessionToken(outcome.lsn);
            }
        }
        return outcome.answer;
    }

    async function apply(request: IncomingMessage, classified: Classified, body: Buffer): Promise<Answer> {
        const run = async () => processAnswer(request, classified, body, await backend.forward(request, body));
        const outcome = WRITE_KINDS.has(classified.kind)
            ? await writes.run(classified.partitionKeyHeader ?? '', run)
            : await run();
        if (classified.kind !== 'metadata') {
            budget.charge(budget.partitionOf(classified.partitionKeyHeader), outcome.charge);
        }
        const { db, coll } = classified;
        const rid =
            db === undefined || coll === undefined
                ? undefined
                : (backend.knownCollectionRid(`dbs/${db}/colls/${coll}`) ?? (await backend.collectionRid(db, coll)));
        return finish(classified, outcome, rid);
    }

    return { apply };
}
