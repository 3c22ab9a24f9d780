package dev.conclab.lab.experiments.multiprocessing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.JvmLauncher;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Inter-process communication, measured: how many bytes per second and how many small-message round trips per
 * second two processes can exchange through each channel the OS offers.
 *
 * <p>The parent JVM and one worker JVM ({@link IpcPeer}, started through the run's children) exchange the same
 * traffic four ways:
 * <ul>
 *   <li><b>BASELINE — an anonymous pipe:</b> the worker's standard input and output. Every byte is copied into the
 *       kernel's pipe buffer (64 KiB on Linux) and out again, one system call per buffer-full.</li>
 *   <li><b>A Unix-domain socket</b> ({@link UnixDomainSocketAddress}, JDK 16): a socket with a file-system name and
 *       no network stack under it.</li>
 *   <li><b>TCP on loopback</b>, with Nagle's algorithm off: the whole TCP/IP stack, with checksums skipped on
 *       loopback.</li>
 *   <li><b>Shared memory:</b> one file in {@code /dev/shm} mapped into both JVMs as an FFM {@code MemorySegment}
 *       (JEP 454, final in Java 22) — a byte ring for bulk data and two slots handed over by sequence counters for
 *       round trips ({@link ShmRing}). No system call on the path; the waiting side spins.</li>
 * </ul>
 * Bulk: the parent sends {@code bulk-count} messages of {@code bulk-kib} KiB and the worker acknowledges the lot
 * (MiB/s). Round trips: the parent sends {@code small-bytes} bytes and waits for the worker to echo them, {@code
 * round-trips} times (µs per round trip); each echo carries the round's number, checked on return, so a hand-off
 * that lost or reordered a message would fail the run. Both ends end up with the bytes in their own heap arrays,
 * so shared memory is charged two copies, like the others.
 *
 * <p>The CPython probe {@code ipc.py} does the same between two processes with {@code multiprocessing.Pipe}
 * ({@code send_bytes}/{@code recv_bytes}), {@code multiprocessing.Queue} (which pickles every object and writes
 * it to a pipe from a feeder thread), and {@code multiprocessing.shared_memory.SharedMemory} (3.8) for bulk data,
 * signalled by a one-byte message on a Pipe per block.
 *
 * <p>Run: {@code ./conclab run ipc-throughput}. Expect, with two idle cores, shared memory to move bulk data
 * several times faster than a pipe and to turn a round trip around in a microsecond or less where the kernel's
 * channels take several; the pipe, the Unix socket and TCP within a small factor of one another (which is fastest
 * depends on the kernel and on the JDK's stream wrappers); and in CPython, a Queue's round trip to cost two to three
 * Pipe round trips. On a busy machine the spinning shared-memory side loses its edge: a spinner that has no core
 * of its own burns the time slice its peer needed.
 */
public final class IpcThroughput implements Experiment {

    static final ClaimSpec SHM_BULK = new ClaimSpec("shm-bulk",
            "Shared memory (one /dev/shm file mapped into both JVMs, each side spinning while it waits) moves large"
                    + " messages at least 1.5× faster than a pipe (needs 2 cores).");
    static final ClaimSpec SHM_ROUND_TRIP = new ClaimSpec("shm-round-trip",
            "A small message's round trip through shared memory, handed over by spinning on sequence counters, is"
                    + " at least 5× faster than through a pipe (needs 2 cores).");
    static final ClaimSpec KERNEL_CHANNELS_ALIKE = new ClaimSpec("kernel-channels-alike",
            "A pipe, a Unix-domain socket and TCP loopback all pass through the kernel: their round trips are"
                    + " within 10× of one another.");
    static final ClaimSpec PY_SHM_BULK = new ClaimSpec("py-shm-bulk",
            "In CPython, multiprocessing.shared_memory moves large blocks at least 1.5× faster than"
                    + " multiprocessing.Pipe.");
    static final ClaimSpec PY_QUEUE_COST = new ClaimSpec("py-queue-cost",
            "In CPython, a multiprocessing.Queue round trip costs at least 1.5× a Pipe round trip: each message is"
                    + " pickled and handed to a feeder thread.");

    /** The four channels, in table order. */
    enum Transport {
        PIPE('p', "pipe (stdin/stdout)"),
        UNIX('u', "Unix-domain socket"),
        TCP('t', "TCP loopback"),
        SHARED('s', "shared memory (/dev/shm, FFM)");

        final char code;
        final String label;

        Transport(char code, String label) {
            this.code = code;
            this.label = label;
        }
    }

    /** What one transport measured: bulk MiB/s and µs per round trip, best of the run's repeats. */
    record Rates(double mibPerSecond, double roundTripMicros) {
    }

    @Override
    public String id() {
        return "ipc-throughput";
    }

    @Override
    public String title() {
        return "IPC measured: pipe, Unix socket, TCP loopback and shared memory between two JVMs (and CPython's)";
    }

    @Override
    public String description() {
        return "Sends large messages (MiB/s) and small round trips (µs each) between the parent and a worker JVM"
                + " through a pipe, a Unix-domain socket, TCP loopback and a memory-mapped /dev/shm file; in CPython"
                + " through multiprocessing.Pipe, Queue and shared_memory.SharedMemory.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("bulk-kib", "size of one large message, in KiB", 1, 16_384, 1_024, 1_024),
                new Param.IntParam("bulk-count", "large messages per measurement", 1, 100_000, 256, 32),
                new Param.IntParam("small-bytes", "size of one small message, in bytes", 1, ShmRing.SLOT, 64, 64),
                new Param.IntParam("round-trips", "small-message round trips per measurement", 10, 10_000_000,
                        20_000, 2_000),
                new Param.IntParam("py-bulk-count", "large messages per CPython measurement", 1, 100_000, 128, 24),
                new Param.IntParam("py-round-trips", "small-message round trips per CPython measurement", 10,
                        1_000_000, 5_000, 1_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(SHM_BULK, SHM_ROUND_TRIP, KERNEL_CHANNELS_ALIKE, PY_SHM_BULK, PY_QUEUE_COST);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int bulkBytes = ctx.intParam("bulk-kib") * 1024;
        int bulkCount = ctx.intParam("bulk-count");
        int smallBytes = ctx.intParam("small-bytes");
        int roundTrips = ctx.intParam("round-trips");

        ctx.progress(0.05, "starting the worker JVM");
        Map<Transport, Rates> jvm = new EnumMap<>(Transport.class);
        Path dir = Files.createTempDirectory("conclab-ipc-");
        Path shmDir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : dir;
        Path shmFile = Files.createTempFile(shmDir, "conclab-ipc-", ".shm");
        Path socketPath = dir.resolve("peer.sock");
        try (ServerSocketChannel unixServer = ServerSocketChannel.open(StandardProtocolFamily.UNIX)
                .bind(UnixDomainSocketAddress.of(socketPath));
             ServerSocketChannel tcpServer = ServerSocketChannel.open()
                     .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            try (FileChannel file = FileChannel.open(shmFile, StandardOpenOption.WRITE)) {
                file.truncate(0);
                file.write(java.nio.ByteBuffer.allocate(1), ShmRing.SIZE - 1); // sizes the file, pages stay unallocated
            }
            Process peer = ctx.children().track(JvmLauncher.ofCurrentJvm()
                    .withOptions("-XX:+UseSerialGC", "-Xmx" + Math.max(64, 2 * bulkBytes / (1 << 20) + 32) + "m")
                    .start(IpcPeer.class, socketPath.toString(),
                            Integer.toString(((InetSocketAddress) tcpServer.getLocalAddress()).getPort()),
                            shmFile.toString()));
            InputStream peerOut = peer.getInputStream();
            DataOutputStream peerIn = new DataOutputStream(peer.getOutputStream());
            expectAck(peerOut, peer);
            try (SocketChannel unix = unixServer.accept();
                 SocketChannel tcp = tcpServer.accept();
                 ShmRing shm = ShmRing.map(shmFile)) {
                tcp.socket().setTcpNoDelay(true);
                Channel pipe = new Channel(peerOut, peerIn);
                Map<Transport, Channel> channels = Map.of(Transport.PIPE, pipe,
                        Transport.UNIX, new Channel(Channels.newInputStream(unix), Channels.newOutputStream(unix)),
                        Transport.TCP, new Channel(Channels.newInputStream(tcp), Channels.newOutputStream(tcp)));
                Driver driver = new Driver(peer, peerOut, peerIn, channels, shm);
                int step = 0;
                for (Transport t : Transport.values()) {
                    ctx.progress(0.05 + 0.6 * step++ / Transport.values().length, t.label);
                    // A short warm-up of each path first, so both JVMs measure compiled code.
                    driver.bulk(t, bulkBytes, Math.max(1, bulkCount / 4));
                    driver.echo(t, smallBytes, Math.max(10, roundTrips / 4));
                    Timing bulk = Measure.bestOf(ctx.repeats(), ctx, () -> driver.bulk(t, bulkBytes, bulkCount));
                    Timing echo = Measure.bestOf(ctx.repeats(), ctx, () -> driver.echo(t, smallBytes, roundTrips));
                    jvm.put(t, new Rates((double) bulkBytes * bulkCount / (1 << 20) / bulk.best(),
                            echo.best() / roundTrips * 1e6));
                }
                driver.quit();
                peer.waitFor();
            }
        } finally {
            Files.deleteIfExists(shmFile);
            Files.deleteIfExists(socketPath);
            Files.deleteIfExists(dir);
        }

        Rates pipe = jvm.get(Transport.PIPE);
        Rates shared = jvm.get(Transport.SHARED);
        Table.Builder table = Table.builder(String.format("Two processes, %d KiB messages and %d-byte round trips"
                        + " (best of %d)", bulkBytes / 1024, smallBytes, ctx.repeats()), "channel", "runtime",
                "bulk MiB/s", "bulk × pipe", "round trip µs", "round trips/s", "round trips × pipe");
        for (Transport t : Transport.values()) {
            Rates r = jvm.get(t);
            table.row(t == Transport.PIPE ? t.label + " (baseline)" : t.label, "JVM", r.mibPerSecond(),
                    r.mibPerSecond() / pipe.mibPerSecond(), r.roundTripMicros(), 1e6 / r.roundTripMicros(),
                    pipe.roundTripMicros() / r.roundTripMicros());
        }
        if (ctx.requireCores(SHM_BULK, 2)) {
            ctx.claim(SHM_BULK, Verdict.atLeast("shared memory MiB/s ÷ pipe MiB/s",
                    shared.mibPerSecond() / pipe.mibPerSecond(), 1.5));
        }
        if (ctx.requireCores(SHM_ROUND_TRIP, 2)) {
            ctx.claim(SHM_ROUND_TRIP, Verdict.atLeast("pipe round trip ÷ shared-memory round trip",
                    pipe.roundTripMicros() / shared.roundTripMicros(), 5));
        }
        double slowest = 0;
        double fastest = Double.MAX_VALUE;
        for (Transport t : List.of(Transport.PIPE, Transport.UNIX, Transport.TCP)) {
            slowest = Math.max(slowest, jvm.get(t).roundTripMicros());
            fastest = Math.min(fastest, jvm.get(t).roundTripMicros());
        }
        ctx.claim(KERNEL_CHANNELS_ALIKE, Verdict.atMost(String.format("slowest ÷ fastest round trip of pipe, Unix socket"
                        + " and TCP (%.1f µs, %.1f µs, %.1f µs)", pipe.roundTripMicros(),
                jvm.get(Transport.UNIX).roundTripMicros(), jvm.get(Transport.TCP).roundTripMicros()),
                slowest / fastest, 10)); // TCP loopback ran 5–6× a pipe on a busy 2-core machine; shared memory is 10×+ apart

        ctx.progress(0.7, "CPython: Pipe, Queue and SharedMemory");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("ipc.py", List.of(), Duration.ofSeconds(120),
                "--bulk-bytes", Integer.toString(bulkBytes),
                "--bulk-count", Integer.toString(ctx.intParam("py-bulk-count")),
                "--small-bytes", Integer.toString(smallBytes),
                "--round-trips", Integer.toString(ctx.intParam("py-round-trips")),
                "--repeat", Integer.toString(ctx.repeats()));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_SHM_BULK, PY_QUEUE_COST);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                double pyPipeMib = json.path("pipe").path("bulk_mib_s").asDouble();
                double pyPipeUs = json.path("pipe").path("round_trip_us").asDouble();
                double pyQueueMib = json.path("queue").path("bulk_mib_s").asDouble();
                double pyQueueUs = json.path("queue").path("round_trip_us").asDouble();
                double pyShmMib = json.path("shared_memory").path("bulk_mib_s").asDouble();
                table.row("multiprocessing.Pipe (baseline)", "CPython", pyPipeMib, 1.0, pyPipeUs, 1e6 / pyPipeUs,
                                1.0)
                        .row("multiprocessing.Queue", "CPython", pyQueueMib, pyQueueMib / pyPipeMib, pyQueueUs,
                                1e6 / pyQueueUs, pyPipeUs / pyQueueUs)
                        .row("shared_memory.SharedMemory + Pipe signal", "CPython", pyShmMib, pyShmMib / pyPipeMib,
                                "", "", "");
                ctx.claim(PY_SHM_BULK, Verdict.atLeast("SharedMemory MiB/s ÷ Pipe MiB/s", pyShmMib / pyPipeMib,
                        1.5));
                ctx.claim(PY_QUEUE_COST, Verdict.atLeast("Queue round trip ÷ Pipe round trip", pyQueueUs / pyPipeUs,
                        1.5));
            }
        }
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void expectAck(InputStream in, Process peer) throws IOException {
        int ack = in.read();
        if (ack != IpcPeer.ACK) {
            throw new IOException("the worker JVM " + peer.pid() + " did not answer (read " + ack + ")");
        }
    }

    /** One stream channel's two directions, as seen from the parent. */
    private record Channel(InputStream in, OutputStream out) {
    }

    /** Drives the worker: one command, its traffic, its acknowledgement. Used by the run's thread only. */
    private static final class Driver {
        private final Process peer;
        private final InputStream control;
        private final DataOutputStream commands;
        private final Map<Transport, Channel> channels;
        private final ShmRing shm;
        private byte[] message = new byte[0];
        private final byte[] reply = new byte[ShmRing.SLOT];

        Driver(Process peer, InputStream control, DataOutputStream commands, Map<Transport, Channel> channels,
               ShmRing shm) {
            this.peer = peer;
            this.control = control;
            this.commands = commands;
            this.channels = channels;
            this.shm = shm;
        }

        void bulk(Transport t, int size, int count) throws IOException {
            command(t, 'b', size, count);
            byte[] data = buffer(size);
            if (t == Transport.SHARED) {
                for (int i = 0; i < count; i++) {
                    shm.write(data, size);
                }
            } else {
                OutputStream out = channels.get(t).out();
                for (int i = 0; i < count; i++) {
                    out.write(data, 0, size);
                }
                out.flush();
            }
            expectAck(control, peer);
        }

        void echo(Transport t, int size, int count) throws IOException {
            command(t, 'e', size, count);
            byte[] data = buffer(size);
            long seen = shm.sequence(false);
            Channel channel = channels.get(t);
            for (int i = 0; i < count; i++) {
                data[0] = (byte) i;
                if (t == Transport.SHARED) {
                    shm.send(true, data, size);
                    seen = shm.receive(false, seen, reply, size);
                } else {
                    channel.out().write(data, 0, size);
                    channel.out().flush();
                    if (channel.in().readNBytes(reply, 0, size) != size) {
                        throw new IOException("the worker closed " + t.label + " mid-echo");
                    }
                }
                if (reply[0] != (byte) i) {
                    throw new IOException(t.label + ": round trip " + i + " came back as " + reply[0]);
                }
            }
            expectAck(control, peer);
        }

        void quit() throws IOException {
            command(null, 'b', 0, 0);
        }

        private void command(Transport t, char kind, int size, int count) throws IOException {
            commands.writeByte(t == null ? 'q' : t.code);
            commands.writeByte(kind);
            commands.writeInt(size);
            commands.writeInt(count);
            commands.flush();
        }

        private byte[] buffer(int size) {
            if (message.length < size) {
                message = new byte[size];
                java.util.Arrays.fill(message, (byte) 'x');
            }
            return message;
        }
    }
}
