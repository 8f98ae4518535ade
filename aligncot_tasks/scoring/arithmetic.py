"""Exact values of arithmetic-expression answers (``56/8*2``, ``5 + 10 + 2.5``), never ``eval``.

Small models often state an answer as the sum they would compute (``The answer is 5 + 10 +
2.5``, ``{"answer": 56/8*2}``); the number they commit to is the expression's value, not
its first or last number. :func:`leading_expression` finds such an expression at the start
of an answer, :func:`evaluate` computes it with :class:`~fractions.Fraction` over a parsed
syntax tree that admits only numbers, ``+ - * /``, brackets, unary signs and ``**`` with a
small integer exponent -- no names, no calls, no attributes. Anything else is no value.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction

#: One operand as models write it: optional currency, thousands separators, decimals.
OPERAND = r"\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\$?\.\d+"
#: Arithmetic operators as models write them (``x`` and ``×`` multiply, ``÷`` divides).
OPERATOR = r"\*\*|[-−+*×x÷/^·]"
#: An expression: at least two operands joined by operators, with brackets and signs.
EXPRESSION_RE = re.compile(
    rf"[(\s]*[-−]?[(\s]*(?:{OPERAND})[)\s]*(?:(?:{OPERATOR})[(\s]*[-−]?[(\s]*(?:{OPERAND})[)\s]*)+"
)
#: A number literal the evaluator accepts: plain decimal digits.
DECIMAL_RE = re.compile(r"\d+(?:\.\d*)?|\.\d+")
#: Longest expression evaluated (real answers are short; this bounds parsing and nesting).
MAX_EXPRESSION_CHARS = 200
#: Largest exponent magnitude ``**`` may have (keeps exact powers small).
MAX_EXPONENT = 16
#: Largest numerator/denominator size, in bits, an intermediate value may reach.
MAX_BITS = 4096

#: How a model's operator symbols are spelled in Python syntax.
_SPELLING = str.maketrans({"−": "-", "×": "*", "x": "*", "÷": "/", "·": "*", "$": None, ",": None})
_OPS = {ast.Add: Fraction.__add__, ast.Sub: Fraction.__sub__, ast.Mult: Fraction.__mul__, ast.Div: Fraction.__truediv__}


def leading_expression(text: str) -> tuple[str, int] | None:
    """The arithmetic expression ``text`` opens with, and where it ends, or None.

    >>> leading_expression("5 + 10 + 2.5 dollars")
    ('5 + 10 + 2.5 ', 13)
    >>> leading_expression("18 - 2) more"), leading_expression("18 dollars") is None
    (('18 - 2', 6), True)
    """
    m = EXPRESSION_RE.match(text)
    if m is None or m.end() > MAX_EXPRESSION_CHARS:
        return None
    expression = m.group()
    while expression.count(")") > expression.count("(") and expression.rstrip().endswith(")"):
        expression = expression.rstrip()[:-1]  # "(so 18 - 2)": the bracket closes the prose
    return expression, len(expression)


def evaluate(expression: str) -> Fraction | None:
    """The exact value of an arithmetic expression, or None if it is anything else.

    >>> evaluate("56/8*2"), evaluate("5 + 10 + 10 + 2.5 + 2.5"), evaluate("9 x $2")
    (Fraction(14, 1), Fraction(30, 1), Fraction(18, 1))
    >>> evaluate("(1,000 - 1/3) ^ 2") == (1000 - Fraction(1, 3)) ** 2
    True
    >>> evaluate("2 ** 1000"), evaluate("1/0"), evaluate("__import__('os')"), evaluate("2 * x")
    (None, None, None, None)
    """
    if len(expression) > MAX_EXPRESSION_CHARS:
        return None
    source = expression.replace("^", "**").translate(_SPELLING).strip()
    try:
        tree = ast.parse(source, mode="eval")
        return _value(tree.body, source)
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, RecursionError, MemoryError):
        return None


def _value(node: ast.AST, source: str) -> Fraction | None:
    """Evaluate one whitelisted node; any other node makes the whole expression no value."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        digits = ast.get_source_segment(source, node)  # exact: from the digits, not the float
        return Fraction(digits) if digits and DECIMAL_RE.fullmatch(digits) else None  # not 1e999, 0x10
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _value(node.operand, source)
        return None if operand is None else -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left, source), _value(node.right, source)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Pow):
            if right.denominator != 1 or abs(right) > MAX_EXPONENT:
                return None
            result = left ** int(right)
        elif type(node.op) in _OPS:
            result = _OPS[type(node.op)](left, right)
        else:
            return None
        if max(result.numerator.bit_length(), result.denominator.bit_length()) > MAX_BITS:
            return None
        return result
    return None
