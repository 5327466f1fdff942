/**
 * Connects to Cosmos DB for NoSQL the way the settings say: the embedded server, an account key (the emulator), or
 * Microsoft Entra ID (managed identity in Azure). One CosmosClient per process, created on first use.
 */
import type { Agent } from 'node:https';

import {
    ConsistencyLevel,
    type Container,
    type ContainerDefinition,
    CosmosClient,
    type CosmosClientOptions,
    type PluginConfig,
} from '@azure/cosmos';

import type { CosmosSettings } from '../platform/config.js';
import { noteCosmosFailure } from './assignmentStore.js';
import cosmosContainer from './cosmos-container.json' with { type: 'json' };
import type { EmbeddedCosmos } from './embeddedCosmos.js';

/**
 * The container as the Bicep creates it (infra/modules/cosmos.bicep loads the same file): partition key, default TTL
 * and indexing policy. A container made here without them would keep the idempotency-key records for ever (their
 * `ttl` counts only under a default TTL) and index, and charge for, every path.
 */
export const CONTAINER_DEFINITION = cosmosContainer as Omit<ContainerDefinition, 'id'>;

export interface OpenedContainer {
    container: Container;
    /** Says where the data lives, for the start-up message. */
    description: string;
    dispose(): Promise<void>;
}

/**
 * The SDK's retry policy, set on purpose:
 * - 429 (throttled): the SDK waits as Cosmos says and retries, at most 5 times and 5 s in all. Past that the
 *   client gets our 429 with Cosmos' Retry-After: a throttled request ends in an answer well inside the request
 *   budget (REQUEST_BUDGET_MS, 10 s) and the Functions timeout (30 s), never in a host timeout.
 * - timeouts (`requestTimeout`, COSMOS_REQUEST_TIMEOUT_MS): the SDK never retries a write that timed out (it may
 *   have landed); the client gets a 503 and retries, safely when it sends an Idempotency-Key.
 * - connection failures: retried by the SDK for reads only; writes fail fast as 503.
 */
/**
 * Tells the store what ended each failed request, with the options of the call it belongs to. The SDK rethrows a
 * failed batch request as a plain Error with the message only; without its status, the store could not tell a
 * transient failure (503) from a missing role (403).
 */
const recordFailures: PluginConfig = {
    on: 'request',
    plugin: (context, diagnosticNode, next) =>
        next(context).catch((error: unknown) => {
            noteCosmosFailure(error, context.options);
            throw error;
        }),
};

function clientOptions(settings: CosmosSettings, endpoint: string, agent?: Agent): CosmosClientOptions {
    return {
        endpoint,
        // `plugins` is a hidden option of the SDK's options type.
        ...({ plugins: [recordFailures] } as object),
        ...(agent ? { agent } : {}),
        userAgentSuffix: 'office-client-configuration-assignments',
        connectionPolicy: {
            requestTimeout: settings.requestTimeoutMs,
            // One region per account here: discovery would only add a metadata round trip on a cold start.
            enableEndpointDiscovery: settings.connection.kind === 'identity',
            retryOptions: { maxRetryAttemptCount: 5, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 5 },
        },
    };
}

/** Data-plane creation works with a key only: with Entra ID the Bicep creates the database and container. */
async function ensureContainer(client: CosmosClient, settings: CosmosSettings): Promise<Container> {
    // `createIfNotExists` reads, then creates: instances starting together on a new account race between the two,
    // and the loser's create answers 409. Then it exists, which is all that was asked.
    const existing = (error: unknown) => {
        if ((error as { code?: unknown }).code !== 409) {
            throw error;
        }
    };
    await client.databases.createIfNotExists({ id: settings.database }).catch(existing);
    const database = client.database(settings.database);
    await database.containers.createIfNotExists({ ...CONTAINER_DEFINITION, id: settings.container }).catch(existing);
    return database.container(settings.container);
}

/**
 * Reads the container once, at open: a misnamed database or container stops here with a message that names it,
 * rather than reading as missing assignments later.
 */
export async function checkContainer(container: Container, settings: CosmosSettings): Promise<Container> {
    try {
        await container.read();
    } catch (error) {
        if ((error as { code?: unknown }).code === 404) {
            throw new Error(
                `Cosmos DB container '${settings.container}' in database '${settings.database}' does not exist ` +
                    '(COSMOS_DATABASE, COSMOS_CONTAINER; in Azure the Bicep creates both).',
                { cause: error },
            );
        }
        throw error;
    }
    return container;
}

/**
 * A client that reads at the account's own default consistency. The Bicep's account is Strong: every read sees every
 * acknowledged write, on whichever instance it was made, and naming any level here would only weaken that. Under
 * Session (the emulator's default, or an account set so), this SDK sends its session token, and so reads its own
 * writes, only when the client names the level itself (ClientContext.applySessionToken): then it does. One read of
 * the account, at open.
 */
async function connect(options: CosmosClientOptions): Promise<CosmosClient> {
    const client = new CosmosClient(options);
    let level: string | undefined;
    try {
        level = (await client.getDatabaseAccount()).resource?.consistencyPolicy;
    } catch (error) {
        client.dispose();
        throw error;
    }
    if (level === ConsistencyLevel.Strong || level === ConsistencyLevel.BoundedStaleness) {
        return client;
    }
    client.dispose();
    if (level !== ConsistencyLevel.Session) {
        // Eventual or consistent prefix: no session to read one's own writes in, and a read cannot ask for more.
        throw new Error(
            `The Cosmos DB account's default consistency is ${String(level)}: this app needs Session or stronger ` +
                '(the Bicep deploys Strong; docs/design.md, "Consistency").',
        );
    }
    return new CosmosClient({ ...options, consistencyLevel: ConsistencyLevel.Session });
}

/** A client whose container could not be opened is closed at once: nothing else holds it. */
async function disposeOnFailure<T>(client: CosmosClient, opening: Promise<T>): Promise<T> {
    try {
        return await opening;
    } catch (error) {
        client.dispose();
        throw error;
    }
}

export async function openEmbeddedContainer(
    settings: CosmosSettings,
    embedded: EmbeddedCosmos,
): Promise<OpenedContainer> {
    const client = await connect({
        ...clientOptions(settings, embedded.endpoint, embedded.agent),
        key: embedded.key,
    });
    const container = await disposeOnFailure(client, ensureContainer(client, settings));
    return {
        container,
        description: `in memory (embedded Cosmos DB server at ${embedded.endpoint}; data is lost when the process ends)`,
        dispose: () => Promise.resolve(client.dispose()),
    };
}

export async function openContainer(settings: CosmosSettings): Promise<OpenedContainer> {
    const { connection } = settings;
    switch (connection.kind) {
        case 'embedded': {
            // Loaded only here: a deployment never pays for the in-memory server's code at start-up.
            const { startEmbeddedCosmos } = await import('./embeddedCosmos.js');
            const embedded = await startEmbeddedCosmos();
            try {
                const opened = await openEmbeddedContainer(settings, embedded);
                return {
                    ...opened,
                    dispose: async () => {
                        await opened.dispose();
                        await embedded.close();
                    },
                };
            } catch (error) {
                await embedded.close();
                throw error;
            }
        }
        case 'key': {
            const client = await connect({ ...clientOptions(settings, connection.endpoint), key: connection.key });
            return {
                container: await disposeOnFailure(client, ensureContainer(client, settings)),
                description: `Cosmos DB at ${connection.endpoint} (account key)`,
                dispose: () => Promise.resolve(client.dispose()),
            };
        }
        case 'identity': {
            // Loaded only here: the identity library is not needed (nor paid for at start-up) anywhere else.
            const { DefaultAzureCredential } = await import('@azure/identity');
            const aadCredentials = new DefaultAzureCredential(
                connection.managedIdentityClientId
                    ? { managedIdentityClientId: connection.managedIdentityClientId }
                    : {},
            );
            const client = await connect({ ...clientOptions(settings, connection.endpoint), aadCredentials });
            const container = await disposeOnFailure(
                client,
                checkContainer(client.database(settings.database).container(settings.container), settings),
            );
            return {
                container,
                description: `Cosmos DB at ${connection.endpoint} (Microsoft Entra ID)`,
                dispose: () => Promise.resolve(client.dispose()),
            };
        }
    }
}
