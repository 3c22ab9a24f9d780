package dev.conclab.jobs.broker.sqlite;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.conclab.jobs.broker.TaskMessage;

/**
 * A {@link TaskMessage} as the text stored in a message row: JSON of the record, its chain link nested. Unknown
 * fields are ignored so a file written by a later version still reads. Thread-safe (Jackson's readers and writers
 * are immutable).
 */
final class MessageCodec {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final ObjectWriter WRITER = MAPPER.writerFor(TaskMessage.class);
    private static final ObjectReader READER = MAPPER.readerFor(TaskMessage.class);

    private MessageCodec() {
    }

    static String encode(TaskMessage message) {
        try {
            return WRITER.writeValueAsString(message);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode message " + message.id() + ": " + e.getMessage(), e);
        }
    }

    static TaskMessage decode(String json) {
        try {
            return READER.readValue(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored message is not readable: " + e.getOriginalMessage(), e);
        }
    }
}
