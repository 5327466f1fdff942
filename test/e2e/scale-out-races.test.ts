/**
 * Configuration writes racing each other as Azure runs them: 3 app processes (each its own Cosmos client and session)
 * behind a round-robin front, against a Cosmos DB with milliseconds of latency, request charges and session
 * consistency across clients (lib/store/simulator). 100 rounds of each race; after every round the sweeper runs and the
 * container is audited straight from storage: no acknowledged write lost, no refused write that changed anything,
 * nothing left that no listed configuration owns. (More: scale-out-creates.test.ts, scale-out-reads.test.ts.)
 */
import { describe, expect, it } from 'vitest';

import { GROUP, groupOf, raceKit, ROUNDS, TARGET, useRaceScaleOut } from '../helpers/raceKit.js';

const so = useRaceScaleOut();

const { sleep, configurations, configuration, send, create, settled, shuffled, tally, expectGone, expectWhole } =
    raceKit(so);

describe('configuration writes over 3 instances, against Azure-like Cosmos DB', () => {
    it(`DELETE racing updatePriorities, ${ROUNDS} rounds: a DELETE not answered 204 changed nothing`, async () => {
        const statuses: Record<string, number> = {};
        for (let round = 0; round < ROUNDS; round++) {
            const victims = await Promise.all(Array.from({ length: 6 }, () => create()));
            await Promise.all(
                victims.map(async ({ id }) => {
                    const answer = await send(`${configuration(id)}/assignments`, 'POST', { target: TARGET });
                    expect(answer.status).toBe(201);
                }),
            );
            const ids = (await so().audit()).listed;
            const answers = await Promise.all([
                ...victims.map(({ id }) => send(configuration(id), 'DELETE')),
                ...Array.from({ length: 20 }, (_, i) => {
                    const moved = shuffled(ids, round * 20 + i).slice(0, 4);
                    const priorities = shuffled(
                        ids.map((_, j) => j + 1),
                        round * 20 + i + 7,
                    ).slice(0, moved.length);
                    return send(`${configurations()}/updatePriorities`, 'POST', {
                        officeConfigurationPolicyIds: moved,
                        officeConfigurationPriorities: priorities,
                    });
                }),
            ]);
            answers.slice(0, 6).forEach((a) => tally(statuses, 'DELETE', a.status));
            answers.slice(6).forEach((a) => tally(statuses, 'updatePriorities', a.status));
            for (const [index, { id }] of victims.entries()) {
                const status = answers[index]?.status;
                const label = `round ${round}: DELETE ${id} answered ${status}`;
                if (status === 204) {
                    await expectGone(id, label);
                } else {
                    // Refused: it changed nothing. Listed, stored, unmarked, its assignment there; and deletable.
                    await expectWhole(id, label, 1);
                    expect((await send(configuration(id), 'DELETE')).status, label).toBe(204);
                }
            }
            await settled(`round ${round}`);
        }
        console.info(`DELETE ∥ updatePriorities, ${ROUNDS} rounds: ${JSON.stringify(statuses)}`);
        const other = Object.keys(statuses).filter(
            (k) => !['DELETE 204', 'DELETE 409', 'DELETE 503'].includes(k) && !k.startsWith('updatePriorities'),
        );
        expect(other).toEqual([]);
    }, 600_000);

    it(`DELETE with If-Match racing a PATCH, ${ROUNDS} rounds (half with 30 assignments): never both`, async () => {
        const outcomes: Record<string, number> = {};
        for (let round = 0; round < ROUNDS; round++) {
            const { id, etag } = await create({ displayName: `before-${round}` });
            const withAssignments = round % 2 === 1;
            if (withAssignments) {
                const targets = Array.from({ length: 30 }, (_, i) => ({
                    target: { '@odata.type': GROUP, groupId: groupOf(i) },
                }));
                const assigned = await send(`${configuration(id)}/assign`, 'POST', {
                    officeConfigurationAssignments: targets,
                });
                expect(assigned.status).toBe(200);
            }
            // A DELETE is two writes (its mark, its batch), a PATCH one: the PATCH sets out 0–59 ms later, by round,
            // so that either may land first.
            const [patch, del] = await Promise.all([
                sleep((round * 7) % 60).then(() =>
                    send(
                        configuration(id),
                        'PATCH',
                        { displayName: `patched-${round}` },
                        { Prefer: 'return=representation' },
                    ),
                ),
                send(configuration(id), 'DELETE', undefined, { 'If-Match': etag }),
            ]);
            tally(outcomes, `PATCH ${patch.status} DELETE`, del.status);
            const label = `round ${round}: PATCH ${patch.status}, DELETE ${del.status}`;
            // The acknowledged PATCH changed the ETag the DELETE names: both cannot have happened.
            expect(patch.status === 200 && del.status === 204, label).toBe(false);
            if (patch.status === 200) {
                expect(del.status, label).toBe(412);
                const stored = await expectWhole(id, label, withAssignments ? 30 : 0);
                expect(stored.document?.displayName, label).toBe(`patched-${round}`);
                expect(stored.document?._etag, label).toBe(patch.headers.get('etag'));
                expect((await send(configuration(id), 'DELETE')).status).toBe(204);
            } else {
                expect(del.status, label).toBe(204);
                expect(patch.status, label).toBe(404);
                await expectGone(id, label);
            }
            await settled(label);
        }
        console.info(`DELETE (If-Match) ∥ PATCH, ${ROUNDS} rounds: ${JSON.stringify(outcomes)}`);
        expect(Object.keys(outcomes).length).toBeGreaterThan(1); // both orders were reached
    }, 600_000);

    it(`DELETE racing a payload PUT, ${ROUNDS} rounds: no payload outlives its configuration`, async () => {
        const outcomes: Record<string, number> = {};
        for (let round = 0; round < ROUNDS; round++) {
            const { id } = await create({ policyPayload: Buffer.from(`first ${round}`).toString('base64') });
            const [put, del] = await Promise.all([
                sleep((round * 7) % 60).then(() =>
                    fetch(`${configuration(id)}/policyPayload`, {
                        method: 'PUT',
                        headers: { 'Content-Type': 'text/plain' },
                        body: `second ${round}`,
                    }).then(async (r) => ({ status: r.status, text: await r.text() })),
                ),
                send(configuration(id), 'DELETE'),
            ]);
            tally(outcomes, `PUT ${put.status} DELETE`, del.status);
            const label = `round ${round}: PUT ${put.status}, DELETE ${del.status}`;
            expect(del.status, label).toBe(204);
            expect([204, 404], label).toContain(put.status);
            await expectGone(id, label);
            await settled(label); // the audit finds any payload document its configuration no longer owns
        }
        console.info(`DELETE ∥ payload PUT, ${ROUNDS} rounds: ${JSON.stringify(outcomes)}`);
    }, 600_000);

    it(`assign racing a DELETE of its configuration, ${ROUNDS} rounds: nothing of it is left`, async () => {
        const outcomes: Record<string, number> = {};
        for (let round = 0; round < ROUNDS; round++) {
            const { id } = await create();
            const first = Array.from({ length: 5 }, (_, i) => ({
                target: { '@odata.type': GROUP, groupId: groupOf(i) },
            }));
            expect(
                (await send(`${configuration(id)}/assign`, 'POST', { officeConfigurationAssignments: first })).status,
            ).toBe(200);
            const next = Array.from({ length: 10 }, (_, i) => ({
                target: { '@odata.type': GROUP, groupId: groupOf(i + 3) },
            }));
            const [assigned, del] = await Promise.all([
                send(`${configuration(id)}/assign`, 'POST', { officeConfigurationAssignments: next }),
                // The DELETE sets out 0–59 ms later, by round: an assign reads the set before its batch, so that
                // either may land first.
                sleep((round * 7) % 60).then(() => send(configuration(id), 'DELETE')),
            ]);
            tally(outcomes, `assign ${assigned.status} DELETE`, del.status);
            const label = `round ${round}: assign ${assigned.status}, DELETE ${del.status}`;
            expect(del.status, label).toBe(204);
            expect([200, 404, 409], label).toContain(assigned.status);
            await expectGone(id, label);
            await settled(label); // the audit finds any assignment of a configuration no longer listed
        }
        console.info(`assign ∥ DELETE, ${ROUNDS} rounds: ${JSON.stringify(outcomes)}`);
    }, 600_000);
});
