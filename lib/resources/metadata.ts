/**
 * The service documents: `$metadata` (the CSDL of the types responses use) and the OpenAPI description. Both are
 * answered without a token, as Graph serves its own `$metadata`, and neither touches storage.
 */
import { CSDL_XML } from '../graph/csdl.js';
import type { Operation } from '../http/pipeline.js';
import { openApiJson } from './openapi.js';

export const METADATA_MEDIA_TYPE = 'application/xml;charset=utf-8';
export const OPENAPI_MEDIA_TYPE = 'application/json';

export const getMetadata: Operation = () =>
    Promise.resolve({ status: 200, content: { type: METADATA_MEDIA_TYPE, text: CSDL_XML } });

// Built on the first request rather than at load, so that a cold start does not pay for a document few ask for.
let openApiText: string | undefined;

export const getOpenApi: Operation = () => {
    openApiText ??= openApiJson();
    return Promise.resolve({ status: 200, content: { type: OPENAPI_MEDIA_TYPE, text: openApiText } });
};
