package dev.conclab.lab.experiments.multiprocessing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.List;

/**
 * Copy-on-write after {@code fork()}, measured by the child itself from {@code /proc/self/smaps_rollup}.
 *
 * <ol>
 *   <li><b>BASELINE — a buffer.</b> The parent fills a large {@code bytearray} and forks. Before it writes, the
 *       child's Private_Dirty is small: the buffer's pages are shared with the parent. After it writes one byte
 *       into every page, Private_Dirty has grown by about the buffer's size: each page was copied on first
 *       write.</li>
 *   <li><b>Broken — "read-only" Python objects.</b> A child that only iterates over a list of small objects still
 *       dirties their pages, because every access writes the object's reference count; summing a bytes object of
 *       the same size dirties almost nothing. A {@code gc.collect()} in the child dirties the tracked objects too
 *       (it writes their GC headers); after {@code gc.freeze()} in the parent (Python 3.7+) it does not.</li>
 * </ol>
 *
 * <p>The JVM has no counterpart to measure: it never forks. A child JVM starts from nothing, so data reaches it
 * only by being sent (pipes, sockets) or shared explicitly through a memory-mapped file; no claim is made for it.
 *
 * <p>Stateless; the probe's children are plain {@code os.fork()} children that exit before it prints. Linux only
 * (the claims are skipped where the probe cannot run).
 *
 * <p>Run: {@code ./conclab run copy-on-write}. Expect about 1 MB private before the writes and about the buffer's
 * size after; tens of MB dirtied by reading objects or collecting them, about 1% after {@code gc.freeze()}.
 */
public final class CopyOnWrite implements Experiment {

    static final ClaimSpec SHARED_UNTIL_WRITTEN = new ClaimSpec("shared-until-written",
            "After fork, a child's Private_Dirty memory is under 10% of a large buffer it inherited until it writes"
                    + " to it; writing every page makes at least 90% of the buffer private to the child.");
    static final ClaimSpec READING_OBJECTS_DIRTIES = new ClaimSpec("reading-objects-dirties",
            "A child that only reads a list of small Python objects still dirties at least 50% of their size"
                    + " (reference counts are written), while reading a bytes object of that size dirties under"
                    + " 10% of it.");
    static final ClaimSpec FREEZE_AVOIDS_GC_COPIES = new ClaimSpec("freeze-avoids-gc-copies",
            "gc.collect() in a forked child dirties at least 50% of the objects' size, but under 25% after"
                    + " gc.freeze() in the parent before the fork.");

    @Override
    public String id() {
        return "copy-on-write";
    }

    @Override
    public String title() {
        return "Copy-on-write after fork: shared pages until written, and Python objects that write when read";
    }

    @Override
    public String description() {
        return "Forks CPython children and reads their Private_Dirty, Shared and Pss from /proc/self/smaps_rollup"
                + " before and after writing an inherited buffer, reading a list of objects, reading bytes, and"
                + " collecting garbage with and without gc.freeze().";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("mb", "size of the inherited buffer, MB", 8, 512, 64, 32),
                new Param.IntParam("objects", "small lists in the parent's list", 10_000, 2_000_000, 300_000,
                        200_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(SHARED_UNTIL_WRITTEN, READING_OBJECTS_DIRTIES, FREEZE_AVOIDS_GC_COPIES);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        ctx.progress(0.1, "CPython: cow.py");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("cow.py", List.of(), Duration.ofSeconds(60),
                "--mb", Integer.toString(ctx.intParam("mb")), "--objects",
                Integer.toString(ctx.intParam("objects")));
        Table.Builder table = Table.builder("A forked child's own memory (kB, from /proc/self/smaps_rollup)",
                "child", "action", "Private_Dirty before", "Private_Dirty after", "added", "Shared after",
                "Pss after");
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, SHARED_UNTIL_WRITTEN, READING_OBJECTS_DIRTIES, FREEZE_AVOIDS_GC_COPIES);
                ctx.note("CPython side skipped: " + missing.reason());
                table.row("—", "CPython unavailable: " + missing.reason(), "—", "—", "—", "—", "—");
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                JsonNode buffer = json.path("buffer");
                long bufferKb = buffer.path("buffer_kb").asLong();
                row(table, "buffer of " + (bufferKb >> 10) + " MB", "write one byte per page", buffer);
                double before = buffer.path("before").path("private_dirty_kb").asDouble() / bufferKb;
                double added = buffer.path("added_private_dirty_kb").asDouble() / bufferKb;
                ctx.claim(SHARED_UNTIL_WRITTEN, Verdict.check(before < 0.10 && added >= 0.90, String.format(
                        "Private_Dirty before the writes = %.1f%% of the %d kB buffer (needs < 10%%); the writes"
                                + " added %.1f%% (needs ≥ 90%%)", before * 100, bufferKb, added * 100)));

                JsonNode objects = json.path("objects");
                double size = objects.path("bytes_kb").asDouble();
                String what = objects.path("count").asInt() + " small lists (~" + Math.round(size / 1024) + " MB)";
                row(table, what, "for item in data: pass", objects.path("read"));
                row(table, "bytes of ~" + Math.round(size / 1024) + " MB", "sum(data)", objects.path("bytes_read"));
                row(table, what, "gc.collect()", objects.path("gc"));
                row(table, what, "gc.collect() after gc.freeze() in the parent", objects.path("frozen_gc"));
                double read = added(objects, "read") / size;
                double bytesRead = added(objects, "bytes_read") / size;
                double gc = added(objects, "gc") / size;
                double frozen = added(objects, "frozen_gc") / size;
                ctx.claim(READING_OBJECTS_DIRTIES, Verdict.check(read >= 0.5 && bytesRead < 0.10, String.format(
                        "reading the objects dirtied %.0f%% of their size (needs ≥ 50%%); reading bytes dirtied"
                                + " %.1f%% (needs < 10%%)", read * 100, bytesRead * 100)));
                ctx.claim(FREEZE_AVOIDS_GC_COPIES, Verdict.check(gc >= 0.5 && frozen < 0.25, String.format(
                        "gc.collect() dirtied %.0f%% of the objects' size (needs ≥ 50%%), %.1f%% after gc.freeze()"
                                + " (needs < 25%%); CPython %s", gc * 100, frozen * 100,
                        ran.interpreter().version())));
                ctx.note("The JVM does not fork: a child JVM starts fresh, so there is no copy-on-write to measure;"
                        + " data must be sent to it or shared through a memory-mapped file.");
            }
        }
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static double added(JsonNode objects, String child) {
        return objects.path(child).path("added_private_dirty_kb").asDouble();
    }

    private static void row(Table.Builder table, String child, String action, JsonNode r) {
        table.row(child, action, r.path("before").path("private_dirty_kb").asLong(),
                r.path("after").path("private_dirty_kb").asLong(), r.path("added_private_dirty_kb").asLong(),
                r.path("after").path("shared_kb").asLong(), r.path("after").path("pss_kb").asLong());
    }
}
