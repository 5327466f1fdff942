/**
 * One POST to a subscriber's URL, bounded every way the receiver could hold the service: a deadline for the whole
 * exchange, a cap on what is read back, no redirect followed (Node's client never follows one), and the address
 * checked where the connection is made. A name is resolved by this module's lookup, which refuses the connection
 * when any address it resolves to is refused by the policy: the check and the connection use the same answer, so a
 * name that resolves to a public address for the check and to an inside one for the connection (DNS rebinding)
 * gets nowhere.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

import {
    checkAddress,
    checkNotificationUrl,
    type NotificationUrlPolicy,
    NotificationUrlRefused,
} from './notificationUrl.js';

export interface WebhookAnswer {
    status: number;
    contentType: string | undefined;
    /** What the receiver sent back, up to `maxResponseBytes`. */
    text: string;
}

export type WebhookFailureKind = 'timeout' | 'refused' | 'network' | 'tooLarge';

export class WebhookFailure extends Error {
    constructor(
        readonly kind: WebhookFailureKind,
        message: string,
    ) {
        super(message);
        this.name = 'WebhookFailure';
    }
}

/** How names are resolved: the system's resolver, or a test's (so that no test needs traffic beyond loopback). */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolve: Resolve = (hostname) =>
    new Promise((resolve, reject) => {
        dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
            error ? reject(error) : resolve(addresses),
        );
    });

export interface WebhookOptions {
    policy: NotificationUrlPolicy;
    /** The whole exchange, connection to the last byte read. */
    timeoutMs: number;
    /** What is read of the answer at most; more is `tooLarge` when `needBody`, else left unread. */
    maxResponseBytes: number;
    /** The handshake reads the answer's text; a notification needs only its status. */
    needBody: boolean;
    resolve?: Resolve;
    /** `text/plain` for the handshake (empty), `application/json` for notifications. */
    contentType: string;
    body: string;
}

/** Net's lookup over `resolve`, refusing the connection when any address is refused. */
function guardedLookup(policy: NotificationUrlPolicy, resolve: Resolve): LookupFunction {
    return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
        resolve(hostname).then(
            (addresses) => {
                try {
                    if (addresses.length === 0) {
                        throw new NotificationUrlRefused(`its host '${hostname}' resolves to no address`);
                    }
                    addresses.forEach((a) => checkAddress(a.address, policy));
                } catch (error) {
                    callback(error);
                    return;
                }
                if (options.all) {
                    callback(null, addresses);
                } else {
                    const [first] = addresses as [LookupAddress];
                    callback(null, first.address, first.family);
                }
            },
            (error: unknown) => callback(error),
        );
    }) as unknown as LookupFunction;
}

export async function postWebhook(target: string, options: WebhookOptions): Promise<WebhookAnswer> {
    let url: URL;
    try {
        url = checkNotificationUrl(target, options.policy);
    } catch (error) {
        throw new WebhookFailure('refused', (error as Error).message);
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const body = Buffer.from(options.body);
    return await new Promise<WebhookAnswer>((resolve, reject) => {
        let settled = false;
        const finish = (outcome: WebhookAnswer | WebhookFailure) => {
            if (settled) {
                return;
            }
            settled = true;
            clearTimeout(timer);
            if (outcome instanceof WebhookFailure) {
                reject(outcome);
            } else {
                resolve(outcome);
            }
        };
        const outgoing = request(url, {
            method: 'POST',
            // A fresh connection each time: a pooled one would skip the lookup, and with it the address check.
            agent: false,
            lookup: guardedLookup(options.policy, options.resolve ?? systemResolve),
            headers: {
                'Content-Type': options.contentType,
                'Content-Length': String(body.length),
                'User-Agent': 'officeConfiguration-change-notifications',
            },
        });
        const timer = setTimeout(() => {
            finish(new WebhookFailure('timeout', `no answer within ${options.timeoutMs / 1000} s`));
            outgoing.destroy();
        }, options.timeoutMs);
        outgoing.on('error', (error: Error) => {
            const refused = error instanceof NotificationUrlRefused;
            finish(
                new WebhookFailure(
                    refused ? 'refused' : 'network',
                    refused ? error.message : `it could not be reached (${error.message})`,
                ),
            );
        });
        outgoing.on('response', (response: IncomingMessage) => {
            const status = response.statusCode ?? 0;
            const contentType = response.headers['content-type'];
            if (!options.needBody) {
                // The status is the answer: what follows is not waited for.
                finish({ status, contentType, text: '' });
                response.destroy();
                return;
            }
            const chunks: Buffer[] = [];
            let size = 0;
            response.on('data', (chunk: Buffer) => {
                size += chunk.length;
                if (size > options.maxResponseBytes) {
                    finish(
                        new WebhookFailure('tooLarge', `its answer is longer than ${options.maxResponseBytes} bytes`),
                    );
                    response.destroy();
                    return;
                }
                chunks.push(chunk);
            });
            response.on('end', () => finish({ status, contentType, text: Buffer.concat(chunks).toString('utf8') }));
            response.on('error', (error: Error) =>
                finish(new WebhookFailure('network', `its answer broke off (${error.message})`)),
            );
        });
        outgoing.end(body);
    });
}
