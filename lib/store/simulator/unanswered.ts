/**
 * Writes whose client never hears how they ended. In Azure a write can commit after its client timed out, or commit
 * and then lose its answer to a reset connection; the client must then assume either outcome, and code that takes a
 * timeout for a failure leaves a write it believes undone. Those two ends of a request are played here, for the
 * intercept rules that ask for them.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { sleep } from './latency.js';
import type { Answer, OperationKind } from './protocol.js';
import type { Stats } from './stats.js';

/** How long a late commit waits at most for its client to give up, when the rule sets no `holdMs`. */
const DEFAULT_HOLD_MS = 60_000;

/** What a late commit needs of the simulator once its client is gone; read then, since it may have changed. */
export interface LateCommitContext {
    /** True once the simulator is closing: a write due then is dropped. */
    closing(): boolean;
    stats(): Stats;
    /** Applies the write as if it had just arrived. */
    apply(): Promise<Answer>;
}

/**
 * Holds a write unanswered until its client gives up or `holdMs` passes (then cuts it off), and applies it
 * `afterMs` later; its answer is discarded.
 */
export async function lateCommit(
    request: IncomingMessage,
    response: ServerResponse,
    kind: OperationKind,
    action: { afterMs: number; holdMs?: number },
    context: LateCommitContext,
): Promise<void> {
    const socket = request.socket;
    const clientGone = socket.destroyed ? Promise.resolve() : once(socket, 'close').then(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const held = new Promise<void>((resolve) => (timer = setTimeout(resolve, action.holdMs ?? DEFAULT_HOLD_MS)));
    await Promise.race([clientGone, held]);
    clearTimeout(timer);
    response.destroy(); // the client gave up, or is now cut off: either way it gets no answer
    await sleep(action.afterMs);
    if (context.closing()) {
        return;
    }
    context.stats().lateCommits += 1;
    const answer = await context.apply().catch(() => undefined);
    if (answer) {
        context.stats().record(kind, answer.status, Number(answer.headers['x-ms-request-charge']) || 0, 0);
    }
}

/** Drops the answer of a write already applied: the connection is reset as if after the commit. */
export function loseAnswer(response: ServerResponse, stats: Stats): void {
    stats.lostAnswers += 1;
    response.destroy();
}
