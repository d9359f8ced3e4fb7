"""Offline validation: UBL 2.1 XSD (lxml), EN 16931 and NLCIUS schematron XSLTs (saxonche).

The XSLTs are large (0.9 MB each) and take about half a second each to compile, so a
`Validator` compiles each once, on first use, and keeps it; the module-level functions
share one Validator per process. All Validators share one SaxonC processor, which is not
meant for concurrent use from several threads, so calls are serialised with one lock.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from .artefacts import Artefacts, ensure_artefacts
from .model import Specification
from .namespaces import CREDIT_NOTE_NS, INVOICE_NS, path
from .reader import safe_parser

SVRL = "http://purl.oclc.org/dsdl/svrl"
XSD = "xsd"
EN16931 = "en16931"
NLCIUS = "nlcius"
FATAL = "fatal"
WARNING = "warning"
_ROOTS = {f"{{{INVOICE_NS}}}Invoice", f"{{{CREDIT_NOTE_NS}}}CreditNote"}
# Rule ids in the text: "[BR-NL-3] For suppliers ..." (SI-UBL) / "[BR-01]-An ..." (CEN)
_TEXT_ID = re.compile(r"^\s*\[([^\]]+)\]\s*-?\s*")
# Locations read '/*:Invoice[namespace-uri()='urn:...'][1]/...'; the namespaces add nothing.
_NS_TEST = re.compile(r"\[namespace-uri\(\)='[^']*'\]")


@dataclass(frozen=True)
class Problem:
    source: str  # "xsd", "en16931" or "nlcius"
    rule_id: str  # e.g. "BR-CO-15", "BR-NL-1"; "XSD" for schema errors, "XML" for syntax
    flag: str  # "fatal" or "warning" (as the rule says; schema errors are fatal)
    location: str  # XPath of the node (rules) or "line N" (schema)
    text: str

    def __str__(self) -> str:
        return f"[{self.source}] {self.rule_id} ({self.flag}) at {self.location}: {self.text}"


@dataclass(frozen=True)
class Report:
    problems: tuple[Problem, ...]
    checked: tuple[str, ...]  # which validations ran: "xsd", "en16931", "nlcius"

    @property
    def ok(self) -> bool:
        return not any(problem.flag == FATAL for problem in self.problems)

    @property
    def fatal_ids(self) -> tuple[str, ...]:
        return tuple(sorted({p.rule_id for p in self.problems if p.flag == FATAL}))

    @property
    def warning_ids(self) -> tuple[str, ...]:
        return tuple(sorted({p.rule_id for p in self.problems if p.flag != FATAL}))


def _parse(xml: bytes) -> etree._Element | Problem:
    try:
        return etree.fromstring(xml, parser=safe_parser())
    except etree.XMLSyntaxError as error:
        return Problem(XSD, "XML", FATAL, f"line {error.lineno}", str(error))


def claims_nlcius(root: etree._Element) -> bool:
    found = root.find(path("cbc:CustomizationID"))
    text = (found.text or "").strip() if found is not None else ""
    return text.startswith(Specification.NLCIUS.value)


def parse_svrl(svrl: str, source: str) -> list[Problem]:
    """Failed asserts and successful reports of an SVRL result as Problems."""
    root = etree.fromstring(svrl.encode(), parser=safe_parser())
    problems: list[Problem] = []
    for tag in ("failed-assert", "successful-report"):
        for node in root.iter(f"{{{SVRL}}}{tag}"):
            text_node = node.find(f"{{{SVRL}}}text")
            raw = " ".join("".join(text_node.itertext()).split()) if text_node is not None else ""
            match = _TEXT_ID.match(raw)
            # Prefer the id printed in the text: SI-UBL numbers repeated asserts ("BR-NL-32-1")
            # and gives the charge-code asserts of BR-NL-34 the @id "BR-NL-32-n".
            rule_id = (match.group(1) if match else None) or node.get("id") or "UNKNOWN"
            text = raw[match.end() :] if match else raw
            # A rule without a flag is an error in Schematron terms: treat it as fatal.
            flag = (node.get("flag") or FATAL).lower()
            location = _NS_TEST.sub("", node.get("location", ""))
            problems.append(Problem(source, rule_id, flag, location, text))
    return problems


_shared_processor: Any = None
_processor_lock = threading.Lock()
# Serialises all use of the shared processor, across Validators too.
_use_lock = threading.RLock()


def _saxon_processor() -> Any:
    """One SaxonC processor per process, shared by every Validator."""
    global _shared_processor
    with _processor_lock:
        if _shared_processor is None:
            from saxonche import PySaxonProcessor  # imported late: it starts a runtime

            _shared_processor = PySaxonProcessor(license=False)
        return _shared_processor


class Validator:
    """Compiles the schema and both XSLTs once (lazily) and validates documents with them."""

    def __init__(self, artefacts: Artefacts) -> None:
        self.artefacts = artefacts
        self._lock = _use_lock
        self._schema: etree.XMLSchema | None = None
        self._executables: dict[str, Any] = {}

    def _compiled_schema(self) -> etree.XMLSchema:
        if self._schema is None:
            document = etree.parse(str(self.artefacts.schema), parser=safe_parser())
            self._schema = etree.XMLSchema(document)
        return self._schema

    def _executable(self, source: str) -> Any:
        if source not in self._executables:
            stylesheet: Path = {
                EN16931: self.artefacts.en16931_xslt,
                NLCIUS: self.artefacts.nlcius_xslt,
            }[source]
            compiler = _saxon_processor().new_xslt30_processor()
            self._executables[source] = compiler.compile_stylesheet(stylesheet_file=str(stylesheet))
        return self._executables[source]

    def warm_up(self) -> None:
        """Compile everything now (e.g. at service start) instead of on the first document."""
        with self._lock:
            self._compiled_schema()
            self._executable(EN16931)
            self._executable(NLCIUS)

    def _xsd(self, root: etree._Element) -> list[Problem]:
        if root.tag not in _ROOTS:
            return [Problem(XSD, "XSD", FATAL, "/", f"root {root.tag} is not Invoice/CreditNote")]
        schema = self._compiled_schema()
        if schema.validate(root):
            return []
        return [
            Problem(XSD, "XSD", FATAL, f"line {entry.line}", entry.message)
            for entry in schema.error_log
        ]

    def _rules(self, root: etree._Element, nlcius: bool | None) -> tuple[list[Problem], list[str]]:
        sources = [EN16931]
        if nlcius or (nlcius is None and claims_nlcius(root)):
            sources.append(NLCIUS)
        # Serialise the element (no DOCTYPE, no entities) for Saxon's parser.
        text = etree.tostring(root, encoding="unicode")
        problems: list[Problem] = []
        node = _saxon_processor().parse_xml(xml_text=text)
        for source in sources:
            svrl = self._executable(source).transform_to_string(xdm_node=node)
            problems.extend(parse_svrl(svrl, source))
        return problems, sources

    def validate_xsd(self, xml: bytes) -> list[Problem]:
        root = _parse(xml)
        if isinstance(root, Problem):
            return [root]
        with self._lock:
            return self._xsd(root)

    def validate_rules(self, xml: bytes, *, nlcius: bool | None = None) -> list[Problem]:
        """EN 16931 always; NLCIUS when `nlcius` is True, or None and the document claims it."""
        root = _parse(xml)
        if isinstance(root, Problem):
            return [root]
        with self._lock:
            return self._rules(root, nlcius)[0]

    def validate(self, xml: bytes, *, nlcius: bool | None = None) -> Report:
        root = _parse(xml)
        if isinstance(root, Problem):
            return Report((root,), (XSD,))
        with self._lock:
            problems = self._xsd(root)
            rule_problems, sources = self._rules(root, nlcius)
        return Report(tuple(problems + rule_problems), (XSD, *sources))


_default: Validator | None = None
_default_lock = threading.Lock()


def default_validator() -> Validator:
    """The process-wide Validator over the cached artefacts (fetched on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Validator(ensure_artefacts())
        return _default


def validate_xsd(xml: bytes) -> list[Problem]:
    return default_validator().validate_xsd(xml)


def validate_rules(xml: bytes, *, nlcius: bool | None = None) -> list[Problem]:
    return default_validator().validate_rules(xml, nlcius=nlcius)


def validate(xml: bytes, *, nlcius: bool | None = None) -> Report:
    return default_validator().validate(xml, nlcius=nlcius)
