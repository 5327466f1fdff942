/**
 * Adaptive sampling of the successful Cosmos DB calls that telemetry records, as the Functions host samples its own
 * telemetry (host.json `samplingSettings`, at most 20 items a second by default): under load, a fixed share of the
 * calls is recorded, each record carrying its sample rate, so Application Insights counts every call
 * (`itemCount` = 100 ÷ sample rate) while the process pays for a few dozen records a second, not thousands. Failed
 * calls are never sampled out: they are what an investigation looks for, and they are rare.
 *
 * The share is set at the first call after each tenth of a second, from the rate since the share was last set (the
 * calls of that window over the time it spanned, a quiet spell after it included): at most `maxPerSecond` records a
 * second while the rate holds, every call when it is lower. Within a window, one in n is kept, from a random start:
 * every n-th request (its calls together, known by their trace id), or every n-th call. Short windows keep a burst cheap: only the first window after start-up is recorded whole, and a burst after
 * a quiet spell is sampled from its first call at the rate before the spell, spread over the spell.
 */

/** Host.json's own default, `maxTelemetryItemsPerSecond`. */
export const DEFAULT_MAX_DEPENDENCIES_PER_SECOND = 20;
/** Enough to record every call of one instance (a create costs about 0.3 ms of CPU): sampling off, in effect. */
export const MAX_DEPENDENCIES_PER_SECOND = 100_000;

const WINDOW_MS = 100;

export class DependencySampler {
    private windowStart: number;
    private seen = 0;
    /** Every `interval`-th call (or request) of the window is kept, from `offset`. */
    private interval = 1;
    private offset = 0;
    /** The window's requests, in the order of their first call, with whether they are kept. */
    private readonly requests = new Map<string, boolean>();
    /** Records a window may keep: the limit a second, shared by its windows. */
    private readonly perWindow: number;

    constructor(
        maxPerSecond: number,
        private readonly now: () => number = () => performance.now(),
    ) {
        if (!Number.isInteger(maxPerSecond) || maxPerSecond < 1) {
            throw new RangeError(`maxPerSecond must be a positive integer, not ${maxPerSecond}`);
        }
        this.perWindow = (maxPerSecond * WINDOW_MS) / 1000;
        this.windowStart = now();
    }

    /**
     * The sample rate, in percent, to record the next call with; 0 when it is left out. Calls that name the same
     * `operation` (their request's trace id) are kept or left out together within a window, so that a request's
     * end-to-end view has all of its calls or none: every n-th request is kept. Without one, every n-th call.
     */
    next(operation?: string): number {
        const now = this.now();
        const elapsed = now - this.windowStart;
        if (elapsed >= WINDOW_MS) {
            // Calls per window since the share was last set: a quiet spell lowers it by itself, and a burst that ended
            // early in its window does not reset it (repeated bursts stay sampled).
            const perWindow = (this.seen * WINDOW_MS) / elapsed;
            this.interval = Math.max(1, Math.ceil(perWindow / this.perWindow));
            // A random start, so that a window's records stand for its calls on average (always starting with the
            // first would count up to `interval - 1` calls too many a window).
            this.offset = Math.floor(Math.random() * this.interval);
            this.windowStart = now;
            this.seen = 0;
            this.requests.clear();
        }
        let kept: boolean;
        if (operation === undefined) {
            kept = (this.seen + this.offset) % this.interval === 0;
        } else {
            const decided = this.requests.get(operation);
            // Requests are counted as calls are: the same share of them is kept, standing for the same share.
            kept = decided ?? (this.requests.size + this.offset) % this.interval === 0;
            if (decided === undefined) {
                this.requests.set(operation, kept);
            }
        }
        this.seen += 1;
        return kept ? 100 / this.interval : 0;
    }
}
