/**
 * The app as Graph SDK clients meet it: the local host serving HTTPS with a certificate made for the test, checking
 * real bearer tokens from a local stand-in for Entra ID. The Graph JS SDK sends its token only over HTTPS to
 * `customHosts`, so its real auth path runs here, not a workaround.
 */
import { generate } from 'selfsigned';
import { Agent } from 'undici';

import { routes } from '../../functions/routes.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import { createAuthenticator } from '../../lib/platform/auth.js';
import { startTestCosmos, type TestCosmos } from './cosmos.js';
import { startTokenServer, type TokenServer } from './tokens.js';

export interface HttpsApp {
    cosmos: TestCosmos;
    idp: TokenServer;
    host: LocalHost;
    /** Trusts the test's own certificate, for the clients that are given it; nothing global is loosened. */
    dispatcher: Agent;
    /** An application token with the write permission. */
    token: string;
    close(): Promise<void>;
}

export async function startHttpsApp(): Promise<HttpsApp> {
    const cosmos = await startTestCosmos();
    const idp = await startTokenServer();
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
        keySize: 2048,
        notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
    });
    const host = await startLocalHost({
        routes,
        services: {
            ...cosmos.services,
            authenticator: createAuthenticator(idp.settings, { logger: cosmos.services.logger }),
        },
        tls: { key: pems.private, cert: pems.cert },
        hostname: 'localhost',
    });
    const dispatcher = new Agent({ connect: { ca: pems.cert } });
    const token = await idp.appToken();
    return {
        cosmos,
        idp,
        host,
        dispatcher,
        token,
        close: async () => {
            await host.close();
            await dispatcher.close();
            await idp.close();
            await cosmos.close();
        },
    };
}
