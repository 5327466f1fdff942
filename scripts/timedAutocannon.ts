/**
 * autocannon, timed by its caller. With `amount` set, autocannon ends a run only at its next sample tick (1 s by
 * default) and reports a duration rounded to that tick: 2,500 requests answered in 2.1 s come out as 3.0 s. Here the
 * sample interval is fine (10 ms, so the run also ends promptly) and the duration is taken from our own clock, from
 * just before the first request to the last answer, so rates are count ÷ that span.
 */
import autocannon from 'autocannon';

/** Fine enough that a run of a few thousand requests ends within 1% of its last answer. */
export const SAMPLE_INTERVAL_MS = 10;

export interface TimedRun {
    result: autocannon.Result;
    /** From just before the first request to the last answer, in seconds. */
    seconds: number;
    /** Answers received (any status), counted from autocannon's `response` events. */
    answered: number;
}

/**
 * Runs autocannon with `options` (a fine `sampleInt` unless given) and times it from our own clock. `onInstance` sees
 * the instance before it starts, e.g. to track progress.
 */
export async function timedAutocannon(
    options: autocannon.Options,
    onInstance?: (instance: autocannon.Instance) => void,
): Promise<TimedRun> {
    let answered = 0;
    let lastAnswerAt = 0;
    const began = performance.now();
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon({ sampleInt: SAMPLE_INTERVAL_MS, ...options }, (error, done) =>
            error ? reject(error as Error) : resolve(done),
        );
        instance.on('response', () => {
            answered += 1;
            lastAnswerAt = performance.now();
        });
        onInstance?.(instance);
    });
    const ended = answered > 0 ? lastAnswerAt : performance.now();
    return { result, seconds: (ended - began) / 1000, answered };
}
