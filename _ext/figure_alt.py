"""Sphinx extension: a glued figure's alt text on its ``<img>``.

``lu.glue(name, fig, alt="...")`` keeps the alt text with the figure, in the
output's metadata (``metadata["image/png"]["alt"]``, where IPython's ``Image``
and nbconvert's HTML export keep it).  myst-nb's ``{glue:figure}`` reads only
width and height from there, and an ``<img>`` without alt text gets its own
file name as alt text.  This extension replaces the directive with one that
passes the glued text on as its ``:alt:`` option, so the text has one source,
the cell that made the figure; it warns (an error in the site's ``-W`` build)
when a directive types its own ``:alt:`` for a figure that carries one.
"""

from __future__ import annotations

from myst_nb.ext.glue.directives import PasteFigureDirective
from myst_nb.ext.glue.utils import RetrievalError, glue_warning, retrieve_glue_data
from sphinx.application import Sphinx


def glued_alt(metadata: dict) -> str | None:
    """The alt text in a glued output's metadata (under its image's mime type), or None."""
    for mime, values in metadata.items():
        if mime.startswith("image/") and isinstance(values, dict) and values.get("alt"):
            return values["alt"]
    return None


class PasteFigureWithAlt(PasteFigureDirective):
    """``{glue:figure}``, with the alt text that was glued with the figure."""

    def run(self):
        try:
            alt = glued_alt(retrieve_glue_data(self.document, self.arguments[0]).metadata)
        except RetrievalError:
            return super().run()  # myst-nb reports the missing key
        if alt and "alt" in self.options:
            message = (
                f"{{glue:figure}} {self.arguments[0]}: alt text given twice, in the directive's :alt: "
                "and in lu.glue(..., alt=...); keep it in lu.glue only"
            )
            return [*super().run(), glue_warning(message, self.document, self.line)]
        if alt:
            self.options["alt"] = alt
        return super().run()


def setup(app: Sphinx) -> dict:
    app.setup_extension("myst_nb")
    app.add_directive_to_domain("glue", "figure", PasteFigureWithAlt, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
