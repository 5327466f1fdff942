/**
 * The app scaled out as Azure runs it (scripts/cluster.ts): three app processes, each with its own Cosmos DB client
 * over one shared store, behind the round-robin front (scripts/roundRobinFront.ts). What one instance stores the
 * others read; links name the front; large bodies stream through; an instance lost leaves the rotation; nothing is
 * left running. The front on its own, against stub targets, for what the app never does (refuse, hang, echo).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_COSMOS_CONTAINER, DEFAULT_COSMOS_DATABASE } from '../../lib/platform/config.js';
import { type OpenedContainer, openEmbeddedContainer } from '../../lib/store/cosmosClient.js';
import { type EmbeddedCosmos, startEmbeddedCosmos } from '../../lib/store/embeddedCosmos.js';
import { type Cluster, startCluster } from '../../scripts/cluster.js';
import { runLoad } from '../../scripts/load.js';
import { type RoundRobinFront, startRoundRobinFront } from '../../scripts/roundRobinFront.js';
import { descendants, isRunning } from '../helpers/project.js';

const CONFIGURATIONS = '/beta/officeConfiguration/clientConfigurations';
const CREATE_BODY = JSON.stringify({
    '@odata.type': '#microsoft.graph.windowsOfficeClientConfiguration',
    displayName: 'x',
});

/** App processes below this one (the test's), from /proc: what a cluster must not leave behind. */
function appProcessesBelowUs(): number[] {
    return descendants(process.pid).filter((pid) => {
        try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dist/scripts/start.js');
        } catch {
            return false; // gone meanwhile
        }
    });
}

/** What the front handed to each origin between two readings of its counts. */
function delta(before: Record<string, number>, after: Record<string, number>, origin: string): number {
    return (after[origin] ?? 0) - (before[origin] ?? 0);
}

async function getOk(url: string): Promise<void> {
    const response = await fetch(url);
    await response.arrayBuffer();
    expect(response.status).toBe(200);
}

describe('a cluster of three app processes over one Cosmos DB', () => {
    let cosmos: EmbeddedCosmos;
    let store: OpenedContainer;
    let cluster: Cluster;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
        cosmos = await startEmbeddedCosmos({ protocol: 'http' });
        // Created once, here: three instances opening the store at once would race to create it.
        store = await openEmbeddedContainer(
            {
                connection: { kind: 'key', endpoint: cosmos.endpoint, key: cosmos.key },
                database: DEFAULT_COSMOS_DATABASE,
                container: DEFAULT_COSMOS_CONTAINER,
                requestTimeoutMs: 5000,
            },
            cosmos,
        );
        env = { PATH: process.env.PATH, COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_KEY: cosmos.key };
        cluster = await startCluster({ instances: 3, env });
    }, 120_000);

    afterAll(async () => {
        await cluster?.close();
        await store?.dispose();
        await cosmos?.close();
    });

    it('hands each request to the next instance, even on one kept-alive connection', async () => {
        expect(cluster.instances).toHaveLength(3);
        expect(new Set(cluster.instances.map((instance) => instance.pid)).size).toBe(3);
        expect(cluster.front.targets()).toEqual(cluster.instances.map((instance) => instance.origin));
        const before = cluster.front.counts();
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const reused: boolean[] = [];
        try {
            for (let i = 0; i < 30; i += 1) {
                const { status, reusedSocket } = await new Promise<{ status: number; reusedSocket: boolean }>(
                    (resolve, reject) => {
                        const request = http.get(`${cluster.origin}${CONFIGURATIONS}`, { agent }, (response) => {
                            response.resume();
                            response.on('end', () =>
                                resolve({ status: response.statusCode ?? 0, reusedSocket: request.reusedSocket }),
                            );
                        });
                        request.on('error', reject);
                    },
                );
                expect(status).toBe(200);
                reused.push(reusedSocket);
            }
        } finally {
            agent.destroy();
        }
        // One client connection carried all 30: the front balances requests, not connections.
        expect(reused.slice(1).every(Boolean)).toBe(true);
        const after = cluster.front.counts();
        const spread = cluster.instances.map((instance) => delta(before, after, instance.origin));
        expect(spread.reduce((a, b) => a + b, 0)).toBe(30);
        expect(Math.max(...spread) - Math.min(...spread)).toBeLessThanOrEqual(1);
    });

    it('a configuration created through the front is read through every instance, and its links name the front', async () => {
        const created = await fetch(`${cluster.origin}${CONFIGURATIONS}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: CREATE_BODY,
        });
        expect(created.status).toBe(201);
        const body = (await created.json()) as { id: string; '@odata.context': string };
        const location = created.headers.get('location') ?? '';
        expect(new URL(location).origin).toBe(cluster.origin);
        expect(new URL(location).pathname).toBe(`${CONFIGURATIONS}/${body.id}`);
        expect(new URL(body['@odata.context']).origin).toBe(cluster.origin);
        for (const instance of cluster.instances) {
            const read = await fetch(`${instance.origin}${CONFIGURATIONS}/${body.id}`);
            expect(read.status).toBe(200);
            expect(await read.json()).toMatchObject({ id: body.id, displayName: 'x' });
        }
    });

    it('a 1 MiB payload streams through the front intact, both ways', async () => {
        const created = await fetch(`${cluster.origin}${CONFIGURATIONS}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: CREATE_BODY,
        });
        const { id } = (await created.json()) as { id: string };
        const payload = randomBytes(1024 * 1024);
        const url = `${cluster.origin}${CONFIGURATIONS}/${id}/policyPayload`;
        const put = await fetch(url, {
            method: 'PUT',
            headers: { 'content-type': 'application/octet-stream' },
            body: payload,
        });
        await put.arrayBuffer();
        expect(put.status).toBe(204);
        // The next requests go to other instances than the one that stored it: the bytes come from the store.
        for (let i = 0; i < 3; i += 1) {
            const got = await fetch(url);
            expect(got.status).toBe(200);
            expect(got.headers.get('content-type')).toBe('application/octet-stream');
            expect(Buffer.from(await got.arrayBuffer()).equals(payload)).toBe(true);
        }
    });

    it('a killed instance leaves the rotation and the others keep serving', async () => {
        const victim = cluster.instances[0]!;
        await cluster.kill(0);
        expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
        expect(isRunning(victim.pid)).toBe(false);
        expect(cluster.front.targets()).not.toContain(victim.origin);
        expect(cluster.front.targets()).toHaveLength(2);
        await expect(fetch(`${victim.origin}${CONFIGURATIONS}`)).rejects.toThrow();

        const before = cluster.front.counts();
        for (let i = 0; i < 12; i += 1) {
            await getOk(`${cluster.origin}${CONFIGURATIONS}`);
        }
        const after = cluster.front.counts();
        expect(delta(before, after, victim.origin)).toBe(0);
        expect(cluster.instances.slice(1).map((instance) => delta(before, after, instance.origin))).toEqual([6, 6]);
    });

    it('a started instance joins the rotation once it serves', async () => {
        const joined = await cluster.start();
        expect(cluster.instances[3]).toBe(joined);
        expect(cluster.front.targets()).toContain(joined.origin);
        const before = cluster.front.counts();
        for (let i = 0; i < 9; i += 1) {
            await getOk(`${cluster.origin}${CONFIGURATIONS}`);
        }
        expect(delta(before, cluster.front.counts(), joined.origin)).toBe(3);
    });

    it('close() stops the front and every instance, leaving no app process running', async () => {
        const pids = cluster.instances.map((instance) => instance.pid);
        expect(appProcessesBelowUs().sort()).toEqual(pids.slice(1).sort());
        await cluster.close();
        expect(pids.filter(isRunning)).toEqual([]);
        expect(appProcessesBelowUs()).toEqual([]);
        await expect(fetch(`${cluster.origin}${CONFIGURATIONS}`)).rejects.toThrow();
        await cluster.close(); // twice is harmless
    });

    it('fails to start with the output of an instance that exits before serving, and leaves none behind', async () => {
        // Plain HTTP to a store that is not on loopback: the app refuses its settings and exits.
        const refused = startCluster({
            instances: 2,
            env: { PATH: process.env.PATH, COSMOS_ENDPOINT: 'http://cosmos.example:8081', COSMOS_KEY: cosmos.key },
        });
        await expect(refused).rejects.toThrow(/exited \(1\) before serving:[\s\S]*COSMOS_ENDPOINT[\s\S]*https/);
        expect(appProcessesBelowUs()).toEqual([]);
    });
});

describe('npm run load -- --instances 2', () => {
    it('drives the front of two app processes, says so, and stops them', async () => {
        const report = await runLoad({ requests: 200, concurrency: 8, instances: 2 });
        expect(report.instances).toBe(2);
        expect(report.statusCounts).toEqual({ 201: 200 });
        expect(report.stored).toBe(200);
        expect(report.lost).toBe(0);
        // The run's creates and the one configuration they go to, shared out in turn.
        const [first, second] = report.requestsPerInstance ?? [];
        expect(first! + second!).toBe(201);
        expect(Math.abs(first! - second!)).toBeLessThanOrEqual(1);
        expect(appProcessesBelowUs()).toEqual([]);
    });
});

/** A stub target: records what it receives and answers as `handle` says. */
async function stubTarget(
    handle: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ origin: string; requests: IncomingMessage[]; close(): Promise<void> }> {
    const requests: IncomingMessage[] = [];
    const server = http.createServer((request, response) => {
        requests.push(request);
        handle(request, response);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
        origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests,
        close: async () => {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
        },
    };
}

/** An origin where nothing listens: a port just freed. */
async function refusingOrigin(): Promise<string> {
    const server = http.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return `http://127.0.0.1:${port}`;
}

describe('the round-robin front', () => {
    const opened: { close(): Promise<void> }[] = [];
    afterAll(async () => {
        for (const each of opened.reverse()) {
            await each.close();
        }
    });
    const front = async (targets: string[]): Promise<RoundRobinFront> => {
        const started = await startRoundRobinFront({ targets });
        opened.push(started);
        return started;
    };
    const stub = async (handle: (request: IncomingMessage, response: ServerResponse) => void) => {
        const started = await stubTarget(handle);
        opened.push(started);
        return started;
    };

    it('answers a Graph-shaped 502 when its target refuses, and does not send the POST to another', async () => {
        const dead = await refusingOrigin();
        const alive = await stub((_request, response) => response.end('ok'));
        const proxy = await front([dead, alive.origin]);

        const failed = await fetch(`${proxy.origin}${CONFIGURATIONS}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'client-request-id': 'mine' },
            body: CREATE_BODY,
        });
        expect(failed.status).toBe(502);
        expect(failed.headers.get('content-type')).toBe('application/json');
        const body = (await failed.json()) as { error: { code: string; message: string; innerError: object } };
        expect(body.error.code).toBe('BadGateway');
        expect(body.error.message).toContain('ECONNREFUSED');
        expect(body.error.innerError).toMatchObject({
            'request-id': failed.headers.get('request-id'),
            'client-request-id': 'mine',
        });
        expect(alive.requests).toHaveLength(0);
        expect(proxy.counts()).toEqual({ [dead]: 1 });

        // The turn has moved on: the next request meets the live target.
        const next = await fetch(`${proxy.origin}/`);
        expect(await next.text()).toBe('ok');
        expect(proxy.counts()).toEqual({ [dead]: 1, [alive.origin]: 1 });
    });

    it('passes headers through as sent, Host included, and the target’s back', async () => {
        const echo = await stub((request, response) => {
            response.setHeader('Set-Cookie', ['a=1', 'b=2']);
            response.setHeader('X-Mixed-Case', 'yes');
            response.end(JSON.stringify(request.rawHeaders));
        });
        const proxy = await front([echo.origin]);
        const answer = await new Promise<{ raw: string[]; body: string }>((resolve, reject) => {
            const request = http.get(
                `${proxy.origin}/x?y=1`,
                { headers: { 'X-Custom-Header': ['one', 'two'], 'client-request-id': 'abc' } },
                (response) => {
                    let body = '';
                    response.setEncoding('utf8');
                    response.on('data', (chunk: string) => (body += chunk));
                    response.on('end', () => resolve({ raw: response.rawHeaders, body }));
                },
            );
            request.on('error', reject);
        });
        const received = JSON.parse(answer.body) as string[];
        const pairs = (raw: string[]) => raw.flatMap((value, i) => (i % 2 === 0 ? [`${value}: ${raw[i + 1]}`] : []));
        expect(pairs(received)).toEqual(
            expect.arrayContaining([
                `Host: 127.0.0.1:${proxy.port}`,
                'X-Custom-Header: one',
                'X-Custom-Header: two',
                'client-request-id: abc',
            ]),
        );
        expect(echo.requests[0]?.url).toBe('/x?y=1');
        expect(pairs(answer.raw)).toEqual(
            expect.arrayContaining(['Set-Cookie: a=1', 'Set-Cookie: b=2', 'X-Mixed-Case: yes']),
        );
    });

    it('streams: the target answers the first piece of a body before the client has sent the second', async () => {
        const echo = await stub((request, response) => {
            response.writeHead(200, { 'content-type': 'application/octet-stream' });
            response.flushHeaders();
            request.pipe(response);
        });
        const proxy = await front([echo.origin]);
        const request = http.request(`${proxy.origin}/echo`, { method: 'POST' });
        // Each piece comes back before the next is sent: neither direction waits for a whole body.
        request.write('first');
        const [response] = (await once(request, 'response')) as [IncomingMessage];
        const received: string[] = [];
        const nextPiece = () => once(response, 'data').then(([chunk]) => received.push(String(chunk)));
        await nextPiece();
        for (const piece of ['second', 'third']) {
            const echoed = nextPiece();
            request.write(piece);
            await echoed;
        }
        request.end();
        response.resume();
        await once(response, 'end');
        expect(received).toEqual(['first', 'second', 'third']);
    });

    it('aborts the upstream request when the client goes away', async () => {
        const answers: ServerResponse[] = [];
        const hanging = await stub((_request, response) => answers.push(response)); // never answers
        const proxy = await front([hanging.origin]);
        const request = http.get(`${proxy.origin}/slow`);
        request.on('error', () => undefined);
        while (answers.length === 0) {
            await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const upstreamClosed = once(answers[0]!, 'close');
        request.destroy();
        await upstreamClosed;
        expect(answers[0]!.writableFinished).toBe(false);
    });

    it('close() ends connections both ways, with an upstream that never answers, and resolves', async () => {
        const answers: ServerResponse[] = [];
        const hanging = await stub((_request, response) => answers.push(response));
        const proxy = await startRoundRobinFront({ targets: [hanging.origin] });
        const request = http.get(`${proxy.origin}/slow`);
        const clientError = once(request, 'error');
        while (answers.length === 0) {
            await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const upstreamClosed = once(answers[0]!, 'close');
        await proxy.close();
        await upstreamClosed;
        const [error] = (await clientError) as [NodeJS.ErrnoException];
        expect(error.code).toBe('ECONNRESET');
        await expect(fetch(`${proxy.origin}/`)).rejects.toThrow();
    });

    it('a removed target gets no new requests; one in flight still finishes', async () => {
        let release = () => {};
        const released = new Promise<void>((resolve) => (release = resolve));
        const slow = await stub((_request, response) => void released.then(() => response.end('slow')));
        const quick = await stub((_request, response) => response.end('quick'));
        const proxy = await front([slow.origin, quick.origin]);
        const inFlight = fetch(`${proxy.origin}/`).then((response) => response.text());
        while (slow.requests.length === 0) {
            await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(proxy.remove(slow.origin)).toBe(true);
        expect(proxy.remove(slow.origin)).toBe(false);
        for (let i = 0; i < 3; i += 1) {
            expect(await (await fetch(`${proxy.origin}/`)).text()).toBe('quick');
        }
        release();
        expect(await inFlight).toBe('slow');
        expect(proxy.counts()).toEqual({ [slow.origin]: 1, [quick.origin]: 3 });
        proxy.add(slow.origin);
        expect(proxy.targets()).toEqual([quick.origin, slow.origin]);
    });
});
