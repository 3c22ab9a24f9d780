package dev.conclab.lab.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerStats;
import dev.conclab.jobs.broker.Brokers;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.client.JobClient;
import dev.conclab.jobs.client.SubmitOptions;
import dev.conclab.jobs.demo.DemoTasks;
import dev.conclab.jobs.task.TaskRegistry;
import dev.conclab.jobs.worker.PoolKind;
import dev.conclab.jobs.worker.ShutdownReport;
import dev.conclab.jobs.worker.Worker;
import dev.conclab.jobs.worker.WorkerConfig;
import dev.conclab.lab.jobs.JobsInspection;
import dev.conclab.lab.jobs.JobsStores;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * {@code conclab jobs ...}: the task queue from the command line. Every subcommand opens the broker named by
 * {@code --broker} (default: the embedded SQLite file {@code ~/.conclab/jobs.db}, or {@code $CONCLAB_JOBS_BROKER}),
 * does one thing and closes it; {@code worker} stands until SIGTERM or Ctrl-C and then shuts down gracefully.
 * The tasks are the demo registry ({@link DemoTasks}) unless {@code --tasks} names another
 * {@code Supplier<TaskRegistry>} class on the class path.
 */
@Command(name = "jobs", mixinStandardHelpOptions = true,
        subcommands = {JobsCommand.WorkerCommand.class, JobsCommand.SubmitCommand.class,
                JobsCommand.StatusCommand.class, JobsCommand.InspectCommand.class, JobsCommand.PurgeCommand.class,
                JobsCommand.RevokeCommand.class, DagsCommand.ListDags.class, DagsCommand.Scheduler.class, DagsCommand.Trigger.class,
                DagsCommand.Runs.class, DagsCommand.Backfill.class, DagsCommand.Trace.class},
        description = {"The task queue (Celery-like) and the DAG scheduler (Airflow-like), on an embedded SQLite file"
                + " by default or on Redis (--broker redis://HOST:PORT).",
                "  ./conclab jobs worker --pool vthreads --concurrency 8      run a worker until Ctrl-C",
                "  ./conclab jobs submit add 2 3 --wait 10                    submit a task, wait for its result",
                "  ./conclab jobs inspect                                     queues, in-flight, dead letters",
                "  ./conclab jobs trigger nightly_report --wait 60            run a DAG (with a worker running)"})
final class JobsCommand implements Runnable {

    @Override
    public void run() {
        throw new UsageError("jobs needs a subcommand: worker, submit, status, inspect, purge, revoke, dags, scheduler,"
                + " trigger, runs, backfill or trace (see: conclab jobs --help)");
    }

    /** {@code --broker URL}: where the broker is; shared by every jobs subcommand and by {@code serve}. */
    static final class BrokerUrlOption {
        @Option(names = "--broker", paramLabel = "URL",
                description = "sqlite:PATH or redis://HOST:PORT[/DB][?prefix=P] (default: $CONCLAB_JOBS_BROKER, else"
                        + " sqlite:~/.conclab/jobs.db).")
        String url;

        String url() {
            return url != null ? url : JobsStores.defaultBrokerUrl();
        }

        Broker open(String command) {
            try {
                return Brokers.open(url());
            } catch (RuntimeException e) {
                throw new UsageError("jobs " + command + ": cannot open broker " + url() + ": " + e.getMessage());
            }
        }
    }

    /** Where the broker is and which tasks it runs, shared by every subcommand. */
    static final class BrokerOption {
        @Mixin
        BrokerUrlOption where;

        @Option(names = "--tasks", paramLabel = "CLASS",
                description = "A Supplier<TaskRegistry> class on the class path (default: the demo tasks: noop, add,"
                        + " sleep, cpu, echo, fail-always, fail-then-succeed).")
        String tasks;

        String url() {
            return where.url();
        }

        Broker open(String command) {
            return where.open(command);
        }

        TaskRegistry registry(String command) {
            if (tasks == null) {
                return DemoTasks.REGISTRY;
            }
            try {
                Object supplier = Class.forName(tasks).getConstructor().newInstance();
                if (supplier instanceof java.util.function.Supplier<?> s && s.get() instanceof TaskRegistry r) {
                    return r;
                }
                throw new UsageError("jobs " + command + ": --tasks " + tasks + " is not a Supplier<TaskRegistry>");
            } catch (ReflectiveOperationException | LinkageError e) {
                throw new UsageError("jobs " + command + ": --tasks " + tasks + ": cannot load it (" + e + ")");
            }
        }

        String registryClass() {
            return tasks == null ? DemoTasks.class.getName() : tasks;
        }
    }

    /** Runs one operation against an open broker and closes it, turning bad input into one clear line. */
    static <T> T withBroker(BrokerOption option, String command, Function<Broker, T> action) {
        try (Broker broker = option.open(command)) {
            return action.apply(broker);
        } catch (IllegalArgumentException e) {
            throw new UsageError("jobs " + command + ": " + e.getMessage());
        }
    }

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code jobs worker}. */
    @Command(name = "worker", mixinStandardHelpOptions = true,
            description = "Run a worker until SIGTERM or Ctrl-C; then stop fetching, give back prefetched tasks, let"
                    + " running ones finish within --drain, and give back the rest.")
    static final class WorkerCommand implements Callable<Integer> {
        @Mixin
        BrokerOption broker;

        @Option(names = "--pool", defaultValue = "vthreads", paramLabel = "POOL",
                description = "vthreads (a virtual thread per task), threads (a fixed platform pool) or processes"
                        + " (worker JVMs, Celery's prefork); default vthreads.")
        String pool;

        @Option(names = "--concurrency", paramLabel = "N",
                description = "Tasks run at once (default: the pool's: the number of cores for threads and processes).")
        Integer concurrency;

        @Option(names = "--queues", split = ",", defaultValue = "default", paramLabel = "Q",
                description = "Queues to consume, in order of preference (default: default).")
        List<String> queues;

        @Option(names = "--prefetch-multiplier", paramLabel = "M",
                description = "Reserve at most concurrency × M tasks ahead (default 4, as Celery).")
        Integer prefetch;

        @Option(names = "--visibility", defaultValue = "30", paramLabel = "SECONDS",
                description = "Visibility timeout: a task whose worker dies is redelivered after this (default 30).")
        int visibilitySeconds;

        @Option(names = "--drain", defaultValue = "10", paramLabel = "SECONDS",
                description = "Graceful-shutdown deadline (default 10).")
        int drainSeconds;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            WorkerConfig config;
            TaskRegistry registry = broker.registry("worker");
            try {
                if (visibilitySeconds < 1 || visibilitySeconds > 86_400) {
                    throw new IllegalArgumentException("--visibility must be in 1..86400 seconds, got "
                            + visibilitySeconds);
                }
                if (drainSeconds < 0 || drainSeconds > 3_600) {
                    throw new IllegalArgumentException("--drain must be in 0..3600 seconds, got " + drainSeconds);
                }
                WorkerConfig.Builder builder = WorkerConfig.builder().pool(PoolKind.parse(pool)).queues(queues)
                        .visibility(Duration.ofSeconds(visibilitySeconds)).registryClass(broker.registryClass());
                if (concurrency != null) {
                    builder.concurrency(concurrency);
                }
                if (prefetch != null) {
                    builder.prefetchMultiplier(prefetch);
                }
                config = builder.build();
            } catch (IllegalArgumentException e) {
                throw new UsageError("jobs worker: " + e.getMessage());
            }
            Broker opened = broker.open("worker");
            Worker worker = new Worker(opened, registry, config).start();
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("jobs-worker-stop").unstarted(() -> {
                ShutdownReport report = worker.shutdown(Duration.ofSeconds(drainSeconds));
                opened.close();
                System.out.println("jobs worker: stopped: " + report);
                stopped.countDown();
            }));
            PrintWriter out = spec.commandLine().getOut();
            out.printf("jobs worker: %s on %s, pool %s, concurrency %d, prefetch %d, queues %s; Ctrl-C stops it"
                            + " gracefully%n", config.consumer(), broker.url(), config.pool().name().toLowerCase(),
                    config.concurrency(), config.prefetchLimit(), config.queues());
            out.flush();
            stopped.await();
            return Main.OK;
        }
    }

    /** {@code jobs submit}. */
    @Command(name = "submit", mixinStandardHelpOptions = true,
            description = {"Submit a task; prints its id (or, with --wait, its final record).",
                    "Arguments are JSON values: ./conclab jobs submit add 2 3   or   ./conclab jobs submit echo '\"hi\"'"})
    static final class SubmitCommand implements Callable<Integer> {
        @Mixin
        BrokerOption broker;

        @Parameters(index = "0", paramLabel = "TASK", description = "The registered task's name.")
        String task;

        @Parameters(index = "1..*", paramLabel = "ARG", description = "Its arguments, each a JSON value.")
        List<String> args = List.of();

        @Option(names = "--countdown", paramLabel = "SECONDS", description = "Run no sooner than this from now.")
        Double countdown;

        @Option(names = "--priority", paramLabel = "P", description = "0..9, higher first (default 0).")
        Integer priority;

        @Option(names = "--queue", paramLabel = "Q", description = "The queue (default: the task's).")
        String queue;

        @Option(names = "--key", paramLabel = "KEY", description = "Idempotency key: a second submit with it is"
                + " suppressed and prints the first task's id.")
        String key;

        @Option(names = "--wait", paramLabel = "SECONDS", description = "Wait up to this long for a final state.")
        Double waitSeconds;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            SubmitOptions options;
            try {
                SubmitOptions.Builder b = SubmitOptions.builder();
                if (countdown != null) {
                    if (!(countdown >= 0 && countdown <= 366 * 86_400)) {
                        throw new IllegalArgumentException("--countdown must be in 0..31622400 seconds, got "
                                + countdown);
                    }
                    b.countdown(Duration.ofMillis((long) (countdown * 1000)));
                }
                if (priority != null) {
                    b.priority(priority);
                }
                if (queue != null) {
                    b.queue(queue);
                }
                if (key != null) {
                    b.idempotencyKey(key);
                }
                if (waitSeconds != null && !(waitSeconds > 0 && waitSeconds <= 86_400)) {
                    throw new IllegalArgumentException("--wait must be in (0, 86400] seconds, got " + waitSeconds);
                }
                options = b.build();
            } catch (IllegalArgumentException e) {
                throw new UsageError("jobs submit: " + e.getMessage());
            }
            for (int i = 0; i < args.size(); i++) {
                try {
                    JSON.readTree(args.get(i));
                } catch (java.io.IOException e) {
                    throw new UsageError("jobs submit: argument " + (i + 1) + " (" + args.get(i) + ") is not a JSON"
                            + " value; a string needs quotes, e.g. '\"text\"'");
                }
            }
            String argsJson = "[" + String.join(",", args) + "]";
            TaskRegistry registry = broker.registry("submit");
            PrintWriter out = spec.commandLine().getOut();
            try (Broker opened = broker.open("submit")) {
                JobClient client = new JobClient(opened, registry);
                String id;
                try {
                    id = client.submitJson(task, argsJson, options);
                } catch (IllegalArgumentException e) {
                    throw new UsageError("jobs submit: " + e.getMessage());
                }
                if (waitSeconds == null) {
                    out.println(id);
                    return Main.OK;
                }
                try {
                    TaskRecord record = client.await(id, Duration.ofMillis((long) (waitSeconds * 1000)));
                    out.println(json(record));
                    return record.state() == dev.conclab.jobs.task.TaskState.SUCCESS ? Main.OK : Main.CLAIM_FAILED;
                } catch (TimeoutException e) {
                    out.println(id);
                    spec.commandLine().getErr().println("jobs submit: no final state within " + waitSeconds
                            + " s (is a worker running on " + broker.url() + "?)");
                    return Main.CLAIM_FAILED;
                }
            }
        }
    }

    /** {@code jobs status ID}. */
    @Command(name = "status", mixinStandardHelpOptions = true, description = "Print a task's record as JSON.")
    static final class StatusCommand implements Callable<Integer> {
        @Mixin
        BrokerOption broker;

        @Parameters(index = "0", paramLabel = "ID", description = "The task id submit printed.")
        String id;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            TaskRecord record = withBroker(broker, "status", b -> b.record(id).orElseThrow(() ->
                    new UsageError("jobs status: no task " + id + " on " + broker.url())));
            spec.commandLine().getOut().println(json(record));
            return Main.OK;
        }
    }

    /** {@code jobs inspect}. */
    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Queues, tasks in flight (and until when their workers hold them), dead letters, counters.")
    static final class InspectCommand implements Callable<Integer> {
        @Mixin
        BrokerOption broker;

        @Option(names = "--json", description = "Print as JSON.")
        boolean asJson;

        @Option(names = "--dead-letters", defaultValue = "10", paramLabel = "N",
                description = "How many dead letters to list, newest first (0..1000, default 10).")
        int deadLetters;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            if (deadLetters < 0 || deadLetters > 1000) {
                throw new UsageError("jobs inspect: --dead-letters must be in 0..1000, got " + deadLetters);
            }
            JobsInspection inspection = withBroker(broker, "inspect", b -> JobsInspection.of(b, broker.url(),
                    deadLetters));
            PrintWriter out = spec.commandLine().getOut();
            if (asJson) {
                out.println(json(inspection));
                return Main.OK;
            }
            BrokerStats s = inspection.stats();
            out.println("broker " + inspection.broker());
            out.println("queued: " + (s.queued().isEmpty() ? "none" : s.queued()));
            out.printf("counters: delivered %,d, redelivered %,d, duplicates %,d, succeeded %,d, failed %,d,"
                    + " dead letters %,d%n", s.delivered(), s.redelivered(), s.duplicates(), s.succeeded(), s.failed(),
                    s.deadLetters());
            out.println("in flight: " + s.inFlight().size());
            long now = System.currentTimeMillis();
            for (BrokerStats.InFlight f : s.inFlight()) {
                out.printf("  %s %s held by %s, %s%n", f.taskId(), f.name(), f.consumer(),
                        f.visibleAgainMillis() <= now ? "reservation lapsed (redelivered on the next fetch)"
                                : "visible again in " + (f.visibleAgainMillis() - now) + " ms");
            }
            out.println("dead letters: " + s.deadLetters());
            for (TaskRecord r : inspection.deadLetters()) {
                out.printf("  %s %s %s after attempt %d: %s%n", r.id(), r.name(), r.argsJson(), r.attempt(),
                        r.error());
            }
            return Main.OK;
        }
    }

    /** {@code jobs purge}. */
    @Command(name = "purge", mixinStandardHelpOptions = true,
            description = "Remove every queued (not running) task of a queue; they become REVOKED (\"purged\").")
    static final class PurgeCommand implements Callable<Integer> {
        @Mixin
        BrokerOption broker;

        @Option(names = "--queue", defaultValue = "default", paramLabel = "Q", description = "Default: default.")
        String queue;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            long removed = withBroker(broker, "purge", b -> b.purge(queue));
            spec.commandLine().getOut().printf("purged %,d task(s) from queue %s%n", removed, queue);
            return Main.OK;
        }
    }

    /** {@code jobs revoke ID}. */
    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a task: never delivered if queued; interrupted if running.")
    static final class RevokeCommand implements Callable<Integer> {
        @Mixin
        BrokerOption broker;

        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            boolean revoked = withBroker(broker, "revoke", b -> b.revoke(id, "revoked from the command line"));
            if (!revoked) {
                throw new UsageError("jobs revoke: task " + id + " is unknown or already finished");
            }
            spec.commandLine().getOut().println("revoked " + id);
            return Main.OK;
        }
    }
}
