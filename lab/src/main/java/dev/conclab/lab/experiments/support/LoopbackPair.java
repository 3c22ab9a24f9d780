package dev.conclab.lab.experiments.support;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * One TCP connection on loopback whose far end (the <em>peer</em>) sends only when it is allowed to. It lets an
 * experiment force an ordering on a real socket: the reader does something, counts down a latch, and only then does
 * the peer write — so "the read returned before any data existed" holds by construction, on every run, without
 * sleeping to make it likely.
 *
 * <p>Use: {@link #listen()}, connect any client to {@link #address()} (a blocking, non-blocking or asynchronous
 * channel), then {@link #accept()} the peer end and {@link #writeWhen} it. {@link #close()} closes the peer end and
 * the listener and waits for the writer thread. Each instance serves one connection; not thread-safe except where
 * noted.
 */
public final class LoopbackPair implements AutoCloseable {

    /**
     * When the peer was allowed to write and when it wrote, in {@link System#nanoTime()}.
     *
     * @param allowedNanos when the latch opened for the writer thread
     * @param wroteNanos   just before the peer's {@code write} call
     */
    public record PeerWrite(long allowedNanos, long wroteNanos) {
    }

    private final ServerSocketChannel listener;
    private SocketChannel peer;
    private Thread writer;

    private LoopbackPair() throws IOException {
        listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
    }

    /** Opens a listener on a free loopback port. */
    public static LoopbackPair listen() throws IOException {
        return new LoopbackPair();
    }

    public InetSocketAddress address() throws IOException {
        return (InetSocketAddress) listener.getLocalAddress();
    }

    /** Accepts the peer end of the one connection; blocks until a client has connected. */
    public SocketChannel accept() throws IOException {
        if (peer != null) {
            throw new IllegalStateException("this pair already has its connection");
        }
        peer = listener.accept();
        peer.configureBlocking(true);
        return peer;
    }

    /**
     * Starts a thread that waits for {@code go}, then waits {@code after} (only so the gap shows on a timeline; the
     * ordering comes from the latch), then writes all of {@code bytes} to the peer end.
     *
     * @return completes with the times of the write, or exceptionally when the write failed
     */
    public CompletableFuture<PeerWrite> writeWhen(CountDownLatch go, Duration after, byte[] bytes) {
        if (peer == null || writer != null) {
            throw new IllegalStateException("accept the connection first, and write once");
        }
        CompletableFuture<PeerWrite> done = new CompletableFuture<>();
        writer = Thread.ofPlatform().name("loopback-peer").daemon(true).start(() -> {
            try {
                go.await();
                long allowed = System.nanoTime();
                Thread.sleep(after);
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                long wrote = System.nanoTime();
                while (buffer.hasRemaining()) {
                    peer.write(buffer);
                }
                done.complete(new PeerWrite(allowed, wrote));
            } catch (IOException | InterruptedException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    /** Closes the peer end and the listener, and waits for the writer thread (interrupting it if it still waits). */
    @Override
    public void close() throws IOException {
        try {
            if (writer != null) {
                writer.interrupt();
                try {
                    writer.join(2_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        } finally {
            try (listener) {
                if (peer != null) {
                    peer.close();
                }
            }
        }
    }
}
