"""The versioned spec types (`monstack/v1`), kept apart from the resolved internal model (`monstack.model`)."""

from .models import Spec

__all__ = ["Spec"]
