package dev.conclab.lab.web;

import dev.conclab.chat.web.HeadlessChromium;
import dev.conclab.chat.web.NeedsChromium;
import dev.conclab.lab.catalog.Catalog;
import dev.conclab.lab.catalog.CatalogFiles;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.experiments.Experiments;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The crawl and etl pages in a real browser (Debian's headless Chromium through the chat's {@link HeadlessChromium}):
 * a crawl with a changed page count runs to its summary; a crawl that cannot end on its own (5,000 pages at 200 ms,
 * one at a time: 1,000 s) shows live counters and a chart, and Cancel ends it CANCELLED; an etl run fills its
 * progress bar and shows its summary; "Crash and resume" shows the resumed ranges. Every wait is a
 * {@link WebDriverWait} on a condition of the page, never a sleep. The lab, the browser and its driver are stopped
 * after the class; {@link HeadlessChromium#close()} fails if a browser process is left.
 */
@ExtendWith(NeedsChromium.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class SystemPagesBrowserTest {

    private static final int PHONE_WIDTH = 360;
    private static final int PHONE_HEIGHT = 780;

    private static final Path SCREENSHOTS = Path.of("target", "screenshots").toAbsolutePath();
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path home;

    private WebLab lab;
    private HeadlessChromium browser;
    private ChromeDriver driver;

    @BeforeAll
    void startLabAndBrowser() {
        browser = HeadlessChromium.launch(SCREENSHOTS);
        driver = browser.driver();
        List<Experiment> all = Experiments.all();
        lab = WebLab.start(Catalog.load(CatalogFiles.fromClasspath(),
                all.stream().map(Experiment::id).collect(Collectors.toSet())), all, new ResultStore(home), "127.0.0.1", 0, 2);
    }

    @AfterAll
    void stopEverything() {
        try {
            if (browser != null) {
                browser.close();
            }
        } finally {
            if (lab != null) {
                lab.close();
            }
        }
    }

    @BeforeEach
    void blankPage() {
        driver.get(lab.address() + "favicon.svg");
        browser.viewport(HeadlessChromium.WIDTH, HeadlessChromium.HEIGHT, false);
    }

    @Test
    void aCrawlWithAChangedPageCountRunsToItsSummary() {
        driver.get(lab.address() + "#/systems/crawl");
        set("pages", "120");
        set("concurrency", "4");
        click("start");

        awaitStatus("crawl", "COMPLETED");
        assertThat(cell("pages")).isEqualTo("120 of 120");
        assertThat(cell("model")).isEqualTo("virtual");
        assertThat(cell("p99")).endsWith("ms");
        assertThat(text(".system-notice")).contains("completed: 120 pages");
        assertThat(counter("pages")).isEqualTo("120 of 120");
        assertThat(driver.findElement(By.cssSelector("button[data-action=start]")).isEnabled()).isTrue();
        assertThat(driver.findElement(By.cssSelector("button[data-action=cancel]")).isDisplayed()).isFalse();
        browser.screenshot("system-crawl.png");
        fitsAPhone("system-crawl-phone.png");
    }

    @Test
    void aLongCrawlShowsLiveProgressAndCancelEndsIt() {
        driver.get(lab.address() + "#/systems/crawl");
        set("pages", "5000");
        set("latency-ms", "200");
        set("concurrency", "1");
        click("start");

        waitFor(d -> counter("requests").matches("[1-9][0-9,]*") ? true : null);
        waitFor(d -> first(d, By.cssSelector(".system-chart svg")));
        assertThat(driver.findElement(By.cssSelector("button[data-action=start]")).isEnabled()).isFalse();
        assertThat(counter("pages")).endsWith("of 5,000");
        click("cancel");

        awaitStatus("crawl", "CANCELLED");
        assertThat(cell("stopped")).isEqualTo("yes");
        assertThat(text(".system-notice")).contains("was cancelled");
    }

    @Test
    void anEtlRunFillsItsProgressBarAndShowsItsSummary() {
        driver.get(lab.address() + "#/systems/etl");
        set("size-mb", "8");
        set("files", "2");
        set("range-mb", "1");
        click("start");

        awaitStatus("etl", "COMPLETED");
        WebElement bar = driver.findElement(By.cssSelector(".system-progress progress[data-progress=etl]"));
        assertThat(bar.getAttribute("value")).isEqualTo(bar.getAttribute("max"));
        assertThat(text(".system-progress .progress-text")).startsWith("loading: 100 %");
        assertThat(cell("ranges")).matches("[1-9][0-9]* of 1 MiB");
        assertThat(cell("resumed")).isEqualTo("0");
        assertThat(cell("records")).matches("[1-9][0-9,]*");
        browser.screenshot("system-etl.png");
        fitsAPhone("system-etl-phone.png");
    }

    @Test
    void crashAndResumeShowsTheResumedRanges() {
        driver.get(lab.address() + "#/systems/etl");
        set("size-mb", "4");
        set("files", "2");
        set("range-mb", "1");
        click("crash");

        awaitStatus("etl", "COMPLETED");
        assertThat(cell("resumed")).isEqualTo("resumed 1 ranges (crashed after 1)");
        assertThat(text(".system-notice")).contains("resumed 1 ranges from the checkpoint");
    }

    /** At a phone's width the page, with its form, counters, chart and summary, needs no sideways scrolling. */
    private void fitsAPhone(String screenshot) {
        browser.viewport(PHONE_WIDTH, PHONE_HEIGHT, true);
        driver.executeScript("document.querySelector('.system-summary').scrollIntoView({block: 'start'})");
        browser.screenshot(screenshot);
        assertThat(browser.elementsWiderThan(PHONE_WIDTH)).as("elements wider than the phone's screen").isEmpty();
    }

    /** Waits until the system's run section says its run ended with {@code status}. */
    private void awaitStatus(String system, String status) {
        waitFor(d -> status.equals(section(system).getAttribute("data-status")));
    }

    private WebElement section(String system) {
        return driver.findElement(By.cssSelector("section[data-system-run=" + system + "]"));
    }

    private void set(String param, String value) {
        WebElement field = waitFor(d -> first(d, By.cssSelector("[data-param=" + param + "]")));
        field.clear();
        field.sendKeys(value);
    }

    private void click(String action) {
        waitFor(d -> {
            WebElement button = first(d, By.cssSelector("button[data-action=" + action + "]"));
            return button != null && button.isDisplayed() && button.isEnabled() ? button : null;
        }).click();
    }

    private String counter(String name) {
        return text(".system-progress dd[data-counter=" + name + "]");
    }

    private String cell(String row) {
        return text(".system-summary table tr[data-row=" + row + "] td");
    }

    private String text(String css) {
        WebElement e = first(driver, By.cssSelector(css));
        return e == null ? "" : e.getText();
    }

    private static WebElement first(org.openqa.selenium.SearchContext where, By by) {
        List<WebElement> found = where.findElements(by);
        return found.isEmpty() ? null : found.getFirst();
    }

    private <T> T waitFor(Function<WebDriver, T> condition) {
        return new WebDriverWait(driver, WAIT, Duration.ofMillis(50))
                .ignoring(StaleElementReferenceException.class)
                .withMessage(() -> "page state: " + driver.getCurrentUrl() + " notice='" + text(".system-notice")
                        + "' error='" + text(".system-error") + "'")
                .until(condition::apply);
    }
}
