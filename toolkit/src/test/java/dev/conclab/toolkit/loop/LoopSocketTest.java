package dev.conclab.toolkit.loop;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Socket readiness through the loop's selector: a loopback echo server and client, both on the one loop thread. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LoopSocketTest {

    @Test
    void echoesOverLoopbackWithReadinessCallbacks() throws Exception {
        List<SocketChannel> accepted = new ArrayList<>();
        try (SelectorEventLoop loop = SelectorEventLoop.create();
             ServerSocketChannel server = ServerSocketChannel.open()
                     .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel client = SocketChannel.open()) {
            // Server: accept on readiness, then echo whatever each connection sends.
            loop.addReader(server, () -> {
                SocketChannel connection = io(server::accept);
                if (connection == null) {
                    return;
                }
                accepted.add(connection);
                ByteBuffer buffer = ByteBuffer.allocate(64);
                loop.addReader(connection, () -> {
                    buffer.clear();
                    int n = io(() -> connection.read(buffer));
                    if (n < 0) {
                        loop.removeReader(connection);
                        return;
                    }
                    buffer.flip();
                    io(() -> connection.write(buffer)); // a few bytes fit the socket buffer at once
                });
            });
            // Client: connect without blocking, send when connected, collect the echo.
            String message = "hello, loop";
            LoopFuture<String> echoed = loop.createFuture("echo");
            StringBuilder received = new StringBuilder();
            ByteBuffer in = ByteBuffer.allocate(64);
            client.configureBlocking(false);
            client.connect(server.getLocalAddress());
            loop.addWriter(client, () -> {
                if (!io(client::finishConnect)) {
                    return;
                }
                loop.removeWriter(client);
                io(() -> client.write(StandardCharsets.UTF_8.encode(message)));
                loop.addReader(client, () -> {
                    in.clear();
                    io(() -> client.read(in));
                    in.flip();
                    received.append(StandardCharsets.UTF_8.decode(in));
                    if (received.length() >= message.length()) {
                        loop.removeReader(client);
                        echoed.setResult(received.toString());
                    }
                });
            });
            assertThat(loop.runUntilComplete(echoed)).isEqualTo(message);
            assertThat(loop.removeReader(client)).as("already removed").isFalse();
            assertThat(loop.removeReader(server)).isTrue();
        } finally {
            for (SocketChannel c : accepted) {
                c.close();
            }
        }
        assertThat(accepted).hasSize(1);
    }

    private interface Io<T> {
        T call() throws IOException;
    }

    private static <T> T io(Io<T> call) {
        try {
            return call.call();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
