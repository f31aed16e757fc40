"""Validity of the metrics: the same reasoning, written in other styles, should get the same verdict
(issue 12). `references` reads a GSM8K reference solution into lines and computations and plants
errors into it, `styles` writes it the ways models write, `measure` scores every style.
"""

from faithbench.validity.measure import MEASURED_METRICS, PLANTS, StyleStats, ValidityResult, measure, verdict
from faithbench.validity.references import (
    Computation,
    Line,
    Num,
    Op,
    Piece,
    Reference,
    plant_answer,
    plant_question_number,
    plant_result,
    read_reference,
)
from faithbench.validity.styles import STYLES, render

__all__ = [
    "MEASURED_METRICS",
    "PLANTS",
    "STYLES",
    "Computation",
    "Line",
    "Num",
    "Op",
    "Piece",
    "Reference",
    "StyleStats",
    "ValidityResult",
    "measure",
    "plant_answer",
    "plant_question_number",
    "plant_result",
    "read_reference",
    "render",
    "verdict",
]
