package dev.conclab.lab.experiments.debugging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.JvmLauncher;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Profiling a virtual-thread-heavy program with JDK Flight Recorder, recorded in-process and read back.
 *
 * <p>BASELINE: in a child JVM ({@link AsyncProfileChild}, so that JFR's threads end with it), R requests, each on
 * its own virtual thread, sleep 1 ms (waiting, no CPU) and then run a known hot
 * method, {@code hotChecksum}, which does 20 times the work of {@code coldFormat}. A {@link Recording} with
 * {@code jdk.ExecutionSample} every 10 ms and {@code jdk.VirtualThreadStart} enabled runs around the load; the file
 * is read with {@link RecordingFile}. What the profile must show is forced by construction: the hot method owns most
 * samples of the program's own code, the samples are taken on virtual threads, and each sampled stack reaches down
 * from the hot method to the request handler that called it (the async stack is whole, unlike a coroutine's, which
 * ends at the event loop). Waiting is invisible to execution samples: only running threads are sampled.
 *
 * <p>CPython (probe {@code async_profile.py}): cProfile on the same asyncio program ranks {@code hot_checksum}
 * first by own time, and counts the coroutine {@code handle_request} as called once per resumption.
 *
 * <p>Stateless: the child JVM has exited and the recording file is deleted before {@code run} returns.
 *
 * <p>Run: {@code ./conclab run async-profile}. Expect hotChecksum on top with most samples, every sample on a virtual
 * thread, the handler below it in the stack.
 */
public final class AsyncProfile implements Experiment {

    static final ClaimSpec JFR_HOT_METHOD = new ClaimSpec("jfr-hot-method",
            "JFR's execution samples of a virtual-thread program put the known hot method on top: it is the top frame"
                    + " of at least 60% of the samples taken in the requests' code.");
    static final ClaimSpec JFR_VIRTUAL_STACKS = new ClaimSpec("jfr-virtual-stacks",
            "JFR samples the virtual threads themselves, and each sampled stack of the hot method reaches down to the"
                    + " request handler that called it; JFR also records one jdk.VirtualThreadStart event per"
                    + " request when that event is enabled.");
    static final ClaimSpec PY_CPROFILE = new ClaimSpec("py-cprofile-async",
            "cProfile on an asyncio program ranks the known hot function first by own time (at least 60% of all own"
                    + " time), and counts a coroutine as called once per resumption, not once per request.");

    static final double HOT_SHARE = 0.6;
    private static final int HOT = 400_000;
    private static final int COLD = HOT / 20;

    @Override
    public String id() {
        return "async-profile";
    }

    @Override
    public String title() {
        return "Profiling async code: JFR on virtual threads, cProfile on asyncio";
    }

    @Override
    public String description() {
        return "Records a virtual-thread-heavy program with JDK Flight Recorder in-process, reads the file back and"
                + " shows where the time went (the known hot method, on virtual threads, with the whole stack);"
                + " beside cProfile on the same asyncio program.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("requests", "requests, one virtual thread each", 10, 20_000, 2_000, 400));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(JFR_HOT_METHOD, JFR_VIRTUAL_STACKS, PY_CPROFILE);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int requests = ctx.intParam("requests");
        Table.Builder table = Table.builder("Where the time went", "runtime", "profiler", "finding", "detail");
        ctx.progress(0.05, "JFR around " + requests + " virtual threads");
        jfr(ctx, requests, table);
        ctx.progress(0.6, "CPython: async_profile.py");
        python(ctx, requests / 4, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void jfr(RunContext ctx, int requests, Table.Builder table) throws Exception {
        Path file = Files.createTempFile("conclab-async-profile", ".jfr");
        long sink;
        try {
            // A child JVM: JFR's recorder threads live as long as the JVM that recorded, so the lab's must not.
            Process child = ctx.children().track(JvmLauncher.ofCurrentJvm().start(AsyncProfileChild.class,
                    String.valueOf(requests), file.toString()));
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!child.waitFor(60, TimeUnit.SECONDS) || child.exitValue() != 0) {
                throw new IllegalStateException("the profiled child JVM failed: " + out);
            }
            sink = Long.parseLong(out);
            Map<String, Integer> topFrames = new LinkedHashMap<>();
            int own = 0;
            int onVirtual = 0;
            int hotSamples = 0;
            int hotWithHandler = 0;
            int starts = 0;
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                switch (e.getEventType().getName()) {
                    case "jdk.VirtualThreadStart" -> starts++;
                    case "jdk.ExecutionSample" -> {
                        if (e.getStackTrace() == null) {
                            continue;
                        }
                        List<RecordedFrame> frames = e.getStackTrace().getFrames();
                        boolean request = frames.stream().anyMatch(f -> isMine(f, "hotChecksum")
                                || isMine(f, "coldFormat") || isMine(f, "handleRequest"));
                        if (!request) {
                            continue; // the JDK's own threads, the submitting thread, the JFR recorder
                        }
                        own++;
                        if (e.getThread("sampledThread") != null && e.getThread("sampledThread").isVirtual()) {
                            onVirtual++;
                        }
                        RecordedFrame top = frames.getFirst();
                        String name = top.getMethod().getType().getName().replaceAll(".*\\.", "") + "."
                                + top.getMethod().getName();
                        topFrames.merge(name, 1, Integer::sum);
                        if (isMine(top, "hotChecksum")) {
                            hotSamples++;
                            if (frames.stream().anyMatch(f -> isMine(f, "handleRequest"))) {
                                hotWithHandler++;
                            }
                        }
                    }
                    default -> { }
                }
            }
            double share = own == 0 ? 0 : (double) hotSamples / own;
            table.row("JVM (checksum " + (sink & 0xff) + ")", "JFR jdk.ExecutionSample (10 ms)",
                    String.format("hotChecksum on top of %d of %d own samples (%.0f%%)", hotSamples, own,
                            share * 100), "top frames: " + topFrames);
            table.row("JVM", "JFR: who was sampled", onVirtual + " of " + own + " own samples on virtual threads",
                    hotWithHandler + " of " + hotSamples + " hot stacks reach handleRequest; "
                            + starts + " jdk.VirtualThreadStart events for " + requests + " requests");
            ctx.claim(JFR_HOT_METHOD, Verdict.check(own >= 10 && share >= HOT_SHARE, String.format(
                    "%d own samples, hotChecksum on top of %d (%.0f%%) (needs at least 10 samples and %.0f%%)", own,
                    hotSamples, share * 100, HOT_SHARE * 100)));
            ctx.claim(JFR_VIRTUAL_STACKS, Verdict.check(own >= 10 && onVirtual == own && hotWithHandler == hotSamples
                    && starts >= requests, String.format(
                    "%d of %d samples on virtual threads, %d of %d hot stacks reach handleRequest, %d"
                            + " VirtualThreadStart events for %d requests (needs all, all, at least %d)", onVirtual,
                    own, hotWithHandler, hotSamples, starts, requests, requests)));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static boolean isMine(RecordedFrame f, String method) {
        return f.getMethod().getType().getName().equals(AsyncProfile.class.getName())
                && f.getMethod().getName().equals(method);
    }

    /** One request: waits (no CPU), then does hot and cold work. */
    static long handleRequest() throws InterruptedException {
        Thread.sleep(1); // waiting: a virtual thread unmounts, and nothing is sampled
        return hotChecksum(HOT) + coldFormat(COLD);
    }

    /** The known hot method: 20 times the work of {@link #coldFormat}. */
    private static long hotChecksum(int n) {
        long acc = 0;
        for (int i = 0; i < n; i++) {
            acc = (acc * 31 + i) % 1_000_003;
        }
        return acc;
    }

    private static long coldFormat(int n) {
        long acc = 0;
        for (int i = 0; i < n; i++) {
            acc = (acc * 31 + i) % 1_000_003;
        }
        return acc;
    }

    private static void python(RunContext ctx, int requests, Table.Builder table) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("async_profile.py", List.of(), Duration.ofSeconds(60),
                String.valueOf(Math.max(10, requests)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_CPROFILE);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                int n = Math.max(10, requests);
                List<String> top = new ArrayList<>();
                json.path("top_by_own_time").forEach(v -> top.add(v.asText()));
                double share = json.path("hot_share").asDouble();
                int calls = json.path("mine").path("handle_request").path("calls").asInt();
                table.row("CPython " + ran.interpreter().version(), "cProfile around asyncio.run",
                        String.format("top by own time: %s; hot_checksum %.0f%% of all own time", top, share * 100),
                        "handle_request: " + calls + " calls for " + n + " coroutines (3 resumptions each)");
                ctx.claim(PY_CPROFILE, Verdict.check(!top.isEmpty() && "hot_checksum".equals(top.getFirst())
                        && share >= HOT_SHARE && calls == 3 * n, String.format(
                        "top by own time %s, hot_checksum %.0f%% of own time; handle_request counted %d calls for %d"
                                + " coroutines that each resume 3 times (needs hot_checksum first, ≥ %.0f%%, %d)", top,
                        share * 100, calls, n, HOT_SHARE * 100, 3 * n)));
            }
        }
    }
}
