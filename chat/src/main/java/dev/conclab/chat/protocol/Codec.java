package dev.conclab.chat.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The protocol's JSON (see {@code chat/PROTOCOL.md}): {@link #parse parses and validates} client messages into
 * {@link Inbound} records and encodes every server message as one compact JSON object per text frame.
 *
 * <p><b>Thread safety.</b> Immutable after construction; every method may be called from any thread at once.
 * Encoders never fail on valid arguments; {@link #parse} never throws anything but {@link ProtocolException} (and
 * {@link NullPointerException} for a null text), whatever the input.
 */
public final class Codec {

    /** What a name or a room may be: 1 to 32 letters, digits, {@code _ . -}. */
    public static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9_.\\-]{1,32}");

    /** The longest {@code ref} echoed back. */
    public static final int MAX_REF_CHARS = 64;

    // Jackson's default buffer pool is per thread: with a virtual thread per connection every connection would keep
    // its own parse and write buffers (measured: about 16 KB of char[] per idle connection). One shared pool instead.
    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool()).build());
    private static final JsonFactory FACTORY = MAPPER.getFactory();

    private final int maxTextChars;

    /**
     * @param maxTextChars the longest {@code text} of a {@code send} or {@code dm}, in chars
     * @throws IllegalArgumentException if {@code maxTextChars} is less than 1
     */
    public Codec(int maxTextChars) {
        if (maxTextChars < 1) {
            throw new IllegalArgumentException("maxTextChars must be at least 1, got " + maxTextChars);
        }
        this.maxTextChars = maxTextChars;
    }

    /**
     * Parses one client text frame.
     *
     * @throws ProtocolException naming the first problem found: invalid JSON, not an object, a missing or unknown
     *                           type, a missing or invalid field
     */
    public Inbound parse(String text) throws ProtocolException {
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ProtocolException(Problem.INVALID_JSON, "not valid JSON: " + e.getOriginalMessage(), null);
        }
        if (root == null || !root.isObject()) {
            throw new ProtocolException(Problem.NOT_AN_OBJECT, "a message is a JSON object with a \"type\"", null);
        }
        String ref = optionalRef(root);
        String type = field(root, "type", ref);
        return switch (type) {
            case "hello" -> new Inbound.Hello(name(root, "name", ref), ref);
            case "join" -> new Inbound.Join(name(root, "room", ref), ref);
            case "leave" -> new Inbound.Leave(name(root, "room", ref), ref);
            case "send" -> new Inbound.Send(name(root, "room", ref), text(root, ref), ref);
            case "dm" -> new Inbound.Dm(name(root, "to", ref), text(root, ref), ref);
            case "who" -> new Inbound.Who(name(root, "room", ref), ref);
            case "history" -> new Inbound.History(name(root, "room", ref), ref);
            default -> throw new ProtocolException(Problem.UNKNOWN_TYPE, "unknown type \"" + clip(type)
                    + "\" (expected hello, join, leave, send, dm, who or history)", ref);
        };
    }

    private static String optionalRef(JsonNode root) throws ProtocolException {
        JsonNode ref = root.get("ref");
        if (ref == null || ref.isNull()) {
            return null;
        }
        if (!ref.isTextual() || ref.textValue().length() > MAX_REF_CHARS) {
            throw new ProtocolException(Problem.INVALID_FIELD,
                    "\"ref\" must be a string of at most " + MAX_REF_CHARS + " chars", null);
        }
        return ref.textValue();
    }

    private static String field(JsonNode root, String name, String ref) throws ProtocolException {
        JsonNode node = root.get(name);
        if (node == null || node.isNull()) {
            throw new ProtocolException(Problem.MISSING_FIELD, "missing field \"" + name + "\"", ref);
        }
        if (!node.isTextual()) {
            throw new ProtocolException(Problem.INVALID_FIELD, "\"" + name + "\" must be a string", ref);
        }
        return node.textValue();
    }

    private static String name(JsonNode root, String field, String ref) throws ProtocolException {
        String value = field(root, field, ref);
        if (!NAME_PATTERN.matcher(value).matches()) {
            throw new ProtocolException(Problem.INVALID_FIELD, "\"" + field
                    + "\" must be 1 to 32 letters, digits, '_', '.' or '-', got \"" + clip(value) + "\"", ref);
        }
        return value;
    }

    private String text(JsonNode root, String ref) throws ProtocolException {
        String value = field(root, "text", ref);
        if (value.isEmpty() || value.length() > maxTextChars) {
            throw new ProtocolException(Problem.INVALID_FIELD,
                    "\"text\" must have 1 to " + maxTextChars + " chars, got " + value.length(), ref);
        }
        return value;
    }

    private static String clip(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }

    // ---- server → client ----

    /** {@code {"type":"welcome","name":N}}: the name this connection has now. */
    public String welcome(String name) {
        return write(g -> {
            g.writeStringField("type", "welcome");
            g.writeStringField("name", name);
        });
    }

    /** {@code {"type":"joined","room":R,"name":N}}: N joined R (sent to every member, N included). */
    public String joined(String room, String name) {
        return write(g -> {
            g.writeStringField("type", "joined");
            g.writeStringField("room", room);
            g.writeStringField("name", name);
        });
    }

    /** {@code {"type":"left","room":R,"name":N}}: N left R (sent to the remaining members and to N). */
    public String left(String room, String name) {
        return write(g -> {
            g.writeStringField("type", "left");
            g.writeStringField("room", room);
            g.writeStringField("name", name);
        });
    }

    /** {@code {"type":"message","id":I,"room":R,"from":N,"text":T,"ts":MS}}. */
    public String message(ChatMessage m) {
        return write(g -> {
            g.writeStringField("type", "message");
            messageFields(g, m);
        });
    }

    /** {@code {"type":"dm","id":I,"from":N,"to":M,"text":T,"ts":MS}}. */
    public String dm(long id, String from, String to, String text, long ts) {
        return write(g -> {
            g.writeStringField("type", "dm");
            g.writeNumberField("id", id);
            g.writeStringField("from", from);
            g.writeStringField("to", to);
            g.writeStringField("text", text);
            g.writeNumberField("ts", ts);
        });
    }

    /** {@code {"type":"presence","room":R,"members":[N...]}}, members in join order. */
    public String presence(String room, Collection<String> members, String ref) {
        return write(g -> {
            g.writeStringField("type", "presence");
            g.writeStringField("room", room);
            g.writeArrayFieldStart("members");
            for (String m : members) {
                g.writeString(m);
            }
            g.writeEndArray();
            refField(g, ref);
        });
    }

    /** {@code {"type":"history","room":R,"messages":[{id,room,from,text,ts}...]}}, oldest first. */
    public String history(String room, List<ChatMessage> messages, String ref) {
        return write(g -> {
            g.writeStringField("type", "history");
            g.writeStringField("room", room);
            g.writeArrayFieldStart("messages");
            for (ChatMessage m : messages) {
                g.writeStartObject();
                messageFields(g, m);
                g.writeEndObject();
            }
            g.writeEndArray();
            refField(g, ref);
        });
    }

    /** {@code {"type":"ack","ref":X,"id":I}}: a {@code send} or {@code dm} was accepted as message I. */
    public String ack(String ref, long id) {
        return write(g -> {
            g.writeStringField("type", "ack");
            refField(g, ref);
            g.writeNumberField("id", id);
        });
    }

    /** {@code {"type":"error","code":C,"message":M,"ref":X?}}. */
    public String error(Problem problem, String message, String ref) {
        return write(g -> {
            g.writeStringField("type", "error");
            g.writeStringField("code", problem.wire());
            g.writeStringField("message", message);
            refField(g, ref);
        });
    }

    private static void messageFields(JsonGenerator g, ChatMessage m) throws IOException {
        g.writeNumberField("id", m.id());
        g.writeStringField("room", m.room());
        g.writeStringField("from", m.from());
        g.writeStringField("text", m.text());
        g.writeNumberField("ts", m.ts());
    }

    private static void refField(JsonGenerator g, String ref) throws IOException {
        if (ref != null) {
            g.writeStringField("ref", ref);
        }
    }

    @FunctionalInterface
    private interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private static String write(Body body) {
        StringWriter out = new StringWriter(96);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            body.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to a StringWriter cannot fail", e);
        }
        return out.toString();
    }
}
