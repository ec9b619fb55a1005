"""Every check name a finding can carry that a spec may `disable:` for one alert, in one place.

A leaf module (no imports): the spec types validate `disable: [{check: ...}]` against it, the README's table lists
the same names.
"""

from __future__ import annotations

SEMANTIC = (
    "promql/rate",  # rate/irate/increase over a gauge; a range too short for two scrapes
    "promql/counter",  # a counter compared or aggregated without rate()/increase()
    "promql/vector-matching",  # a binary operation whose sides cannot match (jobs), or many-to-many
    "promql/range-retention",  # a range or offset longer than the retention
    "promql/impossible",  # a condition that can never be true
    "promql/regexp",  # an invalid or pointless regular expression matcher
    "promql/fragile",  # results that change with the scrape set or from one evaluation to the next
    "alerts/comparison",  # an alert expression without a comparison (fires whenever the series exist)
    "alerts/for",  # absent() without `for`; a `for` no evaluation can hold
    "alerts/template",  # `$labels.x` that the alert's result does not carry
    "labels/external-conflict",  # an alert label that an external label overrides
    "rule/duplicate",  # two alerts with the same name and labels, or the same expression and labels
    "proof/coverage",  # a typed condition that `monstack test` cannot prove or `monstack drill` cannot drive
)

# Findings of these checks may be disabled too (they are about one alert and can be deliberate).
OTHER = ("labels", "metrics")

DISABLEABLE = SEMANTIC + OTHER
