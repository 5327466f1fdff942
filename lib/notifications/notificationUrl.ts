/**
 * The rules a `notificationUrl` (or `lifecycleNotificationUrl`) must meet before the service sends it anything. The
 * URL is the caller's to choose, so every rule holds where the request is made, not only where it is checked: the
 * address a name resolves to is judged at connection time (lib/notifications/webhook.ts), so a name cannot pass here
 * and point inside later (DNS rebinding).
 */
import { isIP } from 'node:net';

import { isLoopbackAddress, refusedRangeOf } from './addressRanges.js';

/** Longer than any endpoint a receiver needs; Graph's own URLs stay far below it. */
export const MAX_NOTIFICATION_URL_LENGTH = 2048;

export interface NotificationUrlPolicy {
    /**
     * Plain `http` to a loopback address (`localhost`, 127.0.0.1, ::1): only while the app runs locally, where the
     * receiver is a test or a developer's listener. Never in Azure.
     */
    allowLoopbackHttp: boolean;
    /**
     * Refuse every address outside the public internet (lib/notifications/addressRanges): always in Azure, where
     * the app's network reaches the account's private endpoints and the platform's metadata services. Locally, a
     * receiver on the developer's own network is allowed.
     */
    publicAddressesOnly: boolean;
}

export const AZURE_URL_POLICY: NotificationUrlPolicy = { allowLoopbackHttp: false, publicAddressesOnly: true };
export const LOCAL_URL_POLICY: NotificationUrlPolicy = { allowLoopbackHttp: true, publicAddressesOnly: false };

export class NotificationUrlRefused extends Error {
    constructor(readonly reason: string) {
        super(reason);
        this.name = 'NotificationUrlRefused';
    }
}

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.']);

/** The host of a URL as an address when it is one (`[::1]` → `::1`), else undefined. */
export function literalAddress(hostname: string): string | undefined {
    const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
    return isIP(bare) === 0 ? undefined : bare;
}

function isLoopbackHost(hostname: string): boolean {
    const address = literalAddress(hostname);
    return address !== undefined ? isLoopbackAddress(address) : LOOPBACK_NAMES.has(hostname.toLowerCase());
}

/**
 * What may be told before any traffic: the URL's form, its scheme, and an address written in it. Returns the URL,
 * parsed; throws NotificationUrlRefused saying why.
 */
export function checkNotificationUrl(value: string, policy: NotificationUrlPolicy): URL {
    if (value.length > MAX_NOTIFICATION_URL_LENGTH) {
        throw new NotificationUrlRefused(`it is longer than ${MAX_NOTIFICATION_URL_LENGTH} characters`);
    }
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new NotificationUrlRefused('it is not an absolute URL');
    }
    if (url.username !== '' || url.password !== '') {
        throw new NotificationUrlRefused('it carries credentials (user:password@); send them in clientState instead');
    }
    if (url.hash !== '') {
        throw new NotificationUrlRefused('it has a fragment (#…), which is never sent');
    }
    if (url.protocol === 'http:') {
        if (!policy.allowLoopbackHttp) {
            throw new NotificationUrlRefused(
                'it is not https (plain http is accepted only locally, to a loopback address)',
            );
        }
        if (!isLoopbackHost(url.hostname)) {
            throw new NotificationUrlRefused('plain http is accepted only to a loopback address; use https');
        }
    } else if (url.protocol !== 'https:') {
        throw new NotificationUrlRefused(`its scheme '${url.protocol.replace(/:$/, '')}' is not https`);
    }
    checkHost(url.hostname, policy);
    return url;
}

/** A name or address written in the URL: refused at once when it names an address the policy refuses. */
function checkHost(hostname: string, policy: NotificationUrlPolicy): void {
    if (!policy.publicAddressesOnly) {
        return;
    }
    if (LOOPBACK_NAMES.has(hostname.toLowerCase())) {
        throw new NotificationUrlRefused(`its host '${hostname}' is the loopback, which is not reachable from Azure`);
    }
    const address = literalAddress(hostname);
    if (address !== undefined) {
        checkAddress(address, policy);
    }
}

/** An address the URL's host resolved to (or is): refused when it lies outside the public internet. */
export function checkAddress(address: string, policy: NotificationUrlPolicy): void {
    if (!policy.publicAddressesOnly) {
        return;
    }
    const range = refusedRangeOf(address);
    if (range !== undefined) {
        throw new NotificationUrlRefused(
            `it resolves to ${address}, a ${range.name} address (${range.range}); notifications go to public addresses only`,
        );
    }
}
