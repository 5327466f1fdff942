/**
 * lib/platform/sampling on a clock of the test's own: what is kept, at which rate, and that the records kept stand
 * for the calls made.
 */
import { describe, expect, it, vi } from 'vitest';

import { DependencySampler } from '../../../lib/platform/sampling.js';

function sampler(maxPerSecond: number) {
    let now = 0;
    const instance = new DependencySampler(maxPerSecond, () => now);
    /** `calls` evenly over `ms`; the rates of the calls kept. */
    const run = (calls: number, ms = 1000): number[] => {
        const kept: number[] = [];
        for (let i = 0; i < calls; i += 1) {
            const rate = instance.next();
            if (rate > 0) {
                kept.push(rate);
            }
            now += ms / calls;
        }
        return kept;
    };
    return { run, pause: (ms: number) => (now += ms) };
}

const represented = (rates: number[]) => rates.reduce((sum, rate) => sum + 100 / rate, 0);

describe('the dependency sampler', () => {
    it('keeps every call while the rate stays under the limit', () => {
        const { run } = sampler(20);
        const kept = run(60, 3000);
        expect(kept).toHaveLength(60);
        expect(kept.every((rate) => rate === 100)).toBe(true);
    });

    it('keeps about the limit a second under load, each at a rate that makes the kept stand for every call', () => {
        const { run } = sampler(20);
        run(400, 100); // the first tenth of a second sets the rate
        const kept = run(40_000, 10_000);
        // 4,000 a second against 20: every 200th call, 20 a second, at 100 ÷ 200 percent.
        expect(kept).toHaveLength(200);
        expect(new Set(kept)).toEqual(new Set([0.5]));
        expect(represented(kept)).toBe(40_000);
    });

    it('samples a burst after a quiet spell from its first call, at the rate before it spread over the spell', () => {
        const { run, pause } = sampler(10);
        expect(run(4000)).toHaveLength(400 + 9); // start-up: the first tenth whole, then one a tenth
        pause(5000);
        const burst = run(4000); // the same again after a quiet spell
        // The first tenth at 400 calls over 5.1 s, 7.8 a tenth against 1: every 8th; then one a tenth again.
        expect(burst.filter((rate) => rate === 12.5)).toHaveLength(50);
        expect(burst.length).toBe(50 + 9);
        expect(Math.abs(represented(burst) - 4000)).toBeLessThan(400);
    });

    it('keeps bursts that end early in their window sampled: the quiet part counts into the rate', () => {
        const { run, pause } = sampler(20);
        const cycle = () => {
            const kept = run(1000, 100); // 100 ms at 10,000 a second
            pause(150);
            return kept;
        };
        cycle(); // start-up's first tenth is recorded whole
        let kept: number[] = [];
        for (let i = 0; i < 40; i += 1) {
            kept = kept.concat(cycle()); // 10 s
        }
        // About the limit a second (each burst, one window, keeps 5), not the 4,000 a second it was.
        expect(kept.length / 10).toBeLessThanOrEqual(2 * 20);
        expect(Math.abs(represented(kept) - 40_000) / 40_000).toBeLessThan(0.05);
    });

    it('records every call again once the rate falls under the limit', () => {
        const { run, pause } = sampler(10);
        run(4000);
        pause(5000);
        run(4, 1000); // the first of them may still be sampled, at the rate spread over the quiet spell
        expect(run(4, 1000)).toEqual([100, 100, 100, 100]);
    });

    it('stands, on average, for the calls of a window whatever its size (a random start, not always the first)', () => {
        // A fixed sequence for Math.random (an LCG): the same test every run.
        let seed = 42;
        const random = vi.spyOn(Math, 'random').mockImplementation(() => {
            seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
            return seed / 2 ** 31;
        });
        try {
            const { run } = sampler(70); // 7 a window
            run(1000, 100);
            let total = 0;
            let standsFor = 0;
            for (let i = 0; i < 200; i += 1) {
                // Not a multiple of the interval: starting with the first call would count up to one interval too
                // many each window, 7% here.
                const calls = 990 + (i % 20);
                total += calls;
                standsFor += represented(run(calls, 100));
            }
            expect(Math.abs(standsFor - total) / total).toBeLessThan(0.01);
        } finally {
            random.mockRestore();
        }
    });

    it("keeps or leaves out a request's calls together, by its trace id, one request in n", () => {
        let now = 0;
        const instance = new DependencySampler(20, () => now);
        for (let i = 0; i < 400; i += 1) {
            instance.next(`warm-${i}`); // the first tenth: 4,000 calls a second from here on
            now += 0.25;
        }
        let requests = 0;
        let kept = 0;
        let standsFor = 0;
        for (let tenth = 0; tenth < 100; tenth += 1) {
            // 100 requests a tenth, 4 calls each, one after another.
            for (let r = 0; r < 100; r += 1) {
                const operation = `trace-${tenth}-${r}`;
                const rates = [0, 1, 2, 3].map(() => {
                    const rate = instance.next(operation);
                    now += 0.25;
                    return rate;
                });
                expect(new Set(rates).size).toBe(1); // all four kept, or none
                requests += 1;
                if (rates[0]! > 0) {
                    kept += 1;
                    standsFor += 100 / rates[0]!;
                }
            }
        }
        // 4,000 calls a second against 20 a second: one request in 200 (800 calls), 50 in 10 s.
        expect(kept).toBeGreaterThan(20);
        expect(kept).toBeLessThan(90);
        expect(Math.abs(standsFor - requests) / requests).toBeLessThan(0.5);
    });

    it('refuses a limit that is not a positive whole number', () => {
        for (const bad of [0, -1, 1.5, Number.NaN]) {
            expect(() => new DependencySampler(bad)).toThrow(RangeError);
        }
    });
});
