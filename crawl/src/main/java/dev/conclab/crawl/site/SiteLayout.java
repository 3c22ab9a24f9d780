package dev.conclab.crawl.site;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The generated site: which page links where, and each page's HTML. Deterministic from the config's seed. Thread-safe:
 * pages are rendered on first use and cached (a race renders a page twice, to the same bytes).
 *
 * <p>Page {@code i} links to page {@code i+1} (so every page is reachable from page 0) and to {@link #LINKS_PER_PAGE}
 * more pages chosen from the seed, written in four forms that normalize to the same URL: absolute path, relative,
 * with a fragment, and with tracking query noise. With traps on, every tenth page also links to the bad inputs.
 */
public final class SiteLayout {

    /** Links to other pages on every page, besides the link to the next page. */
    public static final int LINKS_PER_PAGE = 4;
    /** The subtree that robots.txt disallows. */
    public static final String DISALLOWED = "/private/";
    /** The hops of {@code /chain/N}: longer than any sane redirect limit. */
    public static final int CHAIN_LENGTH = 12;
    /** How many times a {@code /flaky/} page answers 503 before it answers 200. */
    public static final int FLAKY_FAILURES = 2;

    private final SiteConfig config;
    private final AtomicReferenceArray<byte[]> cache;

    SiteLayout(SiteConfig config) {
        this.config = config;
        this.cache = new AtomicReferenceArray<>(config.pages());
    }

    /** The pages that page {@code i} links to (with duplicates removed), in link order. */
    public List<Integer> links(int i) {
        List<Integer> out = new ArrayList<>(LINKS_PER_PAGE + 1);
        out.add((i + 1) % config.pages());
        SplittableRandom random = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + i);
        for (int k = 0; k < LINKS_PER_PAGE; k++) {
            int j = random.nextInt(config.pages());
            if (!out.contains(j)) {
                out.add(j);
            }
        }
        return out;
    }

    /** Whether page {@code i} carries the trap links (when traps are on). */
    public boolean hasTraps(int i) {
        return config.traps() && i % 10 == 0;
    }

    /** The HTML of page {@code i}, as UTF-8 bytes. */
    public byte[] page(int i) {
        byte[] bytes = cache.get(i);
        if (bytes == null) {
            bytes = render(i).getBytes(StandardCharsets.UTF_8);
            cache.set(i, bytes);
        }
        return bytes;
    }

    private String render(int i) {
        StringBuilder html = new StringBuilder(512);
        html.append("<!doctype html><html><head><title>Page ").append(i).append("</title></head><body>\n<h1>Page ")
                .append(i).append("</h1>\n<ul>\n");
        List<Integer> links = links(i);
        for (int k = 0; k < links.size(); k++) {
            int j = links.get(k);
            // Four spellings of the same target: the crawler's normalization must fold them into one URL.
            String href = switch ((i + k) % 4) {
                case 0 -> "/page/" + j;
                case 1 -> Integer.toString(j);                   // relative to /page/i
                case 2 -> "../page/" + j + "#section-" + k;      // dot segment and fragment
                default -> "/page/" + j + "?utm_source=site&utm_medium=link";
            };
            html.append("<li><a href=\"").append(href).append("\">page ").append(j).append("</a></li>\n");
        }
        if (hasTraps(i)) {
            for (String href : trapLinks(i)) {
                html.append("<li><a href=\"").append(href).append("\">trap</a></li>\n");
            }
        }
        html.append("</ul>\n</body></html>\n");
        return html.toString();
    }

    /** The bad inputs linked from a trap page. */
    static List<String> trapLinks(int i) {
        return List.of(
                DISALLOWED + i,                       // disallowed by robots.txt
                "https://external.invalid/page/" + i, // another host
                "mailto:someone@example.invalid",     // not HTTP
                "javascript:void(0)",                 // not HTTP
                "http://[::1:bad/",                   // malformed
                "/missing/" + i,                      // 404
                "/redirect/" + i,                     // 301 to /page/i
                "/loop/" + i + "/a",                  // a -> b -> a
                "/chain/" + CHAIN_LENGTH,             // longer than the redirect limit
                "/huge/" + i,                         // larger than the body cap
                "/binary/" + i,                       // not HTML
                "/flaky/" + i,                        // 503 twice, then a page
                "/slow/" + i);                        // slower than the read timeout
    }

    /** The body of a {@code /huge/} page: valid HTML of the configured size. */
    byte[] huge() {
        byte[] bytes = new byte[config.hugeBytes()];
        byte[] head = "<!doctype html><html><body><p>".getBytes(StandardCharsets.US_ASCII);
        byte[] tail = "</p></body></html>\n".getBytes(StandardCharsets.US_ASCII);
        java.util.Arrays.fill(bytes, (byte) 'x');
        System.arraycopy(head, 0, bytes, 0, head.length);
        System.arraycopy(tail, 0, bytes, bytes.length - tail.length, tail.length);
        return bytes;
    }

    /** The body of a {@code /binary/} page: 64 KiB of seeded random bytes. */
    byte[] binary() {
        byte[] bytes = new byte[64 << 10];
        new SplittableRandom(config.seed()).nextBytes(bytes);
        return bytes;
    }

    /** The body of a {@code /flaky/} or {@code /slow/} page once it answers: a leaf page linking back to page 0. */
    static byte[] leaf(String path) {
        return ("<!doctype html><html><body><p>" + path + "</p><a href=\"/page/0\">home</a></body></html>\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    static byte[] robots() {
        return ("User-agent: *\nDisallow: " + DISALLOWED + "\n").getBytes(StandardCharsets.US_ASCII);
    }
}
