package dev.conclab.jobs.dag.yaml;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.conclab.jobs.dag.ArgsTemplate;
import dev.conclab.jobs.dag.Dag;
import dev.conclab.jobs.dag.DagTask;
import dev.conclab.jobs.dag.TriggerRule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads a {@link Dag} from a YAML file. Every error is a {@link DagFileException} naming the file, the field and the
 * problem (unknown field, unknown upstream task, cycle, bad cron, unknown trigger rule, bad duration...). Stateless;
 * thread-safe.
 *
 * <pre>{@code
 * dag_id: etl
 * schedule: "0 2 * * *"        # 5 cron fields or @daily/@hourly/...; omit for trigger-only DAGs
 * timezone: Europe/Paris        # default UTC
 * start_date: 2026-01-01        # a date (midnight in the zone) or an instant; default the epoch
 * catchup: true                 # default false
 * max_active_runs: 1            # default 16
 * max_active_tasks: 8           # default 16
 * params: {region: eu}          # run parameters with their defaults
 * default_args: {retries: 2, retry_delay: 30s}   # defaults for every task
 * tasks:
 *   - id: extract
 *     task: etl.extract          # the registered queue task
 *     args: ["{{ ds }}", "{{ params.region }}"]
 *   - id: load
 *     task: etl.load
 *     upstream: [extract]
 *     retries: 3
 *     retry_delay: 1m            # 500ms, 30s, 5m, 2h, 1d, a number of seconds, or ISO-8601 (PT30S)
 *     execution_timeout: 10m
 *     trigger_rule: all_success  # all_success, all_failed, all_done, one_success, one_failed, none_failed
 * }</pre>
 */
public final class DagFileLoader {

    private static final YAMLMapper YAML = new YAMLMapper();
    private static final Set<String> DAG_FIELDS = Set.of("dag_id", "schedule", "timezone", "start_date", "catchup",
            "max_active_runs", "max_active_tasks", "params", "default_args", "tasks");
    private static final Set<String> TASK_FIELDS = Set.of("id", "task", "args", "upstream", "retries",
            "retry_delay", "execution_timeout", "trigger_rule");
    private static final Set<String> DEFAULT_FIELDS = Set.of("retries", "retry_delay", "execution_timeout",
            "trigger_rule");
    private static final Pattern SHORT_DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private DagFileLoader() {
    }

    /**
     * Loads one file.
     *
     * @throws DagFileException if it cannot be read or is not a valid DAG
     */
    public static Dag load(Path file) {
        Objects.requireNonNull(file, "file");
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new DagFileException(file, "(file)", "cannot read: " + e);
        }
        return parse(file, text);
    }

    /** Loads every {@code *.yaml} / {@code *.yml} file of a directory, in name order. */
    public static List<Dag> loadAll(Path directory) {
        try (var files = Files.list(directory)) {
            return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted()
                    .map(DagFileLoader::load).toList();
        } catch (IOException e) {
            throw new DagFileException(directory, "(directory)", "cannot list: " + e);
        }
    }

    /**
     * Parses YAML text; {@code file} only names it in errors.
     *
     * @throws DagFileException if it is not a valid DAG
     */
    public static Dag parse(Path file, String yaml) {
        return new Reader(file).dag(yaml);
    }

    /** One parse: remembers the file for its errors. */
    private record Reader(Path file) {

        Dag dag(String yaml) {
            JsonNode root;
            try {
                root = YAML.readTree(yaml);
            } catch (JsonProcessingException e) {
                var loc = e.getLocation();
                throw fail(loc == null ? "(yaml)" : "(line " + loc.getLineNr() + ")",
                        "not valid YAML: " + e.getOriginalMessage());
            }
            if (root == null || !root.isObject()) {
                throw fail("(root)", "must be a mapping with dag_id and tasks");
            }
            checkFields(root, DAG_FIELDS, "");
            String dagId = requiredText(root, "dag_id", "dag_id");
            Dag.Builder b = Dag.builder(dagId);
            ZoneId zone = ZoneOffset.UTC;
            if (root.has("timezone")) {
                try {
                    zone = ZoneId.of(text(root.get("timezone"), "timezone"));
                } catch (DateTimeException e) {
                    throw fail("timezone", "unknown time zone '" + root.get("timezone").asText() + "'");
                }
                b.zone(zone);
            }
            if (root.has("schedule") && !root.get("schedule").isNull()) {
                try {
                    b.schedule(text(root.get("schedule"), "schedule"));
                } catch (IllegalArgumentException e) {
                    throw fail("schedule", "bad cron: " + e.getMessage());
                }
            }
            if (root.has("start_date")) {
                b.startDate(instant(root.get("start_date"), "start_date", zone));
            }
            if (root.has("catchup")) {
                JsonNode c = root.get("catchup");
                if (!c.isBoolean()) {
                    throw fail("catchup", "must be true or false, was " + c);
                }
                b.catchup(c.booleanValue());
            }
            if (root.has("max_active_runs")) {
                b.maxActiveRuns(integer(root.get("max_active_runs"), "max_active_runs", 1, 10_000));
            }
            if (root.has("max_active_tasks")) {
                b.maxActiveTasks(integer(root.get("max_active_tasks"), "max_active_tasks", 1, 100_000));
            }
            if (root.has("params")) {
                JsonNode params = root.get("params");
                if (!params.isObject()) {
                    throw fail("params", "must be a mapping of names to default values");
                }
                params.properties().forEach(e -> b.param(e.getKey(), e.getValue()));
            }
            JsonNode defaults = root.path("default_args");
            if (!defaults.isMissingNode()) {
                if (!defaults.isObject()) {
                    throw fail("default_args", "must be a mapping");
                }
                checkFields(defaults, DEFAULT_FIELDS, "default_args.");
            }
            JsonNode tasks = root.get("tasks");
            if (tasks == null || !tasks.isArray() || tasks.isEmpty()) {
                throw fail("tasks", "must be a non-empty list of tasks");
            }
            List<DagTask> parsed = new ArrayList<>();
            Map<String, Integer> index = new LinkedHashMap<>();
            for (int i = 0; i < tasks.size(); i++) {
                DagTask task = task(tasks.get(i), "tasks[" + i + "]", defaults);
                if (index.put(task.id(), i) != null) {
                    throw fail("tasks[" + i + "].id", "task id '" + task.id() + "' is used twice");
                }
                parsed.add(task);
            }
            for (int i = 0; i < parsed.size(); i++) {
                for (String up : parsed.get(i).upstream()) {
                    if (!index.containsKey(up)) {
                        throw fail("tasks[" + i + "].upstream", "unknown task '" + up + "' (tasks: "
                                + index.keySet() + ")");
                    }
                }
            }
            parsed.forEach(b::task);
            try {
                return b.build();
            } catch (IllegalArgumentException e) {
                String msg = e.getMessage();
                throw fail(msg.contains("cycle") ? "tasks" : msg.contains("params") ? "params" : "(dag)", msg);
            }
        }

        private DagTask task(JsonNode node, String at, JsonNode defaults) {
            if (!node.isObject()) {
                throw fail(at, "must be a mapping with id and task");
            }
            checkFields(node, TASK_FIELDS, at + ".");
            String id = requiredText(node, "id", at + ".id");
            String name = requiredText(node, "task", at + ".task");
            ArgsTemplate args = ArgsTemplate.empty();
            if (node.has("args")) {
                try {
                    args = ArgsTemplate.of(node.get("args"));
                } catch (IllegalArgumentException e) {
                    throw fail(at + ".args", e.getMessage());
                }
            }
            List<String> upstream = new ArrayList<>();
            JsonNode up = node.get("upstream");
            if (up != null) {
                if (up.isTextual()) {
                    upstream.add(up.textValue());
                } else if (up.isArray()) {
                    for (JsonNode u : up) {
                        upstream.add(text(u, at + ".upstream"));
                    }
                } else {
                    throw fail(at + ".upstream", "must be a task id or a list of task ids");
                }
            }
            int retries = node.has("retries") ? integer(node.get("retries"), at + ".retries", 0, 100)
                    : defaults.has("retries") ? integer(defaults.get("retries"), "default_args.retries", 0, 100) : 0;
            Duration retryDelay = durationField(node, defaults, "retry_delay", at);
            Duration timeout = durationField(node, defaults, "execution_timeout", at);
            TriggerRule rule = TriggerRule.ALL_SUCCESS;
            JsonNode r = node.has("trigger_rule") ? node.get("trigger_rule") : defaults.get("trigger_rule");
            if (r != null) {
                String field = node.has("trigger_rule") ? at + ".trigger_rule" : "default_args.trigger_rule";
                try {
                    rule = TriggerRule.parse(text(r, field));
                } catch (IllegalArgumentException e) {
                    throw fail(field, e.getMessage());
                }
            }
            try {
                return new DagTask(id, name, args, upstream, retries, retryDelay, timeout, rule);
            } catch (IllegalArgumentException e) {
                throw fail(at, e.getMessage());
            }
        }

        private Duration durationField(JsonNode node, JsonNode defaults, String name, String at) {
            if (node.has(name)) {
                return duration(node.get(name), at + "." + name);
            }
            if (defaults.has(name)) {
                return duration(defaults.get(name), "default_args." + name);
            }
            return Duration.ZERO;
        }

        private Duration duration(JsonNode node, String field) {
            if (node.isIntegralNumber() && node.longValue() >= 0) {
                return Duration.ofSeconds(node.longValue());
            }
            if (node.isTextual()) {
                String t = node.textValue().strip();
                Matcher m = SHORT_DURATION.matcher(t.toLowerCase(Locale.ROOT));
                if (m.matches()) {
                    long n = Long.parseLong(m.group(1));
                    return switch (m.group(2)) {
                        case "ms" -> Duration.ofMillis(n);
                        case "s" -> Duration.ofSeconds(n);
                        case "m" -> Duration.ofMinutes(n);
                        case "h" -> Duration.ofHours(n);
                        default -> Duration.ofDays(n);
                    };
                }
                try {
                    Duration d = Duration.parse(t);
                    if (!d.isNegative()) {
                        return d;
                    }
                } catch (DateTimeParseException e) {
                    // fall through to the error below
                }
            }
            throw fail(field, "bad duration " + node + " (use 500ms, 30s, 5m, 2h, 1d, seconds, or PT30S)");
        }

        private Instant instant(JsonNode node, String field, ZoneId zone) {
            String t = text(node, field);
            try {
                return t.length() == 10 ? LocalDate.parse(t).atStartOfDay(zone).toInstant() : Instant.parse(t);
            } catch (DateTimeParseException e) {
                throw fail(field, "bad date '" + t + "' (use 2026-01-01 or 2026-01-01T00:00:00Z)");
            }
        }

        private int integer(JsonNode node, String field, int min, int max) {
            if (!node.isIntegralNumber() || node.longValue() < min || node.longValue() > max) {
                throw fail(field, "must be an integer " + min + ".." + max + ", was " + node);
            }
            return node.intValue();
        }

        private String requiredText(JsonNode parent, String name, String field) {
            JsonNode node = parent.get(name);
            if (node == null || node.isNull()) {
                throw fail(field, "is required");
            }
            return text(node, field);
        }

        private String text(JsonNode node, String field) {
            if (!node.isTextual() && !node.isNumber()) {
                throw fail(field, "must be a string, was " + node.getNodeType().toString().toLowerCase(Locale.ROOT));
            }
            return node.asText();
        }

        private void checkFields(JsonNode node, Set<String> known, String prefix) {
            Set<String> unknown = new HashSet<>();
            node.fieldNames().forEachRemaining(n -> {
                if (!known.contains(n)) {
                    unknown.add(n);
                }
            });
            if (!unknown.isEmpty()) {
                String first = unknown.stream().sorted().findFirst().orElseThrow();
                throw fail(prefix + first, "unknown field (known: " + known.stream().sorted().toList() + ")");
            }
        }

        private DagFileException fail(String field, String problem) {
            return new DagFileException(file, field, problem);
        }
    }

}
