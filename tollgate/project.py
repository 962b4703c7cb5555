"""Read a Pulumi project (Pulumi.yaml) and one stack's config (Pulumi.<stack>.yaml), as the CLI would."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

from .errors import TollgateError
from .capture.wire import SECRET_TEXT
from .model import SECRET_MARKER

# What a `secure:` value reads as inside the program: we cannot decrypt it and never want its value.
SECRET_PLACEHOLDER = SECRET_TEXT
TYPES = {"string", "integer", "boolean", "array", "object"}


@dataclass
class Project:
    root: Path
    name: str
    pwd: Path            # where the program runs (from `main:`)
    program: str         # what the language host hands runpy: "." or a file name
    stack_config_dir: Path
    schema: dict[str, dict[str, Any]]   # project config keys (unqualified) -> {type, default, ...}
    file: Path
    virtualenv: Optional[Path] = None


@dataclass
class StackConfig:
    file: Path
    config: dict[str, str]                 # PULUMI_CONFIG: fully qualified key -> string value
    secret_keys: list[str]
    provider_config: dict[str, dict[str, Any]] = field(default_factory=dict)  # package -> key -> value
    environment: Optional[str] = None      # `environment` config of the project or `tollgate:` (environment_key)


def _read_yaml(path: Path, what: str, fix: str) -> tuple[Any, yaml.Node]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TollgateError(f"{what} not found", str(path), fix=fix) from exc
    try:
        return yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TollgateError(f"{what} is not valid YAML: {getattr(exc, 'problem', exc)}", str(path),
                            mark.line + 1 if mark else None) from exc


def _key_lines(node: Optional[yaml.Node], section: str) -> dict[str, int]:
    """Line of each key under a top-level mapping section, for errors that point at the line."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    for key, value in node.value:
        if key.value == section and isinstance(value, yaml.MappingNode):
            return {k.value: k.start_mark.line + 1 for k, _ in value.value}
    return {}


def load_project(root: Path) -> Project:
    file = root / "Pulumi.yaml"
    if not file.is_file():  # named absolute: `--cwd .` or a relative path does not say where we looked
        where = root.resolve()
        raise TollgateError(f"no Pulumi.yaml in {where}" if where.is_dir() else f"directory {where} does not exist",
                            fix="run tollgate in a Pulumi project directory or pass --cwd DIR")
    data, _ = _read_yaml(file, "Pulumi.yaml", "run tollgate in a Pulumi project directory or pass --cwd DIR")
    if not isinstance(data, dict) or not data.get("name"):
        raise TollgateError("Pulumi.yaml has no `name`", str(file), fix="add `name: <project>`")
    runtime = data.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise TollgateError(f"runtime is {runtime_name!r}; tollgate preview runs Python programs", str(file),
                            fix="for other languages, judge `pulumi preview --json` output instead")
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    main = data.get("main")
    if main:
        target = (root / main).resolve()
        if not target.exists():
            raise TollgateError(f"`main: {main}` does not exist", str(file), fix="point `main:` at a file or directory")
        pwd, program = (target, ".") if target.is_dir() else (target.parent, target.name)
    else:
        pwd, program = root.resolve(), "."
    if program == "." and not (pwd / "__main__.py").exists():
        raise TollgateError("the program has no __main__.py", str(pwd), fix="add __main__.py or set `main:`")
    venv = options.get("virtualenv")
    return Project(root=root.resolve(), name=str(data["name"]), pwd=pwd, program=program,
                   stack_config_dir=(root / data.get("stackConfigDir", ".")).resolve(),
                   schema=_schema(data.get("config") or {}, str(data["name"]), file), file=file,
                   virtualenv=(root / venv).resolve() if venv else None)


def _schema(config: dict[str, Any], project: str, file: Path) -> dict[str, dict[str, Any]]:
    schema = {}
    for key, spec in config.items():
        if not isinstance(spec, dict) or not ({"type", "default", "value", "description", "secret"} & spec.keys()):
            spec = {"default": spec}
        if spec.get("type") and spec["type"] not in TYPES:
            raise TollgateError(f"config `{key}` has unknown type {spec['type']!r}", str(file),
                                fix=f"use one of {', '.join(sorted(TYPES))}")
        schema[key if ":" in key else f"{project}:{key}"] = spec
    return schema


def _qualify(key: str, project: Project, file: Path, line: Optional[int]) -> str:
    if key.count(":") > 1 or key.startswith(":") or key.endswith(":"):
        raise TollgateError(f"config key `{key}` is not `namespace:name`", str(file), line,
                            fix=f"write `{project.name}:name` or `aws:name`")
    return key if ":" in key else f"{project.name}:{key}"


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    return isinstance(value, list) and any(_has_secure(v) for v in value)


def _redact(value: Any, marker: Any) -> Any:
    if isinstance(value, dict):
        return marker if set(value) == {"secure"} else {k: _redact(v, marker) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, marker) for v in value]
    return value


def _blind(value: Any, marker: Any) -> Any:
    """A secret key's value: a scalar becomes the marker; a structured one keeps its shape (the program indexes
    it) with every value in it the marker, since all of it is the secret."""
    if isinstance(value, dict) and set(value) != {"secure"}:
        return {k: _blind(v, marker) for k, v in value.items()}
    if isinstance(value, list):
        return [_blind(v, marker) for v in value]
    return marker


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def _check_type(key: str, value: Any, spec: dict[str, Any], file: Path, line: Optional[int]) -> None:
    want = spec.get("type")
    ok = {
        None: True,
        "string": not isinstance(value, (dict, list)),
        "integer": (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, str) and value.lstrip("-").isdigit()),
        "boolean": isinstance(value, bool) or value in ("true", "false"),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }[want]
    if not ok:
        secret = spec.get("secret") or (isinstance(value, dict) and "secure" in value)
        shown = f"a {type(value).__name__} (a secret: its value is not shown)" if secret else repr(value)
        raise TollgateError(f"config `{key}` must be of type {want} (Pulumi.yaml), got {shown}", str(file), line,
                            fix=f"set `{key}` to a {want} value")


def config_key(config: Mapping[str, Any], project: str, name: str) -> Optional[str]:
    """The config key a stack setting is under: `<project>:<name>`, else `tollgate:<name>`."""
    return next((k for k in (f"{project}:{name}", f"tollgate:{name}") if k in config), None)


def environment_key(config: Mapping[str, Any], project: str) -> Optional[str]:
    """The config key the stack's environment is under."""
    return config_key(config, project, "environment")


def stack_tags(config: Mapping[str, Any], project: str) -> dict[str, str]:
    """The stack's tag set (`<project>:tags` or `tollgate:tags`; PULUMI_CONFIG form: structured values are JSON
    strings), its text values only."""
    key = config_key(config, project, "tags")
    tags = config[key] if key else {}
    if isinstance(tags, str):
        try:
            tags = json.loads(tags)
        except json.JSONDecodeError:
            return {}
    return {k: v for k, v in tags.items() if isinstance(v, str)} if isinstance(tags, Mapping) else {}


def stack_names(project: Project) -> list[str]:
    """The project's stacks that have a config file (Pulumi.<name>.yaml in its stackConfigDir)."""
    return sorted(path.name[len("Pulumi."):-len(".yaml")] for path in project.stack_config_dir.glob("Pulumi.*.yaml"))


def load_stack(project: Project, stack: str) -> StackConfig:
    file = project.stack_config_dir / f"Pulumi.{stack}.yaml"
    if not file.is_file():
        names = stack_names(project)
        create = f"create {file.name} in {project.stack_config_dir}"
        raise TollgateError(f"stack config for `{stack}` not found; "
                            + (f"stacks here: {', '.join(names)}" if names else "no stack has a config file here"),
                            str(file), fix=f"pick one of them with --stack, or {create}" if names else create)
    data, node = _read_yaml(file, f"stack config for `{stack}`",
                            f"create {file.name} in {project.stack_config_dir} or pick another --stack")
    data = data or {}
    raw = data.get("config") or {}
    if not isinstance(data, dict) or not isinstance(raw, dict):
        raise TollgateError("`config:` must be a mapping of keys to values", str(file))
    lines = _key_lines(node, "config")
    values: dict[str, Any] = {k: s.get("value", s.get("default")) for k, s in project.schema.items()
                              if "value" in s or "default" in s}
    secret_keys = {k for k, s in project.schema.items() if s.get("secret")}
    for key, value in raw.items():
        full = _qualify(str(key), project, file, lines.get(key))
        if full in project.schema and not _has_secure(value):
            _check_type(full, value, project.schema[full], file, lines.get(key))
        if _has_secure(value):
            secret_keys.add(full)
        values[full] = value
    missing = [k for k, s in project.schema.items() if k not in values and s.get("type") and "default" not in s]
    if missing:
        raise TollgateError(f"required config {', '.join(missing)} not set", str(file),
                            fix=f"add {missing[0]} under `config:`")
    config = {k: _as_string(_blind(v, SECRET_PLACEHOLDER) if k in secret_keys else _redact(v, SECRET_PLACEHOLDER))
              for k, v in values.items()}
    providers: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        namespace, name = key.split(":", 1)
        if namespace != project.name:
            providers.setdefault(namespace, {})[name] = (
                _blind(value, SECRET_MARKER) if key in secret_keys else _redact(value, SECRET_MARKER))
    env_key = environment_key(values, project.name)
    environment = None if env_key is None or env_key in secret_keys else str(values[env_key])
    return StackConfig(file=file, config=config, secret_keys=sorted(secret_keys), provider_config=providers,
                       environment=environment)


ANSWERS_KEYS = {"function", "args", "result"}
FIX_ANSWERS = ("each entry of `answers:` is {function: <token, e.g. aws:ec2/getAmi:getAmi>, args: {<argument>: "
               "<value>} (optional), result: {<field>: <value>}}; see README, \"Data sources\"")


def answers_path(project: Project, stack: str) -> Path:
    """Real answers a user pinned for the stack's data sources, beside its Pulumi.<stack>.yaml."""
    return project.stack_config_dir / f"datasources.{stack}.yaml"


def load_answers(project: Project, stack: str) -> list[dict[str, Any]]:
    """The pinned answers ([{function, args, result}]), checked; none when the file does not exist."""
    file = answers_path(project, stack)
    if not file.exists():
        return []
    data, node = _read_yaml(file, "data source answers", FIX_ANSWERS)
    if data is None:
        return []
    entries = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise TollgateError("data source answers need a list under `answers:`", str(file), fix=FIX_ANSWERS)
    lines = _list_lines(node, "answers")
    for i, entry in enumerate(entries):
        line = lines[i] if i < len(lines) else None
        if not isinstance(entry, dict):
            raise TollgateError(f"answer {i + 1} is not a mapping", str(file), line, fix=FIX_ANSWERS)
        unknown = set(entry) - ANSWERS_KEYS
        if unknown:
            raise TollgateError(f"answer {i + 1} has unknown key(s) {', '.join(sorted(map(str, unknown)))}",
                                str(file), line, fix=FIX_ANSWERS)
        token = entry.get("function")
        if not isinstance(token, str) or token.count(":") != 2:
            raise TollgateError(f"answer {i + 1}: `function` must be a function token such as "
                                "aws:ec2/getAmi:getAmi", str(file), line, fix=FIX_ANSWERS)
        if not isinstance(entry.get("args", {}) or {}, dict) or not isinstance(entry.get("result"), dict):
            raise TollgateError(f"answer {i + 1} ({token}): `args` must be a mapping and `result` a mapping of "
                                "the function's result fields", str(file), line, fix=FIX_ANSWERS)
    return [{"function": e["function"], "args": e.get("args") or {}, "result": e["result"]} for e in entries]


def _list_lines(node: Optional[yaml.Node], section: str) -> list[int]:
    """Line of each item of a top-level sequence section, for errors that point at the entry."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == section and isinstance(value, yaml.SequenceNode):
                return [item.start_mark.line + 1 for item in value.value]
    return []
