package dev.conclab.lab.cli;

import dev.conclab.lab.Lab;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ParamValues;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.engine.RunRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code conclab run EXPERIMENT [-p key=value]... [--quick] [--json] [--trace FILE]}. */
@Command(name = "run", description = "Run one experiment, print its tables and judge its claims."
        + " Exit 0 when every claim holds, 1 when one fails.")
final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "EXPERIMENT", description = "An experiment id (see: conclab experiments).")
    String experimentId;

    @Option(names = {"-p", "--param"}, paramLabel = "KEY=VALUE", description = "Set a parameter (repeatable).")
    List<String> params = List.of();

    @Option(names = "--quick", description = "Use the parameters' quick values: a short run.")
    boolean quick;

    @Option(names = "--json", description = "Print the run record as JSON on standard output.")
    boolean json;

    @Option(names = "--trace", paramLabel = "FILE", description = "Write the trace (Chrome Trace Event JSON) to FILE.")
    Path trace;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Lab lab = Main.lab();
        Experiment experiment = lab.experiment(experimentId).orElseThrow(() -> new UsageError(
                "unknown experiment '" + experimentId + "' (see: conclab experiments)"));
        ParamValues values = ParamValues.resolve(experiment.params(), parse(params), quick);
        RunRecord record = RunSession.run(lab, experiment, values, quick);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(ResultStore.JSON.writeValueAsString(record));
        } else {
            Render.record(out, record);
        }
        if (trace != null) {
            writeTrace(record, trace);
            spec.commandLine().getErr().println("trace: " + trace.toAbsolutePath()
                    + " (open in chrome://tracing or ui.perfetto.dev)");
        }
        return record.allHold() ? Main.OK : Main.CLAIM_FAILED;
    }

    /** Parses {@code key=value} pairs; a pair without '=' or a key given twice is a usage error. */
    static Map<String, String> parse(List<String> pairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new UsageError("parameter '" + pair + "' is not of the form key=value");
            }
            if (map.put(pair.substring(0, eq).strip(), pair.substring(eq + 1)) != null) {
                throw new UsageError("parameter '" + pair.substring(0, eq) + "' is given twice");
            }
        }
        return map;
    }

    private static void writeTrace(RunRecord record, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        ResultStore.JSON.writeValue(file.toFile(),
                Map.of("traceEvents", record.result().trace(), "displayTimeUnit", "ms"));
    }
}
