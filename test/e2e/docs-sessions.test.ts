/**
 * The curl sessions of the README and docs/, run as a reader runs them: copied into bash, against the app as
 * `npm start` serves it. A session is a ```sh block whose first line is `BASE=http://localhost:7071/beta`; it must
 * run to its end under `set -euo pipefail` (every variable it uses assigned, every file it names there), each
 * `# → 204` must be the status the request on that line got, in order, and it must leave no configuration behind.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { useTestApp } from '../helpers/host.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SESSION_START = 'BASE=http://localhost:7071/beta';

const sessions = ['README.md', ...readdirSync(path.join(root, 'docs')).map((file) => `docs/${file}`)]
    .filter((file) => file.endsWith('.md'))
    .flatMap((file) =>
        [...readFileSync(path.join(root, file), 'utf8').matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
            .map((m) => m[1]!)
            .filter((block) => block.startsWith(SESSION_START))
            .map((block, i) => ({ name: `${file} session ${i + 1}`, block })),
    );

const app = useTestApp();

async function configurations(): Promise<number> {
    const response = await fetch(`${app.root}/officeConfiguration/clientConfigurations?$count=true&$top=1`);
    return ((await response.json()) as { '@odata.count': number })['@odata.count'];
}

describe('the sessions in the README and docs/', () => {
    it('include the README\'s "Try it", one that calls every route and one of change notifications (docs/api.md)', () => {
        expect(sessions.map((s) => s.name)).toEqual(
            expect.arrayContaining(['README.md session 1', 'docs/api.md session 1', 'docs/api.md session 3']),
        );
    });

    it.each(sessions)('$name runs in bash as written, each status as annotated', async ({ block }) => {
        const before = await configurations();
        const script = block.replaceAll('http://localhost:7071', app.host.origin);
        const { stdout } = await promisify(execFile)('bash', ['-e', '-u', '-o', 'pipefail', '-c', script], {
            timeout: 60_000,
            maxBuffer: 16 * 1024 * 1024,
        });
        // `curl -i` writes the status line right after the previous body, which may not end in a newline.
        const statuses = [...stdout.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
        const annotated = [...block.matchAll(/# → (\d{3})\b/g)].map((m) => m[1]);
        expect(annotated.length).toBeGreaterThan(0);
        expect(statuses).toEqual(annotated);
        expect(await configurations()).toBe(before);
    });
});
