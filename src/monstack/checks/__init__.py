"""In-process checks that know what the real tools know, so that `validate --offline` refuses what Prometheus,
promtool, Alertmanager and amtool would refuse (and what would change meaning on the way):

- `regex`: regular expressions as Go's RE2 reads them (Prometheus matchers, Alertmanager `match_re`);
- `gotemplate`: Go text/template syntax (alert annotations and labels, Alertmanager titles and texts);
- `secrets`: credentials in URLs and known token shapes, and masking them out of every message;
- `text`: every string of a spec checked for the context it reaches (PromQL, templates, Markdown, names).

Each module is pure (text in, a message or nothing out) except `text.check`, which walks a parsed spec.
"""
