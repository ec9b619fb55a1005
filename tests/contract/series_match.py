"""Stricter than metric and label names: does every selector of every rule (with its label values: mode="idle",
fstype!~..., job="...") match at least one series a real Prometheus has scraped?"""

from __future__ import annotations


def selector_texts(node) -> list[str]:
    """The vector selectors under a promql_parser node, as PromQL text."""
    if type(node).__name__ == "VectorSelector":
        return [str(node)]
    out = []
    for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            out += selector_texts(child)
    for arg in getattr(node, "args", None) or ():
        out += selector_texts(arg)
    return out


def empty_selectors(model, api, skip=lambda selector: False) -> list[str]:
    """"alert NAME: SELECTOR" for every rule selector that matches no series in `api` (a PrometheusAPI)."""
    import promql_parser  # noqa: PLC0415

    empty = []
    recorded = {r.record for r in model.spec.records}  # stored by recording rules (an SLO's), not scraped
    queries = [(f"alert {rule.name}", rule.expr) for rule in model.rules]
    queries += [(f"record {r.record}{{slo={r.labels.get('slo', '')}}}", r.expr) for r in model.spec.records]
    for where, expr in queries:
        for selector in sorted(set(selector_texts(promql_parser.parse(expr)))):
            if selector.split("{")[0] in recorded or skip(selector):
                continue
            if not api.get("/api/v1/query", query=f"count({selector})")["result"]:
                empty.append(f"{where}: {selector}")
    return empty
