"""Write tollgate/data/aws-instance-types.json and tollgate/data/aws-availability-zones.json from public sources.

The sources are git mirrors of public repositories (read with `git show`, never run): every EC2 instance type
with its vCPU, memory, GPUs and other accelerators; every RDS instance class and ElastiCache node type sold;
the Availability Zones of each commercial Region. Each output keeps its sources (where, commit, date) and
the checks between them. The output is sorted and one entry a line, so the same mirrors give the same bytes.

    python scripts/gen_instance_types.py [--generated YYYY-MM-DD] [--karpenter DIR] ...
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
MIRRORS = Path("/work/.mirror")
KARPENTER_DOCS = "website/content/en/{version}/reference/instance-types.md"
# Older Karpenter references, newest first: the GPU or accelerator model of a type the current one dropped.
KARPENTER_OLDER = ("v1.13", "v1.12", "v1.0")
AUTOSCALER_GO = "cluster-autoscaler/cloudprovider/aws/ec2_instance_types.go"
MOTO_TYPES = "moto/ec2/resources/instance_types.json"
MOTO_ZONES = "moto/ec2/resources/instance_type_offerings/{kind}/{region}.json"
CFN_RDS = "src/cfnlint/data/schemas/extensions/aws_rds_dbinstance/dbinstanceclass_enum.json"
CFN_RDS_CLUSTER = "src/cfnlint/data/schemas/extensions/aws_rds_dbcluster/dbclusterinstanceclass_enum.json"
CFN_CACHE = "src/cfnlint/data/schemas/extensions/aws_elasticache_cachecluster/cachenodetype_enum.json"
CFN_HELPERS = "src/cfnlint/helpers.py"
RDS_DOC = "doc_source/Concepts.DBInstanceClass.md"
EC2INFO_CACHE = "www/cache/instances.json"
# Regions outside the commercial partition (China, GovCloud, isolated, European Sovereign Cloud).
OTHER_PARTITIONS = re.compile(r"^(cn-|us-gov-|us-iso|eu-isoe-|eusc-)")
# AZ IDs of the commercial Regions moto's offerings lack, copied from AWS's "AWS Availability Zones" page
# (see AZ_DOC_SOURCE); every other Region's IDs come from moto, and this page is only checked against them.
AZ_DOC_SOURCE = {
    "where": "text copy of AWS's 'AWS Availability Zones' page (AWS Regions and Availability Zones guide) in a "
             "public GitHub file found through the code index (index file id 68455672780; the index does not "
             "expose its repository/path)",
    "date": "2025-11 or later (the page speaks of accounts created starting November 2025)",
}
AZ_DOC_IDS = {
    "ap-east-2": ["ape2-az1", "ape2-az2", "ape2-az3"],
    "ap-southeast-6": ["apse6-az1", "apse6-az2", "apse6-az3"],
    "ap-southeast-7": ["apse7-az1", "apse7-az2", "apse7-az3"],
    "mx-central-1": ["mxc1-az1", "mxc1-az2", "mxc1-az3"],
}


class Mirror:
    """A mirrored repository, read at its HEAD (or at a given commit)."""

    def __init__(self, path: Path, repo: str):
        self.path, self.repo = path, repo

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.path), *args], check=True, capture_output=True,
                              text=True).stdout

    def show(self, path: str, rev: str = "HEAD") -> str:
        return self.git("show", f"{rev}:{path}")

    def ls(self, folder: str) -> list[str]:
        return self.git("ls-tree", "--name-only", "HEAD", folder.rstrip("/") + "/").split()

    def last_change(self, path: str, rev: str = "HEAD") -> tuple[str, str]:
        """The commit that last changed `path` (at `rev`) and its date (YYYY-MM-DD)."""
        commit, date = self.git("log", "-1", "--format=%H %cs", rev, "--", path).split()
        return commit, date

    def source(self, path: str, note: str, rev: str = "HEAD", date: Optional[str] = None) -> dict[str, str]:
        commit, changed = self.last_change(path, rev)
        return {"where": f"github.com/{self.repo} {path}", "commit": commit, "date": date or changed, "note": note}


# --- parsers (each reads one source format) ---

def karpenter_types(text: str) -> dict[str, dict[str, str]]:
    """`### \\`type\\`` sections of Karpenter's generated reference: the labels table of each."""
    types = {}
    for section in re.split(r"^### `", text, flags=re.M)[1:]:
        name, _, body = section.partition("`")
        labels = body.split("#### Resources")[0]
        types[name] = dict(re.findall(r"^ \|([a-z0-9./-]+)\|([^|]*)\|$", labels, re.M))
    return types


def autoscaler_types(text: str) -> tuple[dict[str, dict[str, Any]], str]:
    """The static list of cluster-autoscaler's AWS provider, and its StaticListLastUpdateTime."""
    fields = (r'InstanceType:\s*"([^"]+)",\s*VCPU:\s*(\d+),\s*MemoryMb:\s*(\d+),\s*GPU:\s*(\d+),\s*'
              r'Architecture:\s*"([^"]+)"')
    types = {m[1]: {"vcpu": int(m[2]), "memory_mib": int(m[3]), "gpus": int(m[4]), "arch": m[5]}
             for m in re.finditer(fields, text)}
    updated = re.search(r'StaticListLastUpdateTime = "([0-9-]+)"', text)
    return types, updated[1] if updated else ""


def enum_values(doc: Any) -> set[str]:
    """Every value of every `enum` in a cfn-lint schema extension (one per Region, engine and license)."""
    if isinstance(doc, dict):
        return set().union(*(set(v) if k == "enum" and isinstance(v, list) else enum_values(v) for k, v in doc.items()))
    if isinstance(doc, list):
        return set().union(*(enum_values(v) for v in doc))
    return set()


def number(text: str) -> Optional[float]:
    text = text.replace(",", "").strip()
    return float(text) if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) else None


def rds_doc_specs(text: str) -> tuple[dict[str, dict[str, float]], list[str]]:
    """The 'Hardware specifications for DB instance classes' table: class -> vCPU, memory (GiB); and the rows
    whose numbers do not read as numbers."""
    table = text.split('name="Concepts.DBInstanceClass.Summary"', 1)[1]
    specs, unreadable = {}, []
    for row in re.findall(r"^\| (db\\\.[^|\n]+)\|([^|\n]*)\|[^|\n]*\|([^|\n]*)\|", table, re.M):
        name = row[0].replace("\\", "").replace("*", "").strip()
        vcpu, memory = number(row[1].replace("\\", "")), number(row[2].replace("\\", ""))
        if vcpu is None or memory is None:
            unreadable.append(f"{name}: vCPU {row[1].strip()!r}, memory {row[2].strip()!r}")
            continue
        specs[name] = {"vcpu": int(vcpu), "memory_gib": memory}
    return specs, unreadable


def cfn_helpers_zones(text: str) -> dict[str, list[str]]:
    """cfn-lint's AVAILABILITY_ZONES literal: Region -> AZ names."""
    block = text.split("AVAILABILITY_ZONES = {", 1)[1].split("\n}\n", 1)[0]
    zones: dict[str, list[str]] = {}
    for region, names in re.findall(r'"([a-z0-9-]+)":\s*\[([^\]]*)\]', block):
        zones[region] = re.findall(r'"([a-z0-9-]+)"', names)
    return zones


# --- assembly ---

def gib(mib: float) -> float | int:
    value = round(mib / 1024, 3)
    return int(value) if value == int(value) else value


def from_karpenter(labels: dict[str, str]) -> dict[str, Any]:
    get = labels.get
    entry: dict[str, Any] = {"vcpu": int(get("karpenter.k8s.aws/instance-cpu")),
                             "memory_gib": gib(int(get("karpenter.k8s.aws/instance-memory"))),
                             "gpus": int(get("karpenter.k8s.aws/instance-gpu-count", 0)),
                             "architecture": get("kubernetes.io/arch")}
    if get("karpenter.k8s.aws/instance-gpu-name"):
        entry["gpu_model"] = get("karpenter.k8s.aws/instance-gpu-name")
        entry["gpu_manufacturer"] = get("karpenter.k8s.aws/instance-gpu-manufacturer")
    if get("karpenter.k8s.aws/instance-accelerator-count"):
        entry["accelerators"] = {"count": int(get("karpenter.k8s.aws/instance-accelerator-count")),
                                 "name": get("karpenter.k8s.aws/instance-accelerator-name"),
                                 "manufacturer": get("karpenter.k8s.aws/instance-accelerator-manufacturer")}
    return entry


# DescribeInstanceTypes architectures as Kubernetes (and so Karpenter and the autoscaler) name them.
MOTO_ARCH = {"x86_64": "amd64", "x86_64_mac": "amd64", "arm64": "arm64", "arm64_mac": "arm64"}
# DescribeInstanceTypes blocks that describe devices other than GPUs, in the order they are read.
MOTO_DEVICES = (("NeuronInfo", "NeuronDevices"), ("InferenceAcceleratorInfo", "Accelerators"),
                ("FpgaInfo", "Fpgas"), ("MediaAcceleratorInfo", "Accelerators"))


def moto_devices(info: dict[str, Any]) -> Optional[dict[str, Any]]:
    for block, key in MOTO_DEVICES:
        devices = info.get(block, {}).get(key) or []
        if devices:
            found = {"count": sum(d["Count"] for d in devices), "name": karpenter_style(devices[0]["Name"])}
            if devices[0].get("Manufacturer"):
                found["manufacturer"] = karpenter_style(devices[0]["Manufacturer"])
            return found
    return None


def from_moto(info: dict[str, Any]) -> dict[str, Any]:
    gpus = info.get("GpuInfo", {}).get("Gpus") or []
    arch = [MOTO_ARCH[a] for a in info["ProcessorInfo"]["SupportedArchitectures"] if a in MOTO_ARCH]
    entry: dict[str, Any] = {"vcpu": info["VCpuInfo"]["DefaultVCpus"], "gpus": sum(g["Count"] for g in gpus),
                             "memory_gib": gib(info["MemoryInfo"]["SizeInMiB"]), "architecture": arch[0]}
    if gpus:
        entry["gpu_model"] = karpenter_style(gpus[0]["Name"])
        entry["gpu_manufacturer"] = karpenter_style(gpus[0]["Manufacturer"])
    devices = moto_devices(info)
    if devices:
        entry["accelerators"] = devices
    return entry


def karpenter_style(name: str) -> str:
    """How Karpenter's labels spell an AWS name: lower case, spaces as dashes (Radeon Pro V520: radeon-pro-v520)."""
    return name.lower().replace(" ", "-")


def same_specs(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The fields two sources state differently (a field one of them does not state is not compared)."""
    keys = ("vcpu", "memory_gib", "gpus", "gpu_model", "architecture")
    differ = [f"{k} {a[k]!r} vs {b[k]!r}" for k in keys if k in a and k in b and a[k] != b[k]]
    acc_a, acc_b = a.get("accelerators"), b.get("accelerators")
    if acc_a and acc_b and (acc_a["count"], acc_a["name"]) != (acc_b["count"], acc_b["name"]):
        differ.append(f"accelerators {acc_a['count']} {acc_a['name']} vs {acc_b['count']} {acc_b['name']}")
    return differ


def from_autoscaler(spec: dict[str, Any]) -> dict[str, Any]:
    return {"vcpu": spec["vcpu"], "memory_gib": gib(spec["memory_mib"]), "gpus": spec["gpus"],
            "architecture": spec["arch"]}


def ec2_table(mirrors: dict[str, Mirror]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """EC2 types: Karpenter's current reference first, then moto's DescribeInstanceTypes copy (types newer than
    the reference, or that Karpenter never lists: mac), then cluster-autoscaler's list (types neither has any
    more, e.g. p3). Returns the table, the sources and the cross-checks (first source vs each later one)."""
    karpenter, autoscaler, moto = mirrors["karpenter"], mirrors["autoscaler"], mirrors["moto"]
    current = karpenter_types(karpenter.show(KARPENTER_DOCS.format(version="docs")))
    older = {v: karpenter_types(karpenter.show(KARPENTER_DOCS.format(version=v))) for v in KARPENTER_OLDER}
    scaled, updated = autoscaler_types(autoscaler.show(AUTOSCALER_GO))
    described = json.loads(moto.show(MOTO_TYPES))

    table: dict[str, Any] = {t: {**from_karpenter(labels), "source": "karpenter"} for t, labels in current.items()}
    table.update({t: {**from_moto(info), "source": "moto"} for t, info in described.items() if t not in table})
    for t in sorted(set(scaled) - set(table)):
        table[t] = {**from_autoscaler(scaled[t]), "source": "autoscaler"}
        version = next((v for v in KARPENTER_OLDER if t in older[v]), None)
        if version:  # the model of its GPUs or accelerators, from the last Karpenter reference that listed it
            labelled = from_karpenter(older[version][t])
            models = ("gpu_model", "gpu_manufacturer", "accelerators")
            table[t].update({k: labelled[k] for k in models if k in labelled})
            table[t]["source"] += f"+karpenter_{version}"

    checks: dict[str, list[str]] = {"karpenter_vs_autoscaler": [], "karpenter_vs_moto": [], "moto_vs_autoscaler": []}
    for t in sorted(set(scaled) & (set(current) | set(described))):
        first = from_karpenter(current[t]) if t in current else from_moto(described[t])
        other = from_autoscaler(scaled[t])
        if "accelerators" in first:
            other.pop("gpus")  # the autoscaler counts no accelerators (0 for inf*/trn*): not a disagreement
        key = "karpenter_vs_autoscaler" if t in current else "moto_vs_autoscaler"
        checks[key] += [f"{t}: {d}" for d in same_specs(first, other)]
    for t in sorted(set(current) & set(described)):
        checks["karpenter_vs_moto"] += [f"{t}: {d}" for d in same_specs(table[t], from_moto(described[t]))]
    _add_described_extras(table, described, "moto")
    dropped = _described_before(moto, sorted(t for t in table if t not in described))
    for t, (commit, _, info) in dropped.items():
        differ = same_specs(from_moto(info), table[t])
        checks["moto_vs_autoscaler"] += [f"{t} (moto at {commit[:8]}^): {d}" for d in differ]
        _add_described_extras(table, {t: info}, "moto_history")
    checks["not_in_describe_instance_types"] = [f"{t}: dropped from moto's copy in {c[:8]} ({d}); kept from the "
                                                "autoscaler list" for t, (c, d, _) in sorted(dropped.items())]
    used = sorted({part.removeprefix("karpenter_") for e in table.values() for part in e["source"].split("+")
                   if part.startswith("karpenter_")})
    return table, _ec2_sources(karpenter, autoscaler, moto, updated, dropped, used), checks


def _ec2_sources(karpenter: Mirror, autoscaler: Mirror, moto: Mirror, updated: str,
                 dropped: dict[str, tuple[str, str, Any]], used: list[str]) -> dict[str, Any]:
    return {
        "karpenter": karpenter.source(
            KARPENTER_DOCS.format(version="docs"),
            "vcpu (instance-cpu), memory_gib (instance-memory MiB / 1024), gpus/gpu_model/gpu_manufacturer "
            "(instance-gpu-*), accelerators (instance-accelerator-*), architecture (kubernetes.io/arch); generated by "
            "Karpenter from the EC2 DescribeInstanceTypes API. Wins over the others."),
        **{f"karpenter_{v}": karpenter.source(KARPENTER_DOCS.format(version=v), "older reference: the GPU or "
                                              "accelerator model of a type the current reference dropped")
           for v in used},
        "autoscaler": autoscaler.source(
            AUTOSCALER_GO,
            f"static list (VCPU, MemoryMb, GPU, Architecture), StaticListLastUpdateTime {updated}; counts no "
            "accelerators other than GPUs; its mac types say amd64 where DescribeInstanceTypes says arm64_mac. Used "
            "only for the types neither the Karpenter reference nor moto's copy has (p3, dl1, f1).", date=updated),
        "moto": moto.source(
            MOTO_TYPES,
            "copy of the EC2 DescribeInstanceTypes answers of every Region its script reaches (scripts/"
            "get_instance_info.py in that repository). Used for the types the Karpenter reference lacks (newer ones, "
            "mac), for fractional GPUs (gpu_share = GpuPartitionSize) and for FPGAs and media accelerators "
            "(FpgaInfo, MediaAcceleratorInfo), which Karpenter does not label; names spelt as Karpenter spells them "
            "(lower case, dashes)."),
        "moto_history": {
            "where": f"github.com/{moto.repo} {MOTO_TYPES}, at the parent of the commit that dropped each type",
            "commits": sorted({c for c, _, _ in dropped.values()}),
            "note": "DescribeInstanceTypes as moto last copied it, for the types it no longer lists (cross-check, "
                    "FPGAs)"},
    }


def _described_before(moto: Mirror, types: list[str]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """For each type moto's DescribeInstanceTypes copy no longer has: the commit that dropped it, its date, and
    the type as the copy before it described it."""
    found, copies = {}, {}
    for t in types:
        log = moto.git("log", "-1", f"-S\"{t}\"", "--format=%H %cs", "HEAD", "--", MOTO_TYPES).split()
        if not log:
            continue
        commit, date = log
        if commit not in copies:
            copies[commit] = json.loads(moto.show(MOTO_TYPES, commit + "^"))
        if t in copies[commit]:
            found[t] = (commit, date, copies[commit][t])
    return found


def _add_described_extras(table: dict[str, Any], described: dict[str, Any], source: str) -> None:
    """What DescribeInstanceTypes says that Karpenter's labels do not: a GPU share below one whole GPU, and
    FPGAs and media accelerators."""
    for t, info in described.items():
        entry = table[t]
        gpus = info.get("GpuInfo", {}).get("Gpus") or []
        if gpus and entry["gpus"] == 0 and 0 < gpus[0].get("GpuPartitionSize", 1) < 1:
            entry["gpu_share"] = gpus[0]["GpuPartitionSize"]
        devices = moto_devices(info)
        if devices and "accelerators" not in entry:
            entry["accelerators"] = devices
            entry["source"] += f"+{source}"


def database_tables(mirrors: dict[str, Mirror],
                    ec2: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """RDS classes and ElastiCache node types: the names from cfn-lint (the AWS Price List, every Region), specs
    from a table that gives them, else from the EC2 type of the same family and size (source `ec2`)."""
    cfn, docs, ec2info = mirrors["cfn-lint"], mirrors["rds-docs"], mirrors["ec2info"]
    rds_names = enum_values(json.loads(cfn.show(CFN_RDS))) | enum_values(json.loads(cfn.show(CFN_RDS_CLUSTER)))
    cache_names = enum_values(json.loads(cfn.show(CFN_CACHE)))
    doc_rev = "HEAD~1"  # the repository's last commit deleted the content when it was archived
    doc_specs, unreadable = rds_doc_specs(docs.show(RDS_DOC, doc_rev))
    # The commit that deleted the data (the site stopped committing it); its parent holds the last copy.
    cache_rev = ec2info.git("log", "-1", "--full-history", "--format=%H", "HEAD", "--", EC2INFO_CACHE).strip() + "^"
    cache_specs = {i["instance_type"]: {"vcpu": int(i["vcpu"]), "memory_gib": float(i["memory"])}
                   for i in json.loads(ec2info.show(EC2INFO_CACHE, cache_rev))}

    checks: dict[str, list[str]] = {"rds_docs_vs_ec2": [], "rds_docs_unreadable": unreadable}

    def classes(names: set[str], prefix: str, specs: dict[str, Any], spec_source: str) -> dict[str, Any]:
        out = {}
        for name in sorted(n for n in names if n.startswith(prefix + ".")):
            twin = name.split(".", 1)[1]
            entry: dict[str, Any] = {}
            if name in specs:
                entry = {**specs[name], "source": spec_source}
                if twin in ec2 and prefix == "db":
                    ours, theirs = (entry["vcpu"], entry["memory_gib"]), (ec2[twin]["vcpu"], ec2[twin]["memory_gib"])
                    if ours != theirs:
                        checks["rds_docs_vs_ec2"].append(f"{name}: {ours[0]} vCPU {ours[1]} GiB vs {twin} "
                                                         f"{theirs[0]} vCPU {theirs[1]} GiB")
            elif twin in ec2:
                entry = {"vcpu": ec2[twin]["vcpu"], "memory_gib": ec2[twin]["memory_gib"], "source": "ec2"}
            out[name] = entry
        return out

    rds = classes(rds_names, "db", doc_specs, "rds_docs_2023")
    cache = classes(cache_names, "cache", cache_specs, "ec2info_cache_2022")
    checks["rds_without_specs"] = sorted(n for n, e in rds.items() if not e)
    checks["cache_without_specs"] = sorted(n for n, e in cache.items() if not e)
    sources = {
        "cfn_lint_rds": cfn.source(CFN_RDS, "DBInstanceClass enums per Region/engine/license, written by that "
                                   "repository's scripts/update_specs_from_pricing.py from the AWS Price List "
                                   "(AmazonRDS); rds_classes holds their union with cfn_lint_rds_cluster"),
        "cfn_lint_rds_cluster": cfn.source(CFN_RDS_CLUSTER, "DBClusterInstanceClass enums (Multi-AZ DB clusters), same "
                                           "origin"),
        "cfn_lint_cache": cfn.source(CFN_CACHE, "CacheNodeType enums per Region, same origin (AmazonElastiCache); "
                                     "cache_node_types holds their union"),
        "rds_docs_2023": docs.source(RDS_DOC, "'Hardware specifications for DB instance classes' table (vCPU, "
                                     "Memory GiB) of the RDS User Guide, at the commit before the repository was "
                                     "archived (its last commit deletes the content). Wins over `ec2` for the "
                                     "classes it lists.", rev=doc_rev),
        "ec2info_cache_2022": {"where": f"github.com/vantage-sh/ec2instances.info {EC2INFO_CACHE}",
                               "commit": ec2info.git("rev-parse", cache_rev).strip(),
                               "date": ec2info.git("log", "-1", "--format=%cs", cache_rev).strip(),
                               "note": "last committed copy of the ElastiCache data (vcpu, memory GiB as the AWS "
                                       "Price List gives them for ElastiCache: memory available to the cache)"},
        "ec2": {"where": "ec2_instance_types of this file",
                "note": "a class or node type no table above gives specs for takes the vCPU and memory of the EC2 "
                        "type of the same family and size (db.r8g.large -> r8g.large); for ElastiCache that is the "
                        "instance's memory, more than the cache gets. A name with no such EC2 type (db.serverless, "
                        "Oracle's db.*.tpcN.memNx variants the 2023 table lacks) has no specs."},
    }
    return {"rds_classes": rds, "cache_node_types": cache}, sources, checks


def zones(mirrors: dict[str, Mirror]) -> dict[str, Any]:
    """Each commercial Region's AZ names and AZ IDs: moto's copies of DescribeInstanceTypeOfferings by
    availability-zone and availability-zone-id; cfn-lint's names and AWS's page for the Regions moto lacks."""
    moto, cfn = mirrors["moto"], mirrors["cfn-lint"]
    regions: dict[str, Any] = {}
    folder = MOTO_ZONES.format(kind="availability-zone-id", region="x").rsplit("/", 1)[0]
    for path in moto.ls(folder):
        region = Path(path).stem
        offered = {kind: {o["Location"] for o in json.loads(moto.show(MOTO_ZONES.format(kind=kind, region=region)))}
                   for kind in ("availability-zone", "availability-zone-id")}
        # Availability Zones only: a Local or Wavelength Zone (us-east-1-bos-1a, use1-bos1-az1) is not one.
        names = sorted(n for n in offered["availability-zone"] if re.fullmatch(rf"{region}[a-z]", n))
        ids = sorted(i for i in offered["availability-zone-id"] if re.fullmatch(r"[a-z0-9]+-az[0-9]+", i))
        regions[region] = {"names": names, "zone_ids": ids, "source": "moto"}
    named = cfn_helpers_zones(cfn.show(CFN_HELPERS))
    for region, names in named.items():
        if region not in regions and not OTHER_PARTITIONS.match(region):
            regions[region] = {"names": names, "zone_ids": AZ_DOC_IDS.get(region, []), "source": "cfn_lint+aws_docs"}
    missing = sorted(r for r, z in regions.items() if not z["zone_ids"])
    if missing:
        raise SystemExit(f"no AZ IDs for {', '.join(missing)}: add them to AZ_DOC_IDS from a source")
    offerings = MOTO_ZONES.format(kind="availability-zone-id", region="us-east-1")
    return {
        "source": {
            "moto": moto.source(offerings, "moto's copies of EC2 DescribeInstanceTypeOfferings per Region (this "
                                "file and its siblings, scripts/ec2_get_instance_type_offerings.py in that "
                                "repository): the locations of type availability-zone (names) and "
                                "availability-zone-id (zone_ids)"),
            "cfn_lint": cfn.source(CFN_HELPERS, "AVAILABILITY_ZONES: the names of the commercial Regions moto lacks"),
            "aws_docs": {**AZ_DOC_SOURCE, "note": "the AZ IDs of the Regions moto lacks: "
                                                  + ", ".join(sorted(AZ_DOC_IDS)) + ". Checked by hand against moto "
                                                  "for the other Regions: the page also lists apne1-az3, usw1-az2 and "
                                                  "euw2-az4, AZs that moto's account is not offered (the page: some "
                                                  "accounts see fewer AZs); they are left out here."},
            "mapping": "names and zone_ids are each sorted on their own: names[i] is not the AZ with zone_ids[i]. "
                       "In the oldest Regions AWS maps AZ names to AZ IDs independently for each account (and "
                       "some accounts see fewer AZs), so only the IDs name the same place in every account.",
        },
        "regions": regions,
    }


# --- output ---

def dump(doc: dict[str, Any], tables: tuple[str, ...]) -> str:
    """Sorted JSON with one table entry a line: small diffs when a source changes."""
    lines = ["{"]
    keys = sorted(doc)
    for n, key in enumerate(keys):
        comma = "," if n < len(keys) - 1 else ""
        value = doc[key]
        if key in tables:
            rows = sorted(value)
            lines.append(f"  {json.dumps(key)}: {{")
            lines += [f"    {json.dumps(r)}: {json.dumps(value[r], sort_keys=True)}{',' if i < len(rows) - 1 else ''}"
                      for i, r in enumerate(rows)]
            lines.append("  }" + comma)
        else:
            text = json.dumps(value, sort_keys=True, indent=2).replace("\n", "\n  ")
            lines.append(f"  {json.dumps(key)}: {text}{comma}")
    return "\n".join(lines + ["}"]) + "\n"


def build(mirrors: dict[str, Mirror], generated: str) -> tuple[str, str]:
    ec2, ec2_sources, ec2_checks = ec2_table(mirrors)
    databases, db_sources, db_checks = database_tables(mirrors, ec2)
    sources = {**ec2_sources, **db_sources}
    types_doc = {
        "generated": generated, "generator": "scripts/gen_instance_types.py",
        "as_of": {"ec2_instance_types": max(sources[s]["date"] for s in ("karpenter", "autoscaler", "moto")),
                  "rds_classes": max(sources[s]["date"] for s in ("cfn_lint_rds", "cfn_lint_rds_cluster")),
                  "cache_node_types": sources["cfn_lint_cache"]["date"]},
        "sources": sources,
        "checks": {**ec2_checks, **db_checks},
        "precedence": "EC2: karpenter, then moto, then autoscaler (with the GPU/accelerator model of the last "
                      "Karpenter reference that listed the type); moto adds gpu_share and FPGA/media accelerators. "
                      "RDS: rds_docs_2023, then ec2. ElastiCache: ec2info_cache_2022, then ec2. `checks` lists "
                      "every difference between sources that state the same fact (names spelt differently by "
                      "Karpenter and DescribeInstanceTypes compare equal).",
        "ec2_instance_types": ec2, **databases,
    }
    zones_doc = zones(mirrors)
    return (dump(types_doc, ("ec2_instance_types", "rds_classes", "cache_node_types")),
            dump(zones_doc, ("regions",)))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = {"karpenter": "aws+karpenter-provider-aws", "autoscaler": "kubernetes+autoscaler",
                "moto": "getmoto+moto", "cfn-lint": "aws-cloudformation+cfn-lint",
                "rds-docs": "awsdocs+amazon-rds-user-guide", "ec2info": "vantage-sh+ec2instances.info"}
    for name, folder in defaults.items():
        parser.add_argument(f"--{name}", type=Path, default=MIRRORS / folder / "repo", help=f"git mirror of {folder}")
    parser.add_argument("--generated", default=datetime.date.today().isoformat(), help="date of generation to record")
    parser.add_argument("--out", type=Path, default=ROOT / "tollgate" / "data" / "aws-instance-types.json")
    parser.add_argument("--zones-out", type=Path, default=ROOT / "tollgate" / "data" / "aws-availability-zones.json")
    args = parser.parse_args(argv)
    repos = {name: folder.replace("+", "/") for name, folder in defaults.items()}
    mirrors = {name: Mirror(getattr(args, name.replace("-", "_")), repos[name]) for name in defaults}
    types_text, zones_text = build(mirrors, args.generated)
    args.out.write_text(types_text, encoding="utf-8")
    args.zones_out.write_text(zones_text, encoding="utf-8")
    print(f"wrote {args.out} and {args.zones_out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
