package dev.conclab.lab.experiments.internals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeProcess;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Runs a probe script under any Python runtime, not just the CPython {@link dev.conclab.lab.probe.PythonProbes}
 * picks: a CPython of another version or build (3.13t, 3.12), PyPy, or Jython, through {@link ProbeProcess}.
 *
 * <p>Blocks the caller until the process exits or times out; cancelling the run kills it. Thread-safe.
 */
final class RuntimeScripts {

    private RuntimeScripts() {
    }

    /**
     * Runs {@code launcher} (the executable and any options it takes before the script), then the script
     * {@code probes/<script>}, then {@code args}, with {@code env} added to the environment.
     *
     * @return the one JSON object the script printed
     * @throws ProbeException when the process cannot start, fails, times out or prints no JSON object
     */
    static JsonNode run(RunContext ctx, List<String> launcher, String script, Map<String, String> env,
                        Duration timeout, String... args) throws InterruptedException {
        return ProbeProcess.run(ctx, launcher, script, env, timeout, args).json();
    }
}
