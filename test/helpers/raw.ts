/**
 * HTTP/1.1 written by hand over a TCP socket: for what no well-behaved client sends (a malformed Host, a body
 * announced and never sent, headers cut short), and to see whether the server closed the connection.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
    status: number;
    headers: Record<string, string>;
    body: string;
    /** The server ended the connection after the response. */
    closed: boolean;
}

function parse(data: Buffer, closed: boolean): RawResponse | undefined {
    const text = data.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) {
        return undefined;
    }
    const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = data.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
    if (body.byteLength < length) {
        return undefined;
    }
    return {
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: body.subarray(0, length).toString('utf8'),
        closed,
    };
}

export interface RawExchange {
    socket: Socket;
    /** The first response, once complete; `closed` tells whether the server also ended the connection. */
    response: Promise<RawResponse>;
}

/**
 * Sends `head` (and nothing more unless the caller writes on `socket`). With `waitForClose` (the default) the response
 * resolves once the server has also ended the connection, so `closed` is true; without it, as soon as it is complete.
 */
export function rawRequest(port: number, head: string | Buffer, waitForClose = true): RawExchange {
    const socket = connect(port, '127.0.0.1');
    socket.write(head);
    const response = new Promise<RawResponse>((resolve, reject) => {
        let data = Buffer.alloc(0);
        let answered: RawResponse | undefined;
        socket.on('data', (chunk: Buffer) => {
            data = Buffer.concat([data, chunk]);
            answered ??= parse(data, false);
            if (answered && !waitForClose) {
                resolve(answered);
                socket.destroy();
            }
        });
        const finish = () => {
            const parsed = parse(data, true);
            if (parsed) {
                resolve(parsed);
            } else {
                reject(new Error(`no complete response before the connection closed: ${data.toString('latin1')}`));
            }
        };
        socket.on('end', finish);
        socket.on('close', finish);
        socket.on('error', (error) => (answered ? finish() : reject(error)));
    });
    return { socket, response };
}

/** A request head: the request line, the headers as given (Host first unless `host` is null), the blank line. */
export function head(requestLine: string, headers: Record<string, string>, host: string | null): string {
    const lines = [requestLine, ...(host === null ? [] : [`Host: ${host}`])];
    for (const [name, value] of Object.entries(headers)) {
        lines.push(`${name}: ${value}`);
    }
    return `${lines.join('\r\n')}\r\n\r\n`;
}
