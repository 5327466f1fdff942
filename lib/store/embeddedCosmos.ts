/**
 * The embedded Cosmos DB: an in-process, in-memory server that speaks the Cosmos REST protocol, so the real
 * `@azure/cosmos` SDK runs unchanged on a machine with no account and no emulator. Its data lives as long as the
 * process; stopping and resuming the listener keeps it, which is how tests make storage unreachable for a while.
 *
 * `@vercel/cosmosdb-server` provides the account model and the REST routes. This module serves them itself, for
 * what Cosmos DB promises and that server does not keep:
 * - a transactional batch is all-or-nothing (the server applies it op by op and never rolls back);
 * - a batch may carry Patch operations, with their filter condition evaluated on the patched document only;
 * - an operation on a missing database or container answers 404 with substatus 1003 (owner resource missing), so
 *   that a client can tell it from a missing item;
 * - a point Patch evaluates its filter condition on the one document it names, as written (the package lowercases
 *   the whole condition, string literals included, and looks at every partition's document of that id);
 * - ETags are quoted, as Cosmos DB's `_etag` is (`"…"`): an HTTP ETag the app hands out is then the very value
 *   Cosmos DB compares an `ifMatch` with, on the embedded server as on the real one.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

import accountModule from '@vercel/cosmosdb-server/lib/account/index.js';
import itemsModule from '@vercel/cosmosdb-server/lib/account/items.js';
import {
    createOperation,
    deleteOperation,
    type OperationResult,
    readOperation,
    replaceOperation,
    upsertOperation,
} from '@vercel/cosmosdb-server/lib/handler/_document-operations.js';
import { patchOperation } from '@vercel/cosmosdb-server/lib/handler/_patch-operations.js';
import readItemsModule from '@vercel/cosmosdb-server/lib/handler/_read-items.js';
import batchModule from '@vercel/cosmosdb-server/lib/handler/batch-documents.js';
import patchModule from '@vercel/cosmosdb-server/lib/handler/patch-document.js';
import queryModule from '@vercel/cosmosdb-server/lib/handler/query-documents.js';
import routesModule from '@vercel/cosmosdb-server/lib/routes.js';
import type { PatchOperationInput } from '@vercel/cosmosdb-server/lib/types.js';

/** The server accepts any key; the SDK still signs requests, so it needs a base64 string. */
const ANY_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU9DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

/** How long the embedded server keeps an idle connection open. */
export const KEEP_ALIVE_TIMEOUT_MS = 10 * 60_000;

/** Cosmos DB's substatus for "the database or container of this request does not exist". */
export const OWNER_RESOURCE_MISSING = 1003;

export interface EmbeddedCosmos {
    endpoint: string;
    key: string;
    /**
     * For HTTPS: trusts the server's built-in (self-signed, expired) certificate, for this endpoint only. Undefined
     * for plain HTTP, where the SDK must use its own agent.
     */
    agent: https.Agent | undefined;
    port: number;
    /** Stops listening and drops open connections; the data stays. */
    stop(): Promise<void>;
    /** Listens again on the same port. */
    resume(): Promise<void>;
    close(): Promise<void>;
}

export interface EmbeddedCosmosOptions {
    port?: number;
    /**
     * `http` serves another process on this machine, which cannot be told to trust the built-in certificate
     * without turning its checks off: the app accepts plain HTTP for a loopback endpoint only.
     */
    protocol?: 'https' | 'http';
}

// The package's own shapes, reduced to what this module uses.
interface Items {
    _data: Map<string, unknown>;
    _index: Map<string, string>;
    _ridCount: number;
    /** The compiled query of `sql`, from the package's cache. */
    _getQuery(sql: string): {
        exec(data: unknown[], options: { parameters?: { name: string; value: unknown }[] }): { result: unknown[] };
    };
}
interface Collection {
    read(): unknown;
    documents: Items;
    document(id: string, partition: unknown): { read(): Record<string, unknown> | undefined };
}
interface Account {
    database(id: string): { read(): unknown; collection(id: string): Collection };
}
type Params = Record<string, string>;
type Handler = (account: Account, req: http.IncomingMessage, res: http.ServerResponse, params: Params) => unknown;

/**
 * The package's modules are CommonJS with an `exports.default`: Node's ESM import gives the exports object, a
 * bundler or vitest may give the default itself.
 */
function cjsDefault<T>(module: unknown): T {
    return (module as { default?: T }).default ?? (module as T);
}
const Account = cjsDefault<new (host: string, port: number) => Account>(accountModule);
const route = cjsDefault<(req: http.IncomingMessage) => [Params, Handler] | undefined>(routesModule);
const packageBatch = cjsDefault<Handler>(batchModule);
const packagePatch = cjsDefault<Handler>(patchModule);
const packageQuery = cjsDefault<Handler>(queryModule);
const readItems =
    cjsDefault<
        (
            req: http.IncomingMessage,
            res: http.ServerResponse,
            itemsName: string,
            fn: (paging: { continuation: unknown; maxItemCount: number | null }) => Promise<unknown>,
        ) => Promise<unknown>
    >(readItemsModule);

/** The package's stores: a Map of items by `_rid`, each item's `read()` its document. */
interface ItemsStore {
    _data: Map<string, { read(): Record<string, unknown> | undefined }>;
    /** A document's partition key value, by the container's partition key path. */
    _getPartition(document: Record<string, unknown>): unknown;
    delete(idOrRid: string, partition: unknown): void;
    query(params: unknown, options: { maxItemCount: number | null; continuation: unknown }): unknown;
}

/**
 * A query that names one partition (`x-ms-documentdb-partitionkey`) is evaluated on that partition's documents only,
 * as Cosmos DB routes it to one partition: the package evaluates every query on every document of the container, so
 * each query cost as much as the whole container (tens of milliseconds at a few thousand documents).
 */
function queryInPartition(store: ItemsStore, partition: unknown, params: unknown, paging: object): unknown {
    const all = store._data;
    const only = new Map(
        [...all].filter(([, item]) => {
            const document = item.read();
            return document !== undefined && store._getPartition(document) === partition;
        }),
    );
    store._data = only;
    try {
        return store.query(params, paging as { maxItemCount: number | null; continuation: unknown });
    } finally {
        store._data = all;
    }
}

/**
 * The plan the SDK asks for beside every query (`x-ms-cosmos-is-query-plan-request`), and reads only when the gateway
 * refuses the query without one. The package evaluated the query on the whole container to answer it; this server
 * never refuses a query for want of a plan (it evaluates even a cross-partition ORDER BY as one partition), so the
 * plan of a plain query is all it takes.
 */
const PLAIN_QUERY_PLAN = {
    partitionedQueryExecutionInfoVersion: 2,
    queryInfo: {
        distinctType: 'None',
        top: null,
        offset: null,
        limit: null,
        orderBy: [],
        orderByExpressions: [],
        groupByExpressions: [],
        groupByAliases: [],
        aggregates: [],
        groupByAliasToAggregateType: {},
        rewrittenQuery: '',
        hasSelectValue: false,
        dCountInfo: null,
    },
    queryRanges: [{ min: '', max: 'FF', isMinInclusive: true, isMaxInclusive: false }],
};

/** The package's query handler, with a single-partition query evaluated on its partition alone. */
const queryDocuments: Handler = async (account, req, res, params) => {
    if (isTrue(req.headers['x-ms-cosmos-is-query-plan-request'])) {
        await readJson(req);
        return PLAIN_QUERY_PLAN;
    }
    const header = req.headers['x-ms-documentdb-partitionkey'];
    const partitionHeader = Array.isArray(header) ? header[0] : header;
    let partition: unknown;
    try {
        const parsed: unknown = partitionHeader ? JSON.parse(partitionHeader) : undefined;
        partition = Array.isArray(parsed) ? (parsed as unknown[])[0] : parsed;
    } catch {
        partition = undefined;
    }
    if (typeof partition !== 'string') {
        return await packageQuery(account, req, res, params);
    }
    return await readItems(req, res, 'Documents', async (paging) => {
        const body = (await readJson(req)) as { query?: string };
        if (!body.query) {
            res.statusCode = 400;
            return { message: 'missing query' };
        }
        const collection = account.database(params.dbId ?? '').collection(params.collId ?? '');
        const store = (collection as unknown as { documents: ItemsStore }).documents;
        try {
            return queryInPartition(store, partition, body, paging);
        } catch (error) {
            if ((error as { badRequest?: boolean }).badRequest) {
                res.statusCode = 400;
                return { message: (error as Error).message };
            }
            throw error;
        }
    });
};

/**
 * Cosmos DB's time to live: an item with `ttl` (seconds; or its container's `defaultTtl`, when above 0) is removed
 * that long after its last write (`_ts`). Cosmos DB does it in the background; so does this, every second. Without
 * it the server kept every receipt, key record and change record forever.
 */
const TTL_SWEEP_MS = 1000;

function expire(account: Account): void {
    const now = Date.now() / 1000;
    const databases = (account as unknown as { databases: ItemsStore }).databases;
    for (const database of databases._data.values()) {
        const collections = (database as unknown as { collections: ItemsStore }).collections;
        for (const collection of collections._data.values()) {
            const defaultTtl = Number(collection.read()?.defaultTtl ?? -1);
            const store = (collection as unknown as { documents: ItemsStore }).documents;
            for (const item of [...store._data.values()]) {
                const document = item.read();
                const ttl = typeof document?.ttl === 'number' ? document.ttl : defaultTtl;
                if (document && ttl > 0 && Number(document._ts) + ttl <= now) {
                    try {
                        store.delete(String(document.id), store._getPartition(document));
                    } catch {
                        // Gone meanwhile: nothing to expire.
                    }
                }
            }
        }
    }
}

/**
 * Every document the package stores passes through `Items._set` (create, replace, upsert, patch): its `_etag`, a bare
 * UUID there, is quoted on the way in, as Cosmos DB's are. Done once for the process; the package compares
 * `ifMatch` with the stored value as it is, so quoted tags compare as Cosmos DB's do.
 */
const Items = cjsDefault<{ prototype: { _set: (this: unknown, data: Record<string, unknown>) => unknown } }>(
    itemsModule,
);
const QUOTED = Symbol.for('office-configuration.embeddedCosmos.quotedEtags');
if (!(QUOTED in Items.prototype)) {
    const set = Items.prototype._set;
    Items.prototype._set = function (this: unknown, data: Record<string, unknown>) {
        if (typeof data._etag === 'string' && !data._etag.startsWith('"')) {
            data._etag = `"${data._etag}"`;
        }
        return set.call(this, data);
    };
    Object.defineProperty(Items.prototype, QUOTED, { value: true });
}

interface BatchInput {
    operationType?: string;
    id?: string;
    partitionKey?: string;
    ifMatch?: string;
    resourceBody?: Record<string, unknown> | unknown[];
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
        chunks.push(chunk as Buffer);
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

/** `from c where <predicate>` (any case), as the SDK sends a patch condition, reduced to the predicate. */
function predicateOf(condition: string): string {
    return condition.replace(/^\s*from\s+c\s+where\s+/i, '');
}

/**
 * A Patch operation of a batch. The package's patch evaluates a condition over every partition's document of that
 * id; here it is evaluated on the one document the operation names.
 */
function patchInBatch(collection: Collection, input: BatchInput): OperationResult {
    const body = input.resourceBody;
    const operations = Array.isArray(body) ? body : body?.operations;
    const condition = Array.isArray(body) ? undefined : body?.condition;
    if (!input.id || !Array.isArray(operations)) {
        return { statusCode: 400, body: { message: 'Invalid patch operation' } };
    }
    if (typeof condition === 'string') {
        const partition = JSON.parse(input.partitionKey ?? 'null') as unknown;
        const key = Array.isArray(partition) ? (partition[0] as unknown) : partition;
        const current = collection.document(input.id, key).read();
        if (current) {
            let matched: boolean;
            try {
                // Evaluated on this one document: a query over the container would scan every document.
                const query = collection.documents._getQuery(`SELECT * FROM c WHERE (${predicateOf(condition)})`);
                matched = query.exec([current], {}).result.length > 0;
            } catch {
                return { statusCode: 400, body: { message: 'Invalid condition in patch request.' } };
            }
            if (!matched) {
                return {
                    statusCode: 412,
                    body: { message: 'Condition specified in the patch request is not satisfied.' },
                };
            }
        }
    }
    return patchOperation(collection as never, {
        id: input.id,
        partitionKey: input.partitionKey,
        ifMatch: input.ifMatch,
        operations: operations as PatchOperationInput['operations'],
    });
}

function applyOperation(collection: Collection, input: BatchInput): OperationResult {
    const c = collection as never;
    const i = input as never;
    switch (input.operationType) {
        case 'Create':
            return createOperation(c, i);
        case 'Upsert':
            return upsertOperation(c, i);
        case 'Read':
            return readOperation(c, i);
        case 'Delete':
            return deleteOperation(c, i);
        case 'Replace':
            return replaceOperation(c, i);
        case 'Patch':
            return patchInBatch(collection, input);
        default:
            return {
                statusCode: 400,
                body: { message: `Operation type '${String(input.operationType)}' is not supported in Batch.` },
            };
    }
}

/**
 * Records every change the package makes to a container's maps while a batch runs, so that a failed batch can be
 * undone in the time its own operations took, whatever the size of the container.
 */
function journal(items: Items): { rollBack(): void; commit(): void } {
    const undo: (() => void)[] = [];
    const ridCount = items._ridCount;
    const watch = <K, V>(map: Map<K, V>) => {
        const record = (key: K) => {
            const had = Map.prototype.has.call(map, key);
            const old = Map.prototype.get.call(map, key) as V;
            undo.push(() => (had ? Map.prototype.set.call(map, key, old) : Map.prototype.delete.call(map, key)));
        };
        map.set = (key, value) => {
            record(key);
            return Map.prototype.set.call(map, key, value) as Map<K, V>;
        };
        map.delete = (key) => {
            record(key);
            return Map.prototype.delete.call(map, key);
        };
        return () => {
            // Back to the prototype's methods.
            delete (map as { set?: unknown }).set;
            delete (map as { delete?: unknown }).delete;
        };
    };
    const unwatch = [watch(items._data), watch(items._index)];
    const commit = () => unwatch.forEach((u) => u());
    return {
        commit,
        rollBack: () => {
            commit();
            undo.reverse().forEach((u) => u());
            items._ridCount = ridCount;
        },
    };
}

/** Cosmos DB's answer to an operation on a database or container that does not exist. */
function ownerMissing(res: http.ServerResponse) {
    res.statusCode = 404;
    res.setHeader('x-ms-substatus', String(OWNER_RESOURCE_MISSING));
    return { code: 'NotFound', message: 'Owner resource does not exist' };
}

/**
 * A transactional batch, all or nothing. After the body is read nothing awaits, so no other request runs until
 * the batch is applied or rolled back: batches, and every other write, are serialised by construction. On the
 * first failure the container's maps are put back as they were, and the answer is Cosmos DB's: 207 Multi-Status,
 * the failing operation's status, 424 for every other operation.
 */
async function atomicBatch(account: Account, req: http.IncomingMessage, res: http.ServerResponse, params: Params) {
    const body = await readJson(req);
    const collection = account.database(params.dbId ?? '').collection(params.collId ?? '');
    if (!collection.read()) {
        return ownerMissing(res);
    }
    if (!Array.isArray(body)) {
        res.statusCode = 400;
        return { message: 'Invalid request body' };
    }
    const undo = journal(collection.documents);
    const results: OperationResult[] = [];
    try {
        for (const input of body as BatchInput[]) {
            const result = applyOperation(collection, input ?? {});
            results.push(result);
            if (result.statusCode >= 400) {
                break;
            }
        }
    } catch (error) {
        undo.rollBack(); // an operation the package could not run (a 500): nothing of the batch stays either
        throw error;
    }
    const failed = results.findIndex((r) => r.statusCode >= 400);
    if (failed >= 0) {
        undo.rollBack();
        res.statusCode = 207;
        return body.map((_, index) =>
            index === failed
                ? { statusCode: results[failed]?.statusCode, requestCharge: 1, resourceBody: results[failed]?.body }
                : { statusCode: 424, requestCharge: 0 },
        );
    }
    undo.commit();
    return results.map((result) => ({
        statusCode: result.statusCode,
        requestCharge: 1,
        eTag: result.body?._etag,
        resourceBody: result.body,
    }));
}

/** A point Patch (`PATCH …/docs/{id}`), with its condition evaluated as in a batch: on this document, as written. */
async function pointPatch(account: Account, req: http.IncomingMessage, res: http.ServerResponse, params: Params) {
    const body = (await readJson(req)) as BatchInput['resourceBody'];
    const collection = account.database(params.dbId ?? '').collection(params.collId ?? '');
    if (!collection.read()) {
        return ownerMissing(res);
    }
    const partitionKey = req.headers['x-ms-documentdb-partitionkey'];
    const ifMatch = req.headers['if-match'];
    const result = patchInBatch(collection, {
        id: decodeURIComponent(params.docId ?? ''),
        ...(typeof partitionKey === 'string' ? { partitionKey } : {}),
        ...(typeof ifMatch === 'string' ? { ifMatch } : {}),
        ...(body !== undefined ? { resourceBody: body } : {}),
    });
    res.statusCode = result.statusCode;
    return result.body;
}

/** The package's built-in, self-signed certificate for 127.0.0.1. */
function certificateOf(): { cert: Buffer; key: Buffer } {
    const root = dirname(createRequire(import.meta.url).resolve('@vercel/cosmosdb-server/package.json'));
    return { cert: readFileSync(join(root, 'cert.pem')), key: readFileSync(join(root, 'key.pem')) };
}

/** The package's constant query metrics, for a client that asks for them. */
const QUERY_METRICS =
    'totalExecutionTimeInMs=0.00;queryCompileTimeInMs=0.00;queryLogicalPlanBuildTimeInMs=0.00;' +
    'queryPhysicalPlanBuildTimeInMs=0.00;queryOptimizationTimeInMs=0.00;VMExecutionTimeInMs=0.00;' +
    'indexLookupTimeInMs=0.00;documentLoadTimeInMs=0.00;systemFunctionExecuteTimeInMs=0.00;' +
    'userFunctionExecuteTimeInMs=0.00;retrievedDocumentCount=0;retrievedDocumentSize=0;outputDocumentCount=1;' +
    'outputDocumentSize=0;writeOutputTimeInMs=0.00;indexUtilizationRatio=0.00';

function isTrue(value: string | string[] | undefined): boolean {
    return [value ?? []].flat().some((v) => v.toLowerCase() === 'true');
}

/** The package's request handling (headers as it sets them), with the batch and owner checks above. */
function requestListener(account: () => Account) {
    return (req: http.IncomingMessage, res: http.ServerResponse) => {
        void (async () => {
            const matched = route(req);
            let body: unknown;
            if (!matched) {
                res.statusCode = 400;
                body = { message: 'no route' };
            } else {
                const [params, handler] = matched;
                const own =
                    handler === packageBatch && isTrue(req.headers['x-ms-cosmos-batch-atomic'])
                        ? atomicBatch
                        : handler === packagePatch
                          ? pointPatch
                          : handler === packageQuery
                            ? queryDocuments
                            : handler;
                try {
                    body = await own(account(), req, res, params);
                } catch (error) {
                    body = { message: error instanceof Error ? error.message : String(error) };
                    res.statusCode = 500;
                }
                const documentRoute = params.collId !== undefined && (req.url ?? '').includes('/docs');
                if (res.statusCode === 404 && documentRoute && !res.hasHeader('x-ms-substatus')) {
                    const database = account().database(params.dbId ?? '');
                    if (!database.read() || !database.collection(params.collId ?? '').read()) {
                        res.setHeader('x-ms-substatus', String(OWNER_RESOURCE_MISSING));
                    }
                }
            }
            const json = (body ?? {}) as Record<string, unknown>;
            if (res.statusCode > 399) {
                // The SDK reads an error's message from its body.
                json.message ??= '';
                body = json;
            }
            if (typeof json._etag === 'string') {
                res.setHeader('etag', json._etag);
            }
            res.setHeader('content-type', 'application/json');
            res.setHeader('content-location', `https://${req.headers.host ?? ''}${req.url ?? ''}`);
            res.setHeader('connection', 'keep-alive');
            res.setHeader('x-ms-activity-id', randomUUID());
            res.setHeader('x-ms-request-charge', '1');
            if (req.headers['x-ms-documentdb-populatequerymetrics']) {
                res.setHeader('x-ms-documentdb-query-metrics', QUERY_METRICS);
            }
            if (req.headers['a-im'] && res.statusCode === 200) {
                // The change feed: the package answers "no changes since" to a conditional request.
                if (req.headers['if-none-match']) {
                    res.statusCode = 304;
                }
                res.setHeader('etag', '1');
            }
            res.end(body === undefined ? undefined : JSON.stringify(body));
        })().catch(() => {
            if (!res.writableEnded) {
                res.statusCode = 500;
                res.end('');
            }
        });
    };
}

/**
 * A server on 127.0.0.1 that can stop listening, dropping its open connections (`drop`), and listen again on the same
 * port, its data kept: how tests make storage unreachable for a while. `resume` resolves to the port it listens on.
 */
export function stoppable(
    server: http.Server | https.Server,
    drop: () => void,
): { stop: () => Promise<void>; resume: (port: number) => Promise<number> } {
    let listening = false;
    return {
        stop: async () => {
            if (!listening) {
                return;
            }
            listening = false;
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            drop();
            await closed;
        },
        resume: async (port) => {
            if (!listening) {
                server.listen(port, '127.0.0.1');
                await once(server, 'listening');
                listening = true;
            }
            return (server.address() as AddressInfo).port;
        },
    };
}

export async function startEmbeddedCosmos(options: EmbeddedCosmosOptions = {}): Promise<EmbeddedCosmos> {
    const { port = 0, protocol = 'https' } = options;
    const state: { account?: Account } = {};
    const listener = requestListener(() => {
        const { account } = state;
        if (!account) {
            throw new Error('the embedded Cosmos DB is not listening');
        }
        return account;
    });
    // keepAlive: closing every connection makes each request about 4x slower. The certificate is the package's
    // own (its HTTPS server is made only to carry it).
    const server =
        protocol === 'https'
            ? https.createServer({ ...certificateOf(), keepAlive: true }, listener)
            : http.createServer({ keepAlive: true }, listener);
    // Node closes an idle connection after 5 s (and a second's grace). The SDK's keep-alive agents keep idle
    // connections with no timeout of their own, so a request written as the server closes one fails (ECONNRESET, a
    // 503 from the app): the bench met it a few times in 100,000 creates, whenever a side resumed after a pause of
    // about 6 s. Cosmos DB's gateway does not drop connections after a few seconds' pause; neither does its stand-in.
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    const { stop, resume } = stoppable(server, () => server.closeAllConnections());
    const bound = await resume(port);
    // One account for the server's life: resuming keeps the data.
    const account = new Account('127.0.0.1', bound);
    state.account = account;
    const expiring = setInterval(() => expire(account), TTL_SWEEP_MS);
    expiring.unref();
    const agent = protocol === 'https' ? new https.Agent({ rejectUnauthorized: false, keepAlive: true }) : undefined;
    return {
        endpoint: `${protocol}://127.0.0.1:${bound}/`,
        key: ANY_KEY,
        agent,
        port: bound,
        stop,
        resume: async () => {
            await resume(bound);
        },
        close: async () => {
            clearInterval(expiring);
            await stop();
            agent?.destroy();
        },
    };
}
