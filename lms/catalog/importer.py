"""Courses as files: `courses/<slug>/course.yaml`, `lessons/<key>.md`, `assets/`.

Import validates every course first and writes nothing when any file is wrong; each error names
the file and the field. Re-importing updates in place: courses by folder name, modules and lessons by key.
Lessons no longer listed are unpublished, not deleted, so students' progress is kept.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from sqlalchemy import select

from lms.catalog.models import Course, Lesson, Module, PartnerUniversity
from lms.extensions import db

CODE_RE = re.compile(r"^[A-Z]{2,5}[0-9]{3}[A-Z]?$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
ASSET_RE = re.compile(r"\]\((assets/[^)\s]+)")
ASSET_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
MAX_ASSET_BYTES = 5 * 1024 * 1024
MAX_BODY_CHARS = 200_000


class CourseFileError(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class LessonSpec:
    key: str
    title_en: str
    title_ja: str | None
    minutes: int
    body: str


@dataclass
class ModuleSpec:
    key: str
    title_en: str
    title_ja: str | None
    lessons: list[LessonSpec] = field(default_factory=list)


@dataclass
class CourseSpec:
    slug: str
    path: Path
    code: str
    title_en: str
    title_ja: str | None
    summary_en: str
    summary_ja: str
    partner: str | None
    credits: Decimal
    hours: int
    modules: list[ModuleSpec]
    assets: list[Path]
    skills: list[str] = field(default_factory=list)


class _Reader:
    """Collects every problem in one pass, so an author fixes a file once, not error by error."""

    def __init__(self, root: Path):
        self.root = root
        self.errors: list[str] = []

    def fail(self, path: Path, field_name: str, message: str) -> None:
        self.errors.append(f"{path.relative_to(self.root.parent)}: {field_name}: {message}")

    def text(self, path: Path, data: dict, name: str, *, required=True, max_len=200,
             label: str | None = None) -> str | None:
        """`label` names the field in errors when it is nested, e.g. title.en."""
        label = label or name
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if required:
                self.fail(path, label, "is required")
            return None
        if not isinstance(value, str):
            self.fail(path, label, "must be text")
            return None
        if len(value) > max_len:
            self.fail(path, label, f"is longer than {max_len} characters")
            return None
        return value

    def bilingual(self, path: Path, data: dict, name: str, max_len=200,
                  label: str | None = None) -> tuple[str | None, str | None]:
        label = label or name
        value = data.get(name)
        if not isinstance(value, dict):
            self.fail(path, label, "must have 'en' (and optionally 'ja') entries")
            return None, None
        english = self.text(path, value, "en", max_len=max_len, label=f"{label}.en")
        return english, self.text(path, value, "ja", required=False, max_len=max_len, label=f"{label}.ja")

    def integer(self, path: Path, data: dict, name: str, low: int, high: int) -> int | None:
        value = data.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.fail(path, name, f"must be a whole number from {low} to {high}")
            return None
        return value


def read_course(directory: Path, reader: _Reader) -> CourseSpec | None:
    path = directory / "course.yaml"
    if not path.is_file():
        reader.fail(path, "course.yaml", "file is missing")
        return None
    data = _load_yaml(path, reader)
    if data is None:
        return None
    code = reader.text(path, data, "code", max_len=20)
    if code and not CODE_RE.match(code):
        reader.fail(path, "code", f"'{code}' is not a course code like GD101")
    title_en, title_ja = reader.bilingual(path, data, "title")
    summary = data.get("summary") or {}
    if not isinstance(summary, dict):
        reader.fail(path, "summary", "must have 'en' and 'ja' entries")
        summary = {}
    credits = _credits(path, data, reader)
    hours = reader.integer(path, data, "hours", 1, 2000)
    partner = reader.text(path, data, "partner", required=False, max_len=40)
    skills = _skills(path, data, reader)
    modules = _modules(directory, path, data, reader)
    assets = _assets(directory, modules, reader)
    if None in (code, title_en, credits, hours) or modules is None:
        return None
    return CourseSpec(slug=directory.name, path=directory, code=code, title_en=title_en,
                      title_ja=title_ja, summary_en=str(summary.get("en") or "").strip(),
                      summary_ja=str(summary.get("ja") or "").strip(), partner=partner,
                      credits=credits, hours=hours, modules=modules, assets=assets, skills=skills)


def _skills(path: Path, data: dict, reader: _Reader) -> list[str]:
    """The skills a course teaches: the alignments of its Open Badges credential."""
    value = data.get("skills") or []
    if not isinstance(value, list) or not all(isinstance(x, str) and 0 < len(x.strip()) <= 120 for x in value):
        reader.fail(path, "skills", "must be a list of skill names, each up to 120 characters")
        return []
    if len(value) > 30:
        reader.fail(path, "skills", "at most 30 skills")
        return []
    return list(dict.fromkeys(x.strip() for x in value))


def _load_yaml(path: Path, reader: _Reader, text: str | None = None) -> dict | None:
    try:
        data = yaml.safe_load(text if text is not None else path.read_text("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        reader.fail(path, "YAML", str(exc).replace("\n", " "))
        return None
    if not isinstance(data, dict):
        reader.fail(path, "YAML", "must be a mapping of fields")
        return None
    return data


def _credits(path: Path, data: dict, reader: _Reader) -> Decimal | None:
    try:
        credits = Decimal(str(data.get("credits")))
    except InvalidOperation:
        credits = None
    if credits is None or not credits.is_finite() or not 0 < credits <= 30 or credits % Decimal("0.5"):
        reader.fail(path, "credits", "must be a number of credits from 0.5 to 30, in steps of 0.5")
        return None
    return credits


def _modules(directory: Path, path: Path, data: dict, reader: _Reader) -> list[ModuleSpec] | None:
    raw = data.get("modules")
    if not isinstance(raw, list) or not raw:
        reader.fail(path, "modules", "must be a list with at least one module")
        return None
    modules, module_keys, lesson_keys = [], set(), set()
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            reader.fail(path, f"modules[{i}]", "must be a mapping with key, title and lessons")
            continue
        key = reader.text(path, item, "key", max_len=80, label=f"modules[{i}].key")
        if key and (not KEY_RE.match(key) or key in module_keys):
            reader.fail(path, f"modules[{i}].key", f"'{key}' must be a unique lowercase slug")
        module_keys.add(key)
        title_en, title_ja = reader.bilingual(path, item, "title", label=f"modules[{i}].title")
        module = ModuleSpec(key=key or "", title_en=title_en or "", title_ja=title_ja)
        lessons = item.get("lessons")
        if not isinstance(lessons, list) or not lessons:
            reader.fail(path, f"modules[{i}].lessons", "must list at least one lesson")
            lessons = []
        for lesson_key in lessons:
            if not isinstance(lesson_key, str) or not KEY_RE.match(lesson_key) or lesson_key in lesson_keys:
                reader.fail(path, f"modules[{i}].lessons", f"'{lesson_key}' must be a unique lowercase slug")
                continue
            lesson_keys.add(lesson_key)
            lesson = read_lesson(directory / "lessons" / f"{lesson_key}.md", lesson_key, reader)
            if lesson:
                module.lessons.append(lesson)
        modules.append(module)
    return modules


def read_lesson(path: Path, key: str, reader: _Reader) -> LessonSpec | None:
    if not path.is_file():
        reader.fail(path, "file", "is missing (listed in course.yaml)")
        return None
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        reader.fail(path, "file", "is not UTF-8 text")
        return None
    match = re.match(r"^---\r?\n(.*?)\r?\n---\r?\n(.*)$", text, re.S)
    if not match:
        reader.fail(path, "front matter", "must start with a '---' block holding title and minutes")
        return None
    data = _load_yaml(path, reader, match.group(1))
    if data is None:
        return None
    title_en, title_ja = reader.bilingual(path, data, "title")
    minutes = reader.integer(path, data, "minutes", 0, 600)
    body = match.group(2)
    if len(body) > MAX_BODY_CHARS:
        reader.fail(path, "body", f"is longer than {MAX_BODY_CHARS} characters")
    if title_en is None or minutes is None:
        return None
    return LessonSpec(key=key, title_en=title_en, title_ja=title_ja, minutes=minutes, body=body)


def _assets(directory: Path, modules: list[ModuleSpec] | None, reader: _Reader) -> list[Path]:
    folder = directory / "assets"
    assets = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    names = set()
    for asset in assets:
        if asset.is_symlink() or asset.suffix.lower() not in ASSET_TYPES:
            reader.fail(asset, "asset", "only PNG, JPEG, GIF and WebP images are allowed")
        elif asset.stat().st_size > MAX_ASSET_BYTES:
            reader.fail(asset, "asset", "is larger than 5 MB")
        names.add(asset.name)
    for module in modules or []:
        for lesson in module.lessons:
            for ref in ASSET_RE.findall(lesson.body):
                if ref.removeprefix("assets/") not in names:
                    reader.fail(directory / "lessons" / f"{lesson.key}.md", "body",
                                f"refers to {ref}, which is not in assets/")
    return assets


def read_courses(root: Path) -> list[CourseSpec]:
    """Read and validate every course under `root` (or `root` itself if it is one course)."""
    if not root.is_dir():
        raise CourseFileError([f"{root}: not a folder"])
    single = (root / "course.yaml").exists()
    reader = _Reader(root.parent if single else root)
    dirs = [root] if single else sorted(
        d for d in root.iterdir() if d.is_dir() and not d.name.startswith((".", "_")))
    specs = [spec for d in dirs if (spec := read_course(d, reader))]
    codes = [s.code for s in specs]
    for spec in specs:
        if codes.count(spec.code) > 1:
            reader.fail(spec.path / "course.yaml", "code", f"{spec.code} is used by another course folder")
    if reader.errors:
        raise CourseFileError(reader.errors)
    return specs


def apply_course(spec: CourseSpec) -> Course:
    """Create or update one validated course. Flushes; the caller commits, then copies assets."""
    errors = []
    partner_id = None
    if spec.partner:
        partner_id = db.session.scalar(select(PartnerUniversity.id).where(PartnerUniversity.code == spec.partner))
        if partner_id is None:
            errors.append(f"{spec.slug}/course.yaml: partner: no partner university with code '{spec.partner}'")
    # The folder is the course: a code changed in course.yaml (or in the browser) renumbers it.
    course = db.session.scalar(select(Course).where(Course.slug == spec.slug))
    owner = db.session.scalar(select(Course).where(Course.code == spec.code))
    if owner is not None and owner is not course:
        errors.append(f"{spec.slug}/course.yaml: code: {spec.code} already belongs to a course "
                      f"{'made in the browser' if owner.slug is None else 'in ' + owner.slug}")
    if errors:
        raise CourseFileError(errors)
    if course is None:
        course = Course(code=spec.code, slug=spec.slug)
        db.session.add(course)
    course.code = spec.code
    course.title_en, course.title_ja = spec.title_en, spec.title_ja
    course.summary_en, course.summary_ja = spec.summary_en, spec.summary_ja
    course.partner_id, course.credits, course.hours = partner_id, spec.credits, spec.hours
    course.skills = list(spec.skills)
    db.session.flush()
    _apply_modules(course, spec)
    return course


def _apply_modules(course: Course, spec: CourseSpec) -> None:
    modules = {m.key: m for m in db.session.scalars(select(Module).where(Module.course_id == course.id))}
    lessons = {x.key: x for x in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id))}
    listed = set()
    for m_pos, m_spec in enumerate(spec.modules):
        module = modules.get(m_spec.key) or Module(course_id=course.id, key=m_spec.key)
        module.title_en, module.title_ja, module.position = m_spec.title_en, m_spec.title_ja, m_pos
        db.session.add(module)
        db.session.flush()
        for l_pos, l_spec in enumerate(m_spec.lessons):
            lesson = lessons.get(l_spec.key) or Lesson(course_id=course.id, key=l_spec.key)
            lesson.module_id, lesson.position, lesson.published = module.id, l_pos, True
            lesson.title_en, lesson.title_ja = l_spec.title_en, l_spec.title_ja
            lesson.body_md, lesson.minutes = l_spec.body, l_spec.minutes
            db.session.add(lesson)
            listed.add(l_spec.key)
    for key, lesson in lessons.items():
        if key not in listed:
            lesson.published = False
    db.session.flush()


def copy_assets(spec: CourseSpec) -> None:
    """After the commit, so a failed import leaves no new files behind; into whichever storage is set."""
    from lms.storage import get_storage
    from lms.storage.base import guess_type

    storage = get_storage()
    for asset in spec.assets:
        with asset.open("rb") as stream:
            storage.put_stream(asset_key(spec.slug, asset.name), stream, max_bytes=MAX_ASSET_BYTES,
                               content_type=guess_type(asset.name))


def asset_key(slug: str, name: str) -> str:
    return f"course-assets/{slug}/{name}"
