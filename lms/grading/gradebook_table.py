"""The gradebook's student rows as HTML. A cohort of 600 with a handful of assignments is thousands
of cells; through Jinja each cell cost ~30 function calls (escape, getattr, loop bookkeeping) and
the table was most of the page's time, so the rows are joined here from pre-escaped pieces. The
markup is the template's (templates/grading/gradebook.html keeps the rest of the page)."""
from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup, escape

from lms.grading.gradebook import Gradebook


def student_rows(book: Gradebook, grade_urls: list[str], ticked: set[int], can_manage: bool) -> Markup:
    if not book.rows:
        return Markup('<tr><td colspan="%d">%s</td></tr>') % (len(book.assignments) + 4, _("No students enrolled."))
    to_grade = str(escape(_("to grade")))
    late = f'<span class="late" title="{escape(_("late penalty"))}">*</span>'
    links = [f'<td class="num"><a href="{escape(url)}' for url in grade_urls]
    out = []
    for row in book.rows:
        sid = row.student_id
        number = escape(row.student_number or "")
        parts = ["<tr>"]
        if can_manage:
            parts.append(f'<td><input type="checkbox" name="student" value="{sid}" form="extend-form" '
                         f'aria-label="{number}"{" checked" if sid in ticked else ""}></td>')
        parts.append(f"\n      <td>{number}</td><td>{escape(row.name_latin)}")
        if row.name_kana:
            parts.append(f' <span class="muted">{escape(row.name_kana)}</span>')
        parts.append("</td>\n      ")
        for link, cell in zip(links, row.cells):
            if cell is not None and cell.final is not None:
                text = f"{cell.final}{late if cell.penalty else ''}"
            elif cell is not None:
                text = to_grade
            else:
                text = "–"
            parts.append(f"{link}{sid}\">{text}</a></td>")
        score = "" if row.course_score is None else row.course_score
        parts.append(f'\n      <td class="num"><strong>{score}</strong></td></tr>\n  ')
        out.append("".join(parts))
    return Markup("".join(out))
