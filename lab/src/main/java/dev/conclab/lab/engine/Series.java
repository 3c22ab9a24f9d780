package dev.conclab.lab.engine;

import java.util.List;

/**
 * One line of a chart: the points of one named series, with the chart it belongs to and the axes' labels.
 * Series with the same {@code chart} are drawn together.
 */
public record Series(String chart, String name, String xLabel, String yLabel, List<Point> points) {

    public Series {
        points = List.copyOf(points);
    }

    public record Point(double x, double y) {
    }
}
