import { describe, expect, it } from 'vitest';

import {
    errorBody,
    graphDate,
    GraphError,
    methodNotAllowed,
    serviceUnavailable,
    tooManyRequests,
} from '../../../lib/graph/errors.js';

describe('Graph errors', () => {
    it('maps each code to the contract status', () => {
        const expected: [ConstructorParameters<typeof GraphError>[0], number][] = [
            ['BadRequest', 400],
            ['InvalidAuthenticationToken', 401],
            ['Authorization_RequestDenied', 403],
            ['ResourceNotFound', 404],
            ['MethodNotAllowed', 405],
            ['Conflict', 409],
            ['PreconditionFailed', 412],
            ['RequestEntityTooLarge', 413],
            ['UnsupportedMediaType', 415],
            ['TooManyRequests', 429],
            ['InternalServerError', 500],
            ['ServiceUnavailable', 503],
        ];
        for (const [code, status] of expected) {
            expect(new GraphError(code, 'm').status).toBe(status);
        }
    });

    it('writes the date as Graph does: UTC, seconds, no zone', () => {
        expect(graphDate(new Date('2026-11-28T21:40:00.789Z'))).toBe('2026-11-28T21:40:00');
    });

    it('builds the body, with details only when there are some', () => {
        const ids = { requestId: 'r', clientRequestId: 'c' };
        const now = new Date('2026-01-02T03:04:05Z');
        expect(errorBody(new GraphError('BadRequest', 'bad'), ids, now)).toEqual({
            error: {
                code: 'BadRequest',
                message: 'bad',
                innerError: { date: '2026-01-02T03:04:05', 'request-id': 'r', 'client-request-id': 'c' },
            },
        });
        const details = [{ code: 'InvalidValue', message: 'm', target: 'target.groupId' }];
        expect(errorBody(new GraphError('BadRequest', 'bad', details), ids, now).error.details).toEqual(details);
    });

    it('carries the headers the contract names', () => {
        expect(methodNotAllowed('PUT', ['GET', 'POST']).headers).toEqual({ Allow: 'GET, POST' });
        expect(serviceUnavailable(5).headers).toEqual({ 'Retry-After': '5' });
        expect(tooManyRequests(2).headers).toEqual({ 'Retry-After': '2' });
    });
});
