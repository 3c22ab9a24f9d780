package dev.conclab.jobs.broker.sqlite;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.conclab.jobs.broker.TaskMessage;
import java.io.IOException;
import java.io.StringWriter;

/**
 * A {@link TaskMessage} as the text stored in a message row: a JSON object with the record's component names, its
 * chain link nested. Written and read with Jackson's streaming API (every reserve decodes each message it
 * delivers; data binding through the record's constructor cost a quarter of the broker's CPU). Unknown fields are
 * skipped so a file written by a later version still reads. Thread-safe (the factory is).
 */
final class MessageCodec {
    private static final JsonFactory JSON = new JsonFactory();

    private MessageCodec() {
    }

    static String encode(TaskMessage message) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            write(g, message);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot encode message " + message.id() + ": " + e.getMessage(), e);
        }
        return out.toString();
    }

    private static void write(JsonGenerator g, TaskMessage m) throws IOException {
        g.writeStartObject();
        g.writeStringField("id", m.id());
        g.writeStringField("name", m.name());
        g.writeStringField("argsJson", m.argsJson());
        g.writeStringField("queue", m.queue());
        g.writeNumberField("priority", m.priority());
        g.writeNumberField("notBeforeMillis", m.notBeforeMillis());
        g.writeNumberField("attempt", m.attempt());
        g.writeNumberField("maxRetries", m.maxRetries());
        optional(g, "idempotencyKey", m.idempotencyKey());
        g.writeNumberField("softLimitMillis", m.softLimitMillis());
        g.writeNumberField("hardLimitMillis", m.hardLimitMillis());
        optional(g, "parentId", m.parentId());
        if (m.link() != null) {
            g.writeFieldName("link");
            write(g, m.link());
        }
        optional(g, "chordId", m.chordId());
        optional(g, "chordResultsOf", m.chordResultsOf());
        g.writeNumberField("submittedMillis", m.submittedMillis());
        g.writeEndObject();
    }

    private static void optional(JsonGenerator g, String field, String value) throws IOException {
        if (value != null) {
            g.writeStringField(field, value);
        }
    }

    static TaskMessage decode(String json) {
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            return read(p);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("a stored message is not readable (" + e.getMessage() + "): " + json, e);
        }
    }

    /** Reads the fields of an object whose START_OBJECT was consumed, through its END_OBJECT. */
    private static TaskMessage read(JsonParser p) throws IOException {
        String id = null;
        String name = null;
        String args = null;
        String queue = TaskMessage.DEFAULT_QUEUE;
        int priority = 0;
        long notBefore = 0;
        int attempt = 0;
        int maxRetries = 0;
        String key = null;
        long soft = 0;
        long hard = 0;
        String parentId = null;
        TaskMessage link = null;
        String chordId = null;
        String chordResultsOf = null;
        long submitted = 0;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            boolean isNull = value == JsonToken.VALUE_NULL;
            switch (field) {
                case "id" -> id = p.getValueAsString();
                case "name" -> name = p.getValueAsString();
                case "argsJson" -> args = p.getValueAsString();
                case "queue" -> queue = p.getValueAsString();
                case "priority" -> priority = p.getIntValue();
                case "notBeforeMillis" -> notBefore = p.getLongValue();
                case "attempt" -> attempt = p.getIntValue();
                case "maxRetries" -> maxRetries = p.getIntValue();
                case "idempotencyKey" -> key = isNull ? null : p.getValueAsString();
                case "softLimitMillis" -> soft = p.getLongValue();
                case "hardLimitMillis" -> hard = p.getLongValue();
                case "parentId" -> parentId = isNull ? null : p.getValueAsString();
                case "link" -> link = isNull ? null : read(p);
                case "chordId" -> chordId = isNull ? null : p.getValueAsString();
                case "chordResultsOf" -> chordResultsOf = isNull ? null : p.getValueAsString();
                case "submittedMillis" -> submitted = p.getLongValue();
                default -> p.skipChildren();
            }
        }
        return new TaskMessage(id, name, args, queue, priority, notBefore, attempt, maxRetries, key, soft, hard,
                parentId, link, chordId, chordResultsOf, submitted);
    }
}
