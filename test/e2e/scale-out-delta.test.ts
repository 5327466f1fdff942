/**
 * Delta query and the audit trail under writes from 3 app instances (each its own Cosmos client and session) against
 * the Azure-like Cosmos DB (lib/store/simulator): 1,000 random writes of every kind, while readers follow deltaLinks
 * all along. Then, from an empty copy, the initial round and every deltaLink since reproduce exactly what a full
 * list shows (0 changes missed, 0 reported that did not happen), and the audit trail holds one event per
 * acknowledged write and none for a refused one.
 */
import { describe, expect, it } from 'vitest';

import { GROUP, groupOf, raceKit, TARGET, useRaceScaleOut, WINDOWS } from '../helpers/raceKit.js';
import { seededRandom } from '../helpers/shuffle.js';

// The default retention: readers' tokens must outlive the run.
const so = useRaceScaleOut({ CHANGE_RETENTION_DAYS: '30' });
const { sleep, configurations, configuration, send } = raceKit(so);

const WRITES = 1000;
const WRITERS = 8;

type Item = Record<string, unknown>;

/** A GET as a client makes it, retried on a 503 or 429 (the store's availability is not what is judged here). */
async function read(url: string, headers: Record<string, string> = {}) {
    for (let attempt = 0; ; attempt++) {
        const answer = await send(url, 'GET', undefined, headers);
        if (![429, 503].includes(answer.status) || attempt === 8) {
            return answer;
        }
        await sleep(50);
    }
}

/** A delta reader: one round from its link to the round's deltaLink, applied to its copy page by page. */
class DeltaReader {
    readonly copy = new Map<string, Item>();
    readonly seen = new Set<string>();
    rounds = 0;
    private link: string;

    constructor(
        readonly name: string,
        start: string,
    ) {
        this.link = start;
    }

    async round(): Promise<void> {
        let next: string | undefined = this.link;
        while (next) {
            const answer = await read(next, { Prefer: 'odata.maxpagesize=7' });
            expect(answer.status, `${this.name}: ${JSON.stringify(answer.json)}`).toBe(200);
            const page = answer.json as { value: Item[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
            expect(page['@odata.nextLink'] && page['@odata.deltaLink'], 'never both links').toBeFalsy();
            for (const item of page.value) {
                const id = String(item.id);
                this.seen.add(id);
                if (item['@removed']) {
                    this.copy.delete(id);
                } else {
                    this.copy.set(id, item);
                }
            }
            if (page['@odata.deltaLink']) {
                this.link = page['@odata.deltaLink'];
                this.rounds += 1;
                return;
            }
            next = page['@odata.nextLink'];
            expect(next, `${this.name}: a page has a nextLink or a deltaLink`).toBeDefined();
        }
    }
}

async function fullList(url: string): Promise<Map<string, Item>> {
    const all = new Map<string, Item>();
    let next: string | undefined = `${url}?$top=999`;
    while (next) {
        const answer = await read(next);
        expect(answer.status).toBe(200);
        const page = answer.json as { value: Item[]; '@odata.nextLink'?: string };
        page.value.forEach((item) => all.set(String(item.id), item));
        next = page['@odata.nextLink'];
    }
    return all;
}

describe('delta and the audit trail over 3 instances', () => {
    it(`replays ${WRITES} random writes exactly, and audits each acknowledged one once`, async () => {
        const started = new Date(Date.now() - 1000).toISOString();
        const next = seededRandom(20261203);
        const pick = <T>(values: readonly T[]): T | undefined => values[Math.floor(next() * values.length)];
        // Configurations whose assignments readers follow: never deleted.
        const kept = await Promise.all(
            [0, 1].map(async () => {
                const created = await send(configurations(), 'POST', { '@odata.type': WINDOWS, displayName: 'kept' });
                expect(created.status).toBe(201);
                return String(created.json.id);
            }),
        );
        const configurationIds = new Set<string>(kept);
        const assignmentIds = new Map<string, Set<string>>(kept.map((id) => [id, new Set<string>()]));
        const createdIds = new Set<string>(kept);

        const readers = [
            new DeltaReader('configurations', `${configurations()}/delta`),
            ...kept.map((id) => new DeltaReader(`assignments of ${id}`, `${configuration(id)}/assignments/delta`)),
        ];
        let writing = true;
        const following = readers.map(async (reader) => {
            while (writing) {
                await reader.round();
                await sleep(20);
            }
        });

        const acknowledged: string[] = [];
        const refused: string[] = [];
        const unknown: string[] = [];
        const tally: Record<string, number> = {};
        const judge = (label: string, answer: Awaited<ReturnType<typeof send>>) => {
            const key = `${label} ${answer.status}`;
            tally[key] = (tally[key] ?? 0) + 1;
            const requestId = answer.headers.get('request-id') ?? '';
            if (answer.status < 300) {
                acknowledged.push(requestId);
            } else if (answer.status < 500 && answer.status !== 429) {
                refused.push(requestId);
            } else {
                unknown.push(requestId); // 503, 429: the write may or may not have landed
            }
            return answer;
        };

        const write = async (n: number) => {
            const ids = [...configurationIds];
            const id: string = pick(ids) ?? kept[0] ?? '';
            const assignmentsOf = pick(kept) as string;
            const assignments = [...(assignmentIds.get(assignmentsOf) ?? [])];
            const roll = next();
            if (roll < 0.12) {
                const answer = judge(
                    'create',
                    await send(configurations(), 'POST', { '@odata.type': WINDOWS, displayName: `c${n}` }),
                );
                if (answer.status === 201) {
                    configurationIds.add(String(answer.json.id));
                    createdIds.add(String(answer.json.id));
                }
            } else if (roll < 0.22) {
                judge('PATCH', await send(configuration(id), 'PATCH', { displayName: `p${n}`, description: `d${n}` }));
            } else if (roll < 0.3) {
                const priority = 1 + Math.floor(next() * (ids.length + 1));
                judge('PATCH priority', await send(configuration(id), 'PATCH', { priority }));
            } else if (roll < 0.36) {
                const two = [pick(ids), pick(ids)].filter((v): v is string => v !== undefined);
                judge(
                    'updatePriorities',
                    await send(`${configurations()}/updatePriorities`, 'POST', {
                        officeConfigurationPolicyIds: [...new Set(two)],
                        officeConfigurationPriorities: [...new Set(two)].map(() => 1 + Math.floor(next() * ids.length)),
                    }),
                );
            } else if (roll < 0.44) {
                const victim = pick(ids.filter((v) => !kept.includes(v)));
                if (victim !== undefined) {
                    const answer = judge('DELETE', await send(configuration(victim), 'DELETE'));
                    if (answer.status === 204) {
                        configurationIds.delete(victim);
                    }
                }
            } else if (roll < 0.47) {
                judge(
                    'payload PUT',
                    await send(`${configuration(id)}/policyPayload`, 'PUT', `{"n":${n}}`, {
                        'Content-Type': 'application/json',
                    }),
                );
            } else if (roll < 0.72) {
                const target = next() < 0.5 ? TARGET : { '@odata.type': GROUP, groupId: groupOf(n) };
                const answer = judge(
                    'assignment create',
                    await send(`${configuration(assignmentsOf)}/assignments`, 'POST', { target }),
                );
                if (answer.status === 201) {
                    assignmentIds.get(assignmentsOf)?.add(String(answer.json.id));
                    createdIds.add(String(answer.json.id));
                }
            } else if (roll < 0.84) {
                const victim = pick(assignments) ?? 'missing';
                judge(
                    'assignment PATCH',
                    await send(`${configuration(assignmentsOf)}/assignments/${victim}`, 'PATCH', {
                        target: { '@odata.type': GROUP, groupId: groupOf(n) },
                    }),
                );
            } else if (roll < 0.95) {
                const victim = pick(assignments) ?? 'missing';
                const answer = judge(
                    'assignment DELETE',
                    await send(`${configuration(assignmentsOf)}/assignments/${victim}`, 'DELETE'),
                );
                if (answer.status === 204) {
                    assignmentIds.get(assignmentsOf)?.delete(victim);
                }
            } else {
                const answer = judge(
                    'assign',
                    await send(`${configuration(assignmentsOf)}/assign`, 'POST', {
                        officeConfigurationAssignments: [
                            { target: TARGET },
                            { target: { '@odata.type': GROUP, groupId: groupOf(n) } },
                        ],
                    }),
                );
                if (answer.status === 200) {
                    const value = answer.json.value as { id: string }[];
                    assignmentIds.set(assignmentsOf, new Set(value.map((a) => a.id)));
                    value.forEach((a) => createdIds.add(a.id));
                }
            }
        };

        let issued = 0;
        await Promise.all(
            Array.from({ length: WRITERS }, async () => {
                while (issued < WRITES) {
                    issued += 1;
                    await write(issued);
                }
            }),
        );
        writing = false;
        await Promise.all(following);
        console.info(`${WRITES} writes over 3 instances: ${JSON.stringify(tally)}`);
        console.info(`delta rounds while writing: ${readers.map((r) => `${r.name}: ${r.rounds}`).join('; ')}`);

        // Once more after the last write: each reader's copy is the full list, exactly.
        const lists = [configurations(), ...kept.map((id) => `${configuration(id)}/assignments`)];
        for (const [i, reader] of readers.entries()) {
            await reader.round();
            const full = await fullList(lists[i] as string);
            expect(reader.copy.size, reader.name).toBe(full.size);
            expect(reader.copy, `${reader.name}: the replay against a full list`).toEqual(full);
        }
        // A fresh client from an empty copy: the initial round alone gives the same.
        for (const [i, reader] of readers.entries()) {
            const fresh = new DeltaReader(`fresh ${reader.name}`, `${lists[i] as string}/delta`);
            await fresh.round();
            expect(fresh.copy).toEqual(reader.copy);
        }
        // Nothing reported that did not happen: every id any reader saw was created by an acknowledged write (or by
        // a write whose answer was lost, of which there are `unknown`).
        const phantoms = readers.flatMap((r) => [...r.seen].filter((id) => !createdIds.has(id)));
        expect(phantoms.length).toBeLessThanOrEqual(unknown.length);
        if (unknown.length === 0) {
            expect(phantoms).toEqual([]);
        }

        // The audit trail: one event per acknowledged write, none for a refused one.
        const events: { correlationId: string }[] = [];
        let page: string | undefined =
            `${so().root}/officeConfiguration/auditEvents?$top=999&$filter=activityDateTime ge ${started}`;
        while (page) {
            const answer = await read(page);
            expect(answer.status).toBe(200);
            events.push(...(answer.json.value as { correlationId: string }[]));
            page = answer.json['@odata.nextLink'] as string | undefined;
        }
        const perRequest = new Map<string, number>();
        events.forEach((e) => perRequest.set(e.correlationId, (perRequest.get(e.correlationId) ?? 0) + 1));
        expect(acknowledged.filter((id) => perRequest.get(id) !== 1)).toEqual([]);
        expect(refused.filter((id) => perRequest.has(id))).toEqual([]);
        expect(acknowledged.length + refused.length + unknown.length).toBe(
            Object.values(tally).reduce((a, b) => a + b, 0),
        );
    }, 600_000);
});
