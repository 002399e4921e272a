"""The course page (lectures/course.md): its plan covers every lecture, one lecture per session."""

import re

from conftest import ROOT, lectures_with_code

COURSE = (ROOT / "lectures" / "course.md").read_text()
SESSION_ROW = re.compile(r"^\| (\d+) \| \{ref\}`([\w-]+)` \|", re.M)


def label(doc: str) -> str:
    match = re.search(r"^\(([\w-]+)\)=$", (ROOT / f"{doc}.md").read_text(), re.M)
    assert match, f"{doc}.md has no label"
    return match.group(1)


def teaching_labels() -> list[str]:
    """Labels of the lectures in the table of contents, in its order (the status page is not one)."""
    return [label(doc) for doc in lectures_with_code() if doc != "lectures/status"]


def sessions() -> list[tuple[int, str]]:
    return [(int(number), ref) for number, ref in SESSION_ROW.findall(COURSE)]


def test_sessions_are_numbered_in_order_one_lecture_each():
    rows = sessions()
    assert [number for number, _ in rows] == list(range(1, len(rows) + 1)), rows
    refs = [ref for _, ref in rows]
    assert len(refs) == len(set(refs)), f"a lecture has two sessions: {refs}"


def test_sessions_follow_the_table_of_contents():
    order = teaching_labels()
    refs = [ref for _, ref in sessions()]
    assert set(refs) <= set(order), set(refs) - set(order)
    assert refs == sorted(refs, key=order.index), "the sessions are not in the order of the table of contents"


def test_every_lecture_is_in_the_plan():
    missing = [name for name in teaching_labels() if f"{{ref}}`{name}`" not in COURSE]
    assert not missing, f"lectures the course page does not place: {missing}"


def test_the_plan_states_its_session_count():
    words = {8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen"}
    count = len(sessions())
    assert f"has {words.get(count, count)} sessions" in COURSE, f"the page does not say it has {count} sessions"
