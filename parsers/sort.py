"""ParsedMail → SortedMail: every file and link with its category, and the message's unit.

Writes decoded parts and archive members into a staging folder (one part in memory at a time);
placing them into the materials tree is the caller's job, after the ledger decides names.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from parsers.archives import ArchiveLimits, expand
from parsers.documents import DocumentText, read_document
from parsers.filetypes import FileType, image_size, sniff
from parsers.links import find_links, own_text
from parsers.mail import Attachment, ParsedMail, payload
from parsers.tools import ToolPaths, find_tools
from parsers.units import Registry

log = logging.getLogger(__name__)

# Attribution levels, most trusted first (SPEC "Attribution trusts, in order").
LEVELS = ("registered", "learned", "subject", "filename", "title", "body")
LEVEL_LABELS = {
    "registered": "登记的发件地址",
    "learned": "曾确认的发件地址",
    "subject": "邮件主题",
    "filename": "文件名或压缩包目录",
    "title": "文档标题",
    "body": "正文或签名",
}
NATURE_LABELS = {
    "auto_reply": "自动回复",
    "bounce": "退信",
    "bulk": "群发邮件",
    "newsletter": "订阅邮件",
    "system_notice": "系统通知",
    "circular": "本办发出或点名多个单位的通知",
}
DEFECT_LABELS = {
    "multipart without closing boundary": "缺少结束边界",
    "multipart boundary not found": "找不到分段边界",
    "multipart without boundary": "分段邮件缺少边界参数",
    "parts found after the closing boundary": "结束边界之后仍有内容",
    "nesting too deep": "嵌套层数过多",
}
_EMPTY = "空文件（0字节），不计为材料"
PART_FAILED = "该附件处理时出错，已按原样保存，请人工核对"
_SUSPECT_NOTE = "附件名解码可能有误，请核对"
_GUESSED_NOTE = "附件名未声明字符集，按推测的编码解码，请核对"
# Errors of this machine, not of the mail: the message must fail and be retried later.
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EMFILE, errno.ENFILE}
_DOCUMENT_SUBTYPES = {"docx", "doc", "wps", "pdf", "rtf", "txt", "odt"}


@dataclass(frozen=True)
class SortRules:
    """What sorting needs from config, as plain values."""

    keywords: dict[str, tuple[str, ...]]  # "deeds" and "report"
    inline_min_bytes: int
    inline_min_px: int
    link_hosts: tuple[str, ...]
    circular_min_units: int
    office_addresses: frozenset[str]
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    document_timeout_s: float = 60.0
    tools: ToolPaths = field(default_factory=find_tools)  # LibreOffice, 7-Zip ...: where found


@dataclass(frozen=True)
class SortedFile:
    seq: int
    kind: str  # "file" | "link" | "skipped" (never a material: 0-byte, unopenable member ...)
    filename: str  # decoded display name; archive members as "a.zip/dir/x.jpg"; a link's URL
    store_name: str  # the name to store it under (the last path component, made sensible)
    sender: str
    category: str
    evidence: str  # why this category (Chinese)
    size: int | None
    sha256: str
    staged: Path | None
    link_code: str = ""
    note: str = ""
    review_reason: str = ""
    document: DocumentText | None = None


@dataclass(frozen=True)
class Attribution:
    unit: str | None
    level: str  # one of LEVELS, or "" when unknown
    evidence: str  # Chinese: where the unit was found
    candidates: tuple[str, ...] = ()
    reason: str = ""  # Chinese review reason when unit is None


@dataclass(frozen=True)
class SortedMail:
    message_id: str
    subject: str
    sender: str
    sender_name: str
    nature: str  # "" for a submission candidate, else why it is none (NATURE_LABELS)
    attribution: Attribution
    files: tuple[SortedFile, ...]
    defects: tuple[str, ...]

    @property
    def learnable(self) -> bool:
        """Strong evidence from an address nobody registered: worth remembering."""
        return self.attribution.level in ("subject", "filename", "title")


class _Sorter:
    def __init__(
        self, staging: Path, registry: Registry, rules: SortRules, learned: dict[str, str]
    ):
        self._staging, self._staged = staging, False
        self.registry = registry
        self.rules = rules
        self.learned = learned
        self.files: list[SortedFile] = []

    @property
    def staging(self) -> Path:
        """The staging folder, made when the first part is written (most mail of a poll
        has no parts at all: a folder made and removed per message costs more than its
        parsing)."""
        if not self._staged:
            self._staging.mkdir(parents=True, exist_ok=True)
            self._staged = True
        return self._staging

    # -- files -------------------------------------------------------------------------------
    def _next(self) -> int:
        return len(self.files) + 1

    def add_attachments(self, mail: ParsedMail) -> None:
        for attachment in mail.attachments:
            try:
                self._add_attachment(mail, attachment)
            except Exception as exc:
                if _environmental(exc):
                    raise  # a full disk is no property of the mail: let the message retry
                log.exception("attachment %r could not be sorted; kept for review", attachment.name)
                self._add_fallback(mail, attachment)

    def _add_attachment(self, mail: ParsedMail, attachment: Attachment) -> None:
        seq = self._next()
        data = payload(mail, attachment)
        if not data:
            reason = _join(attachment.problem, _EMPTY)
            self.files.append(_skipped(seq, attachment.name or "未命名附件", mail.sender, reason))
            return
        path = self.staging / f"{seq}.part"
        path.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        del data
        ftype = sniff(path, attachment.name)
        if ftype.kind == "image" and self._is_decoration(attachment, path, ftype):
            path.unlink()
            return
        name = attachment.name or f"未命名附件{seq}.{ftype.subtype or 'bin'}"
        self._add_file(name, name, path, digest, ftype, mail.sender, _name_note(attachment))
        if attachment.problem:  # e.g. found past the nesting cap: staff should look
            for index in range(seq - 1, len(self.files)):
                item = self.files[index]
                reason = _join(attachment.problem, item.review_reason)
                self.files[index] = replace(item, review_reason=reason)

    def _add_fallback(self, mail: ParsedMail, attachment: Attachment) -> None:
        """Keep a part whose handling failed: its bytes under a safe name, with the reason."""
        seq = self._next()
        name = f"未命名附件{seq}.bin"
        display = attachment.name if isinstance(attachment.name, str) and attachment.name else name
        reason = _join(attachment.problem, PART_FAILED)
        try:
            data = payload(mail, attachment)
        except Exception:  # even the transfer decoding failed: keep the encoded bytes
            data = mail.raw[attachment.start : attachment.end]
        if not data:
            self.files.append(_skipped(seq, display, mail.sender, reason))
            return
        path = self.staging / f"{seq}.part"
        path.write_bytes(data)
        self._keep_as_is(display, path, mail.sender, name, reason)

    def _keep_as_is(
        self, display: str, path: Path, sender: str, store_name: str = "", reason: str = ""
    ) -> None:
        """A file whose sorting failed: kept under a safe name, category other, for review."""
        seq = self._next()
        store_name = store_name or f"未命名附件{seq}.bin"
        self.files.append(
            SortedFile(
                seq,
                "file",
                display,
                store_name,
                sender,
                "other",
                "处理出错，原样保存",
                path.stat().st_size,
                _sha256_file(path),
                path,
                review_reason=reason or PART_FAILED,
            )
        )

    def _is_decoration(self, attachment, path: Path, ftype: FileType) -> bool:
        """A small image the HTML body shows by cid: (signature, logo, emoji) is no photo."""
        if not attachment.referenced:
            return False
        size = path.stat().st_size
        dims = image_size(path)
        longer = max(dims) if dims else 0
        return size < self.rules.inline_min_bytes or longer < self.rules.inline_min_px

    def _add_file(
        self,
        display: str,
        store_name: str,
        path: Path,
        digest: str,
        ftype: FileType,
        sender: str,
        note: str = "",
    ) -> None:
        seq = self._next()
        size = path.stat().st_size
        if ftype.kind == "archive" and not ftype.corrupt:
            self._add_archive(display, path, sender)
            return
        category, evidence, reason, document = self._categorise(display, path, ftype)
        self.files.append(
            SortedFile(
                seq,
                "file",
                display,
                _sensible_name(store_name, ftype),
                sender,
                category,
                evidence,
                size,
                digest,
                path,
                note=note,
                review_reason=reason,
                document=document,
            )
        )

    def _add_archive(self, display: str, path: Path, sender: str) -> None:
        dest = self.staging / f"x{self._next()}"
        dest.mkdir()
        result = expand(path, display, dest, self.rules.limits, self.rules.tools)
        problems = "；".join(dict.fromkeys(p.message for p in result.problems))
        if not result.expanded:
            seq = self._next()
            digest = _sha256_file(path)
            self.files.append(
                SortedFile(
                    seq,
                    "file",
                    display,
                    PurePosixPath(display).name,
                    sender,
                    "other",
                    "压缩包",
                    path.stat().st_size,
                    digest,
                    path,
                    review_reason=problems or "压缩包无法解压",
                )
            )
            return
        for problem in result.problems:
            shown = problem.name or display
            self.files.append(
                _skipped(self._next(), shown, sender, problem.message, None, _last(shown))
            )
        for member in result.members:
            if member.size == 0:
                self.files.append(
                    _skipped(self._next(), member.name, sender, _EMPTY, 0, member.path.name)
                )
                continue
            try:
                ftype = sniff(member.path, member.name)
                digest = _sha256_file(member.path)
                name = PurePosixPath(member.name).name
                self._add_file(member.name, name, member.path, digest, ftype, sender)
            except Exception as exc:
                if _environmental(exc):
                    raise
                log.exception("archive member %r could not be sorted; kept for review", member.name)
                self._keep_as_is(member.name, member.path, sender)

    def _categorise(
        self, display: str, path: Path, ftype: FileType
    ) -> tuple[str, str, str, DocumentText | None]:
        if ftype.corrupt:
            return "other", "文件损坏", f"{ftype.corrupt.rstrip('。')}，请人工核对", None
        if ftype.kind == "image":
            return "photo", f"图片（{ftype.subtype}）", "", None
        if ftype.kind == "video":
            return "video", f"视频（{ftype.subtype}）", "", None
        if ftype.kind == "document" and ftype.subtype in _DOCUMENT_SUBTYPES:
            document = read_document(
                path, ftype.subtype, self.rules.document_timeout_s, self.rules.tools
            )
            category, evidence = self._keyword_category(display, document.title)
            reason = ""
            if document.problem:
                reason = f"文档无法读取（{document.problem}）"
            elif not document.has_text_layer:
                reason = "PDF无文字层（扫描件），需人工评分"
            if category == "other":
                reason = reason or "未能识别类别的文档（unclassified document），请人工确认"
            return category, evidence, reason, document
        if ftype.kind == "document":
            category, evidence = self._keyword_category(display, "")
            return category, evidence, "", None
        return "other", f"其他文件（{ftype.subtype or '未知类型'}）", "", None

    def _keyword_category(self, display: str, title: str) -> tuple[str, str]:
        name = PurePosixPath(display).name
        for category in ("deeds", "report"):
            for keyword in self.rules.keywords.get(category, ()):
                if keyword in name:
                    return category, f"文件名含“{keyword}”"
                if keyword in title:
                    return category, f"文档标题含“{keyword}”"
        return "other", "文件名和标题均无类别关键词"

    def add_links(self, mail: ParsedMail) -> None:
        try:
            self._add_links(mail)
        except Exception:  # a regex on hostile text should not lose the message
            log.exception("links of a message could not be read")
            reason = "正文中的网盘链接无法识别，请人工查看邮件正文"
            self.files.append(_skipped(self._next(), "邮件正文", mail.sender, reason, None))

    def _add_links(self, mail: ParsedMail) -> None:
        known = {f.filename for f in self.files if f.kind == "link"}
        for link in find_links(mail.text, mail.html, list(self.rules.link_hosts)):
            if link.url in known:
                continue
            known.add(link.url)
            self.files.append(
                SortedFile(
                    self._next(),
                    "link",
                    link.url,
                    "",
                    mail.sender,
                    "video",
                    "云盘或超大附件链接",
                    None,
                    "",
                    None,
                    link_code=link.code,
                    note=link.note,
                )
            )

    # -- unit --------------------------------------------------------------------------------
    def attribute(self, mail: ParsedMail, files: list[SortedFile]) -> Attribution:
        registered = self.registry.by_email(mail.sender)
        if registered:
            return Attribution(registered, "registered", f"发件地址 {mail.sender} 已登记")
        learned = self.learned.get(mail.sender)
        if learned:
            return Attribution(learned, "learned", f"发件地址 {mail.sender} 曾确认属于该单位")
        evidence_texts = {
            "subject": [mail.subject],
            "filename": [f.filename for f in files if f.kind == "file"],
            "title": [f.document.title for f in files if f.document is not None],
            "body": [own_text(mail.text)],
        }
        for level, texts in evidence_texts.items():
            units: dict[str, str] = {}
            for text in texts:
                for match in self.registry.find(text):
                    units.setdefault(match.unit, match.text)
            if len(units) == 1:
                unit, spelling = next(iter(units.items()))
                return Attribution(unit, level, f"{LEVEL_LABELS[level]}含“{spelling}”")
            if len(units) > 1:
                names = tuple(units)
                return Attribution(
                    None,
                    level,
                    "",
                    names,
                    f"{LEVEL_LABELS[level]}中出现多个单位（{'、'.join(names)}），请人工确认",
                )
        proposals = tuple(self.registry.propose(mail.subject))
        return Attribution(None, "", "", proposals, "无法判断报送单位，请人工确认")


def _skipped(
    seq: int,
    display: str,
    sender: str,
    reason: str,
    size: int | None = 0,
    store_name: str = "",
) -> SortedFile:
    """A row that is never a material (empty or unreadable), listed with its reason."""
    return SortedFile(
        seq, "skipped", display, store_name or display, sender, "other", "", size, "", None,
        review_reason=reason,
    )  # fmt: skip


def _last(name: str) -> str:
    """The last component of an archive member's name ("a.zip/dir/x.jpg" -> "x.jpg")."""
    return PurePosixPath(name).name


def _environmental(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS


def _join(*reasons: str) -> str:
    return "；".join(dict.fromkeys(r.rstrip("。；") for r in reasons if r))


def _name_note(attachment: Attachment) -> str:
    if attachment.suspect_name:
        return _SUSPECT_NOTE
    return _GUESSED_NOTE if attachment.guessed_name else ""


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_EXTENSIONS = {
    "image": {"jpg": (".jpg", ".jpeg", ".jfif"), "tiff": (".tif", ".tiff")},
    "document": {"doc": (".doc", ".wps"), "wps": (".wps", ".doc")},
}


def _sensible_name(name: str, ftype: FileType) -> str:
    """Keep the sender's name, but give a file that lies about its type its real extension."""
    name = PurePosixPath(name.replace("\\", "/")).name or "未命名"
    if not ftype.subtype or ftype.kind in ("other", "message"):
        return name
    suffix = PurePosixPath(name).suffix.lower()
    allowed = _EXTENSIONS.get(ftype.kind, {}).get(ftype.subtype, (f".{ftype.subtype}",))
    if suffix in allowed or (ftype.subtype == "3gp" and suffix == ".3gp"):
        return name
    return f"{name}.{ftype.subtype}"


def _walk(mail: ParsedMail):
    yield mail
    for inner in mail.forwarded:
        yield from _walk(inner)


def sort_mail(
    mail: ParsedMail, staging: Path, registry: Registry, rules: SortRules, learned: dict[str, str]
) -> SortedMail:
    """Decode, sniff, unpack and classify every part; decide the unit (or why not)."""
    if staging.exists():
        shutil.rmtree(staging)
    sorter = _Sorter(staging, registry, rules, learned)
    per_mail: list[tuple[ParsedMail, list[SortedFile]]] = []
    for part in _walk(mail):
        before = len(sorter.files)
        sorter.add_attachments(part)
        sorter.add_links(part)
        per_mail.append((part, sorter.files[before:]))
    # A forwarded message is attributed by its inner message (SPEC); the outer one otherwise.
    attribution = Attribution(None, "", "", (), "无法判断报送单位，请人工确认")
    for part, files in reversed(per_mail):
        found = sorter.attribute(part, files)
        if found.unit or (found.candidates and found.level):
            attribution = found
            break
    else:
        attribution = sorter.attribute(mail, sorter.files)
    carries = any(f.kind in ("file", "link") for f in sorter.files)
    nature = _nature(mail, registry, rules, carries)
    return SortedMail(
        message_id=mail.message_id,
        subject=mail.subject,
        sender=mail.sender,
        sender_name=mail.sender_name,
        nature=nature,
        attribution=attribution if not nature else Attribution(None, "", "", (), ""),
        files=tuple(sorter.files),
        defects=mail.defects,
    )


def _nature(mail: ParsedMail, registry: Registry, rules: SortRules, carries: bool) -> str:
    """Why the mail is no submission. For a sender the units file registers only what its
    software declared in headers counts (an auto-reply, a delivery report): guesses from a
    system-looking address (a unit's own admin@), the subject, or the number of units the
    subject names never take a unit's own mail away from it. One exception: an auto-reply
    subject on a mail that carries no material at all (``carries`` False) is the unit's
    vacation responder answering our 催报, which must not make the unit "submitted"."""
    registered = registry.by_email(mail.sender) is not None
    nature = mail.declared_nature if registered else mail.nature
    if registered and not nature and not carries and mail.nature == "auto_reply":
        nature = "auto_reply"
    if nature:
        return nature
    if mail.sender in rules.office_addresses:
        return "circular"
    if not registered and len(registry.find(mail.subject)) >= rules.circular_min_units:
        return "circular"
    return ""
