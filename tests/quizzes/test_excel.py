"""Question banks from Excel: a documented layout, a template to download, a row-by-row report, and nothing
imported when any row is wrong. The analytics export opens in openpyxl with Chinese headers."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from backend.quizzes import banks, excel
from backend.quizzes.models import Question
from tests.quizzes.helpers import owned_course

HEADER = ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F", "答案", "解析", "分值"]
GOOD = [
    ["单选", "班会课一般由谁主持？", "班主任", "校长", "家长", None, None, None, "A", "班会由班主任主持。", 2],
    ["多选题", "家校沟通可以使用哪些方式？", "家访", "家长会", "不沟通", "电话", None, None, "A、B、D", None, None],
    ["判断", "班主任应当关注每一名学生。", None, None, None, None, None, None, "对", None, 1],
    ["填空", "规定由____发布。", None, None, None, None, None, None, "教育部｜国家教育部", None, 1],
    ["简答", "简述主题班会的设计要点。", None, None, None, None, None, None, "目标明确", None, 10],
]


def sheet(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _bank(session, course, trainer):  # type: ignore[no-untyped-def]
    return banks.create_bank(session, title="导入题库", topic="norms", course_code=course.code, actor_id=trainer.id)


def _count(session, bank_id: int) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(Question).where(Question.bank_id == bank_id))


def test_a_good_sheet_imports_every_type(client_for, session) -> None:
    course, trainer = owned_course(session)
    bank = _bank(session, course, trainer)
    web = client_for(trainer)
    r = web.post(f"/studio/banks/{bank.id}/import", files={"file": ("题库.xlsx", sheet(GOOD), excel.XLSX_TYPE)},
                 follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "imported=5" in r.headers["location"]
    questions = list(session.scalars(select(Question).where(Question.bank_id == bank.id).order_by(Question.position)))
    assert [q.kind for q in questions] == ["single", "multiple", "truefalse", "fill", "essay"]
    assert questions[0].answer == [0] and questions[0].points == 2 and questions[0].explanation == "班会由班主任主持。"
    assert questions[1].answer == [0, 1, 3] and questions[1].options == ["家访", "家长会", "不沟通", "电话"]
    assert questions[2].answer == [0] and questions[2].options == ["正确", "错误"]
    assert questions[3].accepted == ["教育部", "国家教育部"]
    assert questions[4].accepted == ["目标明确"] and questions[4].points == 10
    page = web.get(r.headers["location"]).text
    assert "简述主题班会的设计要点" in page


def test_one_bad_row_imports_nothing_and_the_report_names_the_row_and_column(client_for, session) -> None:
    course, trainer = owned_course(session)
    bank = _bank(session, course, trainer)
    rows = [*GOOD[:2], ["单选", "哪个选项？", "甲", "乙", None, None, None, None, "C", None, None], *GOOD[2:]]
    web = client_for(trainer)
    r = web.post(f"/studio/banks/{bank.id}/import", files={"file": ("题库.xlsx", sheet(rows), excel.XLSX_TYPE)})
    assert r.status_code == 422
    assert _count(session, bank.id) == 0
    report = r.text.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    cells = [c.strip() for c in report.replace("<td class=\"num\">", "<td>").split("<td>")[1:]]
    assert cells[0].startswith("4<") and cells[1].startswith("答案<")  # header is row 1, the bad row is row 4
    assert report.count("<tr>") == 2  # the header row and one problem


def test_the_parser_reports_every_kind_of_mistake() -> None:
    rows = [
        ["问卷", "题干", None, None, None, None, None, None, "A", None, None],  # unknown type
        ["单选", "", "甲", "乙", None, None, None, None, "A", None, None],  # empty question
        ["多选", "缺选项", "甲", None, "丙", None, None, None, "AC", None, None],  # a gap in the options
        ["判断", "判断题", None, None, None, None, None, None, "也许", None, None],  # not 正确/错误
        ["填空", "填空题", None, None, None, None, None, None, "", None, None],  # no accepted answer
        ["单选", "分值", "甲", "乙", None, None, None, None, "A", None, "2.5"],  # points not whole
        ["单选", "两个答案", "甲", "乙", None, None, None, None, "AB", None, None],  # single with two letters
    ]
    try:
        excel.parse_questions(io.BytesIO(sheet(rows)))
    except excel.ImportRejected as exc:
        found = {(e.row, e.column) for e in exc.errors}
    else:
        raise AssertionError("the sheet should have been rejected")
    assert found == {(2, "题型"), (3, "题干"), (4, "选项B"), (5, "答案"), (6, "答案"), (7, "分值"), (8, "答案")}


def test_a_missing_column_or_a_file_that_is_not_a_workbook_is_refused(client_for, session) -> None:
    course, trainer = owned_course(session)
    bank = _bank(session, course, trainer)
    web = client_for(trainer)
    no_answer = sheet([["单选", "题", "甲", "乙"]], header=["题型", "题干", "选项A", "选项B"])
    r = web.post(f"/studio/banks/{bank.id}/import", files={"file": ("a.xlsx", no_answer, excel.XLSX_TYPE)})
    assert r.status_code == 422 and "答案" in r.text.split('id="import-errors"', 1)[1]
    r = web.post(f"/studio/banks/{bank.id}/import", files={"file": ("a.xlsx", b"not excel", excel.XLSX_TYPE)})
    assert r.status_code == 422 and 'class="field-error"' in r.text
    assert _count(session, bank.id) == 0


def test_the_template_downloads_and_imports_cleanly(client_for, session) -> None:
    course, trainer = owned_course(session)
    web = client_for(trainer)
    r = web.get("/studio/banks/template.xlsx")
    assert r.status_code == 200 and r.headers["content-type"] == excel.XLSX_TYPE
    assert "attachment" in r.headers["content-disposition"] and "UTF-8''" in r.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(r.content))
    assert [c.value for c in workbook["题目"][1]] == HEADER and "说明" in workbook.sheetnames
    assert len(excel.parse_questions(io.BytesIO(r.content))) == 5  # its examples are valid rows


def test_a_question_typed_in_the_studio_follows_the_same_rules(client_for, session) -> None:
    course, trainer = owned_course(session)
    bank = _bank(session, course, trainer)
    web = client_for(trainer)
    bad = web.post(f"/studio/banks/{bank.id}/questions",
                   data={"kind": "single", "prompt": "题", "options": "甲\n乙", "answer": "D"})
    assert bad.status_code == 422 and 'class="field-error"' in bad.text
    good = web.post(f"/studio/banks/{bank.id}/questions",
                    data={"kind": "fill", "prompt": "填空", "answer": "甲|乙", "points": "3"}, follow_redirects=False)
    assert good.status_code == 303
    assert _count(session, bank.id) == 1
