/**
 * Application Insights for `$batch`: each part's Cosmos DB calls are recorded as a top-level request's are, with the
 * part's own request-id, in the operation (trace id) and invocation of the `$batch` the host recorded. The app's own
 * telemetry worker (dist/, which test/globalSetup builds) sends to an ingestion endpoint in this process: what the SDK
 * really sends.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import functions from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { createHttpHandler } from '../../lib/http/pipeline.js';
import { MAX_DEPENDENCIES_PER_SECOND } from '../../lib/platform/sampling.js';
import { startTelemetry, type Telemetry } from '../../lib/platform/telemetry.js';
import { newStoredConfiguration } from '../helpers/configurations.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { SEED_REQUEST_BODY } from '../helpers/host.js';
import { type Envelope, type Ingestion, startIngestion } from '../helpers/ingestion.js';

const { HttpRequest, InvocationContext } = functions;

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const INSTRUMENTATION_KEY = '44444444-4444-4444-8444-444444444444';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

let ingestion: Ingestion;
let telemetry: Telemetry;
let cosmos: TestCosmos;

/**
 * The app's worker, in a thread that takes the ingestion endpoint's self-signed certificate: the exporter sends only
 * over HTTPS, and NODE_EXTRA_CA_CERTS is read only at process start. Certificates go unchecked in that thread alone
 * (its own copy of the environment), whose only connections are to this endpoint.
 */
function trustingWorker(): URL {
    const worker = pathToFileURL(join(repo, 'dist', 'lib', 'platform', 'telemetryWorker.js'));
    const source = `process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; await import(${JSON.stringify(worker.href)});`;
    return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

beforeAll(async () => {
    // The SDK's own usage statistics go to Microsoft's endpoint, which this machine cannot reach.
    process.env.APPLICATION_INSIGHTS_NO_STATSBEAT = 'true';
    ingestion = await startIngestion();
    const endpoint = ingestion.url;
    const logger = { info: () => {}, warn: () => {}, error: (m: string) => console.error(m) };
    telemetry = startTelemetry(
        {
            connectionString: `InstrumentationKey=${INSTRUMENTATION_KEY};IngestionEndpoint=${endpoint}`,
            roleName: 'batch-telemetry-test',
            // Every call recorded: the records looked for must not be sampled out.
            maxDependenciesPerSecond: MAX_DEPENDENCIES_PER_SECOND,
        },
        { database: 'db', container: 'c' },
        logger,
        { workerUrl: trustingWorker() },
    );
    cosmos = await startTestCosmos({ observer: telemetry.observer });
});

afterAll(async () => {
    await telemetry?.dispose();
    await cosmos?.close();
    await ingestion?.close();
});

describe('$batch with telemetry on', () => {
    it("records each part's Cosmos DB calls with the part's request-id, in the batch's operation", async () => {
        const [first, second] = [
            await newStoredConfiguration(cosmos.services.store),
            await newStoredConfiguration(cosmos.services.store),
        ];
        const assignments = (cfg: string) => `/officeConfiguration/clientConfigurations/${cfg}/assignments`;
        const batch = {
            requests: [
                {
                    id: 'create',
                    method: 'POST',
                    url: assignments(first),
                    headers: { 'Content-Type': 'application/json' },
                    body: JSON.parse(SEED_REQUEST_BODY) as unknown,
                },
                { id: 'list', method: 'GET', url: assignments(second) },
            ],
        };
        const context = new InvocationContext({
            invocationId: 'invocation-batch',
            functionName: 'batch',
            traceContext: { traceParent: `00-${TRACE_ID}-b7ad6b7169203331-01` },
            logHandler: () => {},
        });
        const route = routes.find((r) => r.template === '$batch')!;
        const response = await createHttpHandler(route, () => cosmos.services)(
            new HttpRequest({
                method: 'POST',
                url: 'https://app.example.net/beta/$batch',
                headers: { 'content-type': 'application/json' },
                body: { string: JSON.stringify(batch) },
            }),
            context,
        );
        const { responses } = JSON.parse(response.body as string) as {
            responses: { id: string; status: number; headers: Record<string, string> }[];
        };
        expect(responses.map((r) => [r.id, r.status])).toEqual([
            ['create', 201],
            ['list', 200],
        ]);
        await telemetry.flush(30_000);

        const dependencies = ingestion.received.filter(
            (e) => e.iKey === INSTRUMENTATION_KEY && e.data.baseType === 'RemoteDependencyData',
        );
        const [createId, listId] = responses.map((r) => r.headers['request-id']);
        expect(createId).not.toBe(listId);
        const requestIdOf = (e: Envelope) => e.data.baseData.properties?.['request-id'];
        const named = (name: string) => dependencies.filter((e) => e.data.baseData.name === name);
        // Each part's call under its own request-id, from its own answer, not the other's.
        expect(named('create').map(requestIdOf)).toEqual([createId]);
        expect(named('query').map(requestIdOf)).toEqual([listId]);
        // The batch's operation holds its parts' calls, every one of them with the request-id of a part.
        const inBatch = dependencies.filter((e) => e.tags['ai.operation.id'] === TRACE_ID);
        expect(inBatch.map((e) => e.data.baseData.name)).toEqual(expect.arrayContaining(['create', 'read', 'query']));
        for (const record of inBatch) {
            expect([createId, listId]).toContain(requestIdOf(record));
            expect(record.data.baseData.properties?.invocationId).toBe('invocation-batch');
        }
        // And no call of a part is left outside it, in an operation of its own that nothing else belongs to.
        const ofParts = dependencies.filter((e) => [createId, listId].includes(requestIdOf(e)));
        expect(ofParts.length).toBe(inBatch.length);
    });
});
