/** A deterministic shuffle for race rounds, so that a failing round can be replayed from its seed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
    const result = [...items];
    let state = seed + 1;
    for (let i = result.length - 1; i > 0; i--) {
        state = (state * 1103515245 + 12345) % 2147483648;
        const j = state % (i + 1);
        [result[i], result[j]] = [result[j] as T, result[i] as T];
    }
    return result;
}

/** A seeded generator (mulberry32) of numbers in [0, 1): the same sequence for the same seed, so a run replays. */
export function seededRandom(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
