/**
 * Part 1: the create handler's own cost, with the store stubbed, against the body-read floor measured in a clean
 * process (bench/handlerChild): the floor and the handler each run in processes of their own, in pairs that
 * alternate which goes first. The ratio is taken within each pair; the median and spread over pairs count.
 */
import { join } from 'node:path';

import { cleanEnv, round, runNode, type Spread, spread } from './stats.js';

export interface HandlerOverhead {
    pairs: number;
    /** Medians over pairs, ns per operation. */
    nsPerOp: { baseline: number; floor: number; handler: number; handlerWithRequest: number };
    ratio: {
        /** Handler ÷ body-read floor: the target. */
        handlerToFloor: Spread;
        /** Handler ÷ JSON parse+stringify: context only (reading a body alone costs 15–30× that). */
        handlerToBaseline: Spread;
        handlerWithRequestToFloor: Spread;
    };
}

export async function measureHandlerOverhead(
    appRoot: string,
    benchDir: string,
    { pairs = 5, progress }: { pairs?: number; progress?: (line: string) => void } = {},
): Promise<HandlerOverhead> {
    const child = async (mode: 'floor' | 'handler') => {
        const out = await runNode([join(benchDir, 'handlerChild.js'), appRoot, mode], {
            cwd: appRoot,
            env: cleanEnv(),
        });
        return JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
    };
    const floors: Record<string, number>[] = [];
    const handlers: Record<string, number>[] = [];
    for (let pair = 0; pair < pairs; pair += 1) {
        if (pair % 2 === 0) {
            floors.push(await child('floor'));
            handlers.push(await child('handler'));
        } else {
            handlers.push(await child('handler'));
            floors.push(await child('floor'));
        }
        const ratio = handlers[pair]!.handler! / floors[pair]!.floor!;
        progress?.(
            `pair ${pair + 1}/${pairs}: handler ${round(handlers[pair]!.handler! / 1000, 1)} µs, ` +
                `body-read floor ${round(floors[pair]!.floor! / 1000, 1)} µs → ${round(ratio)}×`,
        );
    }
    const of = (list: Record<string, number>[], key: string) => list.map((m) => m[key]!);
    const ratios = (numerator: number[], denominator: number[]) => spread(numerator.map((n, i) => n / denominator[i]!));
    const baseline = of(floors, 'baseline');
    const floor = of(floors, 'floor');
    const handler = of(handlers, 'handler');
    const handlerWithRequest = of(handlers, 'handlerWithRequest');
    return {
        pairs,
        nsPerOp: {
            baseline: spread(baseline, 0).median,
            floor: spread(floor, 0).median,
            handler: spread(handler, 0).median,
            handlerWithRequest: spread(handlerWithRequest, 0).median,
        },
        ratio: {
            handlerToFloor: ratios(handler, floor),
            handlerToBaseline: ratios(handler, baseline),
            handlerWithRequestToFloor: ratios(handlerWithRequest, floor),
        },
    };
}
