package dev.conclab.jobs.worker;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Brokers;
import dev.conclab.jobs.task.TaskRegistry;
import dev.conclab.toolkit.process.ParentWatch;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one {@link Worker} in its own JVM until SIGTERM (or SIGINT), then shuts it down gracefully: stop fetching,
 * give back prefetched messages, let running tasks finish within {@code --shutdown-deadline-ms}, give back the rest.
 * After a graceful stop the JVM exits with the status it gives any SIGTERM (143); 2 means bad arguments.
 *
 * <pre>
 * java -cp ... dev.conclab.jobs.worker.WorkerMain --broker sqlite:/tmp/jobs.db --pool vthreads --concurrency 4 \
 *     --queues default,high --registry dev.conclab.jobs.demo.DemoTasks [--visibility-ms 30000] \
 *     [--prefetch-multiplier 4] [--consumer NAME] [--shutdown-deadline-ms 10000] [--no-track-started]
 *     [--exit-with-parent]
 * </pre>
 *
 * <p>The broker URL is any {@link Brokers#open} accepts. Prints one line {@code READY <consumer>} on standard output once the worker has started (a parent process
 * waits for it), and {@code STOPPED <report>} after a graceful stop. With {@code --exit-with-parent} the JVM exits
 * when its parent dies (test children must not outlive the test JVM).
 */
public final class WorkerMain {


    private WorkerMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> options;
        WorkerConfig config;
        TaskRegistry registry;
        Duration deadline;
        try {
            options = parse(args);
            if (options.containsKey("exit-with-parent")) {
                ParentWatch.exitWithParent();
            }
            String registryClass = require(options, "registry");
            registry = ProcessTaskBridge.load(registryClass);
            WorkerConfig.Builder builder = WorkerConfig.builder()
                    .pool(PoolKind.parse(options.getOrDefault("pool", "vthreads")))
                    .registryClass(registryClass)
                    .queues(Arrays.stream(options.getOrDefault("queues", "default").split(",")).map(String::strip)
                            .toList());
            if (options.containsKey("concurrency")) {
                builder.concurrency(intOption(options, "concurrency"));
            }
            if (options.containsKey("prefetch-multiplier")) {
                builder.prefetchMultiplier(intOption(options, "prefetch-multiplier"));
            }
            if (options.containsKey("visibility-ms")) {
                builder.visibility(Duration.ofMillis(intOption(options, "visibility-ms")));
            }
            if (options.containsKey("no-track-started")) {
                builder.trackStarted(false);
            }
            if (options.containsKey("consumer")) {
                builder.consumer(options.get("consumer"));
            }
            config = builder.build();
            deadline = Duration.ofMillis(options.containsKey("shutdown-deadline-ms")
                    ? intOption(options, "shutdown-deadline-ms") : 10_000);
        } catch (IllegalArgumentException e) {
            System.err.println("jobs worker: " + e.getMessage());
            System.exit(2);
            return;
        }
        Broker broker;
        try {
            broker = Brokers.open(require(options, "broker"));
        } catch (IllegalArgumentException e) {
            System.err.println("jobs worker: " + e.getMessage());
            System.exit(2);
            return;
        }
        Worker worker = new Worker(broker, registry, config).start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("jobs-worker-sigterm").unstarted(() -> {
            ShutdownReport report = worker.shutdown(deadline);
            broker.close();
            System.out.println("STOPPED " + report);
            System.out.flush();
            stopped.countDown();
        }));
        System.out.println("READY " + config.consumer());
        System.out.flush();
        stopped.await(); // the hook runs on SIGTERM; the JVM then exits when the hook returns
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        List<String> flags = List.of("exit-with-parent", "no-track-started");
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + args[i] + "'");
            }
            String key = args[i].substring(2);
            if (flags.contains(key)) {
                options.put(key, "true");
            } else if (i + 1 < args.length) {
                options.put(key, args[++i]);
            } else {
                throw new IllegalArgumentException("--" + key + " needs a value");
            }
        }
        return options;
    }

    private static String require(Map<String, String> options, String key) {
        String value = options.get(key);
        if (value == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return value;
    }

    private static int intOption(Map<String, String> options, String key) {
        try {
            return Integer.parseInt(options.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " must be an integer, was '" + options.get(key) + "'");
        }
    }
}
