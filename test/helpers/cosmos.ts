/**
 * The embedded Cosmos DB with the app's own connection code: what every store, handler and end-to-end test runs on.
 */
import type { Container } from '@azure/cosmos';

import { sweep, type SweepReport } from '../../lib/jobs/sweeper.js';
import { type CosmosSettings, DEFAULT_COSMOS_CONTAINER, DEFAULT_COSMOS_DATABASE } from '../../lib/platform/config.js';
import type { Logger, Services } from '../../lib/platform/services.js';
import { AssignmentStore, SET_VERSION_ID, type StoreOptions } from '../../lib/store/assignmentStore.js';
import { openEmbeddedContainer } from '../../lib/store/cosmosClient.js';
import { type EmbeddedCosmos, startEmbeddedCosmos } from '../../lib/store/embeddedCosmos.js';

export interface TestCosmos {
    embedded: EmbeddedCosmos;
    /** The container as the app sees it, for reading behind the API's back. */
    container: Container;
    services: Services;
    /** What the app logged, for assertions on error logging. */
    logs: string[];
    /** Every assignment document stored for a configuration, read straight from Cosmos. */
    documents(configurationId: string): Promise<Record<string, unknown>[]>;
    /** The set document and idempotency-key records of a configuration (lib/store/assignmentStore.ts). */
    bookkeeping(configurationId: string): Promise<Record<string, unknown>[]>;
    /** Runs the sweeper now, as its timer would: what deleted configurations left goes. */
    sweep(): Promise<SweepReport>;
    close(): Promise<void>;
}

export const testSettings: CosmosSettings = {
    connection: { kind: 'embedded' },
    database: DEFAULT_COSMOS_DATABASE,
    container: DEFAULT_COSMOS_CONTAINER,
    // Short, so that tests of an unreachable store finish quickly.
    requestTimeoutMs: 2000,
};

const isBookkeeping = (document: Record<string, unknown>) =>
    document.id === SET_VERSION_ID || document.kind !== undefined;

export async function startTestCosmos(options: StoreOptions = {}): Promise<TestCosmos> {
    const embedded = await startEmbeddedCosmos();
    const opened = await openEmbeddedContainer(testSettings, embedded);
    const logs: string[] = [];
    const logger: Logger = {
        info: (m) => logs.push(`info: ${m}`),
        warn: (m) => logs.push(`warn: ${m}`),
        error: (m) => logs.push(`error: ${m}`),
    };
    const services: Services = {
        store: new AssignmentStore(() => Promise.resolve(opened.container), options),
        clock: () => new Date(),
        logger,
    };
    const everything = async (configurationId: string) => {
        const { resources } = await opened.container.items
            .query<Record<string, unknown>>(
                {
                    query: 'SELECT * FROM c WHERE c.configurationId = @id',
                    parameters: [{ name: '@id', value: configurationId }],
                },
                { partitionKey: configurationId },
            )
            .fetchAll();
        return resources;
    };
    return {
        embedded,
        container: opened.container,
        services,
        logs,
        documents: async (configurationId) => (await everything(configurationId)).filter((d) => !isBookkeeping(d)),
        bookkeeping: async (configurationId) => (await everything(configurationId)).filter(isBookkeeping),
        sweep: async () => await sweep(services.store, { runForMs: 60_000 }),
        close: async () => {
            await opened.dispose();
            await embedded.close();
        },
    };
}
