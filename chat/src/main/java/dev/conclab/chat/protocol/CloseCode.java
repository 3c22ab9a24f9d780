package dev.conclab.chat.protocol;

/**
 * The WebSocket close codes the server sends (RFC 6455, section 7.4.1), each with the one situation it is used for
 * here. Immutable.
 */
public enum CloseCode {
    /** 1000: the purpose of the connection is fulfilled (the client asked to close). */
    NORMAL(1000),
    /** 1001: the server is going down (graceful shutdown), or is dropping a connection that went silent. */
    GOING_AWAY(1001),
    /** 1002: a frame that breaks RFC 6455 framing (unmasked, reserved bits set, a bad control frame). */
    PROTOCOL_ERROR(1002),
    /** 1003: a data type the server does not accept: any binary message (the protocol is text only). */
    UNSUPPORTED_DATA(1003),
    /** 1007: data inconsistent with the message type: a text message that is not valid UTF-8. */
    INVALID_PAYLOAD(1007),
    /** 1008: a policy violation: flooding past the rate limit, or a slow consumer whose outbound queue filled. */
    POLICY_VIOLATION(1008),
    /** 1009: a message too big to process (over the configured frame or message size). */
    MESSAGE_TOO_BIG(1009),
    /** 1011: the server met an unexpected condition handling this connection. */
    INTERNAL_ERROR(1011);

    private final int code;

    CloseCode(int code) {
        this.code = code;
    }

    /** The status code carried by the Close frame. */
    public int code() {
        return code;
    }

    /** The constant for {@code code}, or {@code null} when the server never sends it. */
    public static CloseCode of(int code) {
        for (CloseCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return null;
    }
}
