/**
 * Contention on the one order document: 32 writers of configurations (creates, priority moves, updatePriorities,
 * DELETEs) spread over 3 instances, against a store 5–15 ms a call away. Each instance sends what arrives while its
 * batch is under way as one batch (lib/store/tenantCommitter.ts); instances that lose the order to each other retry
 * after a jittered wait. At most 1% of the writes may be answered 409, and every list read during the run, from any
 * instance, shows priorities 1..N with no gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { JSON_HEADERS } from '../helpers/host.js';
import { type ScaleOut, startScaleOut } from '../helpers/scaleOut.js';

const WRITERS = 32;
const WRITES_EACH = 50;
const WINDOWS = '#microsoft.graph.windowsOfficeClientConfiguration';

let so: ScaleOut;
beforeAll(async () => {
    const none = { 408: 0, 410: 0, 449: 0, 503: 0 };
    so = await startScaleOut({
        instances: 3,
        // Session: instances do not see each other's writes on their own; every 409 the run counts is the design's.
        // No RU/s budget: the readers alone would spend more than serverless's 5,000 RU/s, and a 429 is throttling,
        // not contention (test/lib/store/simulator/throughput.test.ts and the big-delete suite cover the budget).
        profile: {
            consistency: { defaultLevel: 'Session' },
            throughput: { budgetRuPerSecond: null },
            faults: { rates: { reads: none, writes: none, batches: none, queries: none } },
        },
    });
}, 120_000);
afterAll(async () => {
    await so?.close();
});

async function send(
    url: string,
    method: string,
    body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(url, {
        method,
        ...(body === undefined ? {} : { headers: JSON_HEADERS, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('configuration writes under contention, 3 instances', () => {
    it(`${WRITERS} writers × ${WRITES_EACH} writes: at most 1% answered 409, priorities dense in every list read`, async () => {
        const configurations = `${so.root}/officeConfiguration/clientConfigurations`;
        // Ten that stay, so that priorities 1–3 are always in range, whatever the writers have deleted.
        for (let i = 0; i < 10; i++) {
            expect(
                (await send(configurations, 'POST', { '@odata.type': WINDOWS, displayName: `base ${i}` })).status,
            ).toBe(201);
        }
        const statuses: Record<string, number> = {};
        /** What an answer the run does not expect said: the failure names it. */
        const unexpected: string[] = [];
        const count = (label: string, status: number, json: Record<string, unknown> = {}) => {
            statuses[`${label} ${status}`] = (statuses[`${label} ${status}`] ?? 0) + 1;
            if (![200, 201, 204, 409].includes(status)) {
                unexpected.push(`${label} ${status}: ${JSON.stringify(json).slice(0, 400)}`);
            }
        };
        let writing = true;
        const gaps: string[] = [];
        let reads = 0;
        // Readers: the order alone, and pages of documents, from whichever instance the front picks.
        const readers = [`${configurations}?$top=999&$select=id,priority`, `${configurations}?$top=100`].map(
            async (url) => {
                while (writing) {
                    const { status, json } = await send(url, 'GET');
                    if (status !== 200) {
                        gaps.push(`list answered ${status}`);
                        continue;
                    }
                    reads += 1;
                    const priorities = (json.value as { priority: number }[]).map((c) => c.priority);
                    if (priorities.some((p, i) => p !== i + 1)) {
                        gaps.push(`priorities ${priorities.join(',')}`);
                    }
                }
            },
        );
        const started = performance.now();
        const writers = Array.from({ length: WRITERS }, async (_, writer) => {
            const mine: string[] = [];
            for (let i = 0; i < WRITES_EACH; i++) {
                const choice = (writer * 7 + i * 13) % 10;
                if (mine.length === 0 || choice < 4) {
                    const answer = await send(configurations, 'POST', {
                        '@odata.type': WINDOWS,
                        displayName: `w${writer}-${i}`,
                        ...(choice % 2 === 0 ? { priority: 1 + (i % 3) } : {}),
                    });
                    count('create', answer.status, answer.json);
                    if (answer.status === 201) {
                        mine.push(String(answer.json.id));
                    }
                } else if (choice < 6) {
                    const answer = await send(`${configurations}/${mine[i % mine.length] ?? ''}`, 'PATCH', {
                        priority: 1 + (i % 3),
                    });
                    count('PATCH priority', answer.status, answer.json);
                } else if (choice < 7) {
                    const moved = mine.slice(0, 3);
                    const answer = await send(`${configurations}/updatePriorities`, 'POST', {
                        officeConfigurationPolicyIds: moved,
                        officeConfigurationPriorities: moved.map((_, j) => j + 1),
                    });
                    count('updatePriorities', answer.status, answer.json);
                } else {
                    const id = mine.shift() ?? '';
                    const answer = await send(`${configurations}/${id}`, 'DELETE');
                    count('DELETE', answer.status, answer.json);
                    if (answer.status !== 204) {
                        mine.push(id);
                    }
                }
            }
        });
        await Promise.all(writers);
        const seconds = (performance.now() - started) / 1000;
        writing = false;
        await Promise.all(readers);
        const writes = Object.values(statuses).reduce((a, b) => a + b, 0);
        const conflicts = Object.entries(statuses)
            .filter(([key]) => key.endsWith(' 409'))
            .reduce((a, [, n]) => a + n, 0);
        console.info(
            `${writes} configuration writes by ${WRITERS} writers over 3 instances in ${seconds.toFixed(1)} s: ` +
                `${conflicts} answered 409 (${((100 * conflicts) / writes).toFixed(2)}%); ${reads} list reads, ` +
                `${gaps.length} with a gap; ${JSON.stringify(statuses)}`,
        );
        expect(writes).toBe(WRITERS * WRITES_EACH);
        expect(conflicts).toBeLessThanOrEqual(writes / 100);
        // Nothing but success or 409: no 5xx, no refusal of a request that was right.
        expect(unexpected).toEqual([]);
        expect(Object.keys(statuses).filter((k) => !/ (200|201|204|409)$/.test(k))).toEqual([]);
        expect(reads).toBeGreaterThan(0);
        expect(gaps).toEqual([]);
        await so.sweep();
        expect((await so.audit()).problems).toEqual([]);
    }, 300_000);
});
