/**
 * A script run by npm (`npm start`, `npm run receiver`) must stop when npm is stopped by its PID: npm passes SIGTERM to
 * the shell that runs the script, and the shell dies without passing it on.
 */
import { readFileSync } from 'node:fs';

/**
 * Who started this process, for the line that says why it stops: under `npm start` (or `npm run …`), npm runs the
 * script through a shell (`sh -c`), so the parent is that shell and npm, whose PID a user signals, is the parent's parent. Read from
 * /proc where there is one; elsewhere npm is named without a PID.
 */
function starter(): string {
    const parent = process.ppid;
    const event = process.env.npm_lifecycle_event;
    if (event === undefined) {
        return `the parent process (PID ${parent})`;
    }
    const command = event === 'start' ? 'npm start' : `npm run ${event}`;
    // npm names its process after its command ("npm start ..."): the parent when npm runs no shell, else its parent.
    const npm = [parent, parentOf(parent)].find((pid) => pid !== undefined && nameOf(pid)?.startsWith('npm'));
    return npm === undefined ? command : `${command} (PID ${npm})`;
}

function parentOf(pid: number): number | undefined {
    try {
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read from the last ')'.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
    } catch {
        return undefined;
    }
}

function nameOf(pid: number): string | undefined {
    try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8');
    } catch {
        return undefined;
    }
}

/**
 * Stops the server when npm's process goes (SIGTERM or SIGKILL to `npm start`'s PID): the shell between the two
 * does not pass signals on, and this process would otherwise keep the port with no one to stop it. `why` names npm
 * (and its PID), not the shell in between.
 */
export function watchParent(stop: (why: string) => void): void {
    const parent = process.ppid;
    const who = starter();
    const timer = setInterval(() => {
        if (process.ppid !== parent) {
            clearInterval(timer);
            stop(`${who} ended`);
        }
    }, 250);
    timer.unref();
}
