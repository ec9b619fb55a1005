"""Shared bases for the spec models: unknown keys are errors, values are not coerced silently; a choice of kinds
holds exactly one."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, validate_default=True)


class OneOf(Strict):
    """Exactly one of the fields is given (`kind` names it, `body` is its value): a condition, an SLI."""

    what: ClassVar[str] = "kind"

    @model_validator(mode="after")
    def _exactly_one(self) -> "OneOf":
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            kinds = ", ".join(type(self).model_fields)
            raise ValueError(f"give exactly one {self.what} ({kinds}); got {len(given) or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)

    @property
    def body(self):
        return getattr(self, self.kind)
