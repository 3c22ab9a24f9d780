"""A concurrent web crawler two ways, against the lab's local test site.

The site (its base URL passed as ``--base``, e.g. http://127.0.0.1:PORT) serves
``/robots.txt`` and pages ``/page/N`` that link to each other in several
spellings (absolute, relative, with a fragment, with tracking query noise).
Both crawlers start at ``/page/0``, obey robots.txt (urllib.robotparser),
normalize every link (urljoin, drop the fragment and the query) and fetch each
URL once.

threads  BASELINE of the Python side: a ThreadPoolExecutor(max_workers=N) of
         blocking urllib.request fetches; the main thread parses each page
         (html.parser) as its future completes and submits the new links.
         Blocking socket reads release the GIL, so N fetches wait at once.
aiohttp  one asyncio event loop: a task per URL, at most N in flight through
         both TCPConnector(limit=N) and an asyncio.Semaphore(N).

Prints one JSON object: interpreter facts, aiohttp's version and TCPConnector
defaults, ThreadPoolExecutor's default max_workers, and per variant the best
elapsed_s of --repeat runs, the page numbers found and the requests sent.
"""

import argparse
import asyncio
import concurrent.futures
import inspect
import sys
import time
import urllib.request
import urllib.robotparser
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import aiohttp

from probelib import emit, positive_int

AGENT = "conclab-probe"


class LinkParser(HTMLParser):
    """Collects the href of every <a> tag."""

    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value:
                    self.links.append(value)


def links(base_url, html):
    parser = LinkParser()
    parser.feed(html)
    return [normalize(base_url, href) for href in parser.links]


def normalize(base_url, href):
    """Absolute http(s) URL without fragment or query, or None (this site's query is only tracking noise)."""
    url, _fragment = urldefrag(urljoin(base_url, href))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", "", ""))


def robots(base):
    rp = urllib.robotparser.RobotFileParser(base + "/robots.txt")
    rp.read()
    return rp


def page_number(url):
    path = urlsplit(url).path
    return int(path.rsplit("/", 1)[1]) if path.startswith("/page/") else -1


def crawl_threads(base, n):
    """ThreadPoolExecutor + urllib: up to n blocking fetches at once; parsing and dedupe on the main thread."""
    rp = robots(base)
    host = urlsplit(base).netloc
    seen, found, requests = set(), [], 1  # robots.txt counted

    def fetch(url):
        request = urllib.request.Request(url, headers={"User-Agent": AGENT})
        with urllib.request.urlopen(request, timeout=5) as response:
            return url, response.read().decode("utf-8", "replace")

    def allowed(url):
        return url is not None and urlsplit(url).netloc == host and rp.can_fetch(AGENT, url)

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        start = base + "/page/0"
        seen.add(start)
        pending = {pool.submit(fetch, start)}
        while pending:
            done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                url, html = future.result()
                requests += 1
                found.append(page_number(url))
                for link in links(url, html):
                    if allowed(link) and link not in seen:
                        seen.add(link)
                        pending.add(pool.submit(fetch, link))
    return found, requests


async def crawl_aiohttp(base, n):
    """asyncio + aiohttp: a task per URL, at most n in flight (connector limit and a semaphore)."""
    rp = robots(base)  # one blocking read before the loop's work starts
    host = urlsplit(base).netloc
    seen, found = set(), []
    requests = 1
    limit = asyncio.Semaphore(n)
    connector = aiohttp.TCPConnector(limit=n)
    async with aiohttp.ClientSession(connector=connector, headers={"User-Agent": AGENT},
                                     timeout=aiohttp.ClientTimeout(total=5)) as session:
        async with asyncio.TaskGroup() as group:

            async def visit(url):
                nonlocal requests
                async with limit:
                    async with session.get(url) as response:
                        html = await response.text()
                requests += 1
                found.append(page_number(url))
                for link in links(url, html):
                    if link is not None and urlsplit(link).netloc == host and link not in seen \
                            and rp.can_fetch(AGENT, link):
                        seen.add(link)
                        group.create_task(visit(link))

            start = base + "/page/0"
            seen.add(start)
            group.create_task(visit(start))
    return found, requests


def best(repeat, run):
    best_s, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = run()
        elapsed = time.perf_counter() - t0
        if elapsed < best_s:
            best_s, result = elapsed, out
    found, requests = result
    return {"elapsed_s": best_s, "pages": sorted(found), "requests": requests}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the site's base URL, http://127.0.0.1:PORT")
    parser.add_argument("--concurrency", type=positive_int, default=16)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args(argv)
    base = args.base.rstrip("/")
    defaults = inspect.signature(aiohttp.TCPConnector.__init__).parameters
    result = {"aiohttp_version": aiohttp.__version__,
              "default_limit": defaults["limit"].default,
              "default_limit_per_host": defaults["limit_per_host"].default,
              "default_max_workers": concurrent.futures.ThreadPoolExecutor()._max_workers}
    result["threads"] = best(args.repeat, lambda: crawl_threads(base, args.concurrency))
    result["aiohttp"] = best(args.repeat, lambda: asyncio.run(crawl_aiohttp(base, args.concurrency)))
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
