"""monstack: monitoring as code. One YAML spec -> Prometheus, Alertmanager (and more) configuration, proven.

The public surface is small: `monstack.pipeline` (resolve, generate, validate) and `monstack.errors`.
"""

__version__ = "0.1.0"
