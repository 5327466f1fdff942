/**
 * Graph's validation handshake: before a subscription is created, its endpoint is sent
 * `POST {url}?validationToken={token}` and must answer, within 10 s, 200 with `text/plain` and the token as the whole
 * body. It proves that whoever subscribes controls the receiver, so the service never POSTs change notifications to
 * a URL that did not ask for them.
 */
import { randomBytes } from 'node:crypto';

import { type NotificationUrlPolicy } from './notificationUrl.js';
import { postWebhook, type Resolve, WebhookFailure } from './webhook.js';

/** Graph's time for the answer. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** A token and a little more: an endpoint that sends more is not echoing it. */
const MAX_ANSWER_BYTES = 1024;

export class HandshakeFailed extends Error {
    constructor(
        reason: string,
        /** The URL's rules refused it (its name resolved inside): not the receiver's answer. */
        readonly refused = false,
    ) {
        super(reason);
        this.name = 'HandshakeFailed';
    }
}

export interface HandshakeOptions {
    policy: NotificationUrlPolicy;
    resolve?: Resolve;
    timeoutMs?: number;
}

/** Resolves once the endpoint echoed its token; throws HandshakeFailed saying why not. */
export async function validateEndpoint(endpoint: string, options: HandshakeOptions): Promise<void> {
    const token = randomBytes(24).toString('base64url');
    const url = new URL(endpoint);
    url.searchParams.append('validationToken', token);
    let answer;
    try {
        answer = await postWebhook(url.toString(), {
            policy: options.policy,
            ...(options.resolve ? { resolve: options.resolve } : {}),
            timeoutMs: options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS,
            maxResponseBytes: MAX_ANSWER_BYTES,
            needBody: true,
            contentType: 'text/plain; charset=utf-8',
            body: '',
        });
    } catch (error) {
        if (error instanceof WebhookFailure) {
            throw new HandshakeFailed(error.message, error.kind === 'refused');
        }
        throw error;
    }
    if (answer.status >= 300 && answer.status < 400) {
        throw new HandshakeFailed(`it answered ${answer.status}, a redirect, which is not followed`);
    }
    if (answer.status !== 200) {
        throw new HandshakeFailed(`it answered ${answer.status}, not 200`);
    }
    if (!/^text\/plain\s*(?:;|$)/i.test(answer.contentType ?? '')) {
        throw new HandshakeFailed(`it answered with Content-Type '${answer.contentType ?? ''}', not text/plain`);
    }
    if (answer.text !== token) {
        throw new HandshakeFailed('its answer is not the validationToken it was sent');
    }
}
