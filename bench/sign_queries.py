"""The SQL behind one petition page view and one sign POST, captured in-process, and where the
Python time of those two requests goes (mean wall time over repeated in-process calls).

Run by sign_load.py against its freshly seeded database (same environment as the gunicorn it
starts). Standalone: point DATABASE_URL (and the other variables of bench/_common.bench_env) at a
database seeded with `manage.py seed_demo`, then `.venv/bin/python bench/sign_queries.py`
(`--profile 150`: a cProfile of 150 sign POSTs instead of the mean timings; `--ours` adds a
list of the project's own functions).
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from campaigns import selectors, services  # noqa: E402
from campaigns.forms import SignatureForm  # noqa: E402
from campaigns.models import Signature  # noqa: E402
from campaigns.templatetags.campaign_text import render_markdown  # noqa: E402
from outbox.models import Email  # noqa: E402

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHALLENGE = re.compile(r'<altcha-widget[^>]*?\schallenge="([^"]+)"')


def _solved(page_html: str) -> str:
    """What the browser's widget posts: the page's own challenge, solved (a post without one
    needs an aged form token since foundation/nojs.py, which a benchmark cannot wait for)."""
    import html
    import json

    import altcha

    found = CHALLENGE.search(page_html)
    assert found is not None, "no proof-of-work challenge on the page"
    challenge = altcha.Challenge.from_dict(json.loads(html.unescape(found.group(1))))
    solution = altcha.solve_challenge(challenge, timeout=10)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


def _captured(context: CaptureQueriesContext) -> list[dict[str, str]]:
    """The statements of one request, copied at once: Django empties the connection's query log
    when the next request starts, and the context only slices that log when asked."""
    return list(context.captured_queries)


def _show(title: str, queries: list[dict[str, str]]) -> None:
    print(f"{title}: {len(queries)} queries")
    for n, query in enumerate(queries, 1):
        text = " ".join(query["sql"].split())
        print(f"  {n:2}. [{float(query['time']) * 1000:5.1f} ms] {text[:220]}")


def _mean_ms(fn: Callable[[], object], repeat: int = 40) -> tuple[float, float]:
    """Mean wall time and mean CPU time of this process (the Python side: the database's work
    and the waiting are not in it), in ms. On a shared machine the CPU time is the steadier."""
    fn()
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        fn()
    wall = (time.perf_counter() - started) / repeat * 1000
    return wall, (time.process_time() - cpu_started) / repeat * 1000


def _timings(client: Client, url: str, form: dict[str, str]) -> None:
    petition = selectors.petitions_open().first()
    assert petition is not None
    cosponsors = list(selectors.campaign_cosponsors(campaign=petition.campaign))
    numbers = itertools.count()

    run = time.time_ns()

    # Each post spends its proof of work: solved beforehand, outside the timing.
    solved = [_solved(client.get(url).content.decode()) for _ in range(42)]

    def post() -> None:
        data = {
            **form,
            "email": f"bench-timing-{run}-{next(numbers)}@example.org",
            "altcha": solved.pop(),
        }
        assert client.post(url, data).status_code == 302

    def create() -> None:
        services.signature_create(
            petition=petition,
            name="Bench Signer",
            email=f"bench-service-{run}-{next(numbers)}@example.org",
            country="DE",
        )

    signature = Signature.objects.filter(petition=petition).select_related("petition").first()
    links = {f"{k}_url": "https://coalition.example/x/" + "t" * 60 for k in _LINKS}
    mail = {"signature": signature, "petition": petition, "site_url": "https://x", **links}

    def render_mail() -> None:
        render_to_string("campaigns/email/confirm_subject.txt", mail)
        render_to_string("campaigns/email/confirm_body.txt", mail)

    blank = SignatureForm(cosponsors=cosponsors)
    context = {"form": blank, "petition": petition, "source": ""}
    steps: list[tuple[str, Callable[[], object]]] = [
        ("GET petition page", lambda: client.get(url)),
        ("POST sign", post),
        ("  services.signature_create(...) alone", create),
        ("    render the confirmation mail", render_mail),
        ("  SignatureForm(...) construction", lambda: SignatureForm(cosponsors=cosponsors)),
        ("  render the whole sign form", lambda: render_to_string(_FORM, context)),
        ("  render the country <select> alone", lambda: str(blank["country"])),
        ("  markdown (now stored on save)", lambda: render_markdown(petition.text)),
    ]
    # Since issue 11 the confirmation is rendered by the worker that sends it, not in the POST.
    renderer = getattr(services, "signer_mail_render", None)
    if renderer is not None:
        queued = Email.objects.filter(kind="campaigns.confirm", body_text="").exclude(renderer="")
        email = queued.order_by("-pk").first()
        if email is not None:
            steps.append(("worker: render a queued confirmation", lambda: renderer(email)))
    print("In-process time, mean (one process, no concurrency): wall (with DB round trips), CPU")
    for label, fn in steps:
        wall, cpu = _mean_ms(fn)
        print(f"  {label:<38} {wall:6.2f} ms  {cpu:6.2f} ms")
    print(f"  (country choices: {len(list(blank.fields['country'].choices))})")


_FORM = "campaigns/_sign_form.html"
_LINKS = ("confirm", "not_me", "withdraw")


def _profile(client: Client, url: str, form: dict[str, str], count: int) -> None:
    """Where a sign POST's CPU goes: ``count`` POSTs, urlencoded as browsers send them, under
    cProfile with ``time.process_time``; the top functions by own and by cumulative time."""
    import cProfile
    import pstats
    from urllib.parse import urlencode

    run = time.time_ns()
    bodies = []
    for n in range(count + 1):
        data = {**form, "email": f"bench-profile-{run}-{n}@example.org"}
        data["altcha"] = _solved(client.get(url).content.decode())
        bodies.append(urlencode(data))
    urlencoded = "application/x-www-form-urlencoded"
    assert client.post(url, bodies.pop(), content_type=urlencoded).status_code == 302  # warm
    profile = cProfile.Profile(time.process_time)
    started = time.process_time()
    profile.enable()
    for body in bodies:
        client.post(url, body, content_type=urlencoded)
    profile.disable()
    cpu = (time.process_time() - started) / count * 1000
    print(f"Profile of {count} sign POSTs: {cpu:.2f} ms of CPU each under the profiler")
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(60)
    if "--ours" in sys.argv:  # the project's own functions only
        ours = r"/(campaigns|foundation|outbox|coalition|members|privacy)/"
        stats.sort_stats("cumulative").print_stats(ours, 60)


def main() -> None:
    petition = selectors.petitions_open().first()
    if petition is None:
        raise SystemExit("no open petition: run `manage.py seed_demo` first")
    url = petition.get_absolute_url()
    # The real middleware stack, CSRF enforced as in production; the host gunicorn would see.
    client = Client(enforce_csrf_checks=True, SERVER_NAME="127.0.0.1")
    client.get(url)  # warm: templates, translations, the content-type cache
    with CaptureQueriesContext(connection) as page:
        response = client.get(url)
    page_queries = _captured(page)
    assert response.status_code == 200, response.status_code
    match = TOKEN.search(response.content.decode())
    assert match is not None
    form = {
        "csrfmiddlewaretoken": match.group(1),
        "name": "Query Counter",
        "email": f"bench-queries-{time.time_ns()}@example.org",
        "country": "DE",
        "display": "anonymous",
        "source": "",
        "website": "",
    }
    form["altcha"] = _solved(response.content.decode())
    with CaptureQueriesContext(connection) as sign:
        response = client.post(url, form)
    sign_queries = _captured(sign)
    assert response.status_code == 302, response.status_code
    form["email"] = f"bench-queries-{time.time_ns()}@example.org"
    form[f"consent_{selectors.campaign_cosponsors(campaign=petition.campaign)[0].slug}"] = "on"
    form["altcha"] = _solved(client.get(url).content.decode())
    with CaptureQueriesContext(connection) as consent:
        response = client.post(url, form)
    consent_queries = _captured(consent)
    assert response.status_code == 302, response.status_code
    _show(f"GET {url}", page_queries)
    _show(f"POST {url} (sign, no consent)", sign_queries)
    _show(f"POST {url} (sign, one consent box ticked)", consent_queries)
    del form[next(k for k in form if k.startswith("consent_"))]
    if "--profile" in sys.argv:
        _profile(client, url, form, int(sys.argv[sys.argv.index("--profile") + 1]))
        return
    _timings(client, url, form)


if __name__ == "__main__":
    main()
