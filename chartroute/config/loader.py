"""Load the practice YAML and report every problem with its file, line and field.

PyYAML's composed node tree keeps each value's position, so a pydantic error location such as
``roster.3.backup`` can be turned back into the line the ops lead has to fix. Duplicate keys,
which PyYAML would silently resolve to the last one, are reported too.

A hostile file is refused before it is built: a 306-byte "billion laughs" of nested aliases
took 79 s to check and 5,000 nested ``[`` raised a ``RecursionError``. PyYAML's event parser
walks a file without recursion, so the file is first read as events, counting aliases, depth
and the number of values the aliases would expand to, and refused (naming the line) past
limits no practice file comes near.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from chartroute.config.base import LocatedValueError
from chartroute.config.models import PracticeConfig, cross_reference_problems
from chartroute.config.suggest import hint_for


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config file."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '(file)'}: {self.message}"


class ConfigError(Exception):
    """The config file cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[ConfigProblem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def practice_path(path: str | Path) -> Path:
    """The practice file's path; an empty one is refused rather than read as this folder."""
    if not str(path).strip():
        raise ConfigError(
            [ConfigProblem("(no file)", None, "", "the practice file's path is empty: name it")]
        )
    return Path(path)


def load_config(path: str | Path) -> PracticeConfig:
    """Read and validate a practice file, raising ``ConfigError`` on any problem."""
    path = practice_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [ConfigProblem(str(path), None, "", f"cannot read: {exc.strerror}")]
        ) from None
    return load_config_text(text, str(path))


#: Aliases a practice file may use (anchors for shared hours, say); a bomb needs many.
MAX_ALIASES = 100
#: Nesting depth; the deepest field of a practice file is under ten levels.
MAX_DEPTH = 64
#: Values the file stands for once every alias is expanded.
MAX_EXPANDED = 200_000


def check_yaml_shape(text: str, filename: str) -> None:
    """Refuse YAML whose aliases or nesting would exhaust time or the stack when built.

    Reads events only (no nodes, no recursion); raises ``ConfigError`` naming the line.
    """
    aliases = 0
    sizes: dict[str, int] = {}  # anchor -> values it expands to
    open_nodes: list[list[Any]] = []  # [anchor, values so far] per open collection

    def refuse(event: yaml.Event, message: str) -> ConfigError:
        mark = event.start_mark
        line = mark.line + 1 if mark is not None else None
        return ConfigError([ConfigProblem(filename, line, "", message)])

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_nodes) >= MAX_DEPTH:
                raise refuse(event, f"nested deeper than {MAX_DEPTH} levels")
            open_nodes.append([event.anchor, 1])
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_nodes.pop()
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise refuse(event, f"more than {MAX_ALIASES} aliases (*name)")
            anchor, size = None, sizes.get(str(event.anchor), 1)
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
        else:
            continue
        if anchor is not None:
            sizes[anchor] = size
        if open_nodes:
            open_nodes[-1][1] += size
            if open_nodes[-1][1] > MAX_EXPANDED:
                raise refuse(event, f"aliases expand to more than {MAX_EXPANDED:,} values")


#: Practice files validated in this process, by text: a sync reads its file twice (the
#: command, then the flow's pinned copy), and parsing YAML in pure Python is the slow part.
_VALIDATED: OrderedDict[str, PracticeConfig] = OrderedDict()
_VALIDATED_SIZE = 4
_validated_lock = threading.Lock()


def load_config_text(text: str, filename: str = "<config>") -> PracticeConfig:
    """Validate YAML text; ``filename`` is only used in messages.

    A text already validated in this process is not parsed again: the caller gets a copy of
    its config (a config is a pure function of the text; a text with problems is not kept).
    """
    with _validated_lock:
        known = _VALIDATED.get(text)
        if known is not None:
            _VALIDATED.move_to_end(text)
    if known is not None:
        return known.model_copy(deep=True)
    config = _validate_text(text, filename)
    with _validated_lock:
        _VALIDATED[text] = config.model_copy(deep=True)
        while len(_VALIDATED) > _VALIDATED_SIZE:
            _VALIDATED.popitem(last=False)
    return config


def _validate_text(text: str, filename: str) -> PracticeConfig:
    try:
        check_yaml_shape(text, filename)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            [ConfigProblem(filename, line, "", f"not valid YAML: {problem}")]
        ) from None
    if not isinstance(data, dict) or root is None:
        raise ConfigError([ConfigProblem(filename, 1, "", "expected a mapping at the top level")])
    problems = _duplicate_keys(root, filename, ())
    try:
        config = PracticeConfig.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems_from(exc, root, filename))
        problems.extend(_cross_references(data, root, filename, problems))
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return config


def config_json_schema() -> str:
    """The JSON Schema of the practice file, for editors' completion and checks."""
    schema = PracticeConfig.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "chartroute practice configuration"
    return json.dumps(schema, indent=2, sort_keys=True)


def _problems_from(exc: ValidationError, root: yaml.Node, filename: str) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors():
        loc: tuple[Any, ...] = tuple(error["loc"])
        message = error["msg"]
        original = (error.get("ctx") or {}).get("error")
        if isinstance(original, LocatedValueError):
            loc = loc + original.loc
            message = str(original)
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        loc = tuple(p for p in loc if not (isinstance(p, str) and _is_union_tag(p)))
        loc = _without_tags(root, loc)
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        message += hint_for(PracticeConfig, error, loc)
        node = _node_at(root, loc)
        line = node.start_mark.line + 1 if node is not None else None
        field = ".".join(str(p) for p in loc)
        problems.append(ConfigProblem(filename, line, field, message))
    return problems


def _cross_references(
    data: dict[str, Any], root: yaml.Node, filename: str, found: list[ConfigProblem]
) -> list[ConfigProblem]:
    """The roster's cross-reference problems pydantic did not reach (see
    ``cross_reference_problems``), one per field not already reported."""
    reported = {p.field for p in found}
    problems = []
    for error in cross_reference_problems(data):
        field = ".".join(str(p) for p in error.loc)
        if field in reported:
            continue
        node = _node_at(root, error.loc)
        line = node.start_mark.line + 1 if node is not None else None
        problems.append(ConfigProblem(filename, line, field, str(error)))
        reported.add(field)
    return problems


def _is_union_tag(part: str) -> bool:
    # pydantic inserts the tried union member ("date", "DateRange") into a location.
    return part in {"date", "DateRange", "str", "int", "float"} or part.startswith("function-")


def _without_tags(root: yaml.Node, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop a discriminated union's tag (``smtp`` in ``channels.email.smtp.security``): a
    part the file does not have as a key, followed by one it does."""
    kept: list[Any] = []
    node: yaml.Node | None = root
    for i, part in enumerate(loc):
        child = _child(node, part) if node is not None else None
        tag = child is None and node is not None and i + 1 < len(loc)
        if tag and node is not None and _child(node, loc[i + 1]) is not None:
            continue
        kept.append(part)
        node = child
    return tuple(kept)


def _child(node: yaml.Node, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if str(key_node.value) == str(part):
                value: yaml.Node = value_node
                return value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None


def _node_at(root: yaml.Node, loc: tuple[Any, ...]) -> yaml.Node | None:
    node: yaml.Node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if str(key_node.value) == str(part):
                    node = value_node
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _duplicate_keys(node: yaml.Node, filename: str, path: tuple[str, ...]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                problems.append(
                    ConfigProblem(
                        filename,
                        key_node.start_mark.line + 1,
                        ".".join((*path, key)),
                        "key appears more than once",
                    )
                )
            seen.add(key)
            problems.extend(_duplicate_keys(value_node, filename, (*path, key)))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems.extend(_duplicate_keys(item, filename, (*path, str(i))))
    return problems
