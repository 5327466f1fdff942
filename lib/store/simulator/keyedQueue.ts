/**
 * Runs tasks one at a time per key. Writes of one logical partition go to the backend one after the other, so the
 * LSN each commit is given follows the order the backend applied them in: concurrent answers may otherwise arrive
 * in either order. Cosmos DB orders a partition's writes too.
 */
export class KeyedQueue {
    readonly #tails = new Map<string, Promise<void>>();

    async run<T>(key: string, task: () => Promise<T>): Promise<T> {
        const previous = this.#tails.get(key) ?? Promise.resolve();
        const result = previous.then(task);
        const tail = result.then(
            () => undefined,
            () => undefined,
        );
        this.#tails.set(key, tail);
        try {
            return await result;
        } finally {
            if (this.#tails.get(key) === tail) {
                this.#tails.delete(key);
            }
        }
    }
}
