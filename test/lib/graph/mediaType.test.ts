import { describe, expect, it } from 'vitest';

import { isMediaType, MAX_MEDIA_TYPE_LENGTH, servedMediaType } from '../../../lib/graph/mediaType.js';

describe('media types (RFC 9110 section 8.3.1)', () => {
    it('takes type/subtype tokens with token or quoted-string parameters', () => {
        for (const value of [
            'application/octet-stream',
            'application/vnd.ms-office.policy+xml',
            'text/plain;charset=utf-8',
            'text/plain ; charset=utf-8;format=flowed',
            'text/plain;',
            'text/plain;;charset=x',
            'multipart/mixed; boundary="a; b \\" c"',
            "a/b;!#$%&'*+.^_`|~=x",
        ]) {
            expect(isMediaType(value), value).toBe(true);
        }
    });

    it('refuses what a Content-Type cannot carry or is not a media type', () => {
        for (const value of [
            '',
            'text',
            'text/',
            '/plain',
            'text/plain/x',
            'text /plain',
            'text/plain\n',
            'text/plain\r\nX: y',
            'text/plain\u0000',
            'text/plain; charset',
            'text/plain; charset=',
            'text/plain; charset="open',
            'text/plain; charset="a\u0001"',
            'text/plain; charset=é',
            'text/plain; =x',
            'text/plain x',
            `a/${'b'.repeat(MAX_MEDIA_TYPE_LENGTH)}`,
        ]) {
            expect(isMediaType(value), JSON.stringify(value)).toBe(false);
        }
    });

    it('answers the worst inputs at the length limit: no backtracking over runs of blanks and separators', () => {
        const worst = [
            `a/b${' ;'.repeat(126)}!`,
            `a/b${';  '.repeat(84)}x`,
            `a/b;x="${'\\"'.repeat(120)}`,
            `a/b${'; x=y'.repeat(50)};`,
        ].map((value) => value.slice(0, MAX_MEDIA_TYPE_LENGTH));
        for (const value of worst) {
            expect(typeof isMediaType(value)).toBe('boolean');
        }
        expect(isMediaType(`a/b${'; x=y'.repeat(50)}`)).toBe(true);
    });

    it('serves a stored value that could not be sent as application/octet-stream', () => {
        expect(servedMediaType('text/html')).toBe('text/html');
        expect(servedMediaType('text/plain\nX: y')).toBe('application/octet-stream');
    });
});
