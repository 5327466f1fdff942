/**
 * The real SDK against the simulator, as each suite here opens it: a client of its own (so its own session), on the
 * container as lib/store/cosmosClient.ts's ensureContainer makes it.
 */
import { type Container, CosmosClient, type CosmosClientOptions, PartitionKeyKind } from '@azure/cosmos';

/**
 * `consistencyLevel` is Session unless `options` names one (`undefined` included: then the account's): this SDK sends
 * session tokens only when the client names Session.
 */
export async function openContainer(
    target: { endpoint: string; key: string },
    options: Partial<CosmosClientOptions> = {},
): Promise<{ client: CosmosClient; container: Container }> {
    const client = new CosmosClient({
        endpoint: target.endpoint,
        key: target.key,
        ...('consistencyLevel' in options ? {} : { consistencyLevel: 'Session' }),
        ...options,
        connectionPolicy: { enableEndpointDiscovery: false, ...options.connectionPolicy },
    });
    const { database } = await client.databases.createIfNotExists({ id: 'simulator' });
    const { container } = await database.containers.createIfNotExists({
        id: 'items',
        partitionKey: { paths: ['/configurationId'], kind: PartitionKeyKind.Hash, version: 2 },
    });
    return { client, container };
}
