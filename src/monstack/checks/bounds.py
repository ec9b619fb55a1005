"""Numbers the spec may hold but nothing can use: work stays bounded and the generated tests mean what the
alert says.

- a typed alert whose proof would need more samples, or more series, than the caps of `proof.scenarios`;
- an `increase` counted in whole events with a fractional threshold (`above: 2.5` is `above: 2`);
- a negative share (`above: -5%`): always (or never) true.
"""

from __future__ import annotations

from ..errors import Diagnostic
from ..load import Source
from ..model import Model


def check(model: Model, source: Source) -> list[Diagnostic]:
    from ..proof.scenarios import budget  # noqa: PLC0415

    out: list[Diagnostic] = []
    for rule in model.rules:
        alert = model.spec.alerts[rule.index]
        if alert.when is None:
            continue
        where = ("alerts", rule.index)
        over = budget(alert, rule, model)
        if over is not None:
            out.append(source.diagnostic(where + (over[0],), over[1], check="bounds",
                                         hint="shorten `for` or the window, or give a share with `of:` for a count"))
        threshold = alert.above or alert.below
        if threshold is not None and threshold.kind == "percent" and threshold.value < 0:
            side = "above" if alert.above is not None else "below"
            out.append(source.diagnostic(where + (side,), f"{threshold.text}: a share is never negative, so this "
                                         f"alert would {'always' if side == 'above' else 'never'} fire",
                                         check="bounds", hint="write a share between 0% and 100%"))
        if alert.when.kind == "increase" and threshold is not None and threshold.kind == "number" \
                and not float(threshold.value).is_integer():
            side = "above" if alert.above is not None else "below"
            whole = int(threshold.value)
            out.append(source.diagnostic(
                where + (side,), f"events are whole: an increase {side} {threshold.value:g} means {side} "
                f"{whole if side == 'above' else whole + 1}", check="bounds",
                hint=f"write a whole number of events, or a rate such as {threshold.value:g}/h"))
    return out
