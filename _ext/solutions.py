"""Sphinx extension: build the site without worked solutions (``make book-nosolutions``).

sphinx-exercise has a ``hide_solutions`` option, but in version 1.2.1 it breaks
on gated solutions (``solution-start`` / ``solution-end``, the form our
lectures use so that a solution can hold code cells): the end marker is left
behind and the solution's content stays on the page.  This transform instead
removes each solution once sphinx-exercise has merged it into one node.
"""

from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx_exercise.nodes import solution_node


class RemoveSolutions(SphinxTransform):
    default_priority = 11  # after sphinx-exercise's MergeGatedSolutions (10)

    def apply(self) -> None:
        if not self.config.lectures_hide_solutions:
            return
        for node in list(self.document.findall(solution_node)):
            node.parent.remove(node)


def setup(app: Sphinx) -> dict:
    app.add_config_value("lectures_hide_solutions", False, "env")
    app.add_transform(RemoveSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
