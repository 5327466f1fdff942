/**
 * The `Prefer` request header (RFC 7240): preferences separated by commas, each a token with an optional value and
 * optional `;` parameters; a value is a token or a quoted string. One pass over the header, so any length is cheap.
 */

export type Preferences = ReadonlyMap<string, string>;

/** Splits on `separator` outside quoted strings, keeping the quotes and escapes for the caller. */
function split(text: string, separator: string): string[] {
    const parts: string[] = [];
    let start = 0;
    let quoted = false;
    for (let i = 0; i < text.length; i += 1) {
        const c = text[i];
        if (quoted && c === '\\') {
            i += 1;
        } else if (c === '"') {
            quoted = !quoted;
        } else if (!quoted && c === separator) {
            parts.push(text.slice(start, i));
            start = i + 1;
        }
    }
    parts.push(text.slice(start));
    return parts;
}

function unquote(value: string): string {
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
        ? value.slice(1, -1).replace(/\\(.)/g, '$1')
        : value;
}

/** Preference names, lower-cased, with their values (empty when none); the first of a repeated name wins. */
export function parsePrefer(header: string | null): Preferences {
    const preferences = new Map<string, string>();
    if (header === null) {
        return preferences;
    }
    for (const preference of split(header, ',')) {
        // Parameters after `;` qualify the preference; none of the ones this service honours has any.
        const [head = ''] = split(preference, ';');
        const at = head.indexOf('=');
        const name = (at === -1 ? head : head.slice(0, at)).trim().toLowerCase();
        if (name !== '' && !preferences.has(name)) {
            preferences.set(name, at === -1 ? '' : unquote(head.slice(at + 1).trim()));
        }
    }
    return preferences;
}

/** `Prefer: return=representation`: answer a write with the resource rather than 204. */
export function prefersRepresentation(header: string | null): boolean {
    return parsePrefer(header).get('return')?.toLowerCase() === 'representation';
}
