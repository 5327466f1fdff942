/**
 * The library floor of a create: the same work as the app's create, done with the libraries alone and nothing of the
 * project's own code between them. node:http reads the request; `@azure/functions`' HttpRequest carries it and gives
 * the body (`arrayBuffer()`, decoded as strict UTF-8, as the app reads it); ajv checks it against the same schema;
 * a GUID names it; `@azure/cosmos` sends the same transactional batch as the app's store (the document, the patch
 * of its configuration's set document on condition of the partition's last change number, and the create's change
 * record, numbered: lib/store/assignmentStore `createBatchOperations` and `createRecord`) with the app's client
 * options; the numbers are the app's too, the last one read once per configuration and the creates of one
 * configuration sent one after another (bench/changeNumbers); the answer has the app's status, headers and body.
 * Whatever the app spends above this is the project's own code. The configuration must exist (its set document is
 * patched): bench/creates makes one.
 *
 *   node dist/bench/libraryFloor.js <cosmos endpoint> <cosmos key>     (prints "listening at http://127.0.0.1:port")
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

import functions from '@azure/functions';

import { type AssignmentTarget, bodySchemas } from '../lib/graph/schema.js';
import { DEFAULT_COSMOS_CONTAINER, DEFAULT_COSMOS_DATABASE } from '../lib/platform/config.js';
import { openContainer } from '../lib/store/cosmosClient.js';
import { createAjv } from '../scripts/build-validators.js';
import { BatchNotLanded, changeNumbers, numberedCreate } from './changeNumbers.js';

const { HttpRequest } = functions;

const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export interface LibraryFloor {
    origin: string;
    close(): Promise<void>;
}

export async function startLibraryFloor(endpoint: string, key: string): Promise<LibraryFloor> {
    const opened = await openContainer({
        connection: { kind: 'key', endpoint, key },
        database: DEFAULT_COSMOS_DATABASE,
        container: DEFAULT_COSMOS_CONTAINER,
        requestTimeoutMs: 5000,
    });
    const ajv = createAjv();
    Object.values(bodySchemas).forEach((schema) => ajv.addSchema(schema));
    const validate = ajv.getSchema(bodySchemas.create.$id)!;
    const numbered = changeNumbers(opened.container);

    const answer = (
        response: ServerResponse,
        status: number,
        body: unknown,
        headers: Record<string, string> = {},
        requestId = randomUUID(),
    ) => {
        const json = JSON.stringify(body);
        response.writeHead(status, {
            ...headers,
            'request-id': requestId,
            'client-request-id': requestId,
            'OData-Version': '4.0',
            // As lib/http/pipeline.ts answers every request.
            'X-Content-Type-Options': 'nosniff',
            'Content-Type': ODATA_JSON,
            'Content-Length': String(Buffer.byteLength(json)),
        });
        response.end(json);
    };

    const create = async (incoming: IncomingMessage, bytes: Buffer, response: ServerResponse) => {
        const host = incoming.headers.host ?? 'localhost';
        const request = new HttpRequest({
            method: incoming.method ?? 'POST',
            url: `http://${host}${incoming.url ?? '/'}`,
            headers: incoming.headers as Record<string, string>,
            body: { bytes },
        });
        // /beta/officeConfiguration/clientConfigurations/{configurationId}/assignments
        const configurationId = decodeURIComponent(new URL(request.url).pathname.split('/')[4] ?? '');
        const body = JSON.parse(UTF8.decode(await request.arrayBuffer())) as { target: Record<string, unknown> };
        if (!validate(body)) {
            answer(response, 400, { error: { code: 'BadRequest', message: ajv.errorsText(validate.errors) } });
            return;
        }
        const id = randomUUID();
        const assignment = { id, target: body.target as AssignmentTarget };
        // As the app's record: the request-id it is answered with.
        const requestId = randomUUID();
        let result;
        try {
            result = await numberedCreate(opened.container, numbered, configurationId, assignment, requestId);
        } catch (error) {
            if (!(error instanceof BatchNotLanded)) {
                throw error;
            }
            console.error(`a create failed: ${error.message}`);
            answer(response, 500, { error: { code: 'InternalServerError', message: `batch: ${error.code}` } });
            return;
        }
        const resource = result[0]?.resourceBody as { target?: unknown; _etag?: string } | undefined;
        const root = `http://${host}/beta`;
        const path = `officeConfiguration/clientConfigurations('${configurationId}')/assignments`;
        answer(
            response,
            201,
            {
                '@odata.context': `${root}/$metadata#${path}/$entity`,
                '@odata.type': '#microsoft.graph.officeClientConfigurationAssignment',
                id,
                target: resource?.target,
            },
            {
                ETag: resource?._etag ?? '',
                Location: `${root}/officeConfiguration/clientConfigurations/${encodeURIComponent(configurationId)}/assignments/${id}`,
            },
            requestId,
        );
    };

    const server = http.createServer((incoming, response) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
            create(incoming, Buffer.concat(chunks), response).catch((error: unknown) => {
                const { code } = error as { code?: string | number };
                console.error(`a create failed: ${String(error)}${code === undefined ? '' : ` (code ${code})`}`);
                answer(response, 500, { error: { code: 'InternalServerError', message: String(error) } });
            });
        });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    return {
        origin: `http://127.0.0.1:${port}`,
        close: async () => {
            server.closeAllConnections();
            server.close();
            await opened.dispose();
        },
    };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
    const [endpoint = '', key = ''] = process.argv.slice(2);
    const floor = await startLibraryFloor(endpoint, key);
    process.on('SIGTERM', () => void floor.close().then(() => process.exit(0)));
    console.info(`library floor listening at ${floor.origin}`);
}
