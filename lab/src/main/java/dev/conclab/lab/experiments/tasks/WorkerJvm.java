package dev.conclab.lab.experiments.tasks;

import dev.conclab.jobs.worker.PoolKind;
import dev.conclab.jobs.worker.WorkerMain;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.toolkit.process.ChildTempDir;
import dev.conclab.toolkit.process.JvmLauncher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@code jobs} worker in a JVM of its own ({@link WorkerMain}), as a worker on another machine would be: it shares
 * nothing with this JVM but the broker. The child is tracked by the run ({@link RunContext#children()}), exits with
 * this JVM ({@code --exit-with-parent}), and is stopped by {@link #close} if the experiment did not kill it. Its
 * temp files (sqlite-jdbc's native library, which a killed JVM never deletes) go into a directory of its own, which
 * {@link #kill} and {@link #close} delete once it is dead.
 *
 * <p><b>Thread safety.</b> One thread starts, kills and closes a handle.
 */
final class WorkerJvm implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

    private final String consumer;
    private final Process process;
    private final ChildTempDir tmp;

    private WorkerJvm(String consumer, Process process, ChildTempDir tmp) {
        this.consumer = consumer;
        this.process = process;
        this.tmp = tmp;
    }

    /**
     * Starts a worker JVM on {@code brokerUrl} running {@link TaskLabTasks}, and returns once it printed
     * {@code READY}.
     *
     * @throws ProbeException if it exits or stays silent for 30 s instead
     */
    static WorkerJvm start(RunContext ctx, String brokerUrl, String consumer, PoolKind pool, int concurrency,
            Duration visibility) throws IOException, InterruptedException {
        // --enable-preview: the lab (TaskLabTasks included) is compiled with it, and a class so compiled loads only so
        ChildTempDir tmp = ChildTempDir.create("conclab-worker-jvm-");
        ProcessBuilder builder = new ProcessBuilder(JvmLauncher.ofCurrentJvm()
                .withOptions("--enable-preview", "-Xshare:auto", "-XX:+UseSerialGC",
                        "--enable-native-access=ALL-UNNAMED")
                .withTempDir(tmp.path())
                .command(WorkerMain.class, "--broker", brokerUrl, "--registry", TaskLabTasks.class.getName(),
                        "--pool", pool.name().toLowerCase(java.util.Locale.ROOT),
                        "--concurrency", String.valueOf(concurrency),
                        "--visibility-ms", String.valueOf(visibility.toMillis()),
                        "--consumer", consumer, "--exit-with-parent"))
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        Process process;
        try {
            process = ctx.children().start(builder);
        } catch (IOException | RuntimeException e) {
            tmp.close();
            throw e;
        }
        WorkerJvm worker = new WorkerJvm(consumer, process, tmp);
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        // readLine cannot time out; read on a virtual thread and give up on it after a while (destroying the
        // child closes the pipe, which ends the read).
        CompletableFuture<String> first = new CompletableFuture<>();
        Thread.ofVirtual().name("worker-jvm-" + consumer + "-ready").start(() -> {
            try {
                first.complete(out.readLine());
            } catch (IOException e) {
                first.complete(null);
            }
        });
        String line;
        try {
            line = first.get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            line = null;
        }
        if (!("READY " + consumer).equals(line)) {
            worker.kill();
            throw new ProbeException("the worker JVM " + consumer + " did not start (its first line: " + line + ")");
        }
        return worker;
    }

    String consumer() {
        return consumer;
    }

    /** SIGKILL, as a crash or the OOM killer would: no shutdown hook runs, nothing is given back. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (process.waitFor(10, TimeUnit.SECONDS)) {
            tmp.close();
        }
    }

    /** SIGTERM (a graceful stop: in-flight tasks finish or are given back), then SIGKILL after 10 s. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                kill();
            }
        }
        if (!process.isAlive()) {
            tmp.close();
        }
    }
}
