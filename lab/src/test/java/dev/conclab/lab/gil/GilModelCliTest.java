package dev.conclab.lab.gil;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.lab.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code ./conclab run gil-model --quick --trace FILE} writes a Chrome trace of the model's hand-overs. */
class GilModelCliTest {

    @Test
    void runWithTraceWritesChromeTraceEventJson(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("out/gil.json");
        int status;
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        synchronized (System.class) {
            try {
                System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
                System.setErr(new PrintStream(out, true, StandardCharsets.UTF_8));
                status = Main.execute("run", "gil-model", "--quick", "--trace", file.toString());
            } finally {
                System.setOut(stdout);
                System.setErr(stderr);
            }
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        // The claims are QuickRunTest's to judge; here a run that ends (0: all hold, 1: one failed) must leave a trace.
        assertThat(status).as(printed).isIn(0, 1);
        assertThat(printed).contains("trace: ").contains("gil.json");

        JsonNode root = new ObjectMapper().readTree(file.toFile());
        List<JsonNode> events = new ArrayList<>();
        root.path("traceEvents").forEach(events::add);
        assertThat(events).isNotEmpty();
        assertThat(events).anyMatch(e -> e.path("ph").asText().equals("X")
                && e.path("name").asText().equals(GilTraceWriter.HOLDS));
        assertThat(events).anyMatch(e -> e.path("ph").asText().equals("X")
                && e.path("name").asText().equals(GilTraceWriter.WAITS));
        assertThat(events).anyMatch(e -> e.path("ph").asText().equals("i")
                && e.path("name").asText().equals(GilTraceWriter.REQUEST));
        assertThat(events).filteredOn(e -> e.path("ph").asText().equals("M"))
                .extracting(e -> e.path("args").path("name").asText())
                .anyMatch(name -> name.startsWith("4 Broken")).anyMatch(name -> name.endsWith("· io"));
    }
}
