package dev.conclab.etl.parse;

import dev.conclab.etl.input.OrderGenerator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The fast path accepts only what the general parser accepts, with the same fields, and accepts every common line. */
class CsvFastPathTest {
    private final CsvOrderParser parser = new CsvOrderParser();
    private final OrderFields fast = new OrderFields();
    private final OrderFields general = new OrderFields();

    /** The line at {@code b[from..]} (newline-terminated) through both paths; returns whether the fast path took it. */
    private boolean agree(byte[] b, int from) {
        int nl = from;
        while (b[nl] != '\n') nl++;
        String reason = parser.parse(b, from, nl, general);
        int end = CsvFastPath.parseLine(b, from, b.length, fast);
        if (end < 0) return false;
        String line = new String(b, from, nl - from, StandardCharsets.US_ASCII);
        assertThat(end).as(line).isEqualTo(nl);
        assertThat(reason).as(line).isNull();
        assertThat(new long[] {fast.id, fast.epochDay, fast.country, fast.amountCents, fast.currency, fast.status})
                .as(line)
                .containsExactly(general.id, general.epochDay, general.country, general.amountCents, general.currency,
                        general.status);
        return true;
    }

    private static byte[] padded(String line) {
        byte[] b = Arrays.copyOf(line.getBytes(StandardCharsets.US_ASCII), line.length() + CsvFastPath.WINDOW);
        Arrays.fill(b, line.length(), b.length, (byte) 'x');
        b[b.length - 1] = '\n'; // a mutation may remove the line's own newline
        return b;
    }

    @Test
    void takesEveryGoodGeneratedLineAndLeavesEveryRejectToTheGeneralPath(@TempDir Path dir) throws Exception {
        new OrderGenerator().generate(new OrderGenerator.Spec(dir, 2 << 20, 1, RecordFormat.CSV, false, 0.02, 11));
        byte[] all;
        try (var files = Files.list(dir)) {
            all = Files.readAllBytes(files.findFirst().orElseThrow());
        }
        byte[] b = Arrays.copyOf(all, all.length + CsvFastPath.WINDOW);
        int good = 0, bad = 0;
        for (int p = all.length == 0 ? 0 : indexAfterNewline(b, 0); p < all.length; p = indexAfterNewline(b, p)) {
            int nl = p;
            while (b[nl] != '\n') nl++;
            boolean isGood = parser.parse(b, p, nl, general) == null;
            assertThat(agree(b, p)).as(new String(b, p, nl - p, StandardCharsets.US_ASCII)).isEqualTo(isGood);
            if (isGood) good++; else bad++;
        }
        assertThat(good).isGreaterThan(10_000);
        assertThat(bad).isGreaterThan(100);
    }

    private static int indexAfterNewline(byte[] b, int p) {
        while (b[p] != '\n') p++;
        return p + 1;
    }

    @Test
    void unusualButValidSpellingsAreLeftToTheGeneralPathOrParsedTheSame() {
        String[] lines = {
                "1,2024-02-29T00:00:00Z,C1,FR,7,EUR,PAID",          // no decimals: general path
                "1,2024-02-29T00:00:00Z,C1,FR,7.5,EUR,PAID",        // one decimal: general path
                "1,2024-02-29T00:00:00Z,C1,FR,7.50,EUR,PAID\r",     // CRLF: general path
                "1,2024-02-29T00:00:00Z,C1,FR,7.50,EUR,PAID",       // short customer
                "123456789012345678,2099-12-31T23:59:59Z,C123456789012,ZZ,1000000.00,SEK,REFUNDED",
                "0,2000-01-01T00:00:00Z,C0000000,AA,0000001.00,JPY,CANCELLED",
        };
        assertThat(agree(padded(lines[0] + "\n"), 0)).isFalse();
        assertThat(agree(padded(lines[1] + "\n"), 0)).isFalse();
        assertThat(agree(padded(lines[2] + "\n"), 0)).isFalse();
        assertThat(agree(padded(lines[3] + "\n"), 0)).isTrue();
        assertThat(agree(padded(lines[4] + "\n"), 0)).isTrue();
        assertThat(agree(padded(lines[5] + "\n"), 0)).isTrue();
    }

    /**
     * Lines in the common shape with one byte changed (to a byte near the expected ones, or anything): whatever the
     * fast path takes, the general path takes too, with the same fields.
     */
    @Test
    void mutatedLinesNeverDisagree() {
        SplittableRandom r = new SplittableRandom(3);
        byte[] alphabet = "0123456789,.-:TZC\n\r AZaz/;SPDRN\u00ff\u0080".getBytes(StandardCharsets.ISO_8859_1);
        int taken = 0;
        for (int round = 0; round < 200_000; round++) {
            String line = r.nextInt(1, 100_000_000) + "," + (2000 + r.nextInt(100)) + "-" + two(r.nextInt(1, 13)) + "-"
                    + two(r.nextInt(1, 32)) + "T" + two(r.nextInt(24)) + ":" + two(r.nextInt(60)) + ":"
                    + two(r.nextInt(60)) + "Z,C" + r.nextInt(1, 10_000_000) + "," + (char) ('A' + r.nextInt(26))
                    + (char) ('A' + r.nextInt(26)) + "," + r.nextInt(1_000_000) + "." + two(r.nextInt(100)) + ","
                    + Orders.CURRENCIES[r.nextInt(Orders.CURRENCIES.length)] + ","
                    + Orders.STATUSES[r.nextInt(Orders.STATUSES.length)] + "\n";
            byte[] b = padded(line);
            for (int k = r.nextInt(3); k > 0; k--) {
                byte mutation = r.nextBoolean() ? alphabet[r.nextInt(alphabet.length)] : (byte) r.nextInt(256);
                b[r.nextInt(line.length())] = mutation;
            }
            if (agree(b, 0)) taken++;
        }
        assertThat(taken).isGreaterThan(10_000);
    }

    private static String two(int v) { return v < 10 ? "0" + v : Integer.toString(v); }
}
