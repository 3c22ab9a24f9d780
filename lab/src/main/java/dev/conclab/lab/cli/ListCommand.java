package dev.conclab.lab.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conclab.lab.Lab;
import dev.conclab.lab.catalog.Card;
import dev.conclab.lab.catalog.CatalogOverview;
import dev.conclab.lab.catalog.Section;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.web.WebLab;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code conclab list [SECTION] [--all] [--json]}: with no section, the ten sections with their answered counts and
 * where to go next; with a section or {@code --all}, the cards with their status and experiments.
 */
@Command(name = "list", description = "Without a section: the sections, their answered counts and where to go next."
        + " With a section (or --all): its cards with their status and experiments.")
final class ListCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "SECTION", description = "basics, threading, asyncio, multiprocessing,"
            + " advanced, practical, design, internals, debugging or scenarios")
    String section;

    @Option(names = "--all", description = "List every card.")
    boolean all;

    @Option(names = "--json", description = "Print the cards (all, or the section's) as JSON instead of a table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Lab lab = Main.lab();
        var catalog = lab.catalog();
        PrintWriter out = spec.commandLine().getOut();
        if (section == null && !all && !json) {
            overview(lab, out);
            return Main.OK;
        }
        List<Card> cards = section == null ? catalog.cards() : catalog.cards(parseSection(section));
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

    /** The sections and their answered counts (the web lab's catalog page counts the same way), then next steps. */
    static void overview(Lab lab, PrintWriter out) {
        Map<String, Experiment> experiments = lab.experiments().stream()
                .collect(Collectors.toMap(Experiment::id, Function.identity()));
        CatalogOverview overview = CatalogOverview.of(lab.catalog(), experiments);
        out.println("conclab — a concurrency lab. Every answer is backed by an experiment that runs on this machine.");
        out.println();
        for (CatalogOverview.SectionOverview s : overview.sections()) {
            out.printf("  %-16s %2d/%-2d answered   %s%n", s.key(), s.answered(), s.answered() + s.open(), s.title());
        }
        out.printf("%n  %d of %d questions answered.%n%n", overview.answered(), overview.total());
        out.println("Next steps:");
        out.println("  ./conclab                        the web lab: open http://" + WebLab.DEFAULT_HOST + ":"
                + WebLab.DEFAULT_PORT + "/ in a browser");
        out.println("  ./conclab list basics            the questions of a section, with their status");
        out.println("  ./conclab show basics-04         a card: the answer and the latest evidence");
        out.println("  ./conclab run cpu-io-matrix      run an experiment (add --quick for a short run)");
        out.println("  ./conclab check basics --quick   run every experiment behind a section and judge its claims");
        out.println("  ./conclab --help                 all commands");
    }

    static Section parseSection(String key) {
        return Section.byKey(key).orElseThrow(() -> new UsageError("unknown section '" + key + "' (sections: "
                + String.join(", ", Arrays.stream(Section.values()).map(Section::key).toList()) + ")"));
    }
}
