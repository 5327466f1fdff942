/** Small helpers shared by the bench parts. */
import { spawn } from 'node:child_process';

export function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    if (sorted.length === 0) {
        return Number.NaN;
    }
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** A median with the spread of the trials it comes from. */
export interface Spread {
    median: number;
    min: number;
    max: number;
}

export function spread(values: readonly number[], digits = 2): Spread {
    return {
        median: round(median(values), digits),
        min: round(Math.min(...values), digits),
        max: round(Math.max(...values), digits),
    };
}

/** `1.12× (1.08–1.19)`: a ratio's median and its spread over trials. */
export const showRatio = (s: Spread): string => `${s.median}× (${s.min}–${s.max})`;

/** Runs a node child process and resolves to its stdout; rejects on a non-zero exit, with its stderr. */
export async function runNode(
    args: readonly string[],
    options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<string> {
    const child = spawn(process.execPath, args, {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    if (code !== 0) {
        throw new Error(`node ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`);
    }
    return stdout;
}

/** The environment of a child: PATH only, so that no setting of this shell changes what is measured. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH, ...extra };
}
