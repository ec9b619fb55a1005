"""In-process checks that know what the real tools know, so that `validate --offline` refuses what Prometheus,
promtool, Alertmanager and amtool would refuse (and what would change meaning on the way):

- `regex`: regular expressions as Go's RE2 reads them (Prometheus matchers, Alertmanager `match_re`);
- `gotemplate`: Go text/template syntax (alert annotations and labels, Alertmanager titles and texts);
- `secrets`: credentials in URLs and known token shapes, and masking them out of every message;
- `text`: every string of a spec checked for the context it reaches (PromQL, templates, Markdown, names);
- `bounds`: numbers nothing can use (proofs past their caps, fractional event counts);
- `scrape`: selectors and targets no scrape job can serve (probes without targets, pushed jobs, job matchers).

`regex`, `gotemplate` and `secrets` are pure leaf modules (text in, a message or nothing out; the spec types use
them too); `text.check` walks a parsed spec, `bounds.check` and `scrape.check` the resolved model. The model and the
renderers import no check.
"""
