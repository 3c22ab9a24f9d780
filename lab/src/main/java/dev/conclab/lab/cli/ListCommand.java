package dev.conclab.lab.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conclab.lab.catalog.Card;
import dev.conclab.lab.catalog.Section;
import dev.conclab.lab.engine.ResultStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code conclab list [SECTION] [--json]}. */
@Command(name = "list", description = "List the cards (all, or one section's) with their status and experiments.")
final class ListCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "SECTION", description = "basics, threading, asyncio, multiprocessing,"
            + " advanced, practical, design, internals, debugging or scenarios")
    String section;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var catalog = Main.lab().catalog();
        List<Card> cards = section == null ? catalog.cards() : catalog.cards(parseSection(section));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ArrayNode array = ResultStore.JSON.createArrayNode();
            for (Card card : cards) {
                ObjectNode node = array.addObject();
                node.put("id", card.id());
                node.put("section", card.section().key());
                node.put("status", card.status().word());
                node.put("question", card.question());
                card.experiments().forEach(node.putArray("experiments")::add);
                if (card.experiments().isEmpty()) {
                    node.putArray("experiments");
                }
            }
            out.println(ResultStore.JSON.writeValueAsString(array));
            return Main.OK;
        }
        for (Card card : cards) {
            out.printf("%-19s %-8s %s%s%n", card.id(), card.status().word(), card.question(),
                    card.experiments().isEmpty() ? "" : "  [" + String.join(", ", card.experiments()) + "]");
        }
        out.printf("%d answered/%d%n", catalog.answeredCount(), catalog.size());
        return Main.OK;
    }

    static Section parseSection(String key) {
        return Section.byKey(key).orElseThrow(() -> new UsageError("unknown section '" + key + "' (sections: "
                + String.join(", ", Arrays.stream(Section.values()).map(Section::key).toList()) + ")"));
    }
}
