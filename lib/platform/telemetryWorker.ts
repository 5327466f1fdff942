/**
 * The telemetry worker thread that lib/platform/telemetry starts: loads the Application Insights SDK away from the main thread
 * and turns each record it is posted into a dependency record (with its sample rate), and each create's charge it is
 * posted into the request-charge metric.
 *
 * The client is isolated (`useGlobalProviders: false`): it registers no OpenTelemetry globals and patches no module,
 * so it collects nothing by itself (no requests, no outgoing HTTP) and sends only what is tracked here.
 */
import { hostname } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

import { entraIdIngestion } from './config.js';
import type { DependencyRecord, FromWorker, ToWorker, WorkerSettings } from './telemetry.js';

/** Application Insights' dependency type for Cosmos DB, as its own SDKs name it. */
export const COSMOS_DEPENDENCY_TYPE = 'Azure DocumentDB';
export const CREATE_CHARGE_METRIC = 'cosmos.requestCharge.create';
/** The span attribute `@azure/monitor-opentelemetry-exporter` writes into an envelope's `sampleRate`. */
export const SAMPLE_RATE_ATTRIBUTE = 'microsoft.sample_rate';

const port = parentPort;
if (port === null) {
    throw new Error('lib/platform/telemetryWorker runs on a worker thread that lib/platform/telemetry starts');
}
const settings = workerData as WorkerSettings;
const post = (message: FromWorker) => port.postMessage(message);

/**
 * A CommonJS package imported from an ES module: Node lists its exports by name as well, the bundle (scripts/package)
 * only under `default`. Either way `default`, when there is one, is the package's `module.exports`.
 */
function commonJs<T extends object>(module: T): T {
    const exports = (module as { default?: unknown }).default;
    return (typeof exports === 'object' && exports !== null ? exports : module) as T;
}

const loadStarted = performance.now();
try {
    const [{ TelemetryClient }, { resourceFromAttributes }] = await Promise.all([
        import('applicationinsights').then(commonJs),
        import('@opentelemetry/resources').then(commonJs),
    ]);
    const client = new TelemetryClient(settings.connectionString, { useGlobalProviders: false });
    // Without `service.name` the records' cloud_RoleName is `unknown_service:node`, apart from the host's in the
    // application map. `service.instance.id` is the cloud_RoleInstance the exporter would otherwise look up, with a
    // system call to os.hostname(), for every record it sends: the same name, asked once.
    client.config.azureMonitorOpenTelemetryOptions = {
        resource: resourceFromAttributes({ 'service.name': settings.roleName, 'service.instance.id': hostname() }),
    };
    const entraId = settings.authenticationString ? entraIdIngestion(settings.authenticationString) : undefined;
    if (entraId) {
        // Local auth is off on the Application Insights resource (infra/): ingestion takes the app's identity's token.
        const { ManagedIdentityCredential } = await import('@azure/identity');
        client.config.aadTokenCredential = entraId.clientId
            ? new ManagedIdentityCredential({ clientId: entraId.clientId })
            : new ManagedIdentityCredential();
    }
    client.initialize();

    const track = (record: DependencyRecord) => {
        client.trackDependency({
            name: record.operation,
            dependencyTypeName: COSMOS_DEPENDENCY_TYPE,
            target: settings.target,
            data: record.operation,
            time: new Date(record.startedAt),
            duration: record.durationMs,
            success: record.success,
            resultCode: record.resultCode,
            ...(record.traceId ? { id: record.traceId } : {}),
            properties: {
                // Read by the exporter, which then types the record by it and leaves it out of the properties.
                'db.system': COSMOS_DEPENDENCY_TYPE,
                requestCharge: record.requestCharge,
                // The exporter keeps a database dependency's result code at 0: the status travels here as well.
                statusCode: record.resultCode,
                ...(record.requestId ? { 'request-id': record.requestId } : {}),
                ...(record.invocationId ? { invocationId: record.invocationId } : {}),
                ...(record.activityId ? { activityId: record.activityId } : {}),
                // Read by the exporter into the envelope's sampleRate (and left out of the properties).
                ...(record.sampleRate < 100 ? { [SAMPLE_RATE_ATTRIBUTE]: record.sampleRate } : {}),
            },
        });
    };

    port.on('message', (message: ToWorker) => {
        if (message.kind === 'records') {
            message.records.forEach(track);
            for (const value of message.createCharges) {
                client.trackMetric({ name: CREATE_CHARGE_METRIC, value });
            }
        } else {
            void client.flush().finally(() => post({ kind: 'flushed', id: message.id }));
        }
    });
    post({ kind: 'ready', loadMs: Math.round(performance.now() - loadStarted) });
} catch (error) {
    post({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
}
