"""Every check name a finding can carry that a spec may `disable:` for one alert, with what it catches, in one
place.

A leaf module (no imports): the spec types validate `disable: [{check: ...}]` against it, SARIF output describes
its rules with it, and the README's table lists the same names.
"""

from __future__ import annotations

SEMANTIC = {
    "promql/rate": "rate/irate/increase over a gauge, delta/deriv over a counter, a range too short for two scrapes",
    "promql/counter": "a counter compared or aggregated without rate()/increase()",
    "promql/vector-matching": "a binary operation whose sides come from different jobs and are matched on "
                              "job/instance, or a one-to-one match that leaves out instance (many-to-many)",
    "promql/range-retention": "a range or offset longer than the retention",
    "promql/impossible": "a condition that can never be true (up > 1, a share above 100%, contradicting matchers, "
                         "a label the metric does not carry)",
    "promql/regexp": "an invalid regexp matcher, or one that is no regexp, anchored, or matches everything",
    "promql/fragile": "results that change with the scrape set or from one evaluation to the next "
                      "(topk without by, without() on both sides)",
    "alerts/comparison": "an alert expression without a comparison (it fires whenever the series exist)",
    "alerts/for": "absent() without `for`; a `for` or `keep_firing_for` shorter than one evaluation",
    "alerts/template": "{{ $labels.x }} that the alert's result does not carry",
    "labels/external-conflict": "an alert label that an external label of the same name overrides",
    "rule/duplicate": "two alerts of one group with the same expression and labels",
    "proof/coverage": "a typed condition that `monstack test` cannot prove or `monstack drill` cannot drive",
}

# Findings of these checks may be disabled too (they are about one alert and can be deliberate).
OTHER = {
    "labels": "a label that no series of the expression carries, or a near miss of one",
    "metrics": "a metric no target declares or serves",
    "ruler/local-only": "with a central ruler: a metric remote_write drops, or the local Prometheus' rule engine "
                        "and notifier (which no longer run the alerts)",
}

DISABLEABLE = tuple(SEMANTIC) + tuple(OTHER)
DESCRIPTIONS = {**SEMANTIC, **OTHER}
