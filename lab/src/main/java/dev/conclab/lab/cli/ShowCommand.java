package dev.conclab.lab.cli;

import dev.conclab.lab.Lab;
import dev.conclab.lab.catalog.Card;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.engine.RunRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code conclab show ID}: a card for the terminal, with the latest evidence stored on this machine. */
@Command(name = "show", description = "Show a card: the question, the answer and the latest evidence.")
final class ShowCommand implements Callable<Integer> {

    @Parameters(paramLabel = "ID", description = "A card id, e.g. basics-04.")
    String id;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Lab lab = Main.lab();
        Card card = lab.catalog().card(id).orElseThrow(() -> new UsageError("unknown card '" + id
                + "' (ids look like basics-04; see: conclab list)"));
        print(card, lab.store(), spec.commandLine().getOut());
        return Main.OK;
    }

    /**
     * Prints {@code card}: its question, then its answer with the latest evidence in {@code store}, or that it is
     * open.
     */
    static void print(Card card, ResultStore store, PrintWriter out) {
        out.printf("%s · %s · %s%n%n", card.id(), card.section().title(), card.status().word());
        out.println(card.question());
        out.println("=".repeat(Math.min(card.question().length(), 100)));
        if (!card.answered()) {
            out.println();
            out.println("This card is open: its answer and experiment are not written yet.");
            return;
        }
        for (String heading : Card.SECTIONS) {
            out.println();
            out.println(heading.toUpperCase());
            out.println(card.section(heading));
            if (heading.equals("Evidence")) {
                evidence(store, card, out);
            }
        }
        if (!card.related().isEmpty()) {
            out.println();
            out.println("Related: " + String.join(", ", card.related()));
        }
    }

    private static void evidence(ResultStore store, Card card, PrintWriter out) {
        for (String experiment : card.experiments()) {
            out.println();
            Optional<RunRecord> latest = store.latest(experiment);
            if (latest.isEmpty()) {
                out.printf("  %s: not run on this machine yet (./conclab run %s)%n", experiment, experiment);
                continue;
            }
            RunRecord record = latest.get();
            out.printf("  Latest %s run (%s%s), %s on %s:%n", experiment, record.quick() ? "quick, " : "",
                    record.status().name().toLowerCase(), record.startedAt(), record.machine().summary());
            record.result().claims().forEach(c -> Render.claim(out, c));
        }
    }
}
