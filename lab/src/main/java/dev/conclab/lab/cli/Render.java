package dev.conclab.lab.cli;

import dev.conclab.lab.engine.ClaimResult;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** Renders records, tables and claims for a terminal. Stateless. */
final class Render {

    private Render() {
    }

    static void record(PrintWriter out, RunRecord record) {
        out.printf("%s — %s%n", record.experiment(), record.title());
        out.printf("  %s%s%n", params(record.params()), record.quick() ? "  (quick)" : "");
        for (Table table : record.result().tables()) {
            out.println();
            table(out, table);
        }
        if (!record.result().notes().isEmpty()) {
            out.println();
            record.result().notes().forEach(n -> out.println("  note: " + n));
        }
        out.println();
        out.println("Claims:");
        record.result().claims().forEach(c -> claim(out, c));
        out.println();
        if (record.error() != null) {
            out.printf("Run %s: %s%n", record.status().name().toLowerCase(Locale.ROOT), record.error());
        }
        out.printf("%s · %.1f s · %s%n", counts(record.result().claims()), record.seconds(),
                record.machine().summary());
    }

    static String params(Map<String, Object> params) {
        return params.isEmpty() ? "no parameters" : params.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
    }

    static void claim(PrintWriter out, ClaimResult claim) {
        out.printf("  %-7s %s  [%s]%n", claim.verdict().label(), claim.text(), claim.id());
        out.printf("          %s%n", claim.verdict().detail());
    }

    /** The closing count line: {@code N passed, N failed, N skipped}. */
    static String counts(List<ClaimResult> claims) {
        long passed = claims.stream().filter(c -> c.verdict() instanceof Verdict.Holds).count();
        long failed = claims.stream().filter(c -> c.verdict() instanceof Verdict.Fails).count();
        long skipped = claims.stream().filter(c -> c.verdict() instanceof Verdict.Skipped).count();
        return passed + " passed, " + failed + " failed, " + skipped + " skipped";
    }

    static void table(PrintWriter out, Table table) {
        out.println("  " + table.title());
        List<List<String>> cells = new ArrayList<>();
        cells.add(table.columns());
        table.rows().forEach(r -> cells.add(r.stream().map(Render::cell).toList()));
        int[] widths = new int[table.columns().size()];
        for (List<String> row : cells) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        for (int r = 0; r < cells.size(); r++) {
            StringBuilder line = new StringBuilder("   ");
            List<String> row = cells.get(r);
            for (int i = 0; i < row.size(); i++) {
                boolean numeric = r > 0 && table.rows().get(r - 1).get(i) instanceof Number;
                String format = numeric ? "%" + widths[i] + "s" : "%-" + widths[i] + "s";
                line.append(' ').append(String.format(format, row.get(i))).append(' ');
            }
            out.println(line.toString().stripTrailing());
            if (r == 0) {
                StringBuilder rule = new StringBuilder("   ");
                for (int width : widths) {
                    rule.append(' ').append("-".repeat(width)).append(' ');
                }
                out.println(rule.toString().stripTrailing());
            }
        }
    }

    private static String cell(Object value) {
        return switch (value) {
            case Double d when Math.abs(d) >= 100 -> String.format(Locale.ROOT, "%.0f", d);
            case Double d when Math.abs(d) >= 1 -> String.format(Locale.ROOT, "%.2f", d);
            case Double d -> String.format(Locale.ROOT, "%.3f", d);
            case Float f -> cell(f.doubleValue());
            default -> String.valueOf(value);
        };
    }

    static String param(Param p) {
        return String.format("%s=%s (quick %s; %s) — %s", p.name(), p.defaultValue(), p.quickValue(), p.range(),
                p.description());
    }
}
