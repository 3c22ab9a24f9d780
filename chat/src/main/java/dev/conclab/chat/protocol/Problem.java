package dev.conclab.chat.protocol;

/**
 * The named problems an {@code error} message carries in its {@code code} field. The connection stays open after
 * each of them (repeated problems count as strikes, see {@code ChatConfig#maxStrikes}); problems that close the
 * connection instead are {@link CloseCode}s. Immutable.
 */
public enum Problem {
    /** The text frame is not JSON. */
    INVALID_JSON("invalid-json"),
    /** The JSON is not an object. */
    NOT_AN_OBJECT("not-an-object"),
    /** The {@code type} field names no client message. */
    UNKNOWN_TYPE("unknown-type"),
    /** A required field is absent or null. */
    MISSING_FIELD("missing-field"),
    /** A field has the wrong JSON type, is empty, too long, or has characters a name or room may not have. */
    INVALID_FIELD("invalid-field"),
    /** {@code send}, {@code leave}: the client is not in that room. */
    NOT_IN_ROOM("not-in-room"),
    /** {@code join}: the client is already in that room. */
    ALREADY_IN_ROOM("already-in-room"),
    /** {@code join}: the client is in the maximum number of rooms already. */
    TOO_MANY_ROOMS("too-many-rooms"),
    /** {@code join}: the server holds the maximum number of rooms already. */
    SERVER_FULL("server-full"),
    /** {@code dm}: nobody of that name is connected. */
    UNKNOWN_USER("unknown-user"),
    /** {@code hello}, or the name asked for on connect: somebody else has that name. */
    NAME_TAKEN("name-taken"),
    /** {@code hello}: names change only while the client is in no room. */
    NAME_LOCKED("name-locked"),
    /** The message was refused by the per-connection rate limit (it was not processed). */
    RATE_LIMITED("rate-limited");

    private final String wire;

    Problem(String wire) {
        this.wire = wire;
    }

    /** The code on the wire, e.g. {@code "invalid-json"}. */
    public String wire() {
        return wire;
    }
}
