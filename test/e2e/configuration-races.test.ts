/**
 * Races over real HTTP, repeated: priorities stay a dense, unique order whatever runs concurrently, and an assignment
 * create racing its configuration's delete never leaves an assignment behind.
 */
import { describe, expect, it } from 'vitest';

import { configurationsUrl, newConfiguration, WINDOWS_CONFIGURATION } from '../helpers/configurations.js';
import { JSON_HEADERS, useTestApp } from '../helpers/host.js';
import { shuffled } from '../helpers/shuffle.js';

const app = useTestApp();

const ROUNDS = 100;

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });

async function order(): Promise<{ id: string; priority: number }[]> {
    const response = await fetch(`${configurationsUrl(app.root)}?$top=999&$select=id,priority`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { value: { id: string; priority: number }[] }).value;
}

describe('races', () => {
    it(`updatePriorities, creates and PATCH priority, ${ROUNDS} rounds: priorities are always exactly 1..N`, async () => {
        for (let i = 0; i < 3; i++) {
            await newConfiguration(app.root);
        }
        const statuses: Record<string, number> = {};
        for (let round = 0; round < ROUNDS; round++) {
            const before = (await order()).map((c) => c.id);
            const moved = shuffled(before, round).slice(0, 3);
            const answers = await Promise.all([
                post(configurationsUrl(app.root), { '@odata.type': WINDOWS_CONFIGURATION, priority: 1 }),
                post(configurationsUrl(app.root), { '@odata.type': WINDOWS_CONFIGURATION }),
                post(`${configurationsUrl(app.root)}/updatePriorities`, {
                    officeConfigurationPolicyIds: moved,
                    officeConfigurationPriorities: shuffled([1, 2, 3], round + 7),
                }),
                post(`${configurationsUrl(app.root)}/microsoft.graph.updatePriorities`, {
                    officeConfigurationPolicyIds: moved.slice(0, 1),
                    officeConfigurationPriorities: [before.length],
                }),
                fetch(`${configurationsUrl(app.root)}/${moved[1] ?? ''}`, {
                    method: 'PATCH',
                    headers: JSON_HEADERS,
                    body: JSON.stringify({ priority: 2 }),
                }),
            ]);
            for (const answer of answers) {
                statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
                await answer.arrayBuffer();
            }
            const after = await order();
            expect(
                after.map((c) => c.priority),
                `round ${round}`,
            ).toEqual(after.map((_, i) => i + 1));
            expect(new Set(after.map((c) => c.id)).size).toBe(after.length);
            // Every configuration that was there is still there, and each create answered 201 added one.
            const created = answers.slice(0, 2).filter((a) => a.status === 201).length;
            expect(after.length).toBe(before.length + created);
            expect(before.every((id) => after.some((c) => c.id === id))).toBe(true);
        }
        // Lost races may answer 409 (retry); nothing else but success.
        expect(Object.keys(statuses).filter((s) => !['200', '201', '204', '409'].includes(s))).toEqual([]);
        expect((statuses['201'] ?? 0) + (statuses['204'] ?? 0)).toBeGreaterThan(ROUNDS * 3);
    });

    it(`assignment writes racing their configuration's delete, ${ROUNDS} rounds: no assignment is left behind`, async () => {
        const target = { target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' } };
        const statuses: Record<string, number> = {};
        for (let round = 0; round < ROUNDS; round++) {
            const id = await newConfiguration(app.root);
            const assignments = app.assignmentsUrl(id);
            const answers = await Promise.all([
                post(assignments, target),
                post(assignments, target, { 'Idempotency-Key': `round-${round}` }),
                // 0–3 ms after the writes set out: some land before the DELETE's first step, some after it.
                new Promise((resolve) => setTimeout(resolve, round % 4)).then(() =>
                    fetch(`${configurationsUrl(app.root)}/${id}`, { method: 'DELETE' }),
                ),
                post(assignments, target),
                post(`${configurationsUrl(app.root)}/${id}/assign`, { officeConfigurationAssignments: [target] }),
                post(assignments, target),
            ]);
            for (const answer of answers) {
                statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
                await answer.arrayBuffer();
            }
            expect(answers[2]?.status, `round ${round}: the delete`).toBe(204);
            expect((await fetch(assignments)).status).toBe(404);
            // Straight from Cosmos, once the sweeper has run: nothing in the configuration's partition but the change
            // records of the writes that landed, the audit trail's, which stay until their ttl (lib/store/changeLog).
            await app.cosmos.sweep();
            expect(await app.cosmos.documents(id), `round ${round}`).toEqual([]);
            expect(
                (await app.cosmos.bookkeeping(id)).filter((d) => d.kind !== 'change'),
                `round ${round}`,
            ).toEqual([]);
            expect((await fetch(assignments)).status).toBe(404);
        }
        // Both sides of the race were reached: some writes landed before the delete (then were deleted with it),
        // some came after it (404); an assign that lost to the delete's batches may say 409.
        expect(statuses['404'] ?? 0).toBeGreaterThan(0);
        expect((statuses['201'] ?? 0) + (statuses['200'] ?? 0)).toBeGreaterThan(0);
        expect(Object.keys(statuses).filter((s) => !['200', '201', '204', '404', '409'].includes(s))).toEqual([]);
    });
});
