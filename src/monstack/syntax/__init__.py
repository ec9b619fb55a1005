"""Text as the real tools read it, for every step to use (pure leaf modules: text in, a message or nothing out):

- `regex`: regular expressions as Go's RE2 reads them (Prometheus matchers, Alertmanager `match_re`);
- `gotemplate`: Go text/template syntax (alert annotations and labels, Alertmanager titles and texts);
- `secrets`: credentials in URLs and known token shapes, and masking them out of every message.

The spec types, the model, the proofs and the checks import them; they import nothing of monstack's.
"""
