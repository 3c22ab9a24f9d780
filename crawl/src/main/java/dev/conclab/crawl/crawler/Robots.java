package dev.conclab.crawl.crawler;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The rules of one robots.txt (RFC 9309) that apply to this crawler: the group for its user agent, else the
 * {@code *} group; the longest matching Allow or Disallow prefix wins, Allow on a tie. Wildcards are not supported (a
 * rule with {@code *} or {@code $} is matched literally up to that character). Immutable and thread-safe.
 */
public final class Robots {

    /** Allows everything: no robots.txt (4xx), as RFC 9309 says. */
    public static final Robots ALLOW_ALL = new Robots(List.of());
    /** Disallows everything: robots.txt unreachable (5xx or network error), as RFC 9309 says. */
    public static final Robots DISALLOW_ALL = new Robots(List.of(new Rule("/", false)));

    private record Rule(String prefix, boolean allow) {}

    private final List<Rule> rules;

    private Robots(List<Rule> rules) {
        this.rules = rules;
    }

    /** Parses a robots.txt body for {@code userAgent}. Never throws: unknown lines are ignored. */
    public static Robots parse(String body, String userAgent) {
        String agent = userAgent.toLowerCase(Locale.ROOT);
        List<Rule> star = new ArrayList<>();
        List<Rule> mine = new ArrayList<>();
        boolean inStar = false;
        boolean inMine = false;
        boolean lastWasAgent = false;
        for (String raw : body.split("\r?\n|\r")) {
            int hash = raw.indexOf('#');
            String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String key = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).strip();
            switch (key) {
                case "user-agent" -> {
                    if (!lastWasAgent) {
                        inStar = false;
                        inMine = false;
                    }
                    String v = value.toLowerCase(Locale.ROOT);
                    inStar |= v.equals("*");
                    inMine |= !v.equals("*") && agent.contains(v);
                    lastWasAgent = true;
                }
                case "allow", "disallow" -> {
                    lastWasAgent = false;
                    String prefix = literalPrefix(value);
                    if (prefix.isEmpty()) {
                        continue; // "Disallow:" with no path allows everything
                    }
                    Rule rule = new Rule(prefix, key.equals("allow"));
                    if (inStar) {
                        star.add(rule);
                    }
                    if (inMine) {
                        mine.add(rule);
                    }
                }
                default -> lastWasAgent = false;
            }
        }
        return new Robots(List.copyOf(mine.isEmpty() ? star : mine));
    }

    private static String literalPrefix(String value) {
        int cut = value.length();
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) == '*' || value.charAt(i) == '$') {
                cut = i;
                break;
            }
        }
        return value.substring(0, cut);
    }

    /** Whether {@code path} (with its query) may be fetched. */
    public boolean allows(String path) {
        Rule best = null;
        for (Rule rule : rules) {
            if (path.startsWith(rule.prefix()) && (best == null || rule.prefix().length() > best.prefix().length()
                    || (rule.prefix().length() == best.prefix().length() && rule.allow()))) {
                best = rule;
            }
        }
        return best == null || best.allow();
    }
}
