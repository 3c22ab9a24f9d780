package dev.conclab.chat.web;

import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One headless Chromium driven through chromedriver with Selenium, for the browser tests of every module (the chat
 * page's and the web lab's; published in this module's test-jar). Nothing is downloaded: the browser and the driver
 * are Debian's {@code chromium} and {@code chromium-driver} packages ({@code /usr/bin/chromium},
 * {@code /usr/bin/chromedriver}; the system properties {@value #CHROMIUM_PROPERTY} and {@value #DRIVER_PROPERTY}
 * override the paths). When either is missing, the tests of a class marked {@code @ExtendWith(NeedsChromium.class)}
 * are reported skipped with a line naming the packages to install; {@code ./conclab test} says so too, and {@code .ci/run} installs both, so
 * in CI the browser tests always run.
 *
 * <p>Guarantees: the browser runs with a profile directory of its own (a new temporary folder) and a viewport of
 * exactly {@link #WIDTH}×{@link #HEIGHT} CSS pixels (set through CDP, as the window's size includes its frame).
 * {@link #close()} quits the driver, stops the driver's service, waits (up to {@link #EXIT_WAIT}) for every process
 * this browser started to end, deletes the profile and then fails with an {@link AssertionError} naming any process
 * still alive, found both by pid (the processes that appeared under this JVM while it launched) and by its profile
 * directory on the command line. {@code close()} is idempotent.
 *
 * <p>Not thread-safe: one test thread drives one instance (WebDriver itself is not thread-safe). Two instances may
 * live side by side (two chat users), provided they are launched one after the other, as the pids of each are told
 * apart by what appeared while it launched.
 */
public final class HeadlessChromium implements AutoCloseable {

    /** The system property naming the browser's executable (default {@code /usr/bin/chromium}). */
    public static final String CHROMIUM_PROPERTY = "conclab.chromium";
    /** The system property naming the driver's executable (default {@code /usr/bin/chromedriver}). */
    public static final String DRIVER_PROPERTY = "conclab.chromedriver";
    /** The viewport's width after {@link #launch}, in CSS pixels. */
    public static final int WIDTH = 1280;
    /** The viewport's height after {@link #launch}, in CSS pixels. */
    public static final int HEIGHT = 900;
    /** How long {@link #close()} lets the browser's processes take to end after quit. */
    public static final Duration EXIT_WAIT = Duration.ofSeconds(10);

    private final ChromeDriverService service;
    private final ChromeDriver driver;
    private final Path profile;
    private final Set<Long> pids;
    private final Path screenshots;
    private boolean closed;

    private static Path chromium() {
        return Path.of(System.getProperty(CHROMIUM_PROPERTY, "/usr/bin/chromium"));
    }

    private static Path chromedriver() {
        return Path.of(System.getProperty(DRIVER_PROPERTY, "/usr/bin/chromedriver"));
    }

    private HeadlessChromium(ChromeDriverService service, ChromeDriver driver, Path profile, Set<Long> pids,
                             Path screenshots) {
        this.service = service;
        this.driver = driver;
        this.profile = profile;
        this.pids = pids;
        this.screenshots = screenshots;
    }

    /**
     * What is missing to run the browser tests: empty when the browser and the driver are both installed, else one
     * line naming the missing file and the packages to install.
     */
    public static Optional<String> missing() {
        for (Path exe : List.of(chromium(), chromedriver())) {
            if (!Files.isExecutable(exe)) {
                return Optional.of("headless Chromium is needed for the browser tests but " + exe + " is missing:"
                        + " install it with `apt-get update && apt-get install -y chromium chromium-driver` (.ci/run"
                        + " does), or name it with -D" + (exe.equals(chromium()) ? CHROMIUM_PROPERTY : DRIVER_PROPERTY));
            }
        }
        return Optional.empty();
    }

    /**
     * Starts chromedriver and a headless Chromium with a new profile, its viewport {@link #WIDTH}×{@link #HEIGHT};
     * {@link #screenshot} writes into {@code screenshots} (created if missing). Blocks until the browser answers.
     * Test classes that use it carry {@code @ExtendWith(NeedsChromium.class)}, so without a browser their tests are
     * reported skipped before this is called.
     *
     * @throws TestAbortedException when the browser or the driver is not installed (the message is {@link #missing})
     */
    public static HeadlessChromium launch(Path screenshots) {
        missing().ifPresent(why -> {
            throw new TestAbortedException(why);
        });
        Path chromedriver = chromedriver();
        Path profile;
        try {
            Files.createDirectories(screenshots);
            profile = Files.createTempDirectory("conclab-chromium-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Set<Long> before = descendants();
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.toFile())
                .usingAnyFreePort()
                .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium().toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-extensions", "--hide-scrollbars", "--force-color-profile=srgb",
                "--window-size=" + WIDTH + "," + HEIGHT, "--user-data-dir=" + profile);
        ChromeDriver driver;
        try {
            driver = new ChromeDriver(service, options);
        } catch (RuntimeException e) {
            service.stop();
            try {
                deleteTree(profile);
            } catch (UncheckedIOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        Set<Long> pids = descendants();
        pids.removeAll(before);
        HeadlessChromium browser = new HeadlessChromium(service, driver, profile, pids, screenshots);
        try {
            browser.viewport(WIDTH, HEIGHT, false);
        } catch (RuntimeException e) {
            try {
                browser.close();
            } catch (RuntimeException | AssertionError suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return browser;
    }

    /**
     * The elements that make the page wider than {@code width} CSS pixels (tag, classes, scroll and client widths; at
     * most 20), leaving out those inside a box meant to scroll sideways (a wide table in its own scroller). Empty when
     * the page fits: nothing forces the reader of a phone to scroll sideways or zoom out.
     */
    @SuppressWarnings("unchecked")
    public List<String> elementsWiderThan(int width) {
        return (List<String>) driver.executeScript("""
                if (document.documentElement.scrollWidth <= arguments[0]) {
                  return [];
                }
                const sideways = (x) => /(auto|scroll|hidden|clip)/.test(getComputedStyle(x).overflowX);
                const scrolled = (x) => x && x !== document.body && (sideways(x) || scrolled(x.parentElement));
                return [...document.body.querySelectorAll('*')]
                  .filter((e) => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0 && !scrolled(e))
                  .map((e) => e.tagName.toLowerCase() + '.' + [...e.classList].join('.') + ' ' + e.scrollWidth
                    + '/' + e.clientWidth)
                  .slice(-20);""", width);
    }

    /** The driver (valid until {@link #close()}). */
    public ChromeDriver driver() {
        return driver;
    }

    /** This browser's profile directory (deleted by {@link #close()}). */
    public Path profile() {
        return profile;
    }

    /**
     * Sets the page's viewport to exactly {@code width}×{@code height} CSS pixels with CDP
     * ({@code Emulation.setDeviceMetricsOverride}), as a phone ({@code mobile}: the meta viewport honoured, 2 device
     * pixels per CSS pixel) or a laptop (1). Returns once the page reports that screen width and two animation frames
     * have passed (the page is laid out at that size); a page that is not loaded yet times out after 10 s.
     */
    public void viewport(int width, int height, boolean mobile) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("viewport must be positive, got " + width + "x" + height);
        }
        driver.executeCdpCommand("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height,
                "deviceScaleFactor", mobile ? 2 : 1, "mobile", mobile, "screenWidth", width, "screenHeight", height));
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
        driver.executeAsyncScript("""
                const [width, done] = [arguments[0], arguments[arguments.length - 1]];
                const frames = () => requestAnimationFrame(() => requestAnimationFrame(() => done()));
                const check = () => screen.width === width ? frames() : requestAnimationFrame(check);
                check();""", width);
    }

    /** Writes a PNG of the viewport to {@code name} in the screenshots folder and returns its path. */
    public Path screenshot(String name) {
        if (name.isBlank() || name.contains("/") || name.contains("\\") || !name.endsWith(".png")) {
            throw new IllegalArgumentException("screenshot name must be a plain file name ending in .png, got '"
                    + name + "'");
        }
        Path file = screenshots.resolve(name);
        try {
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /**
     * Quits the driver, stops its service, waits for this browser's processes to end, deletes the profile, then
     * fails with an {@link AssertionError} if quitting or deleting failed or a process of this browser is still
     * alive (each step runs even when an earlier one failed).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Throwable> failures = new ArrayList<>();
        try {
            driver.quit();
        } catch (RuntimeException e) {
            failures.add(e);
        } finally {
            service.stop();
        }
        List<ProcessHandle> left = awaitExit(EXIT_WAIT);
        try {
            deleteTree(profile);
        } catch (UncheckedIOException e) {
            failures.add(e);
        }
        if (!failures.isEmpty() || !left.isEmpty()) {
            AssertionError error = new AssertionError(left.isEmpty()
                    ? "closing the browser failed: " + failures.getFirst().getMessage()
                    : "browser or driver processes left after " + EXIT_WAIT.toSeconds() + " s: "
                    + left.stream().map(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
                    .collect(Collectors.joining("; ")));
            failures.forEach(error::addSuppressed);
            throw error;
        }
    }

    /** Waits up to {@code timeout} for this browser's processes to end; returns those still alive. */
    private List<ProcessHandle> awaitExit(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ProcessHandle> alive = processes();
        while (!alive.isEmpty()) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                break;
            }
            try {
                alive.getFirst().onExit().get(remaining, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException e) {
                // cannot happen (onExit never completes exceptionally); look again
            }
            alive = processes();
        }
        return processes();
    }

    /** The live processes of this browser: by pid, and by its profile directory on the command line. */
    private List<ProcessHandle> processes() {
        String marker = profile.toString();
        return ProcessHandle.allProcesses()
                .filter(ProcessHandle::isAlive)
                .filter(p -> pids.contains(p.pid()) || p.info().arguments().stream().flatMap(Stream::of)
                        .anyMatch(arg -> arg.contains(marker)))
                .toList();
    }

    private static Set<Long> descendants() {
        return ProcessHandle.current().descendants().map(ProcessHandle::pid)
                .collect(Collectors.toCollection(HashSet::new));
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete the browser's profile " + dir, e);
        }
    }
}
