"""Excel in and out, the way Chinese trainers keep question banks: importing questions, the blank template, and the
course analytics export. The column names are part of the file format, so they are Chinese in every locale.

Import layout (first worksheet, headers in row 1, any column order; one question per row; empty rows are skipped):

    题型      单选 | 多选 | 判断 | 填空 | 简答   (单选题, 多选题, 判断题, 填空题, 简答题/问答题 are accepted too)
    题干      the question
    选项A…选项F  the options of a choice question, filled from A without gaps (2 to 6)
    答案      单选: one letter (A); 多选: letters (ABD, A,B,D or A、B、D); 判断: 正确/错误 (对/错, √/×, T/F);
              填空: the accepted answers separated by | (or ；); 简答: a reference answer for graders (optional)
    解析      the explanation shown after submission (optional)
    分值      points, a whole number 1–100 (optional, default 1)

Every row is checked before anything is written; any error rejects the whole file with a report naming the row,
the column and what is wrong.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any, BinaryIO

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from backend.kit import xlsx
from backend.kit.errors import InvalidInput
from backend.kit.i18n import _
from backend.quizzes import banks, service
from backend.quizzes.analytics import CourseAnalytics
from backend.quizzes.banks import QuestionInput
from backend.quizzes.models import Question, QuestionBank

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COL_KIND, COL_PROMPT, COL_ANSWER, COL_EXPLANATION, COL_POINTS = "题型", "题干", "答案", "解析", "分值"
OPTION_LETTERS = "ABCDEF"
OPTION_COLUMNS = [f"选项{letter}" for letter in OPTION_LETTERS]
COLUMNS = [COL_KIND, COL_PROMPT, *OPTION_COLUMNS, COL_ANSWER, COL_EXPLANATION, COL_POINTS]
REQUIRED_COLUMNS = (COL_KIND, COL_PROMPT, COL_ANSWER)

KINDS = {
    "单选": "single", "单选题": "single", "单项选择": "single", "单项选择题": "single",
    "多选": "multiple", "多选题": "multiple", "多项选择": "multiple", "多项选择题": "multiple",
    "判断": "truefalse", "判断题": "truefalse",
    "填空": "fill", "填空题": "fill",
    "简答": "essay", "简答题": "essay", "问答": "essay", "问答题": "essay", "论述": "essay", "论述题": "essay",
}
TRUE_WORDS = {"正确", "对", "√", "✓", "是", "t", "true", "y", "yes"}
FALSE_WORDS = {"错误", "错", "×", "✗", "x", "否", "f", "false", "n", "no"}
KIND_NAMES = {"single": "单选", "multiple": "多选", "truefalse": "判断", "fill": "填空", "essay": "简答"}


@dataclass(frozen=True)
class RowError:
    row: int  # as Excel numbers it (the header is row 1)
    column: str
    message: str  # a message id; the page translates it


class ImportRejected(InvalidInput):
    """The file was read, but some rows are wrong; `errors` lists them all. Nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(_("Nothing was imported: %(count)s problems in the sheet."), count=len(errors))
        self.errors = errors


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _letters(text: str) -> list[str]:
    cleaned = unicodedata.normalize("NFKC", text).upper()
    return [c for c in cleaned if not (c.isspace() or c in ",，、;；/")]


def _parse_row(number: int, cells: dict[str, str]) -> tuple[QuestionInput | None, list[RowError]]:
    errors: list[RowError] = []

    def err(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    kind = KINDS.get(unicodedata.normalize("NFKC", cells.get(COL_KIND, "")).strip())
    if kind is None:
        err(COL_KIND, _("Unknown question type: use 单选, 多选, 判断, 填空 or 简答."))
    prompt = cells.get(COL_PROMPT, "")
    if not prompt:
        err(COL_PROMPT, _("The question text is empty."))
    options: list[str] = []
    gap_at: str | None = None
    for column in OPTION_COLUMNS:
        value = cells.get(column, "")
        if value:
            if gap_at:
                err(gap_at, _("Options must be filled from A onwards without gaps."))
                gap_at = None
            options.append(value)
        elif options and gap_at is None:
            gap_at = column
    raw_points = cells.get(COL_POINTS, "")
    points = 1
    if raw_points:
        try:
            points = int(float(unicodedata.normalize("NFKC", raw_points)))
            if float(unicodedata.normalize("NFKC", raw_points)) != points or not 1 <= points <= 100:
                raise ValueError
        except ValueError:
            err(COL_POINTS, _("Points must be a whole number from 1 to 100."))
    answer_text = cells.get(COL_ANSWER, "")
    answer: list[int] | bool = []
    accepted: list[str] = []
    if kind in ("single", "multiple"):
        if len(options) < 2:
            err(OPTION_COLUMNS[len(options)] if len(options) < 6 else OPTION_COLUMNS[-1],
                _("A choice question needs at least two options (选项A and 选项B)."))
        letters = _letters(answer_text)
        if any(e.column in OPTION_COLUMNS for e in errors):
            pass  # the letters cannot be checked against options that are out of place
        elif not letters:
            err(COL_ANSWER, _("The answer is empty: give the letter(s) of the right option(s)."))
        elif any(c not in OPTION_LETTERS[: max(len(options), 0)] for c in letters):
            err(COL_ANSWER, _("The answer names an option that is not filled in."))
        elif kind == "single" and len(set(letters)) != 1:
            err(COL_ANSWER, _("A single-choice question has exactly one answer letter."))
        elif kind == "multiple" and len(set(letters)) < 1:
            err(COL_ANSWER, _("The answer is empty: give the letter(s) of the right option(s)."))
        else:
            answer = sorted({OPTION_LETTERS.index(c) for c in letters})
    elif kind == "truefalse":
        word = unicodedata.normalize("NFKC", answer_text).strip().casefold()
        if word in TRUE_WORDS or answer_text.strip() in TRUE_WORDS:
            answer = True
        elif word in FALSE_WORDS or answer_text.strip() in FALSE_WORDS:
            answer = False
        else:
            err(COL_ANSWER, _("A true/false answer is 正确 or 错误."))
        if options:
            err(OPTION_COLUMNS[0], _("A true/false question has no options."))
    elif kind == "fill":
        accepted = [a.strip() for a in re.split(r"[|｜;；]", answer_text) if a.strip()]
        if not accepted:
            err(COL_ANSWER, _("A fill-in question needs at least one accepted answer (separate several with |)."))
    elif kind == "essay":
        accepted = [answer_text] if answer_text else []
    if errors or kind is None:
        return None, errors
    question = QuestionInput(
        kind=kind, prompt=prompt, options=options if kind in ("single", "multiple") else [], answer=answer,
        accepted=accepted, explanation=cells.get(COL_EXPLANATION, ""), points=points,
    )
    try:  # the same checks a question typed into the studio gets
        service.build_question(
            kind=question.kind, prompt=question.prompt, options=question.options, answer=question.answer,
            accepted=question.accepted, explanation=question.explanation, points=question.points,
        )
    except InvalidInput as exc:
        columns = {"kind": COL_KIND, "prompt": COL_PROMPT, "options": OPTION_COLUMNS[0], "points": COL_POINTS}
        return None, [RowError(number, columns.get(f, COL_ANSWER), m) for f, m in exc.fields.items()]
    return question, []


def parse_questions(stream: BinaryIO) -> list[QuestionInput]:
    """Every question in the sheet, or ImportRejected with every wrong row; InvalidInput if it is not a workbook."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    if size > MAX_IMPORT_BYTES:
        raise InvalidInput(_("The sheet is larger than 5 MB."), fields={"file": _("At most 5 MB.")})
    try:
        xlsx.check_expansion(stream)  # before parsing: a decompression bomb is refused in constant memory
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except xlsx.WorkbookTooLarge as exc:
        raise InvalidInput(
            _("This workbook expands to more than the portal reads. Split it or save it again."),
            fields={"file": _("The sheet is too large once unpacked.")},
        ) from exc
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput(
            _("This is not an Excel workbook (.xlsx). Start from the template."),
            fields={"file": _("Not an .xlsx file.")},
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None) or ()
        names = [unicodedata.normalize("NFKC", _text(h)).replace(" ", "") for h in header]
        # NFKC turns 选项Ａ into 选项A; the names in COLUMNS are already in that form.
        index = {name: i for i, name in enumerate(names) if name in COLUMNS}
        missing = [c for c in REQUIRED_COLUMNS if c not in index]
        if missing:
            raise ImportRejected([RowError(1, c, _("This column is missing from the header row.")) for c in missing])
        questions: list[QuestionInput] = []
        errors: list[RowError] = []
        for number, row in enumerate(rows, start=2):
            cells = {name: _text(row[i]) if i < len(row) else "" for name, i in index.items()}
            if not any(cells.values()):
                continue
            if len(questions) + len(errors) >= MAX_IMPORT_ROWS:
                errors.append(RowError(number, COL_KIND, _("Too many rows: import at most 2000 questions at a time.")))
                break
            question, row_errors = _parse_row(number, cells)
            errors.extend(row_errors)
            if question is not None:
                questions.append(question)
    finally:
        workbook.close()
    if errors:
        raise ImportRejected(errors)
    if not questions:
        raise ImportRejected([RowError(2, COL_KIND, _("The sheet has no questions."))])
    return questions


def import_into_bank(session: Session, bank: QuestionBank, stream: BinaryIO) -> list[Question]:
    """All the sheet's questions into the bank, or none: rows are checked before the first is written, and the
    writes share the request's one transaction."""
    return [banks.add_question(session, q, bank=bank) for q in parse_questions(stream)]


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8F0FE")


def _header(sheet: Any, names: list[str]) -> None:
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    sheet.freeze_panes = "A2"


def _save(workbook: Workbook) -> bytes:
    xlsx.text_not_formulas(workbook)  # titles and questions are written as text, never as formulas
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_workbook() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "题目"
    _header(sheet, COLUMNS)
    examples = [
        ["单选", "班会课一般由谁主持？", "班主任", "校长", "家长", "", "", "", "A", "班会由班主任组织主持。", 2],
        ["多选", "家校沟通可以使用哪些方式？", "家访", "家长会", "电话沟通", "不沟通", "", "", "ABC", "", 2],
        ["判断", "班主任应当关注每一名学生。", "", "", "", "", "", "", "正确", "", 1],
        ["填空", "《中小学班主任工作规定》由____发布。", "", "", "", "", "", "", "教育部|中华人民共和国教育部", "", 2],
        ["简答", "请简述一次主题班会的设计要点。", "", "", "", "", "", "", "目标明确、学生主体、形式多样。", "", 10],
    ]
    for row in examples:
        sheet.append(row)
    for column, width in zip("ABCDEFGHIJK", (8, 40, 14, 14, 14, 14, 14, 14, 22, 30, 6), strict=True):
        sheet.column_dimensions[column].width = width
    notes = workbook.create_sheet("说明")
    lines = [
        ("列名", "填写说明"),
        ("题型", "单选、多选、判断、填空、简答（也可写作 单选题、问答题 等）"),
        ("题干", "题目内容，必填"),
        ("选项A～选项F", "选择题的选项，从 A 开始依次填写，不留空列，至少两个；判断、填空、简答题不填"),
        ("答案", "单选：一个字母，如 A；多选：多个字母，如 ABD 或 A,B,D；判断：正确 或 错误；"
                 "填空：可接受的答案，多个用 | 分隔，比较时忽略全角半角、首尾空格和大小写；"
                 "简答：参考答案（可不填，仅阅卷人可见）"),
        ("解析", "提交后显示给教师的解析，可不填"),
        ("分值", "1～100 的整数，不填为 1 分"),
        ("", "导入时逐行检查，任何一行有错，整个文件都不会导入，并列出出错的行、列和原因。"),
    ]
    for line in lines:
        notes.append(list(line))
    notes["A1"].font = _HEADER_FONT
    notes["B1"].font = _HEADER_FONT
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 100
    return _save(workbook)


STEP_NAMES = {
    "enrolled": "报名", "lesson": "看完", "quiz": "测验通过", "assignment": "作业合格", "completed": "完成课程",
}
SOURCE_NAMES = {"quiz": "本测验", "bank": "题库抽取"}


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def analytics_workbook(data: CourseAnalytics) -> bytes:
    """Four sheets with Chinese headers: 概况, 完成漏斗, 视频观看, 题目分析. Shares are percentages (one decimal)."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = "概况"
    _header(summary, ["项目", "数值"])
    summary.append(["课程", data.title])
    summary.append(["报名人数", data.enrolled])
    summary.append(["完成人数", data.completed])
    summary.append(["完成率(%)", _pct(data.completed / data.enrolled if data.enrolled else 0.0)])
    summary.append(["已评分测验次数", data.graded_attempts])
    summary.column_dimensions["A"].width = 18
    summary.column_dimensions["B"].width = 40

    funnel = workbook.create_sheet("完成漏斗")
    _header(funnel, ["步骤", "内容", "人数", "占报名(%)"])
    for step in data.funnel:
        funnel.append([STEP_NAMES.get(step.kind, step.kind), step.title, step.count, _pct(step.share)])
    funnel.column_dimensions["B"].width = 36

    videos = workbook.create_sheet("视频观看")
    marks = [f"到达{m * 10}%(%)" for m in range(1, 11)]
    _header(videos, ["序号", "视频课", "时长(秒)", "观看人数", "平均覆盖率(%)", *marks])
    for v in data.videos:
        videos.append([v.position, v.title, round(v.duration_ms / 1000), v.viewers, _pct(v.average_coverage),
                       *[_pct(r) for r in v.reach]])
    videos.column_dimensions["B"].width = 30

    questions = workbook.create_sheet("题目分析")
    _header(questions, ["题号", "题型", "来源", "题干", "作答次数", "答对率(%)", "区分度"])
    for q in data.questions:
        questions.append([
            q.number, KIND_NAMES.get(q.kind, q.kind), SOURCE_NAMES[q.source], q.prompt, q.answered,
            _pct(q.difficulty), None if q.discrimination is None else round(q.discrimination, 2),
        ])
    questions.column_dimensions["D"].width = 60
    return _save(workbook)


FORM_FIELDS = {COL_KIND: "kind", COL_PROMPT: "prompt", COL_ANSWER: "answer", COL_EXPLANATION: "explanation",
               COL_POINTS: "points", **{c: "options" for c in OPTION_COLUMNS}}


def question_from_form(
    *, kind: str, prompt: str, options_text: str, answer: str, explanation: str, points: str
) -> QuestionInput:
    """A question typed into the studio follows the same rules (and answer notation) as a sheet row: options one
    per line, the answer as letters, 正确/错误, or accepted answers separated by |."""
    options = [line.strip() for line in (options_text or "").splitlines() if line.strip()]
    if len(options) > len(OPTION_COLUMNS):
        raise InvalidInput(_("Please correct the marked fields."), fields={"options": _("At most 6 options.")})
    cells = {
        COL_KIND: KIND_NAMES.get(kind, kind), COL_PROMPT: (prompt or "").strip(), COL_ANSWER: (answer or "").strip(),
        COL_EXPLANATION: (explanation or "").strip(), COL_POINTS: (points or "").strip(),
        **dict(zip(OPTION_COLUMNS, options, strict=False)),
    }
    question, errors = _parse_row(0, cells)
    if question is None:
        fields: dict[str, str] = {}
        for e in errors:
            fields.setdefault(FORM_FIELDS.get(e.column, "answer"), e.message)
        raise InvalidInput(_("Please correct the marked fields."), fields=fields)
    return question
