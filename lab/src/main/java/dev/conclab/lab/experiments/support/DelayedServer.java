package dev.conclab.lab.experiments.support;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP server that stands for a slow backend: for every request it reads it waits {@code delayMillis},
 * then answers. It is the I/O of the I/O-bound workloads, so a client's time is spent waiting on a real socket, the
 * way a request to a database or an API waits.
 *
 * <p>It speaks two protocols on the same port, told apart by the first line of each request:
 * <ul>
 *   <li><b>Lines</b> (the original): any line is a request; the answer is {@code ok\n}.</li>
 *   <li><b>HTTP/1.1</b>: a line starting with {@code GET } is an HTTP request; its headers are read up to the blank
 *       line and the answer is a {@code 200} with the body {@code ok\n} and a {@code Content-Length}, on a
 *       keep-alive connection. The query may set this request's own delay and status:
 *       {@code GET /?ms=250&status=500}; {@link #url(int, int)} builds such a URL. {@code GET /stats} answers at
 *       once with the counters ({@code received=R answered=A abandoned=B peak=P}; {@code /stats?reset} also restarts the
 *       peak), so a client in another process can read them.</li>
 * </ul>
 *
 * <p><b>Concurrency limit.</b> Started with {@link #start(long, int) a limit K}, the server works on at most K
 * requests at once, like a backend with K workers or a disk with K queues; further requests wait (FIFO) for a slot
 * before their delay starts. {@link #peakInService()} is the most it ever served at once.
 *
 * <p><b>Abandoned requests.</b> While a request waits out its delay the server watches its connection: a client
 * that closes it (a timeout, a cancellation) is counted in {@link #abandoned()} and gets no answer. So a client can
 * prove its cancelled requests really stopped on the wire, not just in its own bookkeeping.
 *
 * <p>Each connection is served by its own virtual thread, so the server never becomes the bottleneck of the
 * clients it measures. {@link #close()} stops accepting, closes every open connection and waits for its threads.
 * Thread-safe; the counters are cumulative since the start.
 */
public final class DelayedServer implements AutoCloseable {

    /** Request lines and headers longer than this are refused: the clients here send short ones. */
    private static final int MAX_LINE = 8_192;

    private final ServerSocket server;
    private final long delayMillis;
    private final Semaphore slots;
    private final ExecutorService handlers = Executors.newVirtualThreadPerTaskExecutor();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong abandoned = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicInteger inService = new AtomicInteger();
    private final AtomicInteger peakInService = new AtomicInteger();
    private final Thread acceptor;

    private DelayedServer(long delayMillis, int maxConcurrent) throws IOException {
        if (delayMillis < 0) {
            throw new IllegalArgumentException("delayMillis must be >= 0, got " + delayMillis);
        }
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("maxConcurrent must be >= 1, got " + maxConcurrent);
        }
        this.delayMillis = delayMillis;
        this.slots = new Semaphore(maxConcurrent, true);
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        this.acceptor = Thread.ofPlatform().name("delayed-server-accept").daemon(true).start(this::accept);
    }

    /** Starts a server on a free loopback port, serving any number of requests at once. */
    public static DelayedServer start(long delayMillis) throws IOException {
        return new DelayedServer(delayMillis, Integer.MAX_VALUE);
    }

    /** Starts a server on a free loopback port that works on at most {@code maxConcurrent} requests at once. */
    public static DelayedServer start(long delayMillis, int maxConcurrent) throws IOException {
        return new DelayedServer(delayMillis, maxConcurrent);
    }

    public int port() {
        return server.getLocalPort();
    }

    public long delayMillis() {
        return delayMillis;
    }

    /** {@code http://127.0.0.1:port/?ms=delay&status=status}: an HTTP request with its own delay and status. */
    public String url(int delayMillis, int status) {
        return "http://" + InetAddress.getLoopbackAddress().getHostAddress() + ":" + port() + "/?ms=" + delayMillis
                + "&status=" + status;
    }

    /** {@code http://127.0.0.1:port/}: an HTTP request with the server's delay, answered 200. */
    public String url() {
        return "http://" + InetAddress.getLoopbackAddress().getHostAddress() + ":" + port() + "/";
    }

    /** How many answers the server has sent. */
    public long answered() {
        return answered.get();
    }

    /** How many requests (not counting {@code /stats}) have arrived; each ends answered, abandoned or unfinished. */
    public long received() {
        return received.get();
    }

    /** How many requests the client gave up on: their connection closed while the server was waiting. */
    public long abandoned() {
        return abandoned.get();
    }

    /** The most requests the server was working on (waiting out their delay) at once. */
    public int peakInService() {
        return peakInService.get();
    }

    /** Forgets the peak, so the next run's peak can be read on its own. */
    public void resetPeak() {
        peakInService.set(inService.get());
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

    /** One parsed request: its delay, its status, whether it came as HTTP, and whether it asks for the counters. */
    private record Request(long delayMillis, int status, boolean http, boolean stats) {
    }

    private void serve(Socket socket) {
        try (socket; PushbackInputStream in = new PushbackInputStream(new BufferedInputStream(
                socket.getInputStream()), 1); OutputStream out = socket.getOutputStream()) {
            String line;
            while ((line = readLine(in)) != null) {
                Request request = parse(line, in);
                if (request.stats()) {
                    out.write(stats(target(line).contains("reset")));
                    out.flush();
                    continue;
                }
                received.incrementAndGet();
                if (!waitOut(socket, in, request.delayMillis())) {
                    abandoned.incrementAndGet();
                    return;
                }
                out.write(answer(request));
                out.flush();
                answered.incrementAndGet();
            }
        } catch (IOException | InterruptedException e) {
            // The client went away or the server is closing: nothing to answer.
        } finally {
            open.remove(socket);
        }
    }

    private Request parse(String line, InputStream in) throws IOException {
        if (!line.startsWith("GET ")) {
            return new Request(delayMillis, 200, false, false);
        }
        String header;
        do { // the headers say nothing this server needs; a GET has no body
            header = readLine(in);
        } while (header != null && !header.isEmpty());
        long delay = delayMillis;
        int status = 200;
        String target = target(line);
        if (target.startsWith("/stats")) {
            return new Request(0, 200, true, true);
        }
        int query = target.indexOf('?');
        if (query >= 0) {
            for (String pair : target.substring(query + 1).split("&")) {
                String[] kv = pair.split("=", 2);
                if (kv.length == 2 && kv[0].equals("ms")) {
                    delay = Long.parseLong(kv[1]);
                } else if (kv.length == 2 && kv[0].equals("status")) {
                    status = Integer.parseInt(kv[1]);
                }
            }
        }
        return new Request(delay, status, true, false);
    }

    private static String target(String requestLine) {
        int space = requestLine.indexOf(' ', 4);
        return space < 0 ? requestLine.substring(4) : requestLine.substring(4, space);
    }

    /** The counters as one line, {@code received=R answered=A abandoned=B peak=P}; with {@code reset}, the peak starts over. */
    private byte[] stats(boolean reset) {
        String body = "received=" + received.get() + " answered=" + answered.get() + " abandoned=" + abandoned.get() + " peak=" + peakInService.get()
                + "\n";
        if (reset) {
            resetPeak();
        }
        return ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length()
                + "\r\nConnection: keep-alive\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Waits out one request's delay inside a slot, watching the connection. Returns false when the client closed it
     * first. HTTP/1.1 clients here never pipeline, so any byte that does arrive early is pushed back for the next
     * request and the wait goes on by sleeping.
     */
    private boolean waitOut(Socket socket, PushbackInputStream in, long delay) throws IOException,
            InterruptedException {
        slots.acquire();
        peakInService.accumulateAndGet(inService.incrementAndGet(), Math::max);
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
            long left;
            // The whole delay, never less: a timeout rounded down would answer up to 1 ms early, and clients
            // here check that N requests take at least their waves × D.
            while ((left = deadline - System.nanoTime()) > 0) {
                long ceilMillis = TimeUnit.NANOSECONDS.toMillis(left + 999_999);
                socket.setSoTimeout((int) Math.min(Math.max(1, ceilMillis), Integer.MAX_VALUE));
                try {
                    int b = in.read();
                    if (b < 0) {
                        return false;
                    }
                    in.unread(b);
                    Thread.sleep(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
                    return true;
                } catch (SocketTimeoutException e) {
                    // the delay is over (or nearly: the loop checks)
                }
            }
            return true;
        } finally {
            socket.setSoTimeout(0);
            inService.decrementAndGet();
            slots.release();
        }
    }

    private static byte[] answer(Request request) {
        if (!request.http()) {
            return "ok\n".getBytes(StandardCharsets.US_ASCII);
        }
        String reason = request.status() == 200 ? "OK" : "Status";
        return ("HTTP/1.1 " + request.status() + " " + reason + "\r\nContent-Type: text/plain\r\n"
                + "Content-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** One line without its {@code \n} (and {@code \r}), or null at the end of the stream. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(64);
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.US_ASCII);
            }
            if (line.size() >= MAX_LINE) {
                throw new IOException("a request line longer than " + MAX_LINE + " bytes");
            }
            line.write(b);
        }
        String text = line.toString(StandardCharsets.US_ASCII);
        return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
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
