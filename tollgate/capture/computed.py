"""Data sources answered without a cloud: computed exactly from arguments and stack config, or a sourced table.

Each answers as the provider does, field for field.
Runs inside the program's process (see child.py): the standard library and PyYAML only.
"""

from __future__ import annotations

import json
import zlib
from functools import cache
from pathlib import Path
from typing import Any, Callable, Optional

AZ_TABLE = Path(__file__).resolve().parent.parent / "data" / "aws-availability-zones.json"
# Stands for the account: a preview has no credentials to ask AWS whose account it is.
PLACEHOLDER_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"  # what a preview assumes when neither the provider nor the stack sets aws:region

Answer = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
FUNCTIONS: dict[str, Answer] = {}


def function(*tokens: str) -> Callable[[Answer], Answer]:
    def register(fn: Answer) -> Answer:
        for token in tokens:
            FUNCTIONS[token] = fn
        return fn

    return register


def answer(token: str, args: dict[str, Any], provider: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The exact answer, or None when this function is not one computed here. `provider`: the inputs of the
    provider the call goes to (the default provider's come from the stack's config)."""
    fn = FUNCTIONS.get(token)
    return None if fn is None else fn(args, provider)


def region(provider: dict[str, Any]) -> str:
    value = provider.get("region")
    return value if isinstance(value, str) and value else DEFAULT_REGION


def partition(region_name: str) -> tuple[str, str]:
    """(partition, DNS suffix) of a region, as AWS names them."""
    if region_name.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region_name.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    if region_name.startswith("us-isob-"):
        return "aws-iso-b", "sc2s.sgov.gov"
    if region_name.startswith("us-iso-"):
        return "aws-iso", "c2s.ic.gov"
    return "aws", "amazonaws.com"


@function("aws:index/getRegion:getRegion")
def get_region(args: dict[str, Any], provider: dict[str, Any]) -> dict[str, Any]:
    name = args.get("region") or args.get("name") or region(provider)
    suffix = partition(name)[1]
    return {"id": name, "name": name, "region": name, "endpoint": f"ec2.{name}.{suffix}",
            "description": args.get("description") or name}


@function("aws:index/getPartition:getPartition")
def get_partition(args: dict[str, Any], provider: dict[str, Any]) -> dict[str, Any]:
    name, suffix = partition(region(provider))
    reverse = ".".join(reversed(suffix.split(".")))
    return {"id": name, "partition": name, "dnsSuffix": suffix, "reverseDnsPrefix": reverse}


@function("aws:index/getCallerIdentity:getCallerIdentity")
def get_caller_identity(args: dict[str, Any], provider: dict[str, Any]) -> dict[str, Any]:
    allowed = provider.get("allowedAccountIds")
    account = allowed[0] if isinstance(allowed, list) and len(allowed) == 1 and isinstance(allowed[0], str) \
        else PLACEHOLDER_ACCOUNT
    name = partition(region(provider))[0]
    return {"id": account, "accountId": account, "arn": f"arn:{name}:iam::{account}:user/tollgate-preview",
            "userId": "AIDATOLLGATEPREVIEW"}


@function("aws:index/getDefaultTags:getDefaultTags")
def get_default_tags(args: dict[str, Any], provider: dict[str, Any]) -> dict[str, Any]:
    default = provider.get("defaultTags")
    tags = default.get("tags") if isinstance(default, dict) else None
    return {"id": partition(region(provider))[0], "tags": tags if isinstance(tags, dict) else {}}


@cache
def _zones() -> dict[str, Any]:
    try:
        return json.loads(AZ_TABLE.read_text(encoding="utf-8"))["regions"]
    except (OSError, ValueError, KeyError):
        return {}


@function("aws:index/getAvailabilityZones:getAvailabilityZones")
def get_availability_zones(args: dict[str, Any], provider: dict[str, Any]) -> Optional[dict[str, Any]]:
    name = region(provider)
    table = _zones().get(name)
    if not table:
        return None  # a region the table does not hold: answered by shape, as any other data source
    excluded_names = set(args.get("excludeNames") or [])
    excluded_ids = set(args.get("excludeZoneIds") or [])
    pairs = [(n, i) for n, i in zip(table["names"], table["zone_ids"])
             if n not in excluded_names and i not in excluded_ids]
    return {"id": name, "region": name, "names": [n for n, _ in pairs], "zoneIds": [i for _, i in pairs],
            "groupNames": [name] * len(pairs), "state": args.get("state") or "",
            "allAvailabilityZones": bool(args.get("allAvailabilityZones")),
            "excludeNames": sorted(excluded_names), "excludeZoneIds": sorted(excluded_ids), "filters": args.get("filters") or []}


# --- IAM policy documents, rendered as the AWS provider renders them ------------------------------------

def _strings(values: Any) -> Any:
    """A set of strings as the provider writes it: one string alone, else the list in reverse order."""
    items = [v for v in values or [] if isinstance(v, str)]
    return items[0] if len(items) == 1 else sorted(items, reverse=True)


def _principals(blocks: Any) -> Any:
    blocks = [b for b in blocks or [] if isinstance(b, dict)]
    if len(blocks) == 1 and blocks[0].get("type") == "*" and list(blocks[0].get("identifiers") or []) == ["*"]:
        return "*"
    out: dict[str, Any] = {}
    for block in blocks:
        ids = _strings(block.get("identifiers"))
        prior = out.get(block.get("type", ""))
        if prior is None:
            out[block.get("type", "")] = ids
        else:
            out[block.get("type", "")] = ([prior] if isinstance(prior, str) else prior) + (
                [ids] if isinstance(ids, str) else ids)
    return dict(sorted(out.items()))  # a map in the provider: its keys sorted


def _conditions(blocks: Any) -> dict[str, Any]:
    out: dict[str, dict[str, list[str]]] = {}
    for block in blocks or []:
        if isinstance(block, dict):
            out.setdefault(block.get("test", ""), {}).setdefault(block.get("variable", ""), []).extend(
                v for v in block.get("values") or [] if isinstance(v, str))
    return {t: {k: v[0] if len(v) == 1 else v for k, v in sorted(vs.items())} for t, vs in sorted(out.items())}


def _statement(block: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = {}
    for key, field, render in (("Sid", "sid", None), ("Effect", "effect", None), ("Action", "actions", _strings),
                               ("NotAction", "notActions", _strings), ("Resource", "resources", _strings),
                               ("NotResource", "notResources", _strings), ("Principal", "principals", _principals),
                               ("NotPrincipal", "notPrincipals", _principals), ("Condition", "conditions", _conditions)):
        value = block.get(field)
        if key == "Effect" and not value:
            value = "Allow"
        if render is not None:
            value = render(value)
        if value not in (None, "", [], {}):
            statement[key] = value
    return statement


def _merge_statements(into: list[dict[str, Any]], statements: list[dict[str, Any]]) -> None:
    """A later statement replaces an earlier one with the same Sid; one without a Sid is added."""
    for statement in statements:
        sid = statement.get("Sid")
        at = next((i for i, s in enumerate(into) if sid and s.get("Sid") == sid), None)
        if at is None:
            into.append(statement)
        else:
            into[at] = statement


def _documents(texts: Any) -> list[dict[str, Any]]:
    docs = []
    for text in texts or []:
        try:
            doc = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            docs.append(doc)
    return docs


def go_json(value: Any, indent: bool, sort_keys: bool = False) -> str:
    """JSON as Go's encoder writes it: <, > and & escaped; `sort_keys` for a map (a struct keeps its order)."""
    text = json.dumps(value, indent=2 if indent else None, separators=None if indent else (",", ":"),
                      ensure_ascii=False, sort_keys=sort_keys)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@function("aws:iam/getPolicyDocument:getPolicyDocument")
def get_policy_document(args: dict[str, Any], provider: dict[str, Any]) -> dict[str, Any]:
    version, doc_id, statements = "", "", []
    for doc in _documents(args.get("sourcePolicyDocuments")):
        version = max(version, str(doc.get("Version") or ""))
        doc_id = str(doc.get("Id") or doc_id)
        _merge_statements(statements, [s for s in doc.get("Statement") or [] if isinstance(s, dict)])
    _merge_statements(statements, [_statement(b) for b in args.get("statements") or [] if isinstance(b, dict)])
    for doc in _documents(args.get("overridePolicyDocuments")):
        doc_id = str(doc.get("Id") or doc_id)
        _merge_statements(statements, [s for s in doc.get("Statement") or [] if isinstance(s, dict)])
    document: dict[str, Any] = {"Version": args.get("version") or version or "2012-10-17"}
    if args.get("policyId") or doc_id:
        document["Id"] = args.get("policyId") or doc_id
    if statements:
        document["Statement"] = statements
    text = go_json(document, indent=True)
    return {"id": str(zlib.crc32(text.encode("utf-8"))),  # the provider's id: a checksum of the text
            "json": text, "minifiedJson": go_json(document, indent=False),
            **{k: v for k, v in args.items() if k != "statements"}, "statements": args.get("statements") or []}


# --- Kubernetes: the SDK's own calls to its provider ------------------------------------------------------

@function("kubernetes:yaml:decode")
def decode_yaml(args: dict[str, Any], provider: dict[str, Any]) -> dict[str, Any]:
    """yaml.ConfigFile / ConfigGroup (v1): the provider parses the text into objects; so can we. As it does,
    a date stays text, keys become strings and a document without kind or apiVersion is dropped; Lists are
    left whole (the SDK flattens them)."""
    import yaml

    from .expand.kubernetes_yaml import Loader, plain

    text = args.get("text")
    docs = list(yaml.load_all(text, Loader=Loader)) if isinstance(text, str) else []
    return {"result": [plain(doc) for doc in docs if isinstance(doc, dict) and doc.get("kind") and doc.get("apiVersion")]}
