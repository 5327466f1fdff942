/**
 * The change numbers of the library floor and the raw SDK loop (bench/libraryFloor, bench/rawCreates), taken as the
 * app's store takes them for a create (lib/store/assignmentStore `writeLogged`), with the least code: a configuration's
 * last number is read once from its set document (`revision`), then counted here; the creates of one configuration
 * go one after another in this process (a promise chain per configuration, as the store's queue), so that no two
 * ever take one number. A create that fails forgets the number, and the next one reads it again. Unlike the store,
 * a lost number is not retried: the create fails, and the bench counts it.
 */
import type { Container } from '@azure/cosmos';

import { SET_VERSION_ID } from '../lib/store/assignmentStore.js';

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
