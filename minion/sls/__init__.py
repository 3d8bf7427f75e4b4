"""The SLS engine: render formulas, compile them to ordered chunks, run them.

- `render`: the jinja context formulas see (``salt``, ``grains``, ``pillar``...).
- `gather`: top files and SLS files into *high data* (ids -> state decls),
  with ``include``, ``extend`` and ``exclude`` applied.
- `compile`: high data into *low chunks* (one per state function call and
  name), ordered, with requisites resolved to chunk tags and checked.
- `run`: executing chunks with Salt's requisite semantics.
"""

from __future__ import annotations


class SLSError(Exception):
    """A formula that cannot be compiled; the text names the SLS and the state id."""
