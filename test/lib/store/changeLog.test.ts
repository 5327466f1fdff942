/**
 * The change log's records (lib/store/changeLog.ts): numbered ids that sort as their numbers, the priorities an order
 * change moved, and what delta reads from a record.
 */
import { describe, expect, it } from 'vitest';

import {
    changedIds,
    changeId,
    priorityChanges,
    recordLifetime,
    toRecord,
    UNAUTHENTICATED_ACTOR,
} from '../../../lib/store/changeLog.js';

describe('the change log', () => {
    it('names records by number, so that ids sort as the numbers do', () => {
        const ids = [1, 9, 10, 99, 100, 123_456_789].map(changeId);
        expect([...ids].sort()).toEqual(ids);
        expect(changeId(42)).toBe('change-000000000042');
    });

    it('lists each configuration an order change moved, old and new, and none it added or removed', () => {
        expect(priorityChanges(['a', 'b', 'c', 'd'], ['c', 'a', 'b', 'd'])).toEqual([
            ['c', 3, 1],
            ['a', 1, 2],
            ['b', 2, 3],
        ]);
        expect(priorityChanges(['a', 'b'], ['n', 'a', 'b'])).toEqual([
            ['a', 1, 2],
            ['b', 2, 3],
        ]);
        expect(priorityChanges(['a', 'b', 'c'], ['a', 'c'])).toEqual([['c', 3, 2]]);
        expect(priorityChanges(['a', 'b'], ['a', 'b'])).toEqual([]);
    });

    it('moves through a long order in one pass', () => {
        const before = Array.from({ length: 5000 }, (_, i) => `id${i}`);
        const moved = priorityChanges(before, ['new', ...before]);
        expect(moved).toHaveLength(5000);
        expect(moved[4999]).toEqual(['id4999', 5000, 5001]);
    });

    it('keeps a record an hour past the retention, or a tenth of a short one', () => {
        expect(recordLifetime(30 * 86_400)).toBe(30 * 86_400 + 3600);
        expect(recordLifetime(173)).toBe(173 + 18);
    });

    it('numbers a record, keeps it past the retention by a margin, and tells delta what it changed', () => {
        const record = toRecord(
            'p',
            7,
            {
                activityType: 'assign OfficeClientConfiguration',
                activityOperationType: 'Action',
                resources: [
                    {
                        resourceId: 'gone',
                        type: 'officeClientConfigurationAssignment',
                        displayName: null,
                        modifiedProperties: [],
                        removed: true,
                    },
                    {
                        resourceId: 'new',
                        type: 'officeClientConfigurationAssignment',
                        displayName: null,
                        modifiedProperties: [],
                    },
                ],
                target: { resourceId: 'p', type: 'officeClientConfiguration' },
            },
            { actor: UNAUTHENTICATED_ACTOR, correlationId: 'r' },
            { enabled: true, retentionSeconds: 86_400 },
            'e',
            new Date('2026-12-03T12:00:00.000Z'),
            [['moved', 2, 1]],
        );
        expect(record).toMatchObject({
            id: 'change-000000000007',
            configurationId: 'p',
            kind: 'change',
            sequence: 7,
            eventId: 'e',
            activityDateTime: '2026-12-03T12:00:00.000Z',
            correlationId: 'r',
            ttl: 86_400 + 3600,
        });
        // The action's target is the audit's, never delta's: it is no member of the collection that changed.
        expect(changedIds(record)).toEqual({ changed: ['new', 'moved'], removed: ['gone'] });
    });
});
