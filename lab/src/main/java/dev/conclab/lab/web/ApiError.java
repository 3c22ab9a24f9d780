package dev.conclab.lab.web;

/**
 * A request the API refuses: the HTTP status and one line naming the problem, answered as
 * {@code {"error": "..."}}. Immutable.
 */
final class ApiError extends RuntimeException {

    private final int status;

    ApiError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    int status() {
        return status;
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, message);
    }

    static ApiError notFound(String message) {
        return new ApiError(404, message);
    }
}
