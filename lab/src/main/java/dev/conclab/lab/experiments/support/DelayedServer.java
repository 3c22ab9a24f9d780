package dev.conclab.lab.experiments.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP server that stands for a slow backend: for every line it reads it waits {@code delayMillis},
 * then answers {@code ok\n}. It is the I/O of the I/O-bound workloads, so a client's time is spent waiting on a
 * real socket, the way a request to a database or an API waits.
 *
 * <p>Each connection is served by its own virtual thread, so the server never becomes the bottleneck of the
 * clients it measures. {@link #close()} stops accepting, closes every open connection and waits for its threads.
 * Thread-safe.
 */
public final class DelayedServer implements AutoCloseable {

    private final ServerSocket server;
    private final long delayMillis;
    private final ExecutorService handlers = Executors.newVirtualThreadPerTaskExecutor();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong answered = new AtomicLong();
    private final Thread acceptor;

    private DelayedServer(long delayMillis) throws IOException {
        this.delayMillis = delayMillis;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        this.acceptor = Thread.ofPlatform().name("delayed-server-accept").daemon(true).start(this::accept);
    }

    /** Starts a server on a free loopback port. */
    public static DelayedServer start(long delayMillis) throws IOException {
        return new DelayedServer(delayMillis);
    }

    public int port() {
        return server.getLocalPort();
    }

    public long delayMillis() {
        return delayMillis;
    }

    /** How many answers the server has sent. */
    public long answered() {
        return answered.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                open.add(socket);
                handlers.execute(() -> serve(socket));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket; BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                StandardCharsets.US_ASCII)); OutputStream out = socket.getOutputStream()) {
            while (in.readLine() != null) {
                Thread.sleep(delayMillis);
                out.write("ok\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                answered.incrementAndGet();
            }
        } catch (IOException | InterruptedException e) {
            // The client went away or the server is closing: nothing to answer.
        } finally {
            open.remove(socket);
        }
    }

    /** One request as a client: connect, send a line, wait for the answer, close. Blocks the calling thread. */
    public static void request(int port) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
            int b;
            while ((b = socket.getInputStream().read()) != '\n') {
                if (b < 0) {
                    throw new IOException("the server closed the connection before answering");
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : open) {
            socket.close();
        }
        handlers.shutdownNow();
        handlers.close();
        try {
            acceptor.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
