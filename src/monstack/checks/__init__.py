"""The checks: in-process findings on the resolved model, one module per family, each `check(model, source) ->
list[Diagnostic]` with its findings at the spec's lines; `pipeline.resolve` runs them all. They know what the real
tools know, so that `validate --offline` refuses what Prometheus, promtool, Alertmanager and amtool would refuse,
and more: what would not work in production.

- `text`: every string of a spec checked for the context it reaches (PromQL, templates, Markdown, names);
- `metrics`: the rules' PromQL parses, typed conditions name plain selectors, every metric is exposed by a target,
  `by:` labels are carried;
- `dashboards`: the spec's dashboards (queries, metrics, names, uids);
- `routing`: receivers, routes, labels the alerts carry, inhibitions, time intervals;
- `scrape`: selectors and targets no scrape job can serve (probes without targets, pushed jobs, job matchers);
- `bounds`: numbers nothing can use (proofs past their caps, fractional event counts);
- `compose`, `kubernetes`: what the deployment's output cannot carry.

Arrows point down: checks import the model (and may read a renderer's constants); the spec, the model and the
renderers import no check. Text rules shared by every step (RE2, Go templates, secrets) live in `syntax/`.
"""
