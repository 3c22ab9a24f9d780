package dev.conclab.toolkit.process.pool;

import dev.conclab.toolkit.process.JvmLauncher;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WireFormatTest {

    private static byte[] frame(Object payload) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        WireFormat.write(out, WireFormat.Type.CALL, 42, payload);
        return out.toByteArray();
    }

    private static WireFormat.Frame read(byte[] bytes, int limit) throws IOException {
        return WireFormat.read(new ByteArrayInputStream(bytes), limit);
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyWireTypeRoundTrips() throws IOException {
        Map<Object, Object> map = new LinkedHashMap<>();
        map.put("k", 1L);
        map.put(2L, Arrays.asList(null, true, false));
        List<Object> value = Arrays.asList(null, true, false, Long.MIN_VALUE, -0.5, "héllo ✓", new byte[]{1, 2, 3},
                List.of(List.of()), map);

        WireFormat.Frame frame = read(frame(value), 1 << 20);

        assertThat(frame.type()).isEqualTo(WireFormat.Type.CALL);
        assertThat(frame.requestId()).isEqualTo(42);
        List<Object> back = (List<Object>) frame.payload();
        assertThat(back.subList(0, 6)).containsExactly(null, true, false, Long.MIN_VALUE, -0.5, "héllo ✓");
        assertThat((byte[]) back.get(6)).containsExactly(1, 2, 3);
        assertThat(back.get(7)).isEqualTo(List.of(List.of()));
        assertThat(back.get(8)).isEqualTo(map);
    }

    @Test
    void intsWidenToLongOnTheWire() throws IOException {
        assertThat(read(frame(7), 1024).payload()).isEqualTo(7L);
    }

    @Test
    void aCleanEndOfStreamIsNotAFrame() throws IOException {
        assertThat(read(new byte[0], 1024)).isNull();
    }

    @Test
    void typesOutsideTheWireSetAreRejectedByName() {
        assertThatThrownBy(() -> WireFormat.encode(List.of(new StringBuilder("x"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("java.lang.StringBuilder");
    }

    @Test
    void badMagicIsRejected() throws IOException {
        byte[] bytes = frame("x");
        bytes[0] = 'X';
        assertThatThrownBy(() -> read(bytes, 1024)).isInstanceOf(FrameFormatException.class)
                .hasMessageContaining("bad magic");
    }

    @Test
    void anHttpRequestIsNotAFrame() {
        byte[] bytes = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> read(bytes, 1024)).isInstanceOf(FrameFormatException.class)
                .hasMessageContaining("bad magic");
    }

    @Test
    void anUnknownVersionIsRejected() throws IOException {
        byte[] bytes = frame("x");
        bytes[4] = 9;
        assertThatThrownBy(() -> read(bytes, 1024)).isInstanceOf(FrameFormatException.class)
                .hasMessageContaining("unsupported frame version 9");
    }

    @Test
    void anUnknownFrameTypeIsRejected() throws IOException {
        byte[] bytes = frame("x");
        bytes[5] = 77;
        assertThatThrownBy(() -> read(bytes, 1024)).isInstanceOf(FrameFormatException.class)
                .hasMessageContaining("unknown frame type 77");
    }

    @Test
    void aTruncatedHeaderIsRejected() throws IOException {
        byte[] bytes = Arrays.copyOf(frame("x"), 10);
        assertThatThrownBy(() -> read(bytes, 1024)).isInstanceOf(FrameFormatException.class)
                .hasMessageContaining("truncated frame: header");
    }

    @Test
    void aTruncatedPayloadIsRejected() throws IOException {
        byte[] whole = frame("hello world");
        byte[] bytes = Arrays.copyOf(whole, whole.length - 3);
        assertThatThrownBy(() -> read(bytes, 1024)).isInstanceOf(FrameFormatException.class)
                .hasMessageContaining("truncated frame: payload");
    }

    @Test
    void anOversizedFrameIsRejectedBeforeItsPayloadIsRead() throws IOException {
        byte[] bytes = frame("x");
        ByteBuffer.wrap(bytes).putInt(14, Integer.MAX_VALUE); // claims 2 GiB, sends 1 KiB at most
        assertThatThrownBy(() -> read(bytes, 1 << 20)).isInstanceOf(FrameFormatException.class)
                .hasMessageContaining("exceeds the limit of 1048576 bytes");
    }

    @Test
    void aLengthInsideThePayloadCannotOverrunIt() throws IOException {
        byte[] bytes = frame(List.of("abc"));
        ByteBuffer.wrap(bytes).putInt(WireFormat.HEADER_BYTES + 1, 1_000_000); // list count beyond the payload
        assertThatThrownBy(() -> read(bytes, 1024)).isInstanceOf(FrameFormatException.class)
                .hasMessageContaining("truncated frame: list of 1000000 elements");
    }

    @Test
    void anUnknownValueTagIsRejected() throws IOException {
        byte[] bytes = frame(1L);
        bytes[WireFormat.HEADER_BYTES] = 99;
        assertThatThrownBy(() -> read(bytes, 1024)).isInstanceOf(FrameFormatException.class)
                .hasMessageContaining("unknown value tag 99");
    }

    @Test
    void aWorkerSentGarbageExitsWithTheWireErrorStatus() throws Exception {
        Process worker = JvmLauncher.ofCurrentJvm().start(WorkerMain.class);
        try {
            WireFormat.Frame ready = WireFormat.read(worker.getInputStream(), 1024);
            assertThat(ready.type()).isEqualTo(WireFormat.Type.READY);
            worker.getOutputStream().write("not a frame at all".getBytes(StandardCharsets.US_ASCII));
            worker.getOutputStream().flush();
            assertThat(worker.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(worker.exitValue()).isEqualTo(WorkerMain.WIRE_ERROR_STATUS);
        } finally {
            worker.destroyForcibly().waitFor();
        }
    }
}
