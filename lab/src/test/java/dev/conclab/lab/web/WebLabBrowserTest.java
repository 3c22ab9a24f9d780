package dev.conclab.lab.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.chat.contract.TestClient;
import dev.conclab.chat.web.HeadlessChromium;
import dev.conclab.chat.web.NeedsChromium;
import dev.conclab.lab.catalog.CardSummary;
import dev.conclab.lab.catalog.Catalog;
import dev.conclab.lab.catalog.CatalogFiles;
import dev.conclab.lab.catalog.CatalogOverview;
import dev.conclab.lab.engine.ClaimSpec;
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
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.SearchContext;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web lab in a real browser: one {@link WebLab} in this JVM (the shipped catalog and experiments, a result store
 * in a temporary folder, port 0) driven through Debian's headless Chromium and chromedriver with Selenium, started by
 * the chat's {@link HeadlessChromium} (chat's test-jar; the chat page's test uses the same). Nothing is downloaded;
 * without the browser the test fails and names the packages to install, it never skips.
 *
 * <p>The catalog is the shipped one except that {@code basics-01} also cites the test experiment {@value #STEPS},
 * which reports progress and then waits on a latch the test holds: "still running" is a state the test waits for,
 * never guesses with a sleep. Every wait is a {@link WebDriverWait} on a condition of the page.
 *
 * <p>Screenshots (the catalog and a card with a result at 1280×900, the catalog at phone width) are written to
 * {@code target/screenshots/}; the README shows copies of the first two. After the class the browser, its driver and
 * the lab are stopped, and no process of the browser is left ({@link HeadlessChromium#close()} checks it by pid and by
 * its profile directory).
 */
@ExtendWith(NeedsChromium.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class WebLabBrowserTest {

    private static final Path SCREENSHOTS = Path.of("target", "screenshots").toAbsolutePath();
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final int WIDTH = HeadlessChromium.WIDTH;
    private static final int HEIGHT = HeadlessChromium.HEIGHT;
    private static final int PHONE_WIDTH = 360;
    private static final int PHONE_HEIGHT = 780;

    static final String STEPS = "test-steps";
    /** The chat server the lab runs (ChatApi). */
    static final String CHAT = "/api/systems/chat/server";
    /** A second latch-held experiment (no card cites it): with {@value #STEPS} it fills the cap of 2. */
    static final String STEPS_2 = "test-steps-2";
    static final int CAP = 2;
    /** A fast real experiment with a series (chart), a trace (timeline) and a CPython side. */
    static final String REAL = "parallel-map";
    static final String REAL_CARD = "practical-02";

    @TempDir
    static Path home;

    private final TestExperiments.Steps steps = new TestExperiments.Steps(STEPS);
    private final TestExperiments.Steps steps2 = new TestExperiments.Steps(STEPS_2);
    private Map<String, Experiment> experiments;
    private Catalog catalog;
    private WebLab lab;
    private HeadlessChromium browser;
    private ChromeDriver driver;
    private JobsFixture jobs;
    private Api api;

    @BeforeAll
    void startLabAndBrowser() throws Exception {
        browser = HeadlessChromium.launch(SCREENSHOTS);
        driver = browser.driver();
        List<Experiment> all = new ArrayList<>(Experiments.all());
        all.add(steps);
        all.add(steps2);
        experiments = all.stream().collect(Collectors.toMap(Experiment::id, e -> e));
        catalog = catalog(all);
        jobs = JobsFixture.make(home.resolve("jobs"), 2);
        lab = WebLab.start(catalog, all, new ResultStore(home), "127.0.0.1", 0, CAP, jobs.stores());
        api = new Api(lab);
    }

    /** The shipped catalog, with {@value #STEPS} cited by {@code basics-01} (first in its experiment list). */
    private static Catalog catalog(List<Experiment> experiments) {
        CatalogFiles shipped = CatalogFiles.fromClasspath();
        Map<String, String> cards = new HashMap<>(shipped.cards());
        cards.put("basics/basics-01.md", cards.get("basics/basics-01.md")
                .replaceFirst("experiments: \\[", "experiments: [" + STEPS + ", "));
        return Catalog.load(new CatalogFiles(shipped.questions(), cards),
                experiments.stream().map(Experiment::id).collect(Collectors.toSet()));
    }

    @AfterAll
    void stopEverything() {
        try {
            if (browser != null) {
                browser.close(); // fails naming any process of the browser left
            }
        } finally {
            if (api != null) {
                api.close();
            }
            if (lab != null) {
                lab.close();
            }
        }
    }

    /** Each test starts on a plain page (the last page's streams closed), light theme, laptop width. */
    @BeforeEach
    void blankPage() {
        driver.get(base() + "favicon.svg");
        viewport(WIDTH, HEIGHT, false);
        js("localStorage.setItem('conclab-theme', 'light'); sessionStorage.clear();");
    }

    // ---- the catalog ----

    @Test
    void catalogShowsTheTenSectionsWithTheirCounts() {
        open("#/");
        CatalogOverview overview = CatalogOverview.of(catalog, experiments);
        List<WebElement> sections = waitFor(d -> {
            List<WebElement> found = d.findElements(By.cssSelector(".catalog-section"));
            return found.size() == overview.sections().size() ? found : null;
        });
        assertThat(sections).hasSize(10);
        for (int i = 0; i < sections.size(); i++) {
            CatalogOverview.SectionOverview expected = overview.sections().get(i);
            String heading = sections.get(i).findElement(By.tagName("h2")).getText();
            assertThat(heading).startsWith(expected.title())
                    .endsWith(expected.answered() + " answered · " + expected.open() + " open");
            assertThat(sections.get(i).findElements(By.cssSelector("a.card-link")))
                    .hasSize(expected.cards().size());
        }
        assertThat(driver.findElements(By.cssSelector("a.card-link"))).hasSize(catalog.size());
        assertThat(text(".result-count")).isEqualTo(catalog.size() + " questions");
        assertThat(text(".catalog-head .lede")).startsWith(overview.answered() + " of " + overview.total());

        // the "open" filter: only open cards (none in the shipped catalog: "No card matches")
        click("input[name=status][value=open]");
        waitFor(d -> d.getCurrentUrl().endsWith("#/?status=open") ? true : null);
        long open = catalog.size() - catalog.answeredCount();
        waitFor(d -> d.findElements(By.cssSelector("a.card-link")).size() == open ? true : null);
        click("input[name=status][value='']");
        waitFor(d -> d.findElements(By.cssSelector("a.card-link")).size() == catalog.size() ? true : null);
        // "has a CPython side": exactly the cards the catalog marks so
        List<String> python = overview.sections().stream().flatMap(s -> s.cards().stream())
                .filter(CardSummary::python).map(CardSummary::id).toList();
        assertThat(python).isNotEmpty().hasSizeLessThan(catalog.size());
        click("input[name=python]");
        waitFor(d -> d.findElements(By.cssSelector("a.card-link")).size() == python.size() ? true : null);
        assertThat(driver.findElements(By.cssSelector("a.card-link")))
                .extracting(e -> e.getDomAttribute("data-card-id")).containsExactlyElementsOf(python);
        assertThat(text(".result-count")).isEqualTo(python.size() + " of " + catalog.size()
                + " questions match the filters");
        click("input[name=python]");
        waitFor(d -> d.findElements(By.cssSelector("a.card-link")).size() == catalog.size() ? true : null);

        screenshot("catalog.png");
        // at phone width nothing is wider than the screen
        viewport(PHONE_WIDTH, PHONE_HEIGHT, true);
        assertThat(browser.elementsWiderThan(PHONE_WIDTH)).as("elements wider than the phone's screen").isEmpty();
        assertThat(((Number) js("return window.innerWidth")).intValue()).as("innerWidth").isEqualTo(PHONE_WIDTH);
        screenshot("catalog-phone.png");
    }

    @Test
    void searchFindsAWordOnlyAnAnswerHolds() {
        open("#/");
        WebElement search = waitFor(d -> first(d, By.id("search")));
        // "Coffman" (the four deadlock conditions) is in threading-05's answer, in no question
        assertThat(catalog.cards()).noneMatch(c -> c.question().toLowerCase(Locale.ROOT).contains("coffman"));
        search.sendKeys("coffman");
        List<WebElement> results = waitFor(d -> {
            List<WebElement> found = d.findElements(By.cssSelector("ol.results a.card-link"));
            return found.isEmpty() ? null : found;
        });
        assertThat(results).extracting(e -> e.getDomAttribute("data-card-id")).containsExactly("threading-05");
        assertThat(results.getFirst().findElement(By.className("card-snippet")).getText())
                .containsIgnoringCase("coffman");
        assertThat(text(".result-count")).isEqualTo("1 card for “coffman”");
        assertThat(driver.getCurrentUrl()).endsWith("#/?q=coffman");

        // Escape in the box clears it: the whole catalog again
        search.sendKeys(Keys.ESCAPE);
        waitFor(d -> d.findElements(By.cssSelector("a.card-link")).size() == catalog.size() ? true : null);

        // a word in nothing
        search.sendKeys("zqxjkwv");
        waitFor(d -> first(d, By.cssSelector(".catalog-list .empty")));
        assertThat(text(".result-count")).isEqualTo("0 cards for “zqxjkwv”");
    }

    @Test
    void keysMoveBetweenCardsAndEscapeGoesBack() {
        open("#/");
        waitFor(d -> d.findElements(By.cssSelector("a.card-link")).size() == catalog.size() ? true : null);
        String firstCard = catalog.cards().get(0).id();
        String secondCard = catalog.cards().get(1).id();
        String thirdCard = catalog.cards().get(2).id();
        press("j");
        assertThat(focused().getDomAttribute("data-card-id")).isEqualTo(firstCard);
        press("j");
        assertThat(focused().getDomAttribute("data-card-id")).isEqualTo(secondCard);
        press("k");
        assertThat(focused().getDomAttribute("data-card-id")).isEqualTo(firstCard);
        press(Keys.ENTER);
        awaitCard(firstCard);

        // on a card: j the next card, k the previous, Escape back to the catalog with the card left focused
        press("j");
        awaitCard(secondCard);
        press("j");
        awaitCard(thirdCard);
        press("k");
        awaitCard(secondCard);
        press(Keys.ESCAPE);
        waitFor(d -> secondCard.equals(focused().getDomAttribute("data-card-id")) ? true : null);
        assertThat(driver.getCurrentUrl()).endsWith("#/");

        // "/" focuses the search from a card
        press(Keys.ENTER);
        awaitCard(secondCard);
        press("/");
        waitFor(d -> "search".equals(focused().getDomAttribute("id")) ? true : null);
    }

    @Test
    void theThemeToggleSwitchesToDarkAndIsKept() {
        open("#/");
        WebElement toggle = waitFor(d -> first(d, By.id("theme-toggle")));
        assertThat(theme()).isEqualTo("light");
        double light = luminance(background());
        toggle.click();
        waitFor(d -> "dark".equals(theme()) ? true : null);
        double dark = luminance(background());
        assertThat(dark).as("body background, dark vs light").isLessThan(0.2).isLessThan(light - 0.5);
        assertThat(toggle.getDomAttribute("aria-label")).isEqualTo("Switch to the light theme");
        driver.navigate().refresh();
        waitFor(d -> first(d, By.cssSelector(".catalog-section")));
        assertThat(theme()).as("the choice is kept across a reload").isEqualTo("dark");
        press("t");
        waitFor(d -> "light".equals(theme()) ? true : null);
        assertThat(luminance(background())).isEqualTo(light);
    }

    // ---- runs ----

    @Test
    void aRealRunWithAChangedParameterShowsChartsTimelineAndVerdicts() {
        open("#/card/" + REAL_CARD);
        WebElement panel = awaitPanel(REAL);
        WebElement items = panel.findElement(By.cssSelector("[data-param=items]"));
        assertThat(panel.findElement(By.cssSelector("input[name=quick]")).isSelected()).isTrue();
        items.clear();
        items.sendKeys("20");
        panel.findElement(By.cssSelector("button[data-action=run]")).click();

        // a real run on a busy machine: wait as long as the experiment may run (its quick timeout)
        WebElement record = waitFor(experiments.get(REAL).timeout(true), d -> thisRun(panel));
        assertThat(record.getDomAttribute("data-status")).isEqualTo("COMPLETED");
        assertThat(record.findElement(By.tagName("h4")).getText()).isEqualTo("This run");
        assertThat(panel.findElement(By.cssSelector(".run-notice")).getText()).matches("Run r-\\S+ completed\\.");
        assertThat(record.findElement(By.className("record-params")).getText()).contains("items=20");
        assertThat(panel.findElement(By.cssSelector(".progress")).isDisplayed()).isFalse();

        List<WebElement> claims = record.findElements(By.cssSelector("li.claim[data-verdict]"));
        assertThat(claims).extracting(c -> c.getDomAttribute("data-claim"))
                .containsExactlyInAnyOrderElementsOf(
                        experiments.get(REAL).claims().stream().map(ClaimSpec::id).toList());
        for (WebElement claim : claims) {
            assertThat(claim.getDomAttribute("data-verdict")).isIn("HOLDS", "FAILS", "SKIPPED");
            assertThat(claim.findElement(By.className("evidence")).getText()).as("evidence").isNotBlank();
        }
        WebElement chart = waitFor(d -> first(record, By.cssSelector(".charts svg")));
        assertThat(chart.getSize().getWidth()).isPositive();
        WebElement canvas = waitFor(d -> first(record, By.cssSelector(".timeline canvas")));
        assertThat(canvas.getSize().getHeight()).isPositive();
        assertThat(record.findElements(By.cssSelector(".table-wrap table"))).isNotEmpty();

        // the shot: the form with the changed value, then the record: when and where, the values, the verdicts
        js("arguments[0].scrollIntoView({block: 'start'})", panel.findElement(By.className("run-form")));
        screenshot("card-with-result.png");
        // and the same record further down: its chart and the trace timeline drawn from the run
        js("arguments[0].scrollIntoView({block: 'start'}); window.scrollBy(0, -24)",
                record.findElement(By.className("charts")));
        screenshot("card-charts.png");

        // the stored result is what the card shows after a reload, with where and when it was measured
        driver.navigate().refresh();
        WebElement again = awaitPanel(REAL);
        WebElement latest = waitFor(d -> first(again, By.cssSelector(".run-result .record[data-status]")));
        assertThat(latest.findElement(By.tagName("h4")).getText()).isEqualTo("Latest result");
        assertThat(latest.getDomAttribute("data-status")).isEqualTo("COMPLETED");
        assertThat(latest.findElement(By.className("record-params")).getText()).contains("items=20");
        assertThat(latest.findElement(By.className("machine")).getText()).isNotBlank();
        assertThat(latest.findElement(By.cssSelector(".record-meta time")).getDomAttribute("datetime"))
                .matches("\\d{4}-\\d\\d-\\d\\dT.*");
        waitFor(d -> first(latest, By.cssSelector(".charts svg")));

        // at phone width the card with its result fits the screen (wide tables scroll inside their box)
        viewport(PHONE_WIDTH, PHONE_HEIGHT, true);
        assertThat(browser.elementsWiderThan(PHONE_WIDTH)).as("elements wider than the phone's screen").isEmpty();
        assertThat(((Number) js("return window.innerWidth")).intValue()).as("innerWidth").isEqualTo(PHONE_WIDTH);
    }

    @Test
    void anOutOfBoundsValueIsRefusedByTheServerInWords() {
        open("#/card/" + REAL_CARD);
        WebElement panel = awaitPanel(REAL);
        WebElement items = panel.findElement(By.cssSelector("[data-param=items]"));
        // past the browser's own checks: the server must refuse it
        js("arguments[0].removeAttribute('min'); arguments[0].removeAttribute('max');", items);
        items.clear();
        items.sendKeys("99999999");
        panel.findElement(By.cssSelector("button[data-action=run]")).click();
        WebElement error = waitFor(d -> first(panel, By.cssSelector(".run-notice .error")));
        assertThat(error.getText()).startsWith("Refused: parameter items=99999999 is out of range (allowed: 1");
        assertThat(items.getDomAttribute("aria-invalid")).isEqualTo("true");
        assertThat(focused()).isEqualTo(items);
        assertThat(lab.runs().runningCount()).isZero();
        assertThat(panel.findElement(By.cssSelector("button[data-action=run]")).isEnabled()).isTrue();
    }

    @Test
    void progressIsShownLiveAndCancelEndsTheRun() throws InterruptedException {
        String card = catalog.citing(STEPS).getFirst().id();
        open("#/card/" + card);
        WebElement panel = awaitPanel(STEPS);

        // a run that waits on a latch: its progress shows, then Cancel ends it
        CountDownLatch gate = steps.nextLatch();
        panel.findElement(By.cssSelector("button[data-action=run]")).click();
        awaitHalfway(panel);
        WebElement cancel = panel.findElement(By.cssSelector("button[data-action=cancel]"));
        assertThat(cancel.isDisplayed()).isTrue();
        assertThat(panel.findElement(By.cssSelector("button[data-action=run]")).isEnabled()).isFalse();
        cancel.click();
        // (other tests store test-steps results: the card shows the latest until this run's record replaces it)
        WebElement cancelled = waitFor(d -> thisRun(panel));
        assertThat(cancelled.getDomAttribute("data-status")).isEqualTo("CANCELLED");
        assertThat(gate.getCount()).as("the run ended by the cancel, not by the latch").isEqualTo(1);
        assertThat(panel.findElement(By.cssSelector(".progress")).isDisplayed()).isFalse();
        assertThat(lab.runs().runningCount()).isZero();

        // again with changed values: the latch opens, the run completes, the claim holds with those values
        gate = steps.nextLatch();
        WebElement n = panel.findElement(By.cssSelector("[data-param=n]"));
        n.clear();
        n.sendKeys("7");
        new Select(panel.findElement(By.cssSelector("[data-param=mode]")))
                .selectByValue("slow");
        panel.findElement(By.cssSelector("button[data-action=run]")).click();
        awaitHalfway(panel);
        gate.countDown();
        WebElement done = waitFor(d -> {
            WebElement r = thisRun(panel);
            return r != null && !"CANCELLED".equals(r.getDomAttribute("data-status")) ? r : null;
        });
        assertThat(done.getDomAttribute("data-status")).isEqualTo("COMPLETED");
        WebElement claim = done.findElement(By.cssSelector("li.claim[data-verdict]"));
        assertThat(claim.getDomAttribute("data-verdict")).isEqualTo("HOLDS");
        assertThat(claim.findElement(By.className("evidence")).getText()).isEqualTo("n=7 mode=slow");
    }

    @Test
    void theChartsSelfTestPasses() {
        driver.get(base() + "dev/charts-selftest.html");
        String result = waitFor(d -> d.findElement(By.tagName("body")).getDomAttribute("data-result"));
        assertThat(result).as(text("#summary")).isEqualTo("PASS");
    }

    // ---- refusals in the page ----

    @Test
    void runPressedWhileTheSameExperimentRunsShowsTheServersRefusal() throws Exception {
        CountDownLatch gate = steps.nextLatch();
        String held = startHeld(STEPS);
        try {
            open("#/card/" + catalog.citing(STEPS).getFirst().id());
            WebElement panel = awaitPanel(STEPS);
            panel.findElement(By.cssSelector("button[data-action=run]")).click();
            WebElement error = waitFor(d -> first(panel, By.cssSelector(".run-notice .error")));
            // the page does not know the run (started elsewhere): it shows the 409 in words and stays idle
            assertThat(error.getText()).isEqualTo("Already running: " + STEPS + " is already running (run " + held
                    + "); wait for it or cancel it");
            assertThat(panel.findElement(By.cssSelector(".progress")).isDisplayed()).isFalse();
            assertThat(panel.findElement(By.cssSelector("button[data-action=run]")).isEnabled()).isTrue();
            assertThat(lab.runs().runningCount()).as("the held run only").isEqualTo(1);
        } finally {
            gate.countDown();
        }
        assertThat(awaitEnd(held)).isEqualTo("COMPLETED");
    }

    @Test
    void runPressedWithTheCapReachedShowsTheCap() throws Exception {
        CountDownLatch gate = steps.nextLatch();
        CountDownLatch gate2 = steps2.nextLatch();
        List<String> held = new ArrayList<>();
        try {
            held.add(startHeld(STEPS));
            held.add(startHeld(STEPS_2));
            open("#/card/" + REAL_CARD);
            WebElement panel = awaitPanel(REAL);
            panel.findElement(By.cssSelector("button[data-action=run]")).click();
            WebElement error = waitFor(d -> first(panel, By.cssSelector(".run-notice .error")));
            assertThat(error.getText()).isEqualTo("Too many runs: " + CAP + " runs are already running (the cap is "
                    + CAP + "); try again when one ends");
            assertThat(panel.findElement(By.cssSelector(".progress")).isDisplayed()).isFalse();
            assertThat(panel.findElement(By.cssSelector("button[data-action=run]")).isEnabled()).isTrue();
            assertThat(lab.runs().runningCount()).as("the two held runs only").isEqualTo(CAP);
        } finally {
            gate.countDown();
            gate2.countDown();
        }
        for (String id : held) {
            assertThat(awaitEnd(id)).as(id).isEqualTo("COMPLETED");
        }
    }

    /** Starts a run of a latch-held experiment through the API (as another tab would) and returns its id. */
    private String startHeld(String experiment) {
        Api.Answer started = api.post("/api/runs", "{\"experiment\": \"" + experiment + "\"}");
        assertThat(started.status()).as(started.body()).isEqualTo(202);
        return started.json().path("id").asText();
    }

    /** Waits for the run to end (its latch opened by the test) and returns its status. */
    private String awaitEnd(String runId) throws Exception {
        return lab.runs().run(runId).orElseThrow().finished().get(WAIT.toSeconds(), TimeUnit.SECONDS)
                .status().name();
    }

    // ---- the systems ----

    @Test
    void theSystemsPageListsTheFourSystemsAndTheChatPageStartsAChatServer() throws Exception {
        open("#/systems");
        List<WebElement> items = waitFor(d -> {
            List<WebElement> found = d.findElements(By.cssSelector("ul.systems li[data-system]"));
            return found.size() == SystemView.all().size() ? found : null;
        });
        assertThat(items).extracting(e -> e.getDomAttribute("data-system"))
                .containsExactly("chat", "jobs", "crawl", "etl");
        for (int i = 0; i < items.size(); i++) {
            SystemView system = SystemView.all().get(i);
            assertThat(items.get(i).findElement(By.className("system-title")).getText()).isEqualTo(system.title());
            assertThat(items.get(i).findElement(By.tagName("a")).getDomAttribute("href")).isEqualTo(system.page());
        }
        // crawl and etl may get their pages on another branch: their state is not asserted here
        for (WebElement item : items.subList(0, 2)) {
            assertThat(item.findElement(By.className("badge")).getText()).as(item.getDomAttribute("data-system"))
                    .isEqualTo("● ready");
        }

        items.getFirst().findElement(By.tagName("a")).click();
        chatPageStartsVthreadsShowsItsAddressAndLiveStatsAndStops();
    }

    /**
     * On #/systems/chat: pick vthreads, Start; the address shown and the client link are the API's url; the counters
     * follow a real WebSocket client; Stop stops the server (its port refuses connections).
     */
    private void chatPageStartsVthreadsShowsItsAddressAndLiveStatsAndStops() throws Exception {
        WebElement model = waitFor(d -> shown(d, ".system-page[data-system=chat] select[name=model]"));
        assertThat(driver.getCurrentUrl()).endsWith("#/systems/chat");
        assertThat(driver.findElement(By.cssSelector(".chat-remote")).isDisplayed())
                .as("no beyond-loopback warning on a lab on 127.0.0.1").isFalse();
        new Select(model).selectByValue("vthreads");
        driver.findElement(By.cssSelector("button[data-action=start-chat]")).click();

        WebElement address = waitFor(d -> {
            WebElement a = shown(d, ".chat-address");
            return a != null && !a.getText().isBlank() ? a : null;
        });
        JsonNode chat;
        try (Api api = new Api(lab)) {
            chat = api.get(CHAT).json();
        }
        assertThat(chat.get("model").asText()).isEqualTo("vthreads");
        String url = chat.get("url").asText();
        assertThat(address.getText()).isEqualTo(url);
        WebElement link = driver.findElement(By.cssSelector("a[data-action=open-chat]"));
        assertThat(link.getDomProperty("href")).isEqualTo(url);
        assertThat(link.getDomAttribute("target")).isEqualTo("_blank");
        assertThat(chatStat("connections")).isEqualTo("0");
        assertThat(model.isDisplayed()).as("the start form is hidden while one runs").isFalse();

        int port = chat.get("port").asInt();
        try (HttpClient http = HttpClient.newHttpClient();
             TestClient client = TestClient.connect(http, URI.create("ws://127.0.0.1:" + port + "/chat"), null)) {
            client.send("join", "room", "lab");
            client.expect("joined");
            waitFor(d -> "1".equals(chatStat("connections")) && "1".equals(chatStat("received")) ? true : null);
            driver.findElement(By.id("chat-name")).sendKeys("alice");
            assertThat(link.getDomProperty("href")).isEqualTo(url + "?name=alice");
            screenshot("chat-running.png");
        }
        waitFor(d -> "0".equals(chatStat("connections")) ? true : null);

        driver.findElement(By.cssSelector("button[data-action=stop-chat]")).click();

        waitFor(d -> shown(d, "select[name=model]"));
        assertThat(ChatApiTest.accepts(port)).as("the chat's port after Stop").isFalse();
        assertThat(text(".system-page .notice"))
                .isEqualTo("Last chat server: vthreads on " + url + " stopped from the web lab.");
    }

    private String chatStat(String key) {
        WebElement found = first(driver, By.cssSelector(".chat-stats dd[data-stat=" + key + "]"));
        return found == null ? null : found.getText();
    }

    private static WebElement shown(SearchContext where, String css) {
        WebElement found = first(where, By.cssSelector(css));
        return found == null || !found.isDisplayed() ? null : found;
    }

    /** A lab served on every interface warns on its chat page that the chat's 127.0.0.1 link only works locally. */
    @Test
    void theChatPageOfALabServedBeyondLoopbackWarnsThatItsLinkOnlyWorksOnTheLabsMachine(@TempDir Path otherHome) {
        try (TestLab wide = new TestLab(otherHome, 1, "0.0.0.0")) {
            try {
                driver.get("http://127.0.0.1:" + wide.lab.port() + "/#/systems/chat");
                WebElement warning = waitFor(d -> shown(d, ".system-page[data-system=chat] .chat-remote"));
                assertThat(warning.getText()).isEqualTo("This lab is served beyond loopback, but its chat server "
                        + "listens on 127.0.0.1 only: the address and the client link below work only in a browser "
                        + "on the machine that runs the lab.");
            } finally {
                driver.get("about:blank"); // stop the page's polling before its lab closes
            }
        }
    }

    @Test
    void theJobsPageShowsTheQueuesAndDrawsTheGanttOfTheRunPicked() {
        List<String> runs = jobs.tinyRuns();
        String newest = runs.getLast();
        String older = runs.getFirst();
        open("#/systems/jobs");

        // the queues: what the fixture left (a sleep waiting in its queue, add and 2 × 2 DAG tasks succeeded)
        WebElement waiting = waitFor(d -> first(d, By.cssSelector(
                "section[data-jobs=queues] tr[data-queue='" + JobsFixture.WAITING_QUEUE + "']")));
        assertThat(cells(waiting)).containsExactly(JobsFixture.WAITING_QUEUE, "1");
        assertThat(counter("Queued (ready or delayed)")).isEqualTo("1");
        assertThat(counter("In flight (reserved)")).isEqualTo("0");
        assertThat(counter("Succeeded")).isEqualTo(String.valueOf(1 + 2 * runs.size()));
        assertThat(counter("Failed")).isEqualTo("1");
        assertThat(counter("Dead letters")).isEqualTo("1");
        WebElement dead = driver.findElement(By.cssSelector(
                "section[data-jobs=dead-letters] tr[data-task='" + jobs.deadId() + "']"));
        assertThat(cells(dead).get(1)).isEqualTo("fail-always");

        // the newest run is pressed and its Gantt drawn
        WebElement pressed = waitFor(d -> first(d, By.cssSelector("li.jobs-run button[aria-pressed=true]")));
        assertThat(pressed.findElement(By.xpath("..")).getDomAttribute("data-run-id")).isEqualTo(newest);
        assertThat(driver.findElements(By.cssSelector("li.jobs-run[data-run-id]")))
                .extracting(e -> e.getDomAttribute("data-run-id")).containsExactlyInAnyOrderElementsOf(runs);
        WebElement first = awaitGantt(newest, null);

        // Enter on the older run's button: that run is pressed, its Gantt drawn (a new canvas), the focus stays
        WebElement olderButton = driver.findElement(By.cssSelector("li.jobs-run[data-run-id='" + older + "'] button"));
        js("arguments[0].focus()", olderButton);
        press(Keys.ENTER);
        waitFor(d -> "true".equals(d.findElement(By.cssSelector("li.jobs-run[data-run-id='" + older + "'] button"))
                .getDomAttribute("aria-pressed")) ? true : null);
        assertThat(driver.findElements(By.cssSelector("li.jobs-run button[aria-pressed=true]"))).hasSize(1);
        awaitGantt(older, first);
        assertThat(focused().findElement(By.xpath("..")).getDomAttribute("data-run-id")).isEqualTo(older);
    }

    /**
     * The Gantt of runId: its head names the run, both tasks listed, and a canvas with something drawn on it, other
     * than {@code previous} (the last run's, replaced when the picked run's trace has arrived and been drawn).
     */
    private WebElement awaitGantt(String runId, WebElement previous) {
        waitFor(d -> first(d, By.cssSelector("section[data-jobs=gantt]:not([hidden]) .table-wrap[aria-label='Task instances of "
                + runId + "']")));
        WebElement gantt = driver.findElement(By.cssSelector("section[data-jobs=gantt]"));
        assertThat(gantt.findElements(By.cssSelector("tr[data-task]")))
                .extracting(e -> e.getDomAttribute("data-task")).containsExactly("first", "second");
        return waitFor(d -> {
            WebElement canvas = first(gantt, By.cssSelector(".timeline canvas"));
            return canvas != null && !canvas.equals(previous) && Boolean.TRUE.equals(js("""
                    const c = arguments[0];
                    const blank = document.createElement('canvas');
                    blank.width = c.width;
                    blank.height = c.height;
                    return c.width > 0 && c.height > 0 && c.toDataURL() !== blank.toDataURL();""", canvas))
                    ? canvas : null;
        });
    }

    private String counter(String name) {
        return cells(driver.findElement(By.cssSelector("section[data-jobs=queues] tr[data-counter='" + name + "']")))
                .get(1);
    }

    private static List<String> cells(WebElement row) {
        return row.findElements(By.tagName("td")).stream().map(WebElement::getText).toList();
    }

    // ---- page actions ----

    private String base() {
        return lab.address();
    }

    private void open(String hash) {
        driver.get(base() + hash);
    }

    private WebElement awaitPanel(String experiment) {
        return waitFor(d -> first(d, By.cssSelector("section.experiment[data-experiment='" + experiment + "']")));
    }

    private void awaitCard(String id) {
        waitFor(d -> d.getCurrentUrl().endsWith("#/card/" + id)
                && d.findElements(By.cssSelector("nav.crumbs [aria-current=page]")).stream()
                .anyMatch(e -> id.equals(e.getText())) ? true : null);
    }

    /** The record of a run started in this page (heading "This run"), or null while the panel shows none. */
    private static WebElement thisRun(WebElement panel) {
        WebElement record = first(panel, By.cssSelector(".run-result .record[data-status]"));
        return record != null && "This run".equals(record.findElement(By.tagName("h4")).getText()) ? record : null;
    }

    private void awaitHalfway(WebElement panel) {
        waitFor(d -> TestExperiments.HALFWAY.equals(panel.findElement(By.cssSelector(".progress .message")).getText())
                ? true : null);
        assertThat(panel.findElement(By.cssSelector(".progress progress")).getDomProperty("value")).isEqualTo("0.5");
        assertThat(panel.findElement(By.cssSelector(".progress .percent")).getText()).isEqualTo("50 %");
    }

    private void viewport(int width, int height, boolean mobile) {
        browser.viewport(width, height, mobile);
    }

    /** Types keys into whatever has the focus, as a reader would. */
    private void press(CharSequence keys) {
        new Actions(driver).sendKeys(keys).perform();
    }

    private WebElement focused() {
        return driver.switchTo().activeElement();
    }

    private void click(String css) {
        waitFor(d -> first(d, By.cssSelector(css))).click();
    }

    private String text(String css) {
        List<WebElement> found = driver.findElements(By.cssSelector(css));
        return found.isEmpty() ? "(no " + css + ")" : found.getFirst().getText();
    }

    private String theme() {
        return driver.findElement(By.tagName("html")).getDomAttribute("data-theme");
    }

    private String background() {
        return (String) js("return getComputedStyle(document.body).backgroundColor");
    }

    /** The relative luminance (0 black to 1 white) of a computed colour {@code rgb(r, g, b)}. */
    private static double luminance(String rgb) {
        String[] parts = rgb.replaceAll("[^0-9.,]", "").split(",");
        assertThat(parts).as(rgb).hasSizeGreaterThanOrEqualTo(3);
        double r = Double.parseDouble(parts[0]) / 255;
        double g = Double.parseDouble(parts[1]) / 255;
        double b = Double.parseDouble(parts[2]) / 255;
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    private void screenshot(String name) {
        browser.screenshot(name);
    }

    private static WebElement first(SearchContext where, By by) {
        List<WebElement> found = where.findElements(by);
        return found.isEmpty() ? null : found.getFirst();
    }

    private <T> T waitFor(Function<WebDriver, T> condition) {
        return waitFor(WAIT, condition);
    }

    private <T> T waitFor(Duration timeout, Function<WebDriver, T> condition) {
        return new WebDriverWait(driver, timeout, Duration.ofMillis(50))
                .ignoring(StaleElementReferenceException.class) // the page replaced what was found: look again
                .withMessage(() -> "page state: " + driver.getCurrentUrl() + " notice='" + text(".run-notice")
                        + "' main='" + abbreviate(text("main")) + "'")
                .until(condition::apply);
    }

    private static String abbreviate(String s) {
        return s.length() <= 400 ? s : s.substring(0, 400) + "…";
    }
}
