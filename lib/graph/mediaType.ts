/**
 * Media types as RFC 9110 (section 8.3.1) writes them: `type/subtype` tokens, then `;`-separated `name=value`
 * parameters whose values are tokens or quoted strings. A payload's media type is sent back as its Content-Type, so
 * anything else (a line break, a NUL, a word) is refused where it comes in, and a value stored before this rule that
 * cannot be sent is served as `application/octet-stream`.
 */

/** The media type of a payload that states none. */
export const DEFAULT_MEDIA_TYPE = 'application/octet-stream';

/** RFC 6838 allows 127 characters for each of type and subtype; parameters fit in what is left. */
export const MAX_MEDIA_TYPE_LENGTH = 255;

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** Printable ASCII and tabs, `"` and `\` only escaped: what a header carries without obs-text. */
const QUOTED_STRING = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t \\x20-\\x7e])*"';
/**
 * Whitespace before a `;` and whitespace before a parameter are told apart by what follows them (a `;`, a token),
 * and tokens hold neither `;` nor `"`: the match never backtracks more than one run, so it is linear in the input.
 */
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;(?:[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED_STRING}))?)*$`);

export function isMediaType(value: string): boolean {
    return value.length <= MAX_MEDIA_TYPE_LENGTH && MEDIA_TYPE.test(value);
}

/** What a stored media type is sent as: itself, or the default when it could not be a Content-Type. */
export function servedMediaType(stored: string): string {
    return isMediaType(stored) ? stored : DEFAULT_MEDIA_TYPE;
}

/** Why a value was refused, for the 400 that names the property. */
export const MEDIA_TYPE_RULE = `a media type (RFC 9110: type/subtype, then ;name=value parameters), at most ${MAX_MEDIA_TYPE_LENGTH} characters`;
