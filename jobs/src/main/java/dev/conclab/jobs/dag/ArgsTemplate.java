package dev.conclab.jobs.dag;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A task's arguments: a JSON array whose strings may hold Airflow-style placeholders, substituted per run:
 * {@code {{ ds }}} (the logical date, {@code yyyy-MM-dd} in the DAG's zone), {@code {{ ds_nodash }}},
 * {@code {{ logical_date }}} (ISO-8601 instant), {@code {{ run_id }}}, {@code {{ dag_id }}}, {@code {{ task_id }}},
 * {@code {{ try_number }}} and {@code {{ params.NAME }}}. A string that is exactly one {@code params} placeholder is
 * replaced by the parameter's JSON value (a number stays a number); elsewhere the value's text is spliced in.
 *
 * <p>Immutable and thread-safe; rendering is deterministic (the same run and try give the same JSON), which is what
 * lets a restarted scheduler re-send exactly the message it sent before.
 */
public final class ArgsTemplate {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_.]*)\\s*}}");
    private static final Set<String> BUILT_INS =
            Set.of("ds", "ds_nodash", "logical_date", "run_id", "dag_id", "task_id", "try_number");

    private final ArrayNode template;
    private final Set<String> params;

    private ArgsTemplate(ArrayNode template) {
        this.template = template;
        Set<String> found = new TreeSet<>();
        collect(template, found);
        this.params = Set.copyOf(found);
    }

    /**
     * Parses a JSON array.
     *
     * @throws IllegalArgumentException if it is not JSON, not an array, or names an unknown placeholder
     */
    public static ArgsTemplate parse(String json) {
        Objects.requireNonNull(json, "args json");
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("args are not valid JSON: " + e.getOriginalMessage());
        }
        return of(node);
    }

    /** Wraps an already parsed JSON array (copied). */
    public static ArgsTemplate of(JsonNode node) {
        if (node == null || !node.isArray()) {
            throw new IllegalArgumentException("args must be a JSON array, was "
                    + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        return new ArgsTemplate((ArrayNode) node.deepCopy());
    }

    /** The empty argument list. */
    public static ArgsTemplate empty() {
        return new ArgsTemplate(JsonNodeFactory.instance.arrayNode());
    }

    /** The names of the {@code params.NAME} placeholders used. */
    public Set<String> paramNames() {
        return params;
    }

    /** What placeholders resolve to for one try of one task in one run. */
    public record Context(String dagId, String runId, String taskId, int tryNumber, String ds, String logicalDate,
                          Map<String, JsonNode> params) {
    }

    /**
     * The arguments of one try as a JSON array string.
     *
     * @throws IllegalArgumentException if a {@code params} placeholder has no value in the run
     */
    public String render(Context context) {
        return render(template, context).toString();
    }

    private JsonNode render(JsonNode node, Context ctx) {
        if (node.isTextual()) {
            return renderText(node.textValue(), ctx);
        }
        if (node.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            node.forEach(child -> out.add(render(child, ctx)));
            return out;
        }
        if (node.isObject()) {
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                out.set(e.getKey(), render(e.getValue(), ctx));
            }
            return out;
        }
        return node;
    }

    private JsonNode renderText(String text, Context ctx) {
        Matcher whole = PLACEHOLDER.matcher(text);
        if (whole.matches() && whole.group(1).startsWith("params.")) {
            return param(whole.group(1), ctx);
        }
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String value = switch (name) {
                case "ds" -> ctx.ds();
                case "ds_nodash" -> ctx.ds().replace("-", "");
                case "logical_date" -> ctx.logicalDate();
                case "run_id" -> ctx.runId();
                case "dag_id" -> ctx.dagId();
                case "task_id" -> ctx.taskId();
                case "try_number" -> Integer.toString(ctx.tryNumber());
                default -> {
                    JsonNode p = param(name, ctx);
                    yield p.isTextual() ? p.textValue() : p.toString();
                }
            };
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return JsonNodeFactory.instance.textNode(out.toString());
    }

    private static JsonNode param(String placeholder, Context ctx) {
        String name = placeholder.substring("params.".length());
        JsonNode value = ctx.params().get(name);
        if (value == null) {
            throw new IllegalArgumentException("task " + ctx.taskId() + ": no value for {{ " + placeholder
                    + " }} in run " + ctx.runId());
        }
        return value;
    }

    private static void collect(JsonNode node, Set<String> params) {
        if (node.isTextual()) {
            Matcher m = PLACEHOLDER.matcher(node.textValue());
            while (m.find()) {
                String name = m.group(1);
                if (name.startsWith("params.") && name.length() > "params.".length()) {
                    params.add(name.substring("params.".length()));
                } else if (!BUILT_INS.contains(name)) {
                    throw new IllegalArgumentException("unknown placeholder {{ " + name + " }} (known: "
                            + new TreeSet<>(BUILT_INS) + " and params.NAME)");
                }
            }
        } else {
            node.forEach(child -> collect(child, params));
        }
    }

    /** The template as JSON. */
    @Override
    public String toString() {
        return template.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ArgsTemplate other && other.template.equals(template);
    }

    @Override
    public int hashCode() {
        return template.hashCode();
    }
}
