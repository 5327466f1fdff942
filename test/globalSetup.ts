/**
 * Builds the app once before any suite: the end-to-end suites that start it as a process (`npm start`'s script,
 * the load run) need `dist/`, and running one file on its own must work as well as the whole `npm test`.
 */
import { spawnSync } from 'node:child_process';

export default function setup(): void {
    const build = spawnSync('npm', ['run', 'build', '--silent'], { encoding: 'utf8' });
    if (build.status !== 0) {
        throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    }
}
