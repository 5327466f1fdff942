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
