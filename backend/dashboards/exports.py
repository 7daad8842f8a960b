"""The dashboards' Excel exports: the per-school table (read from a snapshot, immediate) and every teacher's figures
(computed from the ledger, a background job at district size: `jobs.run`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from backend.dashboards import figures
from backend.dashboards.service import View
from backend.kit.xlsx import Cell, Sheet, temporary_workbook
from backend.policies.service import load_policy
from backend.policies.taxonomy import CREDIT_CATEGORIES

STAGE_NAMES = {"primary": "小学", "middle": "初中", "high": "高中", "nine_year": "九年一贯制"}
CATEGORY_NAMES = {c.code: c.name for c in CREDIT_CATEGORIES}


def school_header() -> list[str]:
    return [
        "学校代码", "学校", "学段", "教师数", "见习班主任", "上岗培训已完成", "见习者已认定上岗学时",
        "本年度已认定学时", "本年度待认定学时", "达到年度目标人数", "本年度无学时人数", "异常人数",
        "待核定条目", "待认定条目", "最早待核定", "最早待认定", "月度校本研修达标月数", "未达标月数",
        "储备池(任职状态)", "20年荣誉应颁", "职称论文豁免符合", "优秀人数", "其中班主任",
        "每班有班主任", "工作室规则", "导师",
    ]  # fmt: skip


def school_rows(view: View) -> Iterator[list[Cell]]:
    for line in view.lines:
        f = line.figures
        yield [
            line.school.code, line.school.name, STAGE_NAMES.get(line.school.stage, line.school.stage),
            f["teachers"], f["trainees"], f["trainees_met"], f["trainees_hours"],
            f["annual_certified"], f["annual_awaiting"], f["annual_reached"], f["annual_none"], f["outlier_count"],
            f["pending"], f["verified"], (f["oldest_pending"] or "")[:10], (f["oldest_verified"] or "")[:10],
            line.months_met, line.months_missed, f["reserve"], f["honours"], f["waiver"], f["excellent"],
            f["excellent_homeroom"], "尚未记录", "尚未记录", "尚未记录",
        ]  # fmt: skip


def schools_workbook(view: View) -> Path:
    sheets = [Sheet("学校", school_header(), school_rows(view), widths=[12, 30] + [12] * 24)]
    f = view.total
    labels = figures.bucket_labels()
    sheets.append(
        Sheet("年度学时分布", ["学时", "人数"], [[b, n] for b, n in zip(labels, f["histogram"], strict=True)])
    )
    sheets.append(
        Sheet(
            "周期学分",
            ["类别或层级", "已认定学时合计"],
            [[CATEGORY_NAMES[c], v] for c, v in f["cycle_category"].items()]
            + [[{"city": "市级", "district": "区级", "school": "校本"}[k], v] for k, v in f["cycle_level"].items()],
        )
    )
    sheets.append(Sheet("月度校本研修", ["月份", "达标学校数", "未达标学校数"],
                        [[m + 1, f["months_met"][m], f["months_missed"][m]] for m in range(12)]))  # fmt: skip
    return temporary_workbook(sheets)


def teacher_header(cycle: tuple[int, int]) -> list[str]:
    return [
        "教师ID", "姓名", "学校ID", "梯队", "任职状态", "见习", "上岗已认定学时", "上岗已覆盖专题",
        "本年度已认定", "本年度待认定", *[f"{cycle[0]}–{cycle[1]} {CATEGORY_NAMES[c]}" for c in figures.CATEGORY_CODES],
        "待核定条目", "待认定条目", "20年荣誉", "论文豁免", "异常",
    ]  # fmt: skip


def teachers_workbook(session: Session, params: dict[str, Any], progress: Callable[[int, int], None]) -> Path:
    policy = load_policy(session)
    year = int(params["year"])
    as_of = date.fromisoformat(params["as_of"])
    school_ids: Sequence[int] | None = params.get("school_ids")
    teachers = figures.teacher_figures(session, policy, year, as_of, school_ids=school_ids, progress=progress)
    tier = params.get("tier") or ""
    if tier:
        teachers = [t for t in teachers if t.tier == tier]
    progress(8, 9)

    def rows() -> Iterator[list[Cell]]:
        for t in teachers:
            yield [
                t.user_id, t.name, t.school_id, t.tier, t.status, "是" if t.trainee else "", str(t.induction.certified),
                t.induction_topics, str(t.annual.certified), str(t.annual.awaiting),
                *[str(t.cycle_category.get(c, figures.ZERO)) for c in figures.CATEGORY_CODES],
                t.waiting.pending, t.waiting.verified, "是" if t.honour else "", "是" if t.waiver else "",
                {"rush": "截止前集中录入", "high": "学时远高于全区"}.get(t.outlier, ""),
            ]  # fmt: skip

    from backend.credits.programs import cycle_years

    path = temporary_workbook([Sheet("教师", teacher_header(cycle_years(policy, year)), rows())])
    progress(9, 9)
    return path
