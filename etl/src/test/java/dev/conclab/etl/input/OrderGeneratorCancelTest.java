package dev.conclab.etl.input;

import dev.conclab.etl.parse.RecordFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link OrderGenerator} answers an interrupt at its next chunk and leaves none of its files. The interrupt is
 * forced at a known chunk without timing: the progress callback of that chunk opens a latch for the test and then
 * waits until the test has interrupted the generating thread, so the generator's next step is its interrupt check.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OrderGeneratorCancelTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    @Test
    void anInterruptAfterTheFirstChunkOfALargeGenerationStopsItThereWithNoFileLeft() throws Exception {
        // 1 GiB: uninterrupted, it would write 1,024 chunks
        OrderGenerator.Spec spec = new OrderGenerator.Spec(tmp, 1L << 30, 1, RecordFormat.CSV, false, 0.001, 1);

        HeldGeneration held = HeldGeneration.at(spec, 1);

        assertThat(held.outcome()).isInstanceOf(InterruptedException.class);
        assertThat(held.chunks()).as("chunks written").hasSize(1);
        assertThat(held.chunks().getFirst()).isBetween((long) OrderGenerator.CHUNK_BYTES,
                OrderGenerator.CHUNK_BYTES + 256L); // a record is at most 256 bytes
        assertThat(filesIn(tmp)).as("files left").isEmpty();
    }

    @Test
    void anInterruptInTheSecondFileDeletesTheFirstCompleteFileToo() throws Exception {
        // two files of 2 MiB: chunks at 1 and 2 MiB in the first file, at 3 MiB in the second
        OrderGenerator.Spec spec = new OrderGenerator.Spec(tmp, 4L << 20, 2, RecordFormat.JSONL, true, 0.01, 5);

        HeldGeneration held = HeldGeneration.at(spec, 3);

        assertThat(held.outcome()).isInstanceOf(InterruptedException.class);
        assertThat(held.chunks()).hasSize(3);
        assertThat(held.chunks().get(2)).isGreaterThan(2L << 20);
        assertThat(filesIn(tmp)).as("files left").isEmpty();
    }

    @Test
    void anAlreadyInterruptedThreadWritesNothing() throws Exception {
        OrderGenerator.Spec spec = new OrderGenerator.Spec(tmp, 1L << 20, 1, RecordFormat.CSV, false, 0, 1);
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> new OrderGenerator().generate(spec))
                    .isInstanceOf(InterruptedException.class).hasMessage("order generation interrupted");
            assertThat(Thread.currentThread().isInterrupted()).as("the status is cleared when thrown").isFalse();
        } finally {
            Thread.interrupted();
        }
        assertThat(filesIn(tmp)).isEmpty();
    }

    @Test
    void anUninterruptedGenerationReportsEachChunkAndTheTotal() throws Exception {
        List<Long> reports = new ArrayList<>();
        OrderGenerator.Result result = new OrderGenerator().generate(
                new OrderGenerator.Spec(tmp, 3L << 20, 1, RecordFormat.CSV, false, 0.01, 2), reports::add);

        assertThat(reports).hasSize(4).isSorted();
        assertThat(reports.get(0)).isBetween((long) OrderGenerator.CHUNK_BYTES, OrderGenerator.CHUNK_BYTES + 256L);
        assertThat(reports.getLast()).isEqualTo(result.bytes()).isEqualTo(Files.size(result.files().getFirst()));
    }

    /** The files in {@code dir}. */
    private static List<Path> filesIn(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }

    /**
     * A generation on a thread of its own, held in its callback at chunk {@code holdAt}, interrupted there by this
     * thread, and joined.
     */
    private record HeldGeneration(Throwable outcome, List<Long> chunks) {

        static HeldGeneration at(OrderGenerator.Spec spec, int holdAt) throws InterruptedException {
            List<Long> chunks = new ArrayList<>(); // written by the generator only; read after join
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            CountDownLatch atChunk = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger calls = new AtomicInteger();
            Thread generator = Thread.ofPlatform().name("order-generator-under-test").start(() -> {
                try {
                    new OrderGenerator().generate(spec, written -> {
                        chunks.add(written);
                        if (calls.incrementAndGet() == holdAt) {
                            atChunk.countDown();
                            try {
                                release.await(); // until interrupted (or released if the test fails first)
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt(); // for the generator's own check
                            }
                        }
                    });
                    outcome.set(new AssertionError("the generation was not interrupted"));
                } catch (Throwable e) {
                    outcome.set(e);
                }
            });
            try {
                assertThat(atChunk.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("reached chunk " + holdAt).isTrue();
                generator.interrupt();
                assertThat(generator.join(WAIT)).as("the generator stopped").isTrue();
            } finally {
                release.countDown();
                generator.interrupt();
                generator.join();
            }
            return new HeldGeneration(outcome.get(), chunks);
        }
    }
}
