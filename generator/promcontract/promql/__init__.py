"""PromQL as a tree: parsed by promql-parser (the Rust parser of Prometheus' grammar, with
Python bindings), mirrored into frozen dataclasses that can be walked, compared, rewritten and
printed back as PromQL. No regular expression reads PromQL anywhere in promcontract.

Used by the mutation engine (rewrite a node, print the mutant), characterization (find
selectors, comparisons, literals) and lint (what labels a result keeps).
"""

from __future__ import annotations

from promcontract.promql.nodes import (
    Aggregate,
    Binary,
    Call,
    Matcher,
    Matrix,
    Node,
    Number,
    Paren,
    Selector,
    String,
    Subquery,
    Unary,
    children,
    replace_child,
    text,
    walk,
)
from promcontract.promql.parse import ParseError, metrics_read, parse

__all__ = ["Aggregate", "Binary", "Call", "Matcher", "Matrix", "Node", "Number", "Paren",
           "Selector", "String", "Subquery", "Unary", "ParseError", "children", "metrics_read",
           "parse", "replace_child", "text", "walk"]
