package dev.conclab.toolkit.process.pool;

import java.io.IOException;

/**
 * A frame on the wire between a {@link ProcessPool} and a worker did not follow {@link WireFormat}: bad magic,
 * unsupported version, unknown frame type, a length beyond the limit, a payload cut short, or a value of a type
 * the format does not carry. The message names the problem. The stream it came from is unusable afterwards.
 */
public final class FrameFormatException extends IOException {

    /** An exception with the given message. */
    public FrameFormatException(String message) {
        super(message);
    }
}
