"""runbooks/<Alert>.md: what fired and what it means, the threshold and its PromQL, likely causes, first checks
(with the PromQL to run), who is paged, and the dashboard. Prose, so Jinja2 (templates/runbook.md.j2); the spec's
`runbook:` text comes first, monstack's defaults for the condition kind after it."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Model, Rule
from ..panels import split_comparison
from ..spec.models import Alert
from .common import Stamp

FOLDER = "runbooks"


@dataclass(frozen=True)
class Check:
    text: str
    promql: str | None = None


# condition kind -> (what it means, likely causes)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "down": ("The service, or Prometheus' view of it, is gone: everything that depends on it is failing or blind.",
             ("the process or container stopped or crashed", "the host or network path is down",
              "the exporter lost its connection or credentials")),
    "availability": ("The service missed its availability objective over the window: users saw failures.",
                     ("repeated crashes or restarts", "a deployment that took the service down",
                      "network or DNS trouble between Prometheus and the service")),
    "threshold": ("A measured level crossed the value the team set as unhealthy.",
                  ("a change in load", "a stuck or slow dependency", "a recent deployment or configuration change")),
    "fraction": ("A resource is close to its limit; past it, the service degrades or stops.",
                 ("growth the capacity plan did not foresee", "a leak (memory, connections, files)",
                  "cleanup or retention jobs not running")),
    "ratio": ("Too large a share of the work fails or misbehaves.",
              ("a failing dependency (database, cache, third-party site)", "a bad deployment",
               "unusual or abusive traffic")),
    "increase": ("Events that should be rare (or steady) happened too often (or too rarely) over the window.",
                 ("a dependency that slowed down or changed", "a job that stopped running",
                  "a bug introduced by a recent change")),
    "quantile": ("The slow tail of requests is too slow: a part of the users wait too long.",
                 ("a slow dependency (queries, external calls)", "saturation (CPU, connections, workers)",
                  "a heavier kind of request than usual")),
    "average": ("Work takes longer on average than the table allows.",
                ("slower sources or dependencies", "more work per job (bigger pages, more items)",
                 "saturation of workers or the network")),
    "count": ("Too many (or too few) of the tracked things are in a bad state.",
              ("a job that processes them stopped or fails", "blocking or rate limiting by the other side",
               "stale series of things that no longer exist")),
    "age": ("Something that should happen regularly has not happened for too long (a last success is too old), or "
            "something is about to happen too soon (a certificate expires).",
            ("the job that updates the timestamp stopped running, fails, or cannot report (Pushgateway down)",
             "a renewal (certificate, token) that did not run or failed",
             "the exporter or the job stopped exposing the timestamp")),
    "absent": ("Series that should exist are gone: whatever alerts on them is blind, and what they measure may be "
               "down too.",
               ("the exporter, the batch job or the target stopped, or lost what it reported (a Pushgateway restart)",
                "the target was removed from service discovery (a scaled-down deployment, a changed label)",
                "a rename of the metric or of its labels in a new release")),
    "always": ("The Watchdog always fires: it proves the alerting pipeline works end to end.",
               ("if it stops arriving: Prometheus, Alertmanager or the route to the dead man's switch is down",)),
}


def render(model: Model, stamp: Stamp) -> dict[str, bytes]:
    import jinja2  # noqa: PLC0415

    from ..routes import channels, expected_receivers  # noqa: PLC0415
    from ..starter import templates_dir  # noqa: PLC0415

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir()), autoescape=False,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    template = env.get_template("runbook.md.j2")
    by_name = {r.name: r for r in model.spec.routing.receivers}
    receivers = {alert: [{"name": name, "channels": channels(by_name[name])} for name in names if name in by_name]
                 for alert, names in expected_receivers(model).items()}
    files = {}
    for rule in model.rules:
        alert = model.spec.alerts[rule.index]
        kind = alert.when.kind if alert.when is not None else None
        meaning, causes = KINDS.get(kind, ("See the alert's description.", ()))
        text = template.render(
            stamp=stamp.text(), alert=_view(alert, rule), meaning=alert.runbook.meaning or meaning,
            threshold=threshold_words(alert), every=str(alert.every) if alert.every else None,
            for_=str(rule.for_) if rule.for_.ms else None, expr=rule.expr,
            causes=[*alert.runbook.causes, *causes] or ["not known yet: add them under the alert's `runbook.causes`"],
            checks=[Check(c) for c in alert.runbook.checks] + first_checks(alert, rule),
            receivers=receivers.get(rule.name, []), dashboard=rule.annotations.get("dashboard"),
            notes=alert.runbook.notes)
        files[f"{FOLDER}/{rule.name}.md"] = text.encode()
    return files


@dataclass(frozen=True)
class _AlertView:
    name: str
    severity: str
    service: str | None
    group: str
    summary: str
    description: str


def _view(alert: Alert, rule: Rule) -> _AlertView:
    return _AlertView(alert.name, alert.severity, alert.service, rule.group, alert.summary, alert.description)


def threshold_words(alert: Alert) -> str:
    """The alert's condition and threshold in a sentence."""
    if alert.when is None:
        return "A raw PromQL condition (below): it fires for every series the expression returns."
    kind, b = alert.when.kind, alert.when.body
    limit = (f"above {alert.above.text}" if alert.above is not None else
             f"below {alert.below.text}" if alert.below is not None else "")
    over = f" over {b.over}" if getattr(b, "over", None) else (f" over {alert.every}" if alert.every else "")
    if kind == "down":
        return f"Fires when target `{b.target}` is down ({'its exporter cannot reach it' if b.check == 'service' else 'Prometheus cannot scrape it'})."
    if kind == "availability":
        return f"Fires when the share of successful scrapes of `{b.target}` over {b.over} is {limit}."
    if kind == "threshold":
        what = f"{b.aggregate} of `{b.metric}`" if b.aggregate else f"`{b.metric}`"
        return f"Fires when {what} is {limit}" + (f" (only where `{b.only_if}`)." if b.only_if else ".")
    if kind == "fraction":
        side = f"`{b.used}`" if b.used else f"the part of `{b.of}` not in `{b.free}`"
        return f"Fires when {side} is {limit} of `{b.of}` (skipped when `{b.of}` is 0)."
    if kind == "ratio":
        whole = " + ".join(f"`{w}`" for w in (b.whole if isinstance(b.whole, list) else [b.whole]))
        return f"Fires when `{b.part}` is {limit} of {whole}, as rates{over}{_floor_words(b, whole)}."
    if kind == "increase":
        what = f"`{b.counter}`" if b.counter else f"observations of `{b.histogram}` slower than {b.slower_than}"
        if b.minus:
            what = f"`{b.counter}` minus `{b.minus}` (the difference of their increases)"
        return f"Fires when {what} counts {limit}{over}."
    if kind == "quantile":
        return f"Fires when the P{b.q * 100:g} of `{b.histogram}`{over} is {limit}" \
               f"{_floor_words(b, f'`{b.histogram}_count`')}."
    if kind == "average":
        return f"Fires when the average of `{b.histogram}`{over} is {limit}{_floor_words(b, f'`{b.histogram}_count`')}."
    if kind == "age":
        what = f"the time since `{b.since}`" if b.since else f"the time left until `{b.until}`"
        return f"Fires when {what} is {limit}; " + (_absent_words(b) if b.fires_when_absent else
                                                     "an absent series is ignored (`if_absent: ignore`).")
    if kind == "absent":
        what = f"`{b.series}` has" if b.series else f"every series of target `{b.target}` (its `up`) has"
        return f"Fires when {what} been missing for {_window_of(alert, b)} (no sample in the window)."
    if kind == "count":
        test = (f"older than {b.older_than}" if b.older_than else f"above {b.above:g}" if b.above is not None
                else f"below {b.below:g}")
        share = f"share of `{b.series}` series {test} among `{b.of}`" if b.of else f"number of `{b.series}` series {test}"
        return f"Fires when the {share} is {limit}."
    return "Always fires."


def _floor_words(body, whole: str) -> str:
    if body.min_count is not None:
        return f", and only while {whole} counted at least {body.min_count} events over the window"
    if body.min_rate is not None:
        return f", and only while {whole} runs at {body.min_rate.text} or more"
    return ""


def _floor_text(body) -> str:
    return f"min_count: {body.min_count}" if body.min_count is not None else f"min_rate: {body.min_rate.text}"


def _absent_words(body) -> str:
    from ..proof.scenarios_more import equality_labels  # noqa: PLC0415
    from ..proof.series import Selector  # noqa: PLC0415

    labels = equality_labels(Selector.parse(body.selector))
    carried = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) or "none"
    words = (f"it also fires when no such series exists at all (`if_absent: fire`), and then carries only the "
             f"selector's equality labels ({carried}), not `instance`")
    if "job" not in labels:
        words += ("; the selector names no `job`, so that alert does not say which job stopped reporting: look for "
                  "the job that should expose it")
    return words + "."


def _window_of(alert: Alert, body) -> str:
    return str(body.over or alert.every or "its window")


def first_checks(alert: Alert, rule: Rule) -> list[Check]:
    checks = []
    split = split_comparison(rule.expr) if alert.when is not None else None
    # an exact quantile (`<query> and <share>`) has no comparison to split: its query is the value
    measured = split[0] if split is not None else rule.query if (alert.above or alert.below) else None
    if measured:
        checks.append(Check("See the measured value now (the alert's expression without its threshold):", measured))
    if alert.when is not None and alert.when.kind in ("down", "availability"):
        target = alert.when.body.target
        checks.append(Check(f"Is the target scraped, and since when is it down? (Prometheus > Status > Targets, "
                            f"job `{target}`)", f'up{{job="{target}"}}'))
    if alert.when is not None and alert.when.kind == "ratio":
        body = alert.when.body
        checks.append(Check("Which series make up the failing share?",
                            f"sum by (job, instance) (rate({body.part}[5m]))"))
    kind = alert.when.kind if alert.when is not None else None
    body = alert.when.body if alert.when is not None else None
    if kind in ("ratio", "quantile", "average") and (body.min_count is not None or body.min_rate is not None):
        guard = rule.guard.removeprefix(" and ").removeprefix(f"on ({', '.join(body.by)}) ")
        checks.append(Check("How much traffic is there? The alert stays silent under its traffic floor "
                            f"({_floor_text(body)}):", guard.rsplit(" >= ", 1)[0]))
    if kind == "age":
        checks.append(Check("Which series exist, and their age (or time left) in hours:",
                            f"(time() - {body.since}) / 3600" if body.since else f"({body.until} - time()) / 3600"))
    if kind == "absent":
        selector = body.series or f'up{{job="{body.target}"}}'
        checks.append(Check("How many such series exist now?", f"count({selector})"))
        if body.target:
            checks.append(Check(f"Is `{body.target}` still in service discovery? (Prometheus > Status > Service "
                                "discovery, and Targets)"))
    checks.append(Check("Look at what changed around the start of the alert: deployments, configuration, traffic."))
    return checks
