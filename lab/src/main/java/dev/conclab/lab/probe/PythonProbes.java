package dev.conclab.lab.probe;

import dev.conclab.lab.engine.RunContext;

import java.time.Duration;
import java.util.List;
import java.util.Map;


/**
 * Runs CPython probes for one experiment run: finds an interpreter with the needed modules, then runs the probe
 * script with a timeout as a child process of the run ({@link ProbeProcess}: cancelling the run kills it and its
 * workers) and parses the one JSON object it prints.
 *
 * <p>Blocks the calling thread until the probe exits or times out. Thread-safe.
 */
public final class PythonProbes {

    private final RunContext ctx;
    private final InterpreterFinder finder;

    public PythonProbes(RunContext ctx, InterpreterFinder finder) {
        this.ctx = ctx;
        this.finder = finder;
    }

    /**
     * How many interleaved runs a probe's timing should take the best of. Pure-Python loops are memory-heavy and
     * swing by 15–30% from one run to the next on shared virtual machines, so probes take the best of more and
     * shorter runs than the JVM side does (11 in quick mode, 15 otherwise).
     */
    public static int repeats(RunContext ctx) {
        return ctx.quick() ? 11 : 15;
    }

    /** Probes for {@code ctx} with this machine's interpreters. */
    public static PythonProbes of(RunContext ctx) {
        return new PythonProbes(ctx, InterpreterFinder.system());
    }

    /**
     * Runs {@code probes/<probe>} with {@code args}.
     *
     * @param modules the modules the probe imports beyond the standard library
     * @return the JSON it printed, or why it could not run here
     * @throws ProbeException when the probe ran but crashed, timed out or printed no JSON object
     */
    public ProbeOutcome run(String probe, List<String> modules, Duration timeout, String... args)
            throws InterruptedException {
        return switch (finder.find(modules)) {
            case InterpreterFinder.Found.No(String reason) -> new ProbeOutcome.Unavailable(reason);
            case InterpreterFinder.Found.Yes(Interpreter interpreter) -> run(interpreter, probe, timeout, args);
        };
    }

    private ProbeOutcome.Ran run(Interpreter interpreter, String probe, Duration timeout, String... args)
            throws InterruptedException {
        ProbeProcess.Output output = ProbeProcess.run(ctx, List.of(interpreter.path().toString()), probe, Map.of(),
                timeout, args);
        ctx.usedPython(interpreter.version());
        return new ProbeOutcome.Ran(output.json(), interpreter, output.seconds());
    }
}
