package dev.conclab.lab.engine;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The checked values of an experiment's parameters for one run. Immutable.
 *
 * @param values parameter name to value, in declaration order
 */
public record ParamValues(Map<String, Object> values) {

    public ParamValues {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /**
     * Resolves the values of a run: each declared parameter takes its quick or default value unless
     * {@code given} overrides it.
     *
     * @throws BadParameterException when {@code given} names an undeclared parameter or a value out of bounds
     */
    public static ParamValues resolve(List<Param> declared, Map<String, String> given, boolean quick) {
        Map<String, Param> byName = declared.stream()
                .collect(Collectors.toMap(Param::name, p -> p, (a, b) -> a, LinkedHashMap::new));
        for (String name : given.keySet()) {
            if (!byName.containsKey(name)) {
                String known = byName.isEmpty() ? "it takes none" : "it takes " + String.join(", ", byName.keySet());
                throw new BadParameterException("unknown parameter '" + name + "' (" + known + ")");
            }
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (Param p : declared) {
            String raw = given.get(p.name());
            values.put(p.name(), raw != null ? p.parse(raw) : quick ? p.quickValue() : p.defaultValue());
        }
        return new ParamValues(values);
    }

    public int getInt(String name) {
        if (values.get(name) instanceof Integer i) {
            return i;
        }
        throw new IllegalArgumentException("no integer parameter named " + name);
    }

    public String getString(String name) {
        if (values.get(name) instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException("no word parameter named " + name);
    }
}
