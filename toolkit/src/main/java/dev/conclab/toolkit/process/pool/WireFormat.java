package dev.conclab.toolkit.process.pool;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The versioned framing between a {@link ProcessPool} and its workers, and the encoding of the values that cross
 * it. No Java serialization: a reader only ever builds the eight value types below, whatever the bytes say.
 *
 * <h2>Frame</h2>
 * All integers are big-endian.
 * <pre>
 *   offset size  field
 *   0      4     magic      0x434C5050 ("CLPP")
 *   4      1     version    1
 *   5      1     type       {@link Type#code()}
 *   6      8     request id the id of the call this frame belongs to (0 for READY and INIT)
 *   14     4     length     payload length in bytes, 0 ≤ length ≤ the reader's limit
 *   18     length payload    one encoded value
 * </pre>
 *
 * <h2>Value</h2>
 * One tag byte, then:
 * <pre>
 *   0 null     (nothing)            4 double  8-byte IEEE 754
 *   1 false    (nothing)            5 String  4-byte length, UTF-8 bytes
 *   2 true     (nothing)            6 byte[]  4-byte length, bytes
 *   3 long     8 bytes              7 list    4-byte count, values
 *                                   8 map     4-byte count, key value pairs (keys are values too)
 * </pre>
 * Writers accept {@code Integer}, {@code Short} and {@code Byte} as long, {@code Float} as double, any
 * {@code List} as list and any {@code Map} as map; readers return {@code Long}, {@code Double}, unmodifiable
 * lists and insertion-ordered unmodifiable maps. Any other type is rejected with an
 * {@link IllegalArgumentException} naming it.
 *
 * <h2>Thread safety</h2>
 * The methods are stateless; a stream must not be written (or read) by two threads at once.
 */
public final class WireFormat {

    /** The magic number that opens every frame ("CLPP"). */
    public static final int MAGIC = 0x434C5050;
    /** The version this code writes and the only one it reads. */
    public static final int VERSION = 1;
    /** The size of a frame header in bytes. */
    public static final int HEADER_BYTES = 18;
    /** The default limit on a payload's size: 256 MiB. */
    public static final int DEFAULT_MAX_PAYLOAD = 256 << 20;

    /** The kinds of frame. */
    public enum Type {
        /** worker → pool, once at start: payload {@code [pid]}. */
        READY(1),
        /** pool → worker, once after READY when the pool has an initializer: {@code [class, method]}. */
        INIT(2),
        /** pool → worker: {@code [class, method, [args1, args2, ...]]}, a chunk of calls of one task. */
        CALL(3),
        /** worker → pool: the list of results of a CALL (in order), or {@code null} for INIT. */
        RESULT(4),
        /** worker → pool: the CALL or INIT failed; payload: an exception map (see {@link ProcessPool}). */
        ERROR(5),
        /** pool → worker: finish and exit with status 0; payload null. */
        SHUTDOWN(6);

        private final int code;

        Type(int code) {
            this.code = code;
        }

        /** The byte that stands for this type on the wire. */
        public int code() {
            return code;
        }

        static Type of(int code) throws FrameFormatException {
            for (Type type : values()) {
                if (type.code == code) {
                    return type;
                }
            }
            throw new FrameFormatException("unknown frame type " + code);
        }
    }

    /** A decoded frame. */
    public record Frame(Type type, long requestId, Object payload) {
    }

    private static final int NULL = 0, FALSE = 1, TRUE = 2, LONG = 3, DOUBLE = 4, STRING = 5, BYTES = 6,
            LIST = 7, MAP = 8;

    private WireFormat() {
    }

    /** Encodes {@code payload} and writes one frame, then flushes. */
    public static void write(OutputStream out, Type type, long requestId, Object payload) throws IOException {
        writeEncoded(out, type, requestId, encode(payload));
    }

    /** Writes one frame whose payload was already {@link #encode encoded}, then flushes. */
    public static void writeEncoded(OutputStream out, Type type, long requestId, byte[] body) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        data.writeInt(MAGIC);
        data.writeByte(VERSION);
        data.writeByte(type.code);
        data.writeLong(requestId);
        data.writeInt(body.length);
        data.write(body);
        data.flush();
    }

    /**
     * Reads one frame; {@code null} at a clean end of stream (before the first byte of a frame).
     *
     * @throws FrameFormatException bad magic, version or type, a length beyond {@code maxPayload}, a frame cut
     *                              short, or a payload that is not a well-formed value
     */
    public static Frame read(InputStream in, int maxPayload) throws IOException {
        DataInputStream data = new DataInputStream(in);
        int first = data.read();
        if (first < 0) {
            return null;
        }
        byte[] rest = new byte[HEADER_BYTES - 1];
        readFully(data, rest, "header");
        DataInputStream header = new DataInputStream(new java.io.ByteArrayInputStream(rest));
        int magic = (first << 24) | (header.readUnsignedByte() << 16) | header.readUnsignedShort();
        if (magic != MAGIC) {
            throw new FrameFormatException("bad magic 0x%08X (expected 0x%08X): not a pool frame".formatted(magic, MAGIC));
        }
        int version = header.readUnsignedByte();
        if (version != VERSION) {
            throw new FrameFormatException("unsupported frame version " + version + " (this side speaks " + VERSION + ")");
        }
        Type type = Type.of(header.readUnsignedByte());
        long requestId = header.readLong();
        int length = header.readInt();
        if (length < 0 || length > maxPayload) {
            throw new FrameFormatException("frame payload of " + Integer.toUnsignedString(length)
                    + " bytes exceeds the limit of " + maxPayload + " bytes");
        }
        byte[] body = new byte[length];
        readFully(data, body, "payload");
        return new Frame(type, requestId, decode(body));
    }

    /** Encodes one value. */
    public static byte[] encode(Object value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            writeValue(new DataOutputStream(bytes), value);
        } catch (IOException impossible) {
            throw new java.io.UncheckedIOException(impossible);
        }
        return bytes.toByteArray();
    }

    /** Decodes one value that fills {@code body} exactly. */
    public static Object decode(byte[] body) throws FrameFormatException {
        Cursor cursor = new Cursor(body);
        Object value = cursor.value(0);
        if (cursor.position != body.length) {
            throw new FrameFormatException((body.length - cursor.position) + " stray bytes after the payload value");
        }
        return value;
    }

    private static void readFully(DataInputStream in, byte[] into, String what) throws IOException {
        int done = 0;
        while (done < into.length) {
            int n = in.read(into, done, into.length - done);
            if (n < 0) {
                throw new FrameFormatException("truncated frame: " + what + " ended after " + done + " of "
                        + into.length + " bytes");
            }
            done += n;
        }
    }

    private static void writeValue(DataOutputStream out, Object value) throws IOException {
        switch (value) {
            case null -> out.writeByte(NULL);
            case Boolean b -> out.writeByte(b ? TRUE : FALSE);
            case Long l -> writeLong(out, l);
            case Integer i -> writeLong(out, i);
            case Short s -> writeLong(out, s);
            case Byte b -> writeLong(out, b);
            case Double d -> writeDouble(out, d);
            case Float f -> writeDouble(out, f);
            case String s -> {
                byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                out.writeByte(STRING);
                out.writeInt(utf8.length);
                out.write(utf8);
            }
            case byte[] b -> {
                out.writeByte(BYTES);
                out.writeInt(b.length);
                out.write(b);
            }
            case List<?> list -> {
                out.writeByte(LIST);
                out.writeInt(list.size());
                for (Object item : list) {
                    writeValue(out, item);
                }
            }
            case Map<?, ?> map -> {
                out.writeByte(MAP);
                out.writeInt(map.size());
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    writeValue(out, e.getKey());
                    writeValue(out, e.getValue());
                }
            }
            default -> throw new IllegalArgumentException("a " + value.getClass().getName()
                    + " cannot cross the wire (allowed: null, Boolean, Long/Integer, Double, String, byte[], List, Map)");
        }
    }

    private static void writeLong(DataOutputStream out, long value) throws IOException {
        out.writeByte(LONG);
        out.writeLong(value);
    }

    private static void writeDouble(DataOutputStream out, double value) throws IOException {
        out.writeByte(DOUBLE);
        out.writeDouble(value);
    }

    /** Reads values from a byte array with bounds checks, so that a bad count cannot allocate beyond the body. */
    private static final class Cursor {
        private static final int MAX_DEPTH = 64;
        private final byte[] body;
        private int position;

        Cursor(byte[] body) {
            this.body = body;
        }

        Object value(int depth) throws FrameFormatException {
            if (depth > MAX_DEPTH) {
                throw new FrameFormatException("values nested deeper than " + MAX_DEPTH);
            }
            int tag = u8();
            return switch (tag) {
                case NULL -> null;
                case FALSE -> Boolean.FALSE;
                case TRUE -> Boolean.TRUE;
                case LONG -> readLong();
                case DOUBLE -> Double.longBitsToDouble(readLong());
                case STRING -> new String(bytes(length("string")), StandardCharsets.UTF_8);
                case BYTES -> bytes(length("byte array"));
                case LIST -> {
                    int count = length("list");
                    List<Object> list = new ArrayList<>(Math.min(count, 1024));
                    for (int i = 0; i < count; i++) {
                        list.add(value(depth + 1));
                    }
                    yield Collections.unmodifiableList(list);
                }
                case MAP -> {
                    int count = length("map");
                    Map<Object, Object> map = new LinkedHashMap<>();
                    for (int i = 0; i < count; i++) {
                        Object key = value(depth + 1);
                        map.put(key, value(depth + 1));
                    }
                    yield Collections.unmodifiableMap(map);
                }
                default -> throw new FrameFormatException("unknown value tag " + tag + " at payload offset "
                        + (position - 1));
            };
        }

        private int u8() throws FrameFormatException {
            need(1);
            return body[position++] & 0xFF;
        }

        private long readLong() throws FrameFormatException {
            need(8);
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (body[position++] & 0xFF);
            }
            return v;
        }

        /** A length or count; every element takes at least one byte, so it cannot exceed the bytes left. */
        private int length(String what) throws FrameFormatException {
            need(4);
            int v = (int) (readLongOf(4));
            if (v < 0 || v > body.length - position) {
                throw new FrameFormatException("truncated frame: " + what + " of " + Integer.toUnsignedString(v)
                        + " elements but only " + (body.length - position) + " bytes left in the payload");
            }
            return v;
        }

        private long readLongOf(int n) {
            long v = 0;
            for (int i = 0; i < n; i++) {
                v = (v << 8) | (body[position++] & 0xFF);
            }
            return v;
        }

        private byte[] bytes(int n) throws FrameFormatException {
            need(n);
            byte[] out = Arrays.copyOfRange(body, position, position + n);
            position += n;
            return out;
        }

        private void need(int n) throws FrameFormatException {
            if (body.length - position < n) {
                throw new FrameFormatException("truncated frame: payload ended at offset " + body.length
                        + " where " + n + " more bytes were needed");
            }
        }
    }

}
