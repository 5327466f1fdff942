/**
 * The bench's own parts, checked for doing what its figures claim (no timing is asserted): the library floor does the
 * app's work and answers as the app does; the baseline bundle holds both SDKs whole and runs on its own; the
 * telemetry sink takes the exporter's calls; CPU time read from /proc agrees with the process's own account.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildBaselineBundle } from '../../bench/coldImport.js';
import { type LibraryFloor, startLibraryFloor } from '../../bench/libraryFloor.js';
import { PAYLOAD } from '../../bench/payload.js';
import { cpuMsOf, processCpuMs, stopChild } from '../../bench/processes.js';
import { startTelemetrySink } from '../../bench/telemetrySink.js';
import { DEFAULT_COSMOS_CONTAINER, DEFAULT_COSMOS_DATABASE } from '../../lib/platform/config.js';
import { changeId } from '../../lib/store/changeLog.js';
import { type EmbeddedCosmos, startEmbeddedCosmos } from '../../lib/store/embeddedCosmos.js';
import { startAppProcess } from '../../scripts/appProcess.js';
import { repoRoot } from '../../scripts/paths.js';
import { newConfiguration } from '../helpers/configurations.js';

const assignments = (origin: string, configurationId: string) =>
    `${origin}/beta/officeConfiguration/clientConfigurations/${configurationId}/assignments`;

const post = (url: string, body: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('the library floor', () => {
    let cosmos: EmbeddedCosmos;
    let floor: LibraryFloor;
    let app: Awaited<ReturnType<typeof startAppProcess>>;

    beforeAll(async () => {
        cosmos = await startEmbeddedCosmos({ protocol: 'http' });
        floor = await startLibraryFloor(cosmos.endpoint, cosmos.key);
        app = await startAppProcess(repoRoot, {
            PATH: process.env.PATH,
            COSMOS_ENDPOINT: cosmos.endpoint,
            COSMOS_KEY: cosmos.key,
        });
    });

    afterAll(async () => {
        await stopChild(app.child);
        await floor.close();
        await cosmos.close();
    });

    it('answers a create with the status, headers and body the app answers, and stores the same documents', async () => {
        // One configuration for both: the app needs it to exist; the floor, as the bare libraries, takes any id.
        const configuration = await newConfiguration(`${app.origin}/beta`);
        const fromApp = await post(assignments(app.origin, configuration), PAYLOAD);
        const fromFloor = await post(assignments(floor.origin, configuration), PAYLOAD);
        expect(fromApp.status).toBe(201);
        expect(fromFloor.status).toBe(201);
        const names = (response: Response) =>
            [...response.headers.keys()].filter((name) => !['date', 'keep-alive', 'connection'].includes(name)).sort();
        expect(names(fromFloor)).toEqual(names(fromApp));
        const appBody = (await fromApp.json()) as Record<string, unknown>;
        const floorBody = (await fromFloor.json()) as Record<string, unknown>;
        expect(Object.keys(floorBody)).toEqual(Object.keys(appBody));
        expect(floorBody.target).toEqual(appBody.target);
        expect(floorBody['@odata.context']).toBe(
            (appBody['@odata.context'] as string).replace(app.origin, floor.origin),
        );
        expect(fromFloor.headers.get('location')).toBe(
            `${assignments(floor.origin, configuration)}/${String(floorBody.id)}`,
        );

        const client = new CosmosClient({
            endpoint: cosmos.endpoint,
            key: cosmos.key,
            connectionPolicy: { enableEndpointDiscovery: false },
        });
        try {
            const container = client.database(DEFAULT_COSMOS_DATABASE).container(DEFAULT_COSMOS_CONTAINER);
            const stored = async (configurationId: string, id: unknown) => {
                const { resource } = await container.item(String(id), configurationId).read<Record<string, unknown>>();
                return Object.keys(resource ?? {}).filter((key) => !key.startsWith('_'));
            };
            expect(await stored(configuration, floorBody.id)).toEqual(await stored(configuration, appBody.id));
            // The change records: the app's create took number 1, the floor's the next, each naming its assignment
            // and the request-id it was answered with.
            const record = async (sequence: number) =>
                (await container.item(changeId(sequence), configuration).read<Record<string, unknown>>()).resource;
            const [fromAppRecord, fromFloorRecord] = [await record(1), await record(2)];
            expect(fromAppRecord?.resources).toMatchObject([{ resourceId: appBody.id }]);
            expect(fromFloorRecord?.resources).toMatchObject([{ resourceId: floorBody.id }]);
            expect(fromFloorRecord?.correlationId).toBe(fromFloor.headers.get('request-id'));
            const keys = (r: Record<string, unknown> | undefined) =>
                Object.keys(r ?? {}).filter((k) => !k.startsWith('_'));
            expect(keys(fromFloorRecord)).toEqual(keys(fromAppRecord));
            const { resource: set } = await container
                .item('assign-version', configuration)
                .read<{ revision: number }>();
            expect(set?.revision).toBe(2);
        } finally {
            client.dispose();
        }
    });

    it('numbers concurrent creates into one configuration one after another, as the app does: none collide', async () => {
        const configuration = await newConfiguration(`${app.origin}/beta`);
        expect((await post(assignments(app.origin, configuration), PAYLOAD)).status).toBe(201); // number 1
        const answers = await Promise.all(
            Array.from({ length: 20 }, () => post(assignments(floor.origin, configuration), PAYLOAD)),
        );
        expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
        const ids = await Promise.all(answers.map(async (a) => ((await a.json()) as { id: string }).id));
        const client = new CosmosClient({
            endpoint: cosmos.endpoint,
            key: cosmos.key,
            connectionPolicy: { enableEndpointDiscovery: false },
        });
        try {
            const container = client.database(DEFAULT_COSMOS_DATABASE).container(DEFAULT_COSMOS_CONTAINER);
            const { resource: set } = await container
                .item('assign-version', configuration)
                .read<{ revision: number; total: number }>();
            expect(set).toMatchObject({ revision: 21, total: 21 });
            const named = await Promise.all(
                Array.from({ length: 20 }, async (_, i) => {
                    const { resource } = await container
                        .item(changeId(i + 2), configuration)
                        .read<{ resources: { resourceId: string }[] }>();
                    return resource?.resources[0]?.resourceId;
                }),
            );
            expect(new Set(named)).toEqual(new Set(ids));
        } finally {
            client.dispose();
        }
    });

    it('validates against the same schema: a group target without a GUID is refused by both', async () => {
        const body = PAYLOAD.replace('0f8fad5b-d9cb-469f-a165-70867728950e', 'not-a-guid');
        const configuration = await newConfiguration(`${app.origin}/beta`);
        expect((await post(assignments(app.origin, configuration), body)).status).toBe(400);
        expect((await post(assignments(floor.origin, configuration), body)).status).toBe(400);
    });
});

describe('the cold import baseline', () => {
    it('bundles @azure/functions and @azure/cosmos whole, and imports from a folder with no node_modules', async () => {
        const dir = await mkdtemp(join(tmpdir(), 'baseline-bundle-'));
        try {
            await buildBaselineBundle(join(repoRoot, 'bench', 'baselineEntry.ts'), dir);
            const check =
                `const m = await import(${JSON.stringify(pathToFileURL(join(dir, 'index.js')).href)}); ` +
                `console.log(typeof m.functions.app.http, typeof m.cosmos.CosmosClient);`;
            const run = spawnSync(process.execPath, ['--input-type=module', '-e', check], {
                cwd: dir,
                encoding: 'utf8',
                env: { PATH: process.env.PATH },
            });
            expect(run.stderr).not.toMatch(/Error/);
            expect(run.stdout.trim().split('\n').pop()).toBe('function function');
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });
});

describe('the telemetry sink', () => {
    it("accepts the exporter's gzipped track calls, counts their envelopes and weighs dependencies by sample rate", async () => {
        const sink = await startTelemetrySink();
        try {
            const dependency = 'Microsoft.ApplicationInsights.RemoteDependency';
            const envelopes = [
                { name: 'Microsoft.ApplicationInsights.Metric' },
                { name: dependency, sampleRate: 100 },
                { name: dependency, sampleRate: 0.5 },
                { name: dependency },
            ];
            const response = await fetch(`${sink.origin}/v2.1/track`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
                body: gzipSync(JSON.stringify(envelopes)),
            });
            expect(await response.json()).toEqual({ itemsReceived: 4, itemsAccepted: 4, errors: [] });
            expect(await (await fetch(`${sink.origin}/count`)).json()).toEqual({
                posts: 1,
                items: 4,
                dependencies: 3,
                dependenciesRepresented: 202,
            });
            expect(sink.ingestion).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
        } finally {
            await sink.close();
        }
    });
});

describe('CPU time per process', () => {
    it("read from /proc agrees with the process's own account, to the clock tick", async () => {
        const fromProc = await processCpuMs(process.pid);
        const own = process.cpuUsage();
        let x = 0;
        for (let i = 0; i < 3e7; i += 1) {
            x += Math.sqrt(i);
        }
        expect(x).toBeGreaterThan(0);
        const ownMs = cpuMsOf(process.cpuUsage(own));
        const procMs = (await processCpuMs(process.pid))! - fromProc!;
        // /proc counts in 10 ms ticks: the two agree within two of them.
        expect(Math.abs(procMs - ownMs)).toBeLessThanOrEqual(20);
    });
});
