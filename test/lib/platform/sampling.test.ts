/**
 * lib/platform/sampling on a clock of the test's own: what is kept, at which rate, and that the records kept stand
 * for the calls made.
 */
import { describe, expect, it } from 'vitest';

import { DependencySampler } from '../../../lib/platform/sampling.js';

function sampler(maxPerSecond: number) {
    let now = 0;
    const instance = new DependencySampler(maxPerSecond, () => now);
    /** `calls` evenly over `seconds`; the rates of the calls kept. */
    const run = (calls: number, seconds = 1): number[] => {
        const kept: number[] = [];
        const step = (seconds * 1000) / calls;
        for (let i = 0; i < calls; i += 1) {
            const rate = instance.next();
            if (rate > 0) {
                kept.push(rate);
            }
            now += step;
        }
        return kept;
    };
    return { run, pause: (ms: number) => (now += ms) };
}

const represented = (rates: number[]) => rates.reduce((sum, rate) => sum + 100 / rate, 0);

describe('the dependency sampler', () => {
    it('keeps every call while the rate stays under the limit', () => {
        const { run } = sampler(20);
        const kept = run(60, 3);
        expect(kept).toHaveLength(60);
        expect(kept.every((rate) => rate === 100)).toBe(true);
    });

    it('keeps about the limit a second under load, each at a rate that makes the kept stand for every call', () => {
        const { run } = sampler(20);
        run(4000); // the first second sets the rate
        const kept = run(40_000, 10);
        // 4,000 a second against 20: every 200th call, 20 a second, at 100 ÷ 200 percent.
        expect(kept).toHaveLength(200);
        expect(new Set(kept)).toEqual(new Set([0.5]));
        expect(represented(kept)).toBe(40_000);
    });

    it('follows the rate: a burst is sampled from the next second, a quiet spell records every call again', () => {
        const { run, pause } = sampler(10);
        expect(run(1000)).toHaveLength(1000);
        expect(run(1000)).toHaveLength(10);
        pause(5000);
        expect(run(4)).toEqual([100, 100, 100, 100]);
    });

    it('stands, on average, for the calls of a window whatever its size (a random start, not always the first)', () => {
        const { run } = sampler(7);
        run(1000);
        let total = 0;
        let standsFor = 0;
        for (let i = 0; i < 200; i += 1) {
            const calls = 990 + (i % 20); // not a multiple of the interval: a fixed start would round up every time
            total += calls;
            standsFor += represented(run(calls));
        }
        expect(Math.abs(standsFor - total) / total).toBeLessThan(0.02);
    });

    it('refuses a limit that is not a positive whole number', () => {
        for (const bad of [0, -1, 1.5, Number.NaN]) {
            expect(() => new DependencySampler(bad)).toThrow(RangeError);
        }
    });
});
