package dev.conclab.lab.catalog;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The raw files of a catalog: {@code questions.md} and every {@code <section>/<id>.md} card, by path relative to
 * the catalog's root (for example {@code basics/basics-04.md}). Reading from a directory lets tests build broken
 * catalogs; the lab reads the one on its class path, from a directory or from inside its jar.
 */
public record CatalogFiles(String questions, Map<String, String> cards) {

    public static final String QUESTIONS = "questions.md";

    public CatalogFiles {
        cards = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(cards));
    }

    /** The catalog shipped as resources under {@code catalog/}. */
    public static CatalogFiles fromClasspath() {
        URL url = CatalogFiles.class.getResource("/catalog/" + QUESTIONS);
        if (url == null) {
            throw new IllegalStateException("no catalog/" + QUESTIONS + " on the class path");
        }
        try {
            URI uri = url.toURI();
            if ("jar".equals(uri.getScheme())) {
                try (FileSystem jar = jarFileSystem(uri)) {
                    return fromDirectory(jar.getPath("/catalog"));
                }
            }
            return fromDirectory(Path.of(uri).getParent());
        } catch (URISyntaxException | IOException e) {
            throw new IllegalStateException("cannot read the catalog at " + url, e);
        }
    }

    private static FileSystem jarFileSystem(URI uri) throws IOException {
        try {
            FileSystems.getFileSystem(uri).close();
        } catch (FileSystemNotFoundException ignored) {
            // Not open yet: the usual case.
        }
        return FileSystems.newFileSystem(uri, Map.of());
    }

    /** Reads {@code questions.md} and every {@code *.md} one folder below {@code root}. */
    public static CatalogFiles fromDirectory(Path root) {
        try (Stream<Path> files = Files.walk(root, 2)) {
            Map<String, String> cards = new TreeMap<>();
            for (Path file : files.filter(p -> p.getNameCount() - root.getNameCount() == 2)
                    .filter(p -> p.getFileName().toString().endsWith(".md")).toList()) {
                cards.put(root.relativize(file).toString().replace('\\', '/'), read(file));
            }
            return new CatalogFiles(read(root.resolve(QUESTIONS)), cards);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the catalog under " + root, e);
        }
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }
}
