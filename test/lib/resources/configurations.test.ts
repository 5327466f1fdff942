/**
 * How updatePriorities moves configurations: pure, so every rule is checked on small orders.
 */
import { describe, expect, it } from 'vitest';

import { GraphError } from '../../../lib/graph/errors.js';
import { prioritiesApplied } from '../../../lib/resources/configurations.js';

const order = ['a', 'b', 'c', 'd', 'e'];

describe('updatePriorities', () => {
    it('puts each listed id at its priority, the others in their previous order in the remaining places', () => {
        expect(prioritiesApplied(order, ['e', 'a'], [1, 3])).toEqual(['e', 'b', 'a', 'c', 'd']);
        expect(prioritiesApplied(order, ['a'], [5])).toEqual(['b', 'c', 'd', 'e', 'a']);
        expect(prioritiesApplied(order, [], [])).toEqual(order);
        expect(prioritiesApplied(order, ['e', 'd', 'c', 'b', 'a'], [1, 2, 3, 4, 5])).toEqual([...order].reverse());
        // Ids compare in lowercase, as the service writes them.
        expect(prioritiesApplied(order, ['B'], [1])).toEqual(['b', 'a', 'c', 'd', 'e']);
    });

    it('refuses whole, naming each problem: lengths, unknown and repeated ids, repeated and out-of-range priorities', () => {
        const details = (ids: string[], priorities: number[]) => {
            try {
                prioritiesApplied(order, ids, priorities);
            } catch (error) {
                expect(error).toBeInstanceOf(GraphError);
                return (error as GraphError).details.map((d) => d.target);
            }
            throw new Error('not refused');
        };
        expect(details(['a', 'b'], [1])).toEqual(['officeConfigurationPriorities']);
        expect(details(['z'], [1])).toEqual(['officeConfigurationPolicyIds[0]']);
        expect(details(['a', 'A'], [1, 2])).toEqual(['officeConfigurationPolicyIds[1]']);
        expect(details(['a', 'b'], [2, 2])).toEqual(['officeConfigurationPriorities[1]']);
        expect(details(['a'], [6])).toEqual(['officeConfigurationPriorities[0]']);
        expect(details(['a'], [0])).toEqual(['officeConfigurationPriorities[0]']);
    });

    it('always yields a permutation of the order: a dense 1..N', () => {
        for (let seed = 0; seed < 200; seed++) {
            const ids = order.filter((_, i) => (seed >> i) & 1);
            const slots = [1, 2, 3, 4, 5]
                .sort((x, y) => ((x * 7 + seed) % 5) - ((y * 7 + seed) % 5))
                .slice(0, ids.length);
            const next = prioritiesApplied(order, ids, slots);
            expect([...next].sort()).toEqual(order);
            ids.forEach((id, i) => expect(next.indexOf(id) + 1).toBe(slots[i]));
        }
    });
});
