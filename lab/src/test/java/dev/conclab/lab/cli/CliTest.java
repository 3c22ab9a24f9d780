package dev.conclab.lab.cli;

import dev.conclab.lab.Lab;
import dev.conclab.lab.catalog.Card;
import dev.conclab.lab.catalog.Catalog;
import dev.conclab.lab.catalog.Section;
import dev.conclab.lab.cli.CliRun.Outcome;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.jobs.JobsStores;
import dev.conclab.lab.web.WebLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.conclab.lab.cli.CliRun.conclab;
import static org.assertj.core.api.Assertions.assertThat;

class CliTest {

    /** The shipped catalog: the counts the CLI prints must be the catalog's own. */
    private static final Catalog CATALOG = Lab.load().catalog();

    @Test
    void listAllShowsEveryCardAndEndsWithTheAnsweredCount() {
        Outcome outcome = conclab("list", "--all");

        assertThat(outcome.status()).isZero();
        String[] lines = outcome.out().strip().split("\n");
        assertThat(lines).hasSize(106);
        assertThat(lines[lines.length - 1]).isEqualTo(CATALOG.answeredCount() + " answered/105");
        CATALOG.cards().forEach(card -> assertThat(outcome.out())
                .contains(String.format("%-19s %s", card.id(), card.status().word())));
    }

    @Test
    void listOneSectionAsJson() {
        Outcome outcome = conclab("list", "basics", "--json");

        assertThat(outcome.status()).isZero();
        assertThat(outcome.out()).contains("\"id\" : \"basics-01\"").contains("\"status\" : \"answered\"")
                .doesNotContain("threading-01");
    }

    @Test
    void listWithoutASectionShowsTheSectionsAndTheNextSteps() {
        Outcome outcome = conclab("list");

        assertThat(outcome.status()).isZero();
        assertThat(outcome.out()).contains("basics           10/10 answered")
                .contains(CATALOG.answeredCount() + " of 105 questions answered").contains("./conclab run")
                .contains("./conclab                        the web lab: open http://127.0.0.1:8000/");
    }

    /**
     * With no arguments the launcher starts the web lab on 127.0.0.1:8000; with that port held here, it must say so
     * in one line that names the port and --port, and exit 2 (which also shows it tried to serve there).
     */
    @Test
    void noArgumentsServesTheWebLabOnTheDefaultPort() throws IOException {
        ServerSocket held = new ServerSocket();
        try (held) {
            try {
                held.bind(new InetSocketAddress(WebLab.DEFAULT_HOST, WebLab.DEFAULT_PORT));
            } catch (BindException takenAlready) {
                // another program holds the port: the lab must report it all the same
            }
            assertUsage(conclab(), "conclab: port 8000 on 127.0.0.1 is in use; choose another with --port, e.g."
                    + " ./conclab serve --port 8001");
        }
    }

    @Test
    void serveOnAFreePortPrintsTheAddressAnswersAndStops() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<Integer> statuses = new ArrayList<>();

        int status = ServeCommand.serve(Main.lab(), "127.0.0.1", 0, JobsStores.defaults(), new PrintWriter(out), new PrintWriter(err),
                web -> {
                    try (HttpClient http = HttpClient.newHttpClient()) {
                        statuses.add(http.send(HttpRequest.newBuilder(URI.create(web.address() + "api/systems"))
                                .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
                    } catch (IOException | InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    web.close();
                });

        assertThat(status).isZero();
        assertThat(statuses).containsExactly(200);
        assertThat(out.toString()).startsWith("conclab web lab: http://127.0.0.1:").contains("(Ctrl-C stops it)");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void servingBeyondLoopbackWarnsThatAnyoneThereCanStartRuns() throws Exception {
        StringWriter err = new StringWriter();

        int status = ServeCommand.serve(Main.lab(), "0.0.0.0", 0, JobsStores.defaults(),
                new PrintWriter(new StringWriter()),
                new PrintWriter(err), WebLab::close);

        assertThat(status).isZero();
        assertThat(err.toString().strip()).startsWith("conclab: warning: listening on 0.0.0.0, not loopback:"
                + " anyone who can reach this machine on port ").endsWith("can open the lab and start runs on it")
                .doesNotContain("\n");
    }

    @Test
    void showRendersTheAnswerAndTheEvidence() {
        Outcome outcome = conclab("show", "basics-04");

        assertThat(outcome.status()).isZero();
        assertThat(outcome.out()).contains("When should you use threads vs processes?").contains("SHORT ANSWER")
                .contains("IN JAVA").contains("EVIDENCE").contains("cpu-io-matrix");
    }

    /** Every shipped card is answered, so an open one is made here, as the catalog parses one. */
    @Test
    void showAnOpenCardSaysItIsOpen(@TempDir Path home) {
        Card open = new Card("basics-99", Section.BASICS, "An open question?", Card.Status.OPEN, List.of(), List.of(),
                Map.of(), null, "test");
        StringWriter text = new StringWriter();

        ShowCommand.print(open, new ResultStore(home), new PrintWriter(text));

        assertThat(text.toString()).startsWith("basics-99 · Basics (Foundational Concepts) · open").contains("An open question?")
                .contains("This card is open");
    }

    @Test
    void badInputGetsOneLineNamingTheProblemAndStatusTwo() {
        assertUsage(conclab("run", "no-such-experiment"),
                "conclab: unknown experiment 'no-such-experiment' (see: conclab experiments)");
        assertUsage(conclab("run", "start-cost", "-p", "threads=1000000000"),
                "conclab: parameter threads=1000000000 is out of range (allowed: 100..1000000)");
        assertUsage(conclab("run", "start-cost", "-p", "thread=5"),
                "conclab: unknown parameter 'thread' (it takes threads, processes, py-count)");
        assertUsage(conclab("run", "start-cost", "-p", "threads"),
                "conclab: parameter 'threads' is not of the form key=value");
        assertUsage(conclab("show", "basics-99"),
                "conclab: unknown card 'basics-99' (ids look like basics-04; see: conclab list)");
        assertUsage(conclab("list", "gil"), "conclab: unknown section 'gil' (sections: basics, threading, asyncio,"
                + " multiprocessing, advanced, practical, design, internals, debugging, scenarios)");
        assertUsage(conclab("check", "nothing"), "conclab: 'nothing' is neither a section nor a card id"
                + " (e.g. basics or basics-04; see: conclab list)");
        Outcome unknownOption = conclab("run", "--fast", "start-cost");
        assertThat(unknownOption.status()).isEqualTo(2);
        assertThat(unknownOption.err().strip()).startsWith("conclab: Unknown option: '--fast'").doesNotContain("\n");
    }

    /** Every usage error points at {@code --help}, so every command and subcommand must answer it. */
    @Test
    void everyCommandAnswersHelp() {
        for (String[] command : new String[][] {{"serve"}, {"list"}, {"show"}, {"experiments"}, {"run"}, {"check"},
                {"crawl"}, {"crawl", "site"}, {"chat"}, {"chat", "serve"}}) {
            String[] args = java.util.Arrays.copyOf(command, command.length + 1);
            args[command.length] = "--help";
            Outcome outcome = conclab(args);
            String name = "conclab " + String.join(" ", command);
            assertThat(outcome.status()).as(name).isZero();
            assertThat(outcome.out()).as(name).startsWith("Usage: " + name + " ");
        }
    }

    @Test
    void experimentsListsEachWithItsCardsAndClaims() {
        Outcome outcome = conclab("experiments");

        assertThat(outcome.status()).isZero();
        assertThat(outcome.out()).contains("cpu-io-matrix — ").contains("cards: basics-03, basics-04")
                .contains("claim jvm-io-threads: ").contains("-p threads=20000 (quick 2000; 100..1000000)");
    }

    private static void assertUsage(Outcome outcome, String line) {
        assertThat(outcome.status()).as(line).isEqualTo(2);
        assertThat(outcome.err().strip()).isEqualTo(line);
        assertThat(outcome.out()).isEmpty();
    }
}
