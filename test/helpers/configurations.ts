/**
 * Configuration ids for tests. Assignments belong to a client configuration; every test that needs one asks here, so
 * that how a configuration comes to exist is written once.
 */
import { randomUUID } from 'node:crypto';

/**
 * A configuration id no other test uses. Today any valid id is accepted under the assignments routes; once
 * configurations are a resource of their own, this creates one over HTTP at `root` (the service root,
 * `http://127.0.0.1:port/beta`) with `headers` (a bearer token where auth is on).
 */
// eslint-disable-next-line @typescript-eslint/require-await, @typescript-eslint/no-unused-vars
export async function newConfiguration(root: string, headers: Record<string, string> = {}): Promise<string> {
    return `cfg-${randomUUID()}`;
}
