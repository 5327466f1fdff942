/**
 * The app as Azure runs it, for the suites that race it: N app processes (each its own Cosmos client, so its own
 * session) behind one round-robin front, against a Cosmos DB that behaves as Azure's does (latency, request units,
 * session consistency across clients, late commits: lib/store/simulator). Also what those suites judge a round by:
 * every document as stored, read behind the simulation's back, and whether anything is left that no listed
 * configuration owns.
 */
import type { Container } from '@azure/cosmos';

import { sweep, type SweepReport } from '../../lib/jobs/sweeper.js';
import { AssignmentStore, SET_VERSION_ID } from '../../lib/store/assignmentStore.js';
import { type OpenedContainer, openEmbeddedContainer } from '../../lib/store/cosmosClient.js';
import type { PresetName, ProfileOverrides } from '../../lib/store/simulator/profile.js';
import { type SimulatedCosmos, startSimulatedCosmos } from '../../lib/store/simulator/simulatedCosmos.js';
import { SUBSCRIPTIONS_PARTITION } from '../../lib/store/subscriptionStore.js';
import { ORDER_ID, TENANT_PARTITION } from '../../lib/store/tenant.js';
import { type Cluster, startCluster } from '../../scripts/cluster.js';
import { testSettings } from './cosmos.js';
import { cleanEnv, repo } from './project.js';

export interface ScaleOutOptions {
    /** App processes behind the front; 3 by default, as the race suites run. */
    instances?: number;
    /** The simulated account: serverless (the Bicep's default) unless named. */
    preset?: PresetName;
    /** Changes to that profile. */
    profile?: ProfileOverrides;
    /** More settings for every instance. */
    env?: Record<string, string>;
}

export interface ScaleOut {
    sim: SimulatedCosmos;
    cluster: Cluster;
    /** The front's service root, `http://127.0.0.1:port/beta`. */
    root: string;
    /** Each instance's own service root, for requests aimed at one of them. */
    instanceRoots: string[];
    /** The container on the backend itself: what is stored, read without latency, charges or staleness. */
    stored: Container;
    /** A store of one more instance (its own client, through the simulation): the sweeper runs on it. */
    store: AssignmentStore;
    sweep(): Promise<SweepReport>;
    /** What stands in the container now, and every way it breaks the rules (none, after a settled round). */
    audit(): Promise<Audit>;
    /** One configuration as stored: what a client would see once every replica has caught up. */
    inspect(id: string): Promise<StoredConfiguration>;
    close(): Promise<void>;
}

export interface Audit {
    /** The order's ids, first priority first. */
    listed: string[];
    /** One line per broken rule; empty when the container is whole. */
    problems: string[];
    /** Sweep records still waiting (a create within its grace time, a sweep not yet run). */
    pending: string[];
}

type Stored = Record<string, unknown> & { id: string; configurationId: string; kind?: string };

export interface StoredConfiguration {
    /** In the order. */
    listed: boolean;
    document?: Stored;
    parent?: Stored;
    /** Assignments in its partition (its parent and key records left out). */
    assignments: number;
}

export async function inspectConfiguration(container: Container, id: string): Promise<StoredConfiguration> {
    const [order, document, parent, partition] = await Promise.all([
        container.item(ORDER_ID, TENANT_PARTITION).read<{ ids: string[] }>(),
        container.item(id, TENANT_PARTITION).read<Stored>(),
        container.item(SET_VERSION_ID, id).read<Stored>(),
        container.items
            .query<Stored>({
                query: 'SELECT * FROM c WHERE c.configurationId = @id',
                parameters: [{ name: '@id', value: id }],
            })
            .fetchAll(),
    ]);
    return {
        listed: (order.resource?.ids ?? []).includes(id),
        ...(document.resource ? { document: document.resource } : {}),
        ...(parent.resource ? { parent: parent.resource } : {}),
        assignments: partition.resources.filter((d) => d.id !== SET_VERSION_ID && d.kind === undefined).length,
    };
}

/** Every document of the container, every partition (the backend answers a query with all of them). */
async function everything(container: Container): Promise<Stored[]> {
    // One page: the embedded server evaluates the whole query again for every page it answers.
    const { resources } = await container.items.readAll<Stored>({ maxItemCount: 1_000_000 }).fetchAll();
    return resources;
}

/** The rules no settled round may break: nothing stored that no listed configuration owns, nothing listed half. */
export async function auditContainer(container: Container): Promise<Audit> {
    // Subscriptions have a partition of their own, of no configuration.
    const documents = (await everything(container)).filter((d) => d.configurationId !== SUBSCRIPTIONS_PARTITION);
    const problems: string[] = [];
    const tenant = documents.filter((d) => d.configurationId === TENANT_PARTITION);
    const order = tenant.find((d) => d.id === ORDER_ID) as { ids?: string[] } | undefined;
    const listed = order?.ids ?? [];
    const listedSet = new Set(listed);
    if (listedSet.size !== listed.length) {
        problems.push('the order names a configuration twice');
    }
    const configurations = new Map(tenant.filter((d) => d.kind === 'configuration').map((d) => [d.id, d]));
    const parents = new Map(
        documents
            .filter((d) => d.id === SET_VERSION_ID && d.configurationId !== TENANT_PARTITION)
            .map((d) => [d.configurationId, d]),
    );
    for (const id of listed) {
        if (!configurations.has(id)) {
            problems.push(`${id}: listed without its document`);
        }
        const parent = parents.get(id);
        if (!parent) {
            problems.push(`${id}: listed without its parent (no assignment can be made)`);
        } else if (parent.deleting !== undefined) {
            problems.push(`${id}: listed, its parent still marked by a DELETE`);
        }
    }
    for (const [id, document] of configurations) {
        if (!listedSet.has(id)) {
            problems.push(`${id}: a configuration document the order does not list`);
        }
        const payloads = (document.payloads ?? {}) as Record<string, unknown>;
        for (const property of Object.keys(payloads)) {
            if (!tenant.some((d) => d.id === `${id}.${property}`)) {
                problems.push(`${id}: its ${property} is advertised but not stored`);
            }
        }
    }
    for (const payload of tenant.filter((d) => d.kind === 'payload')) {
        const [owner, property] = payload.id.split('.');
        const document = configurations.get(owner ?? '');
        if (!document || !listedSet.has(owner ?? '')) {
            problems.push(`${payload.id}: a payload of no listed configuration`);
        } else if (!((document.payloads ?? {}) as Record<string, unknown>)[property ?? '']) {
            problems.push(`${payload.id}: a payload its configuration does not advertise`);
        }
    }
    // A deleted configuration's change records stay for the retention: the audit trail's, not the configuration's.
    const owners = new Set(
        documents
            .filter((d) => d.configurationId !== TENANT_PARTITION && d.kind !== 'change')
            .map((d) => d.configurationId),
    );
    for (const owner of owners) {
        if (!listedSet.has(owner)) {
            const count = documents.filter((d) => d.configurationId === owner && d.kind !== 'change').length;
            problems.push(`${owner}: ${count} document(s) in the partition of no listed configuration`);
        }
    }
    const pending = tenant.filter((d) => d.kind === 'sweep').map((d) => `${d.id} (${String(d.state)})`);
    return { listed, problems, pending };
}

export async function startScaleOut(options: ScaleOutOptions = {}): Promise<ScaleOut> {
    const sim = await startSimulatedCosmos({
        profile: options.preset ?? 'azureServerless',
        ...(options.profile ? { overrides: options.profile } : {}),
    });
    let opened: OpenedContainer | undefined;
    let helper: OpenedContainer | undefined;
    try {
        // The database and container exist before the instances start, as the Bicep makes them in Azure.
        opened = await openEmbeddedContainer(testSettings, sim.backend);
        helper = await openEmbeddedContainer(testSettings, sim);
        const cluster = await startCluster({
            instances: options.instances ?? 3,
            appRoot: repo,
            env: cleanEnv({
                COSMOS_ENDPOINT: sim.endpoint,
                COSMOS_KEY: sim.key,
                // The suites run the sweeper themselves, between rounds; the instances' own runs would only race it.
                SWEEP_INTERVAL_SECONDS: '3600',
                ...options.env,
            }),
        });
        const { container } = helper;
        const store = new AssignmentStore(() => Promise.resolve(container));
        const stored = opened.container;
        const toClose = [opened, helper];
        return {
            sim,
            cluster,
            root: `${cluster.origin}/beta`,
            instanceRoots: cluster.instances.map((i) => `${i.origin}/beta`),
            stored,
            store,
            sweep: async () => await sweep(store, { runForMs: 60_000 }),
            audit: async () => await auditContainer(stored),
            inspect: async (id) => await inspectConfiguration(stored, id),
            close: async () => {
                await cluster.close();
                await Promise.all(toClose.map((o) => o.dispose()));
                await sim.close();
            },
        };
    } catch (error) {
        await opened?.dispose();
        await helper?.dispose();
        await sim.close();
        throw error;
    }
}
