package dev.conclab.lab.cli;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.dag.Dag;
import dev.conclab.jobs.dag.DagRunState;
import dev.conclab.jobs.dag.DagScheduler;
import dev.conclab.jobs.dag.SchedulerConfig;
import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.DagStore;
import dev.conclab.lab.jobs.DagRunView;
import dev.conclab.lab.jobs.JobsReader;
import dev.conclab.lab.jobs.JobsStores;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

/**
 * The DAG half of {@code conclab jobs}: list DAGs, run the scheduler, trigger and backfill runs, list them, and
 * write a run's Gantt trace. DAGs come from the YAML files of {@code --dags DIR} (default: {@code $CONCLAB_DAGS},
 * else the examples shipped in the jar); runs are kept in {@code --store} (default {@code ~/.conclab/dags.db}), so
 * a scheduler started later, or restarted, resumes them. Tasks are dispatched to the same broker as
 * {@code jobs worker} uses, so a worker must be running for runs to progress.
 */
final class DagsCommand {

    private DagsCommand() {
    }

    /**
     * {@code --dags DIR} and {@code --store FILE}: where DAG definitions and runs are; shared by the DAG subcommands
     * and by {@code serve}.
     */
    static final class StoreOptions {
        @Option(names = "--dags", paramLabel = "DIR",
                description = "A directory of DAG YAML files (default: $CONCLAB_DAGS, else the shipped examples).")
        Path dir;

        @Option(names = "--store", paramLabel = "FILE",
                description = "The SQLite file of DAG runs (default ~/.conclab/dags.db).")
        Path store;

        /** The stores these options and {@code brokerUrl} name, with the CLI's defaults. */
        JobsStores stores(String brokerUrl) {
            return new JobsStores(brokerUrl, storeFile(), dir != null ? dir : JobsStores.defaultDagsDir());
        }

        Path storeFile() {
            return store != null ? store : JobsStores.defaultDagStore();
        }
    }

    /** Where DAGs and runs are, shared by the DAG subcommands. */
    static final class DagOptions {
        @Mixin
        JobsCommand.BrokerOption broker;

        @Mixin
        StoreOptions where;

        List<Dag> dags(String command) {
            try {
                return stores().dags();
            } catch (IllegalArgumentException e) {
                throw new UsageError("jobs " + command + ": " + e.getMessage());
            }
        }

        /** The stores these options name, with the CLI's defaults. */
        JobsStores stores() {
            return where.stores(broker.url());
        }

        Path storeFile() {
            return where.storeFile();
        }

        /** Opens broker, store and a scheduler (not started), runs {@code action}, closes them all. */
        <T> T withScheduler(String command, Function<DagScheduler, T> action) {
            List<Dag> dags = dags(command);
            try (Broker b = broker.open(command); DagStore s = openStore(command);
                 DagScheduler scheduler = new DagScheduler(b, s, Clock.systemUTC(), dags, SchedulerConfig.defaults())) {
                return action.apply(scheduler);
            } catch (IllegalArgumentException e) {
                throw new UsageError("jobs " + command + ": " + e.getMessage());
            }
        }

        DagStore openStore(String command) {
            try {
                Path file = storeFile().toAbsolutePath();
                Files.createDirectories(file.getParent());
                return DagStore.open(file);
            } catch (IOException | RuntimeException e) {
                throw new UsageError("jobs " + command + ": cannot open the DAG store " + storeFile() + ": " + e);
            }
        }
    }

    /** {@code jobs dags}. */
    @Command(name = "dags", mixinStandardHelpOptions = true, description = "List the DAGs: schedule, tasks, limits.")
    static final class ListDags implements Callable<Integer> {
        @Mixin
        DagOptions options;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            for (Dag dag : options.dags("dags")) {
                out.printf("%s  schedule %s (%s)  catchup %s  max active runs %d, tasks %d%n", dag.id(),
                        dag.schedule().map(Object::toString).orElse("none (trigger only)"), dag.zone(),
                        dag.catchup(), dag.maxActiveRuns(), dag.maxActiveTasks());
                dag.tasks().forEach(t -> out.printf("  %-14s %s%s%n", t.id(), t.taskName(),
                        t.upstream().isEmpty() ? "" : "  after " + t.upstream()));
            }
            return Main.OK;
        }
    }

    /** {@code jobs scheduler}. */
    @Command(name = "scheduler", mixinStandardHelpOptions = true,
            description = "Run the scheduler loop until Ctrl-C: create runs on schedule (and catch up), dispatch ready"
                    + " tasks to the queue, follow them to the end.")
    static final class Scheduler implements Callable<Integer> {
        @Mixin
        DagOptions options;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            List<Dag> dags = options.dags("scheduler");
            Broker broker = options.broker.open("scheduler");
            DagStore store = options.openStore("scheduler");
            DagScheduler scheduler = new DagScheduler(broker, store, Clock.systemUTC(), dags, SchedulerConfig.defaults());
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("dag-scheduler-stop").unstarted(() -> {
                scheduler.close();
                store.close();
                broker.close();
                System.out.println("jobs scheduler: stopped (runs resume when a scheduler starts again)");
                stopped.countDown();
            }));
            scheduler.start();
            PrintWriter out = spec.commandLine().getOut();
            out.printf("jobs scheduler: %d DAG(s) %s, runs in %s, tasks to %s; Ctrl-C stops it%n", dags.size(),
                    dags.stream().map(Dag::id).toList(), options.storeFile(), options.broker.url());
            out.flush();
            stopped.await();
            return Main.OK;
        }
    }

    /** {@code jobs trigger DAG}. */
    @Command(name = "trigger", mixinStandardHelpOptions = true,
            description = "Create a manual run now (a running scheduler dispatches it); with --wait, schedule it from"
                    + " this process until it ends.")
    static final class Trigger implements Callable<Integer> {
        @Mixin
        DagOptions options;

        @Parameters(index = "0", paramLabel = "DAG")
        String dagId;

        @Option(names = {"-p", "--param"}, paramLabel = "NAME=JSON",
                description = "A run parameter overriding the DAG's default; the value is JSON, or else a string.")
        Map<String, String> params = new LinkedHashMap<>();

        @Option(names = "--wait", paramLabel = "SECONDS",
                description = "Run the scheduler here until the run ends or this many seconds pass (1..86400).")
        Integer waitSeconds;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            if (waitSeconds != null && (waitSeconds < 1 || waitSeconds > 86_400)) {
                throw new UsageError("jobs trigger: --wait must be in 1..86400 seconds, got " + waitSeconds);
            }
            Map<String, Object> values = new LinkedHashMap<>();
            params.forEach((k, v) -> values.put(k, parseValue(v)));
            PrintWriter out = spec.commandLine().getOut();
            return options.withScheduler("trigger", scheduler -> {
                DagRun run = scheduler.trigger(dagId, values);
                out.println(run.runId());
                if (waitSeconds == null) {
                    return Main.OK;
                }
                out.flush();
                DagRun last = follow(scheduler, run.runId(), Duration.ofSeconds(waitSeconds));
                printRun(out, scheduler, last);
                return last.state() == DagRunState.SUCCESS ? Main.OK : Main.CLAIM_FAILED;
            });
        }

        private static Object parseValue(String text) {
            try {
                return JobsCommand.JSON.readTree(text);
            } catch (IOException e) {
                return text;
            }
        }

        private static DagRun follow(DagScheduler scheduler, String runId, Duration wait) {
            long deadline = System.nanoTime() + wait.toNanos();
            while (true) {
                scheduler.runOnce();
                DagRun run = scheduler.run(runId).orElseThrow();
                if (run.state() == DagRunState.SUCCESS || run.state() == DagRunState.FAILED
                        || System.nanoTime() > deadline) {
                    return run;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return run;
                }
            }
        }
    }

    /** {@code jobs runs DAG}. */
    @Command(name = "runs", mixinStandardHelpOptions = true, description = "List a DAG's runs and their tasks' states.")
    static final class Runs implements Callable<Integer> {
        @Mixin
        DagOptions options;

        @Parameters(index = "0", paramLabel = "DAG")
        String dagId;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            return options.withScheduler("runs", scheduler -> {
                List<DagRun> runs = scheduler.runs(dagId);
                if (runs.isEmpty()) {
                    out.println("no runs of " + dagId + " yet (jobs trigger " + dagId + ", or a scheduled time)");
                }
                runs.forEach(run -> printRun(out, scheduler, run));
                return Main.OK;
            });
        }
    }

    static void printRun(PrintWriter out, DagScheduler scheduler, DagRun run) {
        DagRunView view = DagRunView.of(run, scheduler.instances(run.runId()));
        out.printf("%s  %s  logical %s  %s%n", view.runId(), view.state(), run.logicalDate(), view.taskStates());
    }

    /** {@code jobs backfill DAG --from --to}. */
    @Command(name = "backfill", mixinStandardHelpOptions = true,
            description = "Create a run for every scheduled interval from --from to --to (inclusive) that has none.")
    static final class Backfill implements Callable<Integer> {
        @Mixin
        DagOptions options;

        @Parameters(index = "0", paramLabel = "DAG")
        String dagId;

        @Option(names = "--from", required = true, paramLabel = "DATE", description = "2026-01-01 or an instant.")
        String from;

        @Option(names = "--to", required = true, paramLabel = "DATE", description = "2026-01-31 or an instant.")
        String to;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Instant start = instant("--from", from);
            Instant end = instant("--to", to);
            PrintWriter out = spec.commandLine().getOut();
            return options.withScheduler("backfill", scheduler -> {
                List<DagRun> created = scheduler.backfill(dagId, start, end);
                out.printf("created %d backfill run(s) of %s%n", created.size(), dagId);
                created.forEach(r -> out.println("  " + r.runId()));
                return Main.OK;
            });
        }

        private static Instant instant(String option, String text) {
            try {
                return text.contains("T") ? Instant.parse(text)
                        : LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException e) {
                throw new UsageError("jobs backfill: " + option + " must be a date (2026-01-31) or an instant"
                        + " (2026-01-31T00:00:00Z), got " + text);
            }
        }
    }

    /** {@code jobs trace RUN}. */
    @Command(name = "trace", mixinStandardHelpOptions = true,
            description = "Write a run's Gantt chart as Chrome Trace Event JSON (open it in chrome://tracing or"
                    + " ui.perfetto.dev): one bar per task try, one lane per worker.")
    static final class Trace implements Callable<Integer> {
        @Mixin
        DagOptions options;

        @Parameters(index = "0", paramLabel = "RUN_ID")
        String runId;

        @Option(names = "--out", paramLabel = "FILE", description = "Write here instead of standard output.")
        Path outFile;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Optional<String> trace;
            try {
                trace = new JobsReader(options.stores()).trace(runId, System.currentTimeMillis());
            } catch (RuntimeException e) {
                throw new UsageError("jobs trace: cannot read the DAG store " + options.storeFile() + ": "
                        + e.getMessage());
            }
            String json = trace.orElseThrow(() -> new UsageError("jobs trace: no run " + runId + " in "
                    + options.storeFile()));
            if (outFile == null) {
                spec.commandLine().getOut().println(json);
            } else {
                Files.writeString(outFile, json);
                spec.commandLine().getOut().println("wrote " + outFile);
            }
            return Main.OK;
        }
    }
}
