package dev.conclab.lab.cli;

import dev.conclab.lab.cli.CliRun.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.conclab.lab.cli.CliRun.conclab;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code conclab etl ...}: generate, run, resume with a checkpoint, and one clear line for bad input. */
class EtlCommandTest {
    @TempDir
    Path dir;

    @Test
    void generateThenRunThenRerunFromTheCheckpoint() throws Exception {
        Path in = dir.resolve("in");
        Outcome gen = conclab("etl", "generate", "--out", in.toString(), "--size", "300KB", "--files", "2",
                "--bad-rate", "0.01", "--seed", "3");
        assertThat(gen.status()).as(gen.err()).isZero();
        assertThat(gen.out()).contains("2 files").contains("malformed");

        Path out = dir.resolve("out.csv");
        String[] run = {"etl", "run", "--input", in.toString(), "--output", out.toString(), "--threads", "2",
                "--checkpoint", dir.resolve("cp.db").toString(), "--range-size", "20KB", "--ceiling"};
        Outcome first = conclab(run);
        assertThat(first.status()).as(first.err()).isZero();
        assertThat(first.out()).contains("records loaded").contains("MB/s").contains("ceiling");
        assertThat(first.err()).contains("MB/s").contains("records/s");
        String loaded = Files.readString(out);
        assertThat(loaded).startsWith("country,day,orders,amount_eur\n");
        assertThat(Files.readAllLines(Path.of(out + ".rejects.csv")).size()).isGreaterThan(1);

        Outcome again = conclab(run); // everything committed: nothing scanned, same output
        assertThat(again.status()).isZero();
        assertThat(again.out()).containsPattern("\\(\\d+ resumed\\)");
        assertThat(Files.readString(out)).isEqualTo(loaded);
    }

    @Test
    void jsonLinesToSqlite() {
        Path in = dir.resolve("json");
        assertThat(conclab("etl", "generate", "--out", in.toString(), "--size", "100KB", "--files", "1",
                "--format", "jsonl", "--gzip").status()).isZero();
        Outcome r = conclab("etl", "run", "--input", in.toString(), "--format", "jsonl",
                "--output", "sqlite:" + dir.resolve("o.db"));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("sqlite:");
    }

    @Test
    void badInputIsOneClearLine() throws Exception {
        Outcome missing = conclab("etl", "run", "--input", dir.resolve("nope").toString(), "--output", "x.csv");
        assertThat(missing.status()).isEqualTo(2);
        assertThat(missing.err()).contains("input directory not found");

        Outcome size = conclab("etl", "generate", "--out", dir.toString(), "--size", "huge");
        assertThat(size.status()).isEqualTo(2);
        assertThat(size.err()).contains("bad size 'huge'");

        Outcome fmt = conclab("etl", "generate", "--out", dir.toString(), "--size", "1KB", "--format", "xml");
        assertThat(fmt.status()).isEqualTo(2);
        assertThat(fmt.err()).contains("unknown format 'xml'");

        Files.createDirectories(dir.resolve("empty"));
        Outcome empty = conclab("etl", "run", "--input", dir.resolve("empty").toString(), "--output", "x.csv");
        assertThat(empty.status()).isEqualTo(2);
        assertThat(empty.err()).contains("no *.csv");

        Outcome threads = conclab("etl", "run", "--input", dir.toString(), "--output", "x.csv", "--threads", "0");
        assertThat(threads.status()).isEqualTo(2);
        assertThat(threads.err()).contains("threads must be in");

        Outcome none = conclab("etl");
        assertThat(none.status()).isEqualTo(2);
        assertThat(none.err()).contains("generate or run");
    }
}
