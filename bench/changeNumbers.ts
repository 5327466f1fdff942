/**
 * The change numbers of the library floor and the raw SDK loop (bench/libraryFloor, bench/rawCreates), taken as the
 * app's store takes them for a create (lib/store/assignmentStore `writeLogged`), with the least code: a configuration's
 * last number is read once from its set document (`revision`), then counted here; the creates of one configuration
 * go one after another in this process (a promise chain per configuration, as the store's queue), so that no two
 * ever take one number. A create that fails forgets the number, and the next one reads it again. Unlike the store,
 * a lost number is not retried: the create fails, and the bench counts it.
 */
import type { Container } from '@azure/cosmos';

import type { AssignmentTarget } from '../lib/graph/schema.js';
import { createBatchOperations, createRecord, SET_VERSION_ID } from '../lib/store/assignmentStore.js';
import { UNAUTHENTICATED_ACTOR } from '../lib/store/changeLog.js';

/** Runs `write` with the configuration's next change number; `landed` says whether the number was taken. */
export type Numbered = <T>(
    configurationId: string,
    write: (sequence: number) => Promise<T>,
    landed: (result: T) => boolean,
) => Promise<T>;

export function changeNumbers(container: Container): Numbered {
    const revisions = new Map<string, number>();
    const queues = new Map<string, Promise<unknown>>();
    const lastOf = async (configurationId: string): Promise<number> => {
        const known = revisions.get(configurationId);
        if (known !== undefined) {
            return known;
        }
        const { resource } = await container.item(SET_VERSION_ID, configurationId).read<{ revision?: number }>();
        return resource?.revision ?? 0;
    };
    return async <T>(
        configurationId: string,
        write: (sequence: number) => Promise<T>,
        landed: (result: T) => boolean,
    ): Promise<T> => {
        const mine = (queues.get(configurationId) ?? Promise.resolve()).then(async () => {
            const sequence = (await lastOf(configurationId)) + 1;
            revisions.delete(configurationId);
            const result = await write(sequence);
            if (landed(result)) {
                revisions.set(configurationId, sequence);
            }
            return result;
        });
        const settled = mine.catch(() => undefined);
        queues.set(configurationId, settled);
        void settled.then(() => {
            if (queues.get(configurationId) === settled) {
                queues.delete(configurationId);
            }
        });
        return await mine;
    };
}

/**
 * One assignment create as the app's store sends it: its batch with its change record, numbered. The record's actor
 * is the app's when authentication is off; `correlationId` is the request-id it is answered with. Throws, with the
 * failing status as `code`, when the batch did not land; resolves to the batch's results.
 */
export async function numberedCreate(
    container: Container,
    numbered: Numbered,
    configurationId: string,
    assignment: { id: string; target: AssignmentTarget },
    correlationId: string,
) {
    const context = { actor: UNAUTHENTICATED_ACTOR, correlationId };
    const { result } = await numbered(
        configurationId,
        async (sequence) =>
            await container.items.batch(
                createBatchOperations(configurationId, assignment, {
                    record: createRecord(configurationId, assignment, sequence, context),
                }),
                configurationId,
            ),
        (response) => response.result?.every((r) => r.statusCode < 400) ?? false,
    );
    const failed = result?.find((r) => r.statusCode >= 400);
    if (failed || !result) {
        throw new BatchNotLanded(failed?.statusCode ?? 'no result');
    }
    return result;
}

/** A create's batch that answered a failing status (or none): `code` is that status. */
export class BatchNotLanded extends Error {
    constructor(readonly code: number | 'no result') {
        super(`the batch answered ${code}`);
        this.name = 'BatchNotLanded';
    }
}
