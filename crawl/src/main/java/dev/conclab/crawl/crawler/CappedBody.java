package dev.conclab.crawl.crawler;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A body handler that keeps at most {@code cap} bytes of a text response. A body that grows past the cap, or that is
 * not text, is abandoned at once (its subscription cancelled, so the client drops the connection instead of reading
 * it) and reported by its {@link ErrorKind}. Each subscriber is used by one exchange; the handler is thread-safe.
 */
record CappedBody(int cap) implements HttpResponse.BodyHandler<CappedBody.Body> {

    /** The bytes read, or why none were kept. */
    record Body(byte[] bytes, ErrorKind rejected) {
        static final Body EMPTY = new Body(new byte[0], null);
    }

    @Override
    public HttpResponse.BodySubscriber<Body> apply(HttpResponse.ResponseInfo info) {
        ErrorKind reject = null;
        if (info.statusCode() / 100 == 2) {
            String type = info.headers().firstValue("content-type").orElse("").toLowerCase(Locale.ROOT);
            long length = info.headers().firstValueAsLong("content-length").orElse(-1);
            if (!(type.startsWith("text/") || type.contains("html") || type.isEmpty())) {
                reject = ErrorKind.NOT_HTML;
            } else if (length > cap) {
                reject = ErrorKind.TOO_LARGE;
            }
        } else {
            return new Subscriber(0, ErrorKind.IO); // the body of a non-2xx answer is not needed: drop it
        }
        return new Subscriber(cap, reject);
    }

    private static final class Subscriber implements HttpResponse.BodySubscriber<Body> {
        private final int cap;
        private final ErrorKind reject;
        private final CompletableFuture<Body> result = new CompletableFuture<>();
        private Flow.Subscription subscription;
        private byte[] buffer = new byte[8192];
        private int size;

        Subscriber(int cap, ErrorKind reject) {
            this.cap = cap;
            this.reject = reject;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (reject != null) {
                s.cancel();
                result.complete(reject == ErrorKind.IO ? Body.EMPTY : new Body(new byte[0], reject));
            } else {
                s.request(Long.MAX_VALUE);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                int n = b.remaining();
                if (size + n > cap) {
                    subscription.cancel();
                    result.complete(new Body(new byte[0], ErrorKind.TOO_LARGE));
                    return;
                }
                if (size + n > buffer.length) {
                    buffer = java.util.Arrays.copyOf(buffer, Math.min(cap, Math.max(buffer.length * 2, size + n)));
                }
                b.get(buffer, size, n);
                size += n;
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(new Body(java.util.Arrays.copyOf(buffer, size), null));
        }

        @Override
        public CompletionStage<Body> getBody() {
            return result;
        }
    }
}
