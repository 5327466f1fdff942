/**
 * Client configurations for tests. Assignments belong to a configuration that exists; every test that needs one asks
 * here, so that how a configuration comes to exist is written once.
 */
import { randomUUID } from 'node:crypto';

import type { AssignmentStore } from '../../lib/store/assignmentStore.js';
import { ConfigurationStore } from '../../lib/store/configurationStore.js';

export const WINDOWS_CONFIGURATION = '#microsoft.graph.windowsOfficeClientConfiguration';

/** A configuration's URL under a service root (`http://127.0.0.1:port/beta`). */
export const configurationsUrl = (root: string) => `${root}/officeConfiguration/clientConfigurations`;

/**
 * Creates a client configuration over HTTP at `root` (the service root, `http://127.0.0.1:port/beta`) with `headers`
 * (a bearer token where auth is on), and returns its id.
 */
export async function newConfiguration(
    root: string,
    headers: Record<string, string> = {},
    body: Record<string, unknown> = {},
): Promise<string> {
    const response = await fetch(configurationsUrl(root), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ '@odata.type': WINDOWS_CONFIGURATION, displayName: 'test configuration', ...body }),
    });
    if (response.status !== 201) {
        throw new Error(`creating a configuration answered ${response.status}: ${await response.text()}`);
    }
    return ((await response.json()) as { id: string }).id;
}

/** The same for tests that use the store directly: a configuration made through the configuration store. */
export async function newStoredConfiguration(store: AssignmentStore): Promise<string> {
    const id = randomUUID();
    await new ConfigurationStore(store).create(
        id,
        { odataType: WINDOWS_CONFIGURATION.slice(1), displayName: 'test configuration' },
        (ids) => [...ids, id],
        [],
    );
    return id;
}
