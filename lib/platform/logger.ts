/**
 * Where the app's own lines go: the console locally, the Functions host's log in Azure (through the invocation
 * context). A module of its own so that every part can log without importing the services that hold it.
 */
export interface Logger {
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
}

export const consoleLogger: Logger = {
    info: (m) => console.info(m),
    warn: (m) => console.warn(m),
    error: (m) => console.error(m),
};
