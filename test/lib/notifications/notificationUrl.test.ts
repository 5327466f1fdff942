/**
 * Each rule of checkNotificationUrl (lib/notifications/notificationUrl.ts) under both policies: what a URL's form,
 * scheme and written address tell before any traffic. Nothing here resolves a name or opens a connection.
 */
import { describe, expect, it } from 'vitest';

import {
    AZURE_URL_POLICY,
    checkAddress,
    checkNotificationUrl,
    LOCAL_URL_POLICY,
    MAX_NOTIFICATION_URL_LENGTH,
    type NotificationUrlPolicy,
    NotificationUrlRefused,
} from '../../../lib/notifications/notificationUrl.js';

const POLICIES: [string, NotificationUrlPolicy][] = [
    ['local', LOCAL_URL_POLICY],
    ['Azure', AZURE_URL_POLICY],
];

/** The reason checkNotificationUrl gives for refusing `url`; fails the test when it accepts it. */
function refusal(url: string, policy: NotificationUrlPolicy): string {
    try {
        checkNotificationUrl(url, policy);
    } catch (error) {
        expect(error).toBeInstanceOf(NotificationUrlRefused);
        const refused = error as NotificationUrlRefused;
        expect(refused.message).toBe(refused.reason);
        return refused.reason;
    }
    throw new Error(`${url} was accepted`);
}

const urlOfLength = (length: number) => {
    const start = 'https://receiver.example.com/';
    return `${start}${'a'.repeat(length - start.length)}`;
};

describe.each(POLICIES)('under the %s policy', (_name, policy) => {
    it.each(['notify/me', '/hook', 'receiver.example.com/hook', '', 'https//receiver.example.com'])(
        'refuses %j, which is not absolute',
        (url) => {
            expect(refusal(url, policy)).toBe('it is not an absolute URL');
        },
    );

    it(`refuses a URL of ${MAX_NOTIFICATION_URL_LENGTH + 1} characters, accepts one of ${MAX_NOTIFICATION_URL_LENGTH}`, () => {
        expect(MAX_NOTIFICATION_URL_LENGTH).toBe(2048);
        const tooLong = urlOfLength(2049);
        expect(tooLong).toHaveLength(2049);
        expect(refusal(tooLong, policy)).toBe('it is longer than 2048 characters');
        expect(checkNotificationUrl(urlOfLength(2048), policy).hostname).toBe('receiver.example.com');
    });

    it.each([
        'https://user:secret@receiver.example.com/hook',
        'https://user@receiver.example.com/hook',
        'https://:pw@receiver.example.com/',
    ])('refuses %s, which carries credentials', (url) => {
        expect(refusal(url, policy)).toMatch(/carries credentials/);
    });

    it('refuses a URL with a fragment', () => {
        expect(refusal('https://receiver.example.com/hook#part', policy)).toMatch(/has a fragment/);
    });

    it.each([
        ['ftp://receiver.example.com/hook', 'ftp'],
        ['file:///etc/passwd', 'file'],
        ['ws://receiver.example.com/hook', 'ws'],
        ['javascript:alert(1)', 'javascript'],
        ['data:text/plain,hello', 'data'],
    ])('refuses %s: its scheme is not https', (url, scheme) => {
        expect(refusal(url, policy)).toBe(`its scheme '${scheme}' is not https`);
    });

    it.each(['https://receiver.example.com/hook', 'https://20.0.0.1/hook', 'https://[2606:4700:4700::1111]/hook'])(
        'accepts %s and returns it parsed',
        (url) => {
            const parsed = checkNotificationUrl(url, policy);
            expect(parsed).toBeInstanceOf(URL);
            expect(parsed.href).toBe(url);
        },
    );
});

describe('plain http', () => {
    it.each([
        'http://localhost/hook',
        'http://localhost:7071/hook',
        'http://LOCALHOST:7071/hook',
        'http://localhost.:7071/hook',
        'http://127.0.0.1/hook',
        'http://127.0.0.1:65535/hook',
        'http://127.8.9.10/hook',
        'http://[::1]/hook',
        'http://[::1]:8080/hook',
        'http://[::ffff:127.0.0.1]/hook',
        'http://2130706433/hook',
    ])('locally, is accepted to the loopback %s', (url) => {
        expect(checkNotificationUrl(url, LOCAL_URL_POLICY).protocol).toBe('http:');
    });

    it.each([
        'http://receiver.example.com/hook',
        'http://10.0.0.1/hook',
        'http://192.168.1.20:8080/hook',
        'http://169.254.169.254/metadata',
        'http://8.8.8.8/hook',
        'http://[fe80::1]/hook',
        'http://localhost.example.com/hook',
        'http://127.0.0.1.nip.io/hook',
    ])('locally, is refused to %s, not a loopback host', (url) => {
        expect(refusal(url, LOCAL_URL_POLICY)).toBe('plain http is accepted only to a loopback address; use https');
    });

    it.each([
        'http://localhost/hook',
        'http://127.0.0.1/hook',
        'http://[::1]/hook',
        'http://receiver.example.com/hook',
        'http://20.0.0.1/',
    ])('under the Azure policy, is refused entirely: %s', (url) => {
        expect(refusal(url, AZURE_URL_POLICY)).toBe(
            'it is not https (plain http is accepted only locally, to a loopback address)',
        );
    });
});

describe('an address written in the URL', () => {
    it.each([
        ['https://10.0.0.1/hook', '10.0.0.1', '10.0.0.0/8'],
        ['https://169.254.169.254/metadata', '169.254.169.254', '169.254.0.0/16'],
        ['https://168.63.129.16/', '168.63.129.16', '168.63.129.16/32'],
        ['https://127.0.0.1/hook', '127.0.0.1', '127.0.0.0/8'],
        ['https://0x7f000001/hook', '127.0.0.1', '127.0.0.0/8'],
        ['https://[::1]/hook', '::1', '::1/128'],
        ['https://[::ffff:10.0.0.1]/hook', '::ffff:a00:1', '10.0.0.0/8'],
        ['https://[fd00:ec2::254]/hook', 'fd00:ec2::254', 'fc00::/7'],
        ['https://0.0.0.0/hook', '0.0.0.0', '0.0.0.0/8'],
    ])('under the Azure policy, refuses %s, naming %s and %s', (url, address, range) => {
        const reason = refusal(url, AZURE_URL_POLICY);
        expect(reason).toContain(`it resolves to ${address}, a `);
        expect(reason).toContain(`(${range})`);
        expect(reason).toContain('public addresses only');
    });

    it.each(['https://localhost/hook', 'https://localhost:8443/hook', 'https://LocalHost./hook'])(
        'under the Azure policy, refuses the loopback name in %s',
        (url) => {
            expect(refusal(url, AZURE_URL_POLICY)).toMatch(
                /^its host 'localhost\.?' is the loopback, which is not reachable from Azure$/,
            );
        },
    );

    it.each([
        'https://10.0.0.1/hook',
        'https://169.254.169.254/metadata',
        'https://localhost/hook',
        'https://127.0.0.1:8443/hook',
        'https://[::1]/hook',
        'https://192.168.1.20/hook',
    ])('locally, accepts %s (https to a private address is fine on a developer network)', (url) => {
        expect(checkNotificationUrl(url, LOCAL_URL_POLICY).protocol).toBe('https:');
    });
});

describe('checkAddress', () => {
    it('refuses a resolved inside address only when the policy asks for public addresses', () => {
        expect(() => checkAddress('10.1.2.3', AZURE_URL_POLICY)).toThrow(
            'it resolves to 10.1.2.3, a private address (10.0.0.0/8); notifications go to public addresses only',
        );
        expect(() => checkAddress('10.1.2.3', LOCAL_URL_POLICY)).not.toThrow();
        expect(() => checkAddress('20.0.0.1', AZURE_URL_POLICY)).not.toThrow();
        expect(() => checkAddress('not-an-address', AZURE_URL_POLICY)).toThrow(NotificationUrlRefused);
    });
});
