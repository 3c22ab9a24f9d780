package dev.conclab.etl.scan;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class RangeScannerTest {

    /** The eight-bytes-at-a-time newline search against the plain loop, on bytes near '\n' (0x09, 0x0B, 0x8A...). */
    @Test
    void wordAtATimeNewlineSearchMatchesThePlainLoop() {
        SplittableRandom r = new SplittableRandom(5);
        byte[] alphabet = {'\n', 0x09, 0x0B, 0x0A ^ 0x01, (byte) 0x8A, 0x00, (byte) 0xFF, 'a', ','};
        for (int round = 0; round < 20_000; round++) {
            byte[] b = new byte[r.nextInt(1, 40)];
            for (int i = 0; i < b.length; i++) b[i] = r.nextInt(4) == 0 ? alphabet[r.nextInt(alphabet.length)] : (byte) 'x';
            int from = r.nextInt(b.length), to = r.nextInt(from, b.length + 1);
            int expected = -1;
            for (int i = from; i < to; i++) if (b[i] == '\n') { expected = i; break; }
            assertThat(RangeScanner.indexOfNewline(b, from, to)).isEqualTo(expected);
        }
    }

    /** The eight-bytes-at-a-time newline count against the plain loop, on bytes near '\n'. */
    @Test
    void wordAtATimeNewlineCountMatchesThePlainLoop() {
        SplittableRandom r = new SplittableRandom(7);
        byte[] alphabet = {'\n', 0x09, 0x0B, (byte) 0x8A, 0x00, (byte) 0xFF, 0x7F, 'a'};
        for (int round = 0; round < 20_000; round++) {
            byte[] b = new byte[r.nextInt(0, 50)];
            for (int i = 0; i < b.length; i++) b[i] = alphabet[r.nextInt(alphabet.length)];
            int len = r.nextInt(b.length + 1);
            long expected = 0;
            for (int i = 0; i < len; i++) if (b[i] == '\n') expected++;
            assertThat(NewlineCount.newlines(b, len)).isEqualTo(expected);
        }
    }
}
