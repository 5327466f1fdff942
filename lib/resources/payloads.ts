/**
 * The stream properties of a client configuration (`policyPayload`, `userPreferencePayload`, Edm.Stream), as OData
 * serves them: the entity carries media annotations only, and `GET`/`PUT .../{id}/policyPayload` read and replace
 * the bytes, with their media type and ETag. A PUT reads at most MAX_PAYLOAD_BYTES (413 past it, before storing).
 */
import { badRequest, GraphError } from '../graph/errors.js';
import { isMediaType, MEDIA_TYPE_RULE, servedMediaType } from '../graph/mediaType.js';
import type { PayloadProperty } from '../graph/schema.js';
import { readBytes } from '../http/body.js';
import type { HttpMethod, Operation, OperationCall } from '../http/pipeline.js';
import { StoreError } from '../store/assignmentStore.js';
import {
    configurationIdOf,
    configurationsOf,
    DEFAULT_PAYLOAD_TYPE,
    MAX_PAYLOAD_BYTES,
    missingConfiguration,
    payloadEtag,
} from './configurations.js';
import { ifMatchOf } from './requests.js';

/**
 * Whoever may write a payload chooses its bytes and media type: served as a page under the API's origin, an HTML
 * payload would run its script there. A payload is a download, never rendered, never sniffed into something else.
 */
const DOWNLOAD_HEADERS = {
    'Content-Disposition': 'attachment',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'X-Content-Type-Options': 'nosniff',
};

/** The Content-Type of a PUT: absent for the default, else a media type it is sent back as. */
function sentMediaType(call: OperationCall, property: PayloadProperty): string {
    const sent = call.request.headers.get('content-type')?.trim();
    if (sent === undefined || sent === '') {
        return DEFAULT_PAYLOAD_TYPE;
    }
    if (!isMediaType(sent)) {
        throw badRequest(`The Content-Type of ${property} must be ${MEDIA_TYPE_RULE}.`);
    }
    return sent;
}

/** The stored bytes, as sent; 204 when the configuration has none yet (OData: a null stream has no content). */
function getPayload(property: PayloadProperty): Operation {
    return async (call) => {
        const id = configurationIdOf(call);
        const read = await configurationsOf(call).readPayload(id, property);
        if (!read.configuration) {
            throw missingConfiguration(id);
        }
        const { payload } = read;
        if (!payload) {
            return { status: 204 };
        }
        return {
            status: 200,
            content: { type: servedMediaType(payload.contentType), text: payload.bytes },
            headers: { ETag: payload.etag, ...DOWNLOAD_HEADERS },
        };
    };
}

/** Replaces the bytes: any media type (`application/octet-stream` when none is given); If-Match on the payload's ETag. */
function putPayload(property: PayloadProperty): Operation {
    return async (call) => {
        const id = configurationIdOf(call);
        const ifMatch = ifMatchOf(call);
        const contentType = sentMediaType(call, property);
        const bytes = await readBytes(call.request, MAX_PAYLOAD_BYTES, call.body);
        const info = await configurationsOf(call)
            .writePayload(id, { property, contentType, bytes, etag: payloadEtag(contentType, bytes) }, ifMatch)
            .catch((error: unknown) => {
                if (error instanceof StoreError && error.kind === 'notFound') {
                    throw missingConfiguration(id);
                }
                if (error instanceof StoreError && error.kind === 'preconditionFailed') {
                    throw new GraphError(
                        'PreconditionFailed',
                        `The If-Match ETag does not match the current ${property}.`,
                    );
                }
                throw error;
            });
        return { status: 204, headers: { ETag: info.etag } };
    };
}

export function payloadOperations(property: PayloadProperty): Partial<Record<HttpMethod, Operation>> {
    return { GET: getPayload(property), PUT: putPayload(property) };
}
