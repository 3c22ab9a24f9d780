package dev.conclab.etl.parse;

import dev.conclab.etl.input.Sizes;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;

import static org.assertj.core.api.Assertions.assertThat;

class OrderParsersTest {
    private final OrderFields f = new OrderFields();

    private String csv(String line) {
        byte[] b = ("xx" + line + "yy").getBytes(StandardCharsets.US_ASCII); // parse a slice, not the whole array
        return new CsvOrderParser().parse(b, 2, b.length - 2, f);
    }

    private String json(String line) {
        byte[] b = line.getBytes(StandardCharsets.US_ASCII);
        return new JsonlOrderParser().parse(b, 0, b.length, f);
    }

    @Test
    void csvGoodRecord() {
        assertThat(csv("42,2026-03-01T23:59:59Z,C1000001,DE,123.45,USD,SHIPPED")).isNull();
        assertThat(f.id).isEqualTo(42);
        assertThat(f.epochDay).isEqualTo((int) LocalDate.of(2026, 3, 1).toEpochDay());
        assertThat(f.country).isEqualTo('D' << 8 | 'E');
        assertThat(f.amountCents).isEqualTo(12345);
        assertThat(Orders.CURRENCIES[f.currency]).isEqualTo("USD");
        assertThat(Orders.STATUSES[f.status]).isEqualTo("SHIPPED");
        assertThat(csv("1,2024-02-29T00:00:00Z,C1,FR,7,EUR,PAID")).isNull();
        assertThat(f.amountCents).isEqualTo(700);
        assertThat(csv("1,2024-02-29T00:00:00Z,C1,FR,7.5,EUR,PAID\r")).isNull();
        assertThat(f.amountCents).isEqualTo(750);
    }

    @Test
    void csvRejectReasons() {
        assertThat(csv("1,2026-13-40T00:00:00Z,C1,DE,1.00,EUR,PAID")).isEqualTo("bad timestamp");
        assertThat(csv("1,2025-02-29T00:00:00Z,C1,DE,1.00,EUR,PAID")).isEqualTo("bad timestamp");
        for (String time : new String[] {"24:00:00", "23:60:00", "23:59:60", "2a:00:00", "0/:00:00", "19:5:000"}) {
            assertThat(csv("1,2026-01-01T" + time + "Z,C1,DE,1.00,EUR,PAID")).as(time).isEqualTo("bad timestamp");
        }
        assertThat(csv("1,2026-01-01T19:59:59Z,C1,DE,1.00,EUR,PAID")).isNull();
        assertThat(csv("1,2026-01-01T00:00:00Z,C1,d3,1.00,EUR,PAID")).isEqualTo("bad country");
        assertThat(csv("1,2026-01-01T00:00:00Z,C1,DE,12x.50,EUR,PAID")).isEqualTo("bad amount");
        assertThat(csv("1,2026-01-01T00:00:00Z,C1,DE,-1.00,EUR,PAID")).isEqualTo("amount out of range");
        assertThat(csv("1,2026-01-01T00:00:00Z,C1,DE,0.00,EUR,PAID")).isEqualTo("amount out of range");
        assertThat(csv("1,2026-01-01T00:00:00Z,C1,DE,1.001,EUR,PAID")).isEqualTo("bad amount");
        assertThat(csv("1,2026-01-01T00:00:00Z,C1,DE,1.00,XYZ,PAID")).isEqualTo("unknown currency");
        assertThat(csv("1,2026-01-01T00:00:00Z,C1,DE,1.00,EUR,LOST")).isEqualTo("unknown status");
        assertThat(csv("1,2026-01-01T00:00:00Z,C1,DE,1.00")).isEqualTo("wrong field count");
        assertThat(csv("1,2026-01-01T00:00:00Z,C1,DE,1.00,EUR,PAID,x")).isEqualTo("wrong field count");
        assertThat(csv("")).isEqualTo("bad id");
        assertThat(csv("1,2026-01-01T00:00:00Z,X1,DE,1.00,EUR,PAID")).isEqualTo("bad customer");
    }

    @Test
    void jsonGoodRecordInAnyKeyOrder() {
        assertThat(json("{\"status\":\"PAID\", \"id\":7,\"ts\":\"2026-01-02T03:04:05Z\",\"customer\":\"C12\","
                + "\"country\":\"JP\",\"amount\":5000.00,\"currency\":\"JPY\"}")).isNull();
        assertThat(f.id).isEqualTo(7);
        assertThat(f.amountCents).isEqualTo(500000);
        assertThat(Orders.CURRENCIES[f.currency]).isEqualTo("JPY");
    }

    @Test
    void jsonRejectReasons() {
        String good = "\"id\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"customer\":\"C1\",\"country\":\"DE\",\"amount\":1.00,\"currency\":\"EUR\"";
        assertThat(json("{" + good + "}")).isEqualTo("missing field");
        assertThat(json("{" + good + ",\"status\":\"PAID\"")).isEqualTo("malformed JSON");
        assertThat(json("[1,2]")).isEqualTo("not a JSON object");
        assertThat(json("{" + good + ",\"status\":\"PAID\",\"id\":2}")).isEqualTo("duplicate field");
        assertThat(json("{" + good + ",\"status\":\"PAID\",\"x\":2}")).isEqualTo("unknown field");
        assertThat(json("{" + good.replace("\"amount\":1.00", "\"amount\":\"1.00\"") + ",\"status\":\"PAID\"}"))
                .isEqualTo("wrong field type");
        assertThat(json("{" + good + ",\"status\":\"PA\\\"ID\"}")).isEqualTo("escaped string");
    }

    @Test
    void sizes() {
        assertThat(Sizes.parse("1GB")).isEqualTo(1L << 30);
        assertThat(Sizes.parse("512mb")).isEqualTo(512L << 20);
        assertThat(Sizes.parse("64k")).isEqualTo(64L << 10);
        assertThat(Sizes.parse("1000")).isEqualTo(1000);
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException().isThrownBy(() -> Sizes.parse("lots"))
                .withMessageContaining("bad size 'lots'");
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException().isThrownBy(() -> RecordFormat.parse("xml"))
                .withMessageContaining("unknown format 'xml'");
    }
}
