/**
 * The service documents: `$metadata` (the CSDL of the types responses use) and the OpenAPI description. Both are
 * answered without a token, as Graph serves its own `$metadata`, and neither touches storage.
 */
import { CSDL_XML } from '../graph/csdl.js';
import type { Operation } from '../http/pipeline.js';

export const METADATA_MEDIA_TYPE = 'application/xml;charset=utf-8';
export const OPENAPI_MEDIA_TYPE = 'application/json';

export const getMetadata: Operation = () =>
    Promise.resolve({ status: 200, content: { type: METADATA_MEDIA_TYPE, text: CSDL_XML } });

// Loaded and built on the first request rather than at load (its builder is a fifth of the app's own code), so
// that a cold start does not pay for a document few ask for.
let openApiText: Promise<string> | undefined;

export const getOpenApi: Operation = async () => {
    openApiText ??= import('./openapi.js')
        .then(({ openApiJson }) => openApiJson())
        .catch((error: unknown) => {
            openApiText = undefined; // the next request tries again
            throw error;
        });
    return { status: 200, content: { type: OPENAPI_MEDIA_TYPE, text: await openApiText } };
};
