"""The "Side by side" tab's words: its table and its conclusion, from `aigc_core.compare` rows and findings.

Pure: no Streamlit call; the language comes in as a `Translator`, so a test (or a bench) builds the same table.
"""

from __future__ import annotations

import pandas as pd

from aigc_core.compare import Finding, Row
from ui.catalog import Translator

DASH = "—"  # not measured; the page says how to measure it
# The model's title names its family (DCGAN, Conditional VAE, …), so the table needs no family column.
COLUMNS = ("model", "score", "fid", "balance", "conditional", "speed", "params", "training")


def model_title(tr: Translator, name: str) -> str:
    return tr(f"compare.model.{name}")


def _fixed(value: float | None, digits: int) -> str:
    return DASH if value is None else f"{value:,.{digits}f}"


def milliseconds(seconds: float | None) -> str:
    """Seconds as milliseconds with about three significant digits: 0.0234, 1.28, 42.8, 310."""
    if seconds is None:
        return DASH
    ms = 1000 * seconds
    digits = 0 if ms >= 100 else 1 if ms >= 10 else 2 if ms >= 1 else 3
    return f"{ms:,.{digits}f}"


def _steps(count: int | None) -> str:
    if count is None:
        return DASH
    return f"{count / 1000:,.0f}k" if count >= 10_000 else f"{count:,}"


def _params(tr: Translator, count: int | None) -> str:
    if count is None:
        return DASH
    return tr("compare.millions", n=count / 1e6) if count >= 100_000 else f"{count:,}"


def _training(tr: Translator, row: Row) -> str:
    if row.train_seconds is None:
        return DASH
    return tr("compare.training_cell", minutes=row.train_seconds / 60, steps=_steps(row.train_steps),
              device=row.train_device or DASH)


def _marked(text: str, row: Row) -> str:
    """A figure measured here (not at training time) carries a mark the caption under the table explains."""
    return f"{text} *" if text != DASH and row.metrics_source == "here" else text


def table_frame(rows: list[Row], tr: Translator) -> pd.DataFrame:
    """One line per model, its figures formatted for reading ("—" where not measured), in the page's language."""
    lines = []
    for row in rows:
        balance = DASH if row.class_min is None else f"{row.class_min:,}–{row.class_max:,}"
        if not row.conditional:
            conditional = tr("compare.not_conditional")
        elif row.conditional_accuracy is None:
            conditional = DASH
        else:
            conditional = _marked(f"{100 * row.conditional_accuracy:.2f} %", row)  # .1f showed 99.98 % as 100.0 %
        lines.append({
            "model": model_title(tr, row.name),
            "score": _marked(_fixed(row.classifier_score, 2), row),
            "fid": _marked(_fixed(row.fid, 2), row),
            "balance": _marked(balance, row),
            "conditional": conditional,
            "speed": milliseconds(row.seconds_per_image),
            "params": tr("compare.params_cell", sampling=_params(tr, row.sampling_params),
                         total=_params(tr, row.total_params)),
            "training": _training(tr, row),
        })
    frame = pd.DataFrame(lines, columns=list(COLUMNS))
    return frame.rename(columns={key: tr(f"compare.col.{key}") for key in COLUMNS})


def column_help(tr: Translator) -> dict[str, str]:
    """Each translated column title -> its one-line explanation (the header's tooltip)."""
    return {tr(f"compare.col.{key}"): tr(f"compare.col_help.{key}") for key in COLUMNS}


def conclusion_lines(findings: list[Finding], tr: Translator) -> list[str]:
    """The conclusion, one sentence per finding, with model and family names and the numbers filled in."""
    lines = []
    for finding in findings:
        values = dict(finding.values)
        for key in ("model", "worst", "slowest", "largest"):
            if key in values:
                values[key] = model_title(tr, values[key])
        if "family" in values:
            values["family"] = tr(f"compare.family.{values['family']}")
        for key in ("params", "large_params"):
            if key in values:
                values[key] = _params(tr, values[key])
        for key in ("ms", "slow_ms"):  # findings hold milliseconds
            if key in values:
                values[key] = milliseconds(values[key] / 1000)
        if "by_family" in values:
            values["by_family"] = tr("compare.list_separator").join(
                tr("compare.family_fid", family=tr(f"compare.family.{family}"), model=model_title(tr, name), fid=fid)
                for family, name, fid in values["by_family"])
        lines.append(tr(f"compare.conclude.{finding.key}", **values))
    return lines
