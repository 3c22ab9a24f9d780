package dev.conclab.lab.catalog;

import org.commonmark.Extension;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;

import java.util.List;

/**
 * Renders a card's Markdown to HTML with commonmark and its GFM tables: fenced code blocks keep their language as
 * {@code class="language-xxx"}; raw HTML in the Markdown is escaped, never passed through, and link and image URLs
 * with unsafe schemes ({@code javascript:} and the like) are dropped, so the output is safe to put into a page.
 *
 * <p><b>Thread safety:</b> immutable; one instance may render from many threads at once.
 */
public final class MarkdownHtml {

    private static final List<Extension> EXTENSIONS = List.of(TablesExtension.create());

    private final Parser parser = Parser.builder().extensions(EXTENSIONS).build();
    private final HtmlRenderer renderer = HtmlRenderer.builder().extensions(EXTENSIONS)
            .escapeHtml(true).sanitizeUrls(true).build();

    /** The HTML of {@code markdown}; an empty string for blank input. */
    public String render(String markdown) {
        if (markdown == null || markdown.isBlank()) {
            return "";
        }
        return renderer.render(parser.parse(markdown));
    }
}
