/**
 * The audit trail's $filter (lib/resources/auditEvents.ts): activityDateTime ranges only, in linear time.
 */
import { describe, expect, it } from 'vitest';

import { GraphError } from '../../../lib/graph/errors.js';
import { parseAuditFilter } from '../../../lib/resources/auditEvents.js';

describe('the audit $filter', () => {
    it('takes ge, le, gt and lt on activityDateTime, joined by and, as UTC bounds', () => {
        expect(parseAuditFilter('activityDateTime ge 2026-12-01T00:00:00Z')).toEqual({
            from: '2026-12-01T00:00:00.000Z',
        });
        expect(
            parseAuditFilter('ActivityDateTime GT 2026-12-01T01:00:00+01:00 and activityDateTime lt 2026-12-02T00:00Z'),
        ).toEqual({ from: '2026-12-01T00:00:00.001Z', to: '2026-12-01T23:59:59.999Z' });
        // The tighter of two bounds of a side.
        expect(
            parseAuditFilter('activityDateTime le 2026-12-05T00:00:00Z and activityDateTime le 2026-12-04T00:00:00Z'),
        ).toEqual({ to: '2026-12-04T00:00:00.000Z' });
    });

    it('refuses anything else with a 400 that says what it takes', () => {
        for (const bad of [
            '',
            'activityDateTime eq 2026-12-01T00:00:00Z',
            'activityDateTime ge 2026-12-01',
            'activityDateTime ge 2026-13-45T99:00:00Z',
            'activity ge 2026-12-01T00:00:00Z',
            'activityDateTime ge 2026-12-01T00:00:00Z or activityDateTime le 2026-12-02T00:00:00Z',
            'activityDateTime ge 2026-12-01T00:00:00Z and',
            `${'activityDateTime ge 2026-12-01T00:00:00Z and '.repeat(20)}activityDateTime ge 2026-12-01T00:00:00Z`,
            `activityDateTime ge ${'1'.repeat(10_000)}`,
        ]) {
            expect(() => parseAuditFilter(bad), bad.slice(0, 60)).toThrow(GraphError);
        }
    });
});
