package dev.conclab.lab.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.catalog.Catalog;
import dev.conclab.lab.catalog.CatalogFiles;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.experiments.Experiments;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Starting and stopping a web lab: a taken port, and a close that cancels its runs and leaves no thread behind. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebLabLifecycleTest {

    /** Threads the JDK keeps for itself once used: virtual threads' carriers, timers and I/O pollers. */
    private static final List<String> JDK_OWNED = List.of("ForkJoinPool-", "ForkJoinPool.commonPool-",
            "VirtualThread-", "MasterPoller", "Read-Poller", "Write-Poller", "InnocuousThread-", "Common-Cleaner",
            "process reaper", "Attach Listener");

    @Test
    void closeCancelsTheRunsStopsTheServerAndLeavesNoThreadBehind(@TempDir Path home) throws Exception {
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        TestLab lab = new TestLab(home, 2);
        JsonNode record;
        int port = lab.lab.port();
        try (Api api = new Api(lab.lab)) {
            CountDownLatch running = lab.blockA.nextLatch();
            Api.Answer started = api.post("/api/runs", "{\"experiment\": \"test-block-a\"}");
            assertThat(started.status()).isEqualTo(202);
            assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
            try (Api.Events events = api.events(started.json().get("events").asText())) {
                assertThat(events.next().name()).isEqualTo("progress");

                lab.close();

                record = events.until("done").json();
            }
            assertThatThrownBy(() -> api.get("/api/catalog")).as("the server is stopped")
                    .isInstanceOf(UncheckedIOException.class);
        }
        assertThat(record.get("status").asText()).isEqualTo("CANCELLED");
        assertThat(lab.lab.runs().start("test-block-b", Map.of(), true))
                .isEqualTo(new Admission.Refused(Admission.Reason.CLOSED, "the web lab is shutting down"));
        lab.close(); // idempotent
        assertThat(threadsLeft(before)).as("threads left after closing the lab on port " + port).isEmpty();
    }

    /**
     * The names of the threads alive now that were not in {@code before}, JDK-owned ones excepted. A thread on its
     * way out gets up to 5 s; so does the one Javalin starts at creation, which sleeps 5 s and ends by itself
     * (JettyServer.kt:41).
     */
    static List<String> threadsLeft(Set<Thread> before) throws InterruptedException {
        List<Thread> left = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t))
                .filter(t -> JDK_OWNED.stream().noneMatch(t.getName()::startsWith))
                .toList();
        for (Thread t : left) {
            t.join(5_000);
        }
        return left.stream().filter(Thread::isAlive).map(Thread::getName).toList();
    }

    @Test
    void aTakenPortIsOneClearError(@TempDir Path home) throws Exception {
        List<Experiment> experiments = Experiments.all();
        Catalog catalog = Catalog.load(CatalogFiles.fromClasspath(),
                experiments.stream().map(Experiment::id).collect(Collectors.toSet()));
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> WebLab.start(catalog, experiments, new ResultStore(home), "127.0.0.1", port, 2))
                    .isInstanceOf(WebLab.CannotListenException.class)
                    .hasMessage("port " + port + " on 127.0.0.1 is in use")
                    .matches(e -> ((WebLab.CannotListenException) e).portInUse());
        }
    }
}
