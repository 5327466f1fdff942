/**
 * Delta query on the client configurations and on a configuration's assignments, as Graph answers it on its
 * collections (learn.microsoft.com/graph/delta-query-overview), from the change log (lib/store/changeLog):
 *
 * - The initial round pages the current state; its last page carries `@odata.deltaLink`, whose token holds the
 *   log's number read before the round's first page. A change made while the round pages is in the log after that
 *   number, so the next round reports it, whatever the pages showed.
 * - A round of changes reads the log after the token's number, a page of records at a time, and answers each item
 *   they name as it is now (whole, as on a list), or `{"id", "@removed": {"reason": "deleted"}}` when it is gone.
 *   An item changed again after the records read is sent as it is then, and again in the next round: a client
 *   that applies the pages in order always ends with what a full list shows.
 * - A page has a nextLink (more to come in this round) or a deltaLink (the round is over), never both.
 */
import {
    checkRetention,
    type DeltaOptions,
    encodeChangesToken,
    encodeDeltaToken,
    encodeInitialToken,
    parseDeltaOptions,
} from '../graph/deltaQuery.js';
import { notFound } from '../graph/errors.js';
import {
    type Assignment,
    assignmentResource,
    assignmentsPath,
    collectionContext,
    configurationResource,
    CONFIGURATIONS_PATH,
} from '../graph/odata.js';
import { CONFIGURATION_SELECTABLE, PROCESS_SKIPTOKEN_KEY, SELECTABLE } from '../graph/queryOptions.js';
import { ASSIGNMENT_TYPE, CONFIGURATION_BASE_TYPE } from '../graph/schema.js';
import type { Operation, OperationCall, OperationResult } from '../http/pipeline.js';
import { parsePrefer } from '../http/prefer.js';
import { changedIds, type ChangeRecord } from '../store/changeLog.js';
import { assignmentsById, changesSince } from '../store/changeReader.js';
import { TENANT_PARTITION } from '../store/configurationStore.js';
import { checkConfigurationId, configurationNotFoundError } from './assignments.js';
import { configurationsOf } from './configurations.js';

/** The collection one delta serves: where its log is, how its items are read and written. */
interface DeltaCollection {
    /** What its tokens are signed for. */
    scope: string;
    /** The log's partition. */
    partition: string;
    /** The delta function's URL, without a query. */
    url: string;
    context: string;
    selectable: readonly string[];
    typeName: string;
    /** The log's last number now. */
    latest(): Promise<number>;
    /** A page of the current state from `position` ('' for the first): its items and the next position. */
    initialPage(
        position: string,
        size: number,
        select: readonly string[] | undefined,
    ): Promise<{ items: Record<string, unknown>[]; next?: string }>;
    /** The items among `ids` as they are now, in the collection's order; the rest are gone. */
    current(
        ids: ReadonlySet<string>,
        select: readonly string[] | undefined,
    ): Promise<Map<string, Record<string, unknown>>>;
}

/**
 * An item gone. A page of changes reads at most a page size of records; each names one item at least, and one that
 * moved priorities names every configuration it moved, so such a page may hold more items than the page size.
 */
const removedItem = (id: string) => ({ id, '@removed': { reason: 'deleted' } });

async function answer(call: OperationCall, collection: DeltaCollection): Promise<OperationResult> {
    const key = call.services.skipTokenKey ?? PROCESS_SKIPTOKEN_KEY;
    const prefer = parsePrefer(call.request.headers.get('prefer'));
    const parsed = parseDeltaOptions(
        call.query,
        prefer,
        key,
        collection.scope,
        collection.selectable,
        collection.typeName,
    );
    // Graph's delta always sends an item's id, whatever `$select` names.
    const options: DeltaOptions = parsed.select
        ? { ...parsed, select: parsed.select.includes('id') ? parsed.select : ['id', ...parsed.select] }
        : parsed;
    const { store } = call.services;
    const now = call.services.clock().getTime();
    const retention = store.changeLog.retentionSeconds;
    checkRetention(options.position, now, retention);
    const link = (option: '$skiptoken' | '$deltatoken', token: string) =>
        `${collection.url}?${selectQuery(parsed)}${option}=${encodeURIComponent(token)}`;
    const headers: Record<string, string> = prefer.has('odata.maxpagesize')
        ? { 'Preference-Applied': `odata.maxpagesize=${options.pageSize}` }
        : {};
    const page = (value: Record<string, unknown>[], links: Record<string, string>): OperationResult => ({
        status: 200,
        body: { '@odata.context': collection.context, ...links, value },
        headers,
    });
    const { position } = options;

    if (position?.kind === 'latest') {
        const sequence = await collection.latest();
        return page([], {
            '@odata.deltaLink': link(
                '$deltatoken',
                encodeDeltaToken(key, collection.scope, { sequence, issued: now, retention }),
            ),
        });
    }

    if (position === undefined || position.kind === 'initial') {
        // The log's number before the first page is read: every change the pages may miss comes after it.
        const started = position ?? { sequence: await collection.latest(), issued: now, retention, position: '' };
        const result = await collection.initialPage(started.position, options.pageSize, options.select);
        return page(
            result.items,
            result.next !== undefined
                ? {
                      '@odata.nextLink': link(
                          '$skiptoken',
                          encodeInitialToken(key, collection.scope, started, result.next),
                      ),
                  }
                : // Stamped when the round began: its records are as old as that, and expire with it.
                  {
                      '@odata.deltaLink': link('$deltatoken', encodeDeltaToken(key, collection.scope, started)),
                  },
        );
    }

    // A round of changes: the records after the token's number, the items they name as they are now.
    const records = await changesSince(store, collection.partition, position.sequence, options.pageSize);
    const changed = new Set<string>();
    const removed = new Set<string>();
    for (const record of records) {
        const ids = changedIds(record);
        ids.changed.forEach((id) => changed.add(id));
        ids.removed.forEach((id) => removed.add(id));
    }
    const current = await collection.current(new Set([...changed].filter((id) => !removed.has(id))), options.select);
    const items = [...current.values()];
    // Removed, or named by a record but gone since (its removal's record is later, and says so again then).
    for (const id of new Set([...changed, ...removed])) {
        if (!current.has(id)) {
            items.push(removedItem(id));
        }
    }
    const last: ChangeRecord | undefined = records.at(-1);
    const sequence = last?.sequence ?? position.sequence;
    if (records.length >= options.pageSize) {
        // Perhaps more: the round goes on from the last record read, still bound to the round's first token's time.
        return page(items, {
            '@odata.nextLink': link('$skiptoken', encodeChangesToken(key, collection.scope, { ...position, sequence })),
        });
    }
    return page(items, {
        '@odata.deltaLink': link(
            '$deltatoken',
            encodeDeltaToken(key, collection.scope, { sequence, issued: now, retention }),
        ),
    });
}

function selectQuery(options: DeltaOptions): string {
    return options.select ? `$select=${options.select.join(',')}&` : '';
}

/** `GET /officeConfiguration/clientConfigurations/delta` (also `microsoft.graph.delta()`). */
export const configurationsDelta: Operation = async (call) => {
    const store = configurationsOf(call);
    return await answer(call, {
        scope: `/${CONFIGURATIONS_PATH}`,
        partition: TENANT_PARTITION,
        url: `${call.root}/${CONFIGURATIONS_PATH}/delta`,
        context: `${call.root}/$metadata#${CONFIGURATIONS_PATH}/$delta`,
        selectable: CONFIGURATION_SELECTABLE,
        typeName: CONFIGURATION_BASE_TYPE,
        latest: async () => (await store.order()).sequence,
        initialPage: async (position, size, select) => {
            const offset = position === '' ? 0 : Number.parseInt(position, 36);
            const listed = await store.page((ids) => ids.slice(offset, offset + size));
            const end = offset + listed.configurations.length;
            return {
                items: listed.configurations.map((c) => configurationResource(call.root, c, select)),
                ...(end < listed.order.ids.length ? { next: end.toString(36) } : {}),
            };
        },
        current: async (ids, select) => {
            if (ids.size === 0) {
                return new Map();
            }
            const listed = await store.page((order) => order.filter((id) => ids.has(id)));
            return new Map(listed.configurations.map((c) => [c.id, configurationResource(call.root, c, select)]));
        },
    });
};

/** `GET /officeConfiguration/clientConfigurations/{id}/assignments/delta` (also `microsoft.graph.delta()`). */
export const assignmentsDelta: Operation = async (call) => {
    const configurationId = checkConfigurationId(call.params.configurationId);
    const { store } = call.services;
    const latest = async () => {
        const revision = await store.revisionOf(configurationId);
        if (revision === undefined) {
            throw configurationNotFoundError(configurationId);
        }
        return revision;
    };
    const path = assignmentsPath(configurationId);
    return await answer(call, {
        scope: `/${path}`,
        partition: configurationId,
        url: `${call.root}/${path}/delta`,
        context: `${collectionContext(call.root, configurationId)}/$delta`,
        selectable: SELECTABLE,
        typeName: ASSIGNMENT_TYPE,
        latest,
        initialPage: async (position, size, select) => {
            if (position !== '' && !(await store.hasConfiguration(configurationId))) {
                throw configurationNotFoundError(configurationId);
            }
            const listed = await store.list(configurationId, {
                top: size,
                ...(position !== '' ? { continuation: Buffer.from(position, 'base64url').toString('utf8') } : {}),
            });
            return {
                items: listed.items.map((a: Assignment) => assignmentResource(a, select)),
                ...(listed.continuation
                    ? { next: Buffer.from(listed.continuation, 'utf8').toString('base64url') }
                    : {}),
            };
        },
        current: async (ids, select) => {
            if (!(await store.hasConfiguration(configurationId))) {
                throw notFound(`The configuration '${configurationId}' does not exist.`);
            }
            const found = await assignmentsById(store, configurationId, [...ids]);
            return new Map(found.map((a) => [a.id, assignmentResource(a, select)]));
        },
    });
};
