"""A seeded generator of malformed inputs for the CLI (issue 15), each with its verdict.

Every case is one run of `skinflint plan`, `simulate` or `day` on a tiny valid app (two modules,
two hardware types) with one thing changed — a number in the app, hardware, profile or plan
file, a structure, a duplicate key, a nesting, a command-line option — and says whether the run
must be refused (exit 2, one line) or accepted (exit 0, or 3 when no plan meets the SLO). Cases
tagged `issue:` are the ones the issue lists. `cases(seed)` is deterministic.
"""

from __future__ import annotations

import copy
import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

APP = """\
name: tiny
profiles: profiles.csv
hardware: hardware.yaml
rate: 100
slo_ms: 300
hop_ms: 1
modules:
  - name: a
    model: det
  - name: b
    model: cls
    after: [a]
    rate_factor: 2
"""
HARDWARE = """\
hardware:
  T4:
    price_per_hour: 0.5
  A10G:
    price_per_hour: 1.0
"""
PROFILES = """\
model,hardware,batch_size,latency_ms
det,T4,1,20
det,T4,4,50
det,A10G,1,10
cls,T4,1,5
cls,T4,8,20
"""
PROFILE_ROW = "det,T4,2,30"  # a row whose cells the CSV mutations replace

DIGITS_401, DIGITS_5001 = "1" * 401, "1" * 5001
# Text a YAML number field may be given; every one must be refused, whatever the field.
BAD_YAML = [DIGITS_401, DIGITS_5001, "-1", "1.0e+308", "1e308", "1e30", ".inf", "-.inf", ".nan", "1_0", "010",
            "0x1f", "0o17", "1:30", "'100'", "true", "null", "[]", "{}", "1.2.3", "٤", "１", "abc", "1e999", "12 ms"]
# Text a CSV number cell may hold; every one must be refused.
BAD_CSV_NUMBER = ["1_0", "٤", "١٠", "１", "nan", "inf", "-inf", "-1", "0", "1e400", DIGITS_401, DIGITS_5001, "0x10",
                  "", "5ms", "1,5", "½", "²", " 3 4"]
BAD_CSV_WHOLE = BAD_CSV_NUMBER + ["4.0", "1e3", "2.5", "65537"]
# Text an option may be given; refused for every numeric option.
BAD_OPTION = ["1e300", "-1", "nan", "inf", "-inf", "1_0", "٤", "１", "abc", "", DIGITS_401, "0x10", "1e999"]
ABOVE = {"rate": "1000001", "slo_ms": "3600001", "hop_ms": "3600001", "rate_factor": "1001",
         "price_per_hour": "10001", "latency_ms": "3600001", "batch_size": "65537"}


@dataclass
class Case:
    """One run: its files, its command line, and whether it must be refused."""

    label: str
    refuse: bool
    command: str = "plan"
    args: list[str] = field(default_factory=list)
    app: str = APP
    hardware: str = HARDWARE
    profiles: str = PROFILES
    files: dict[str, str] = field(default_factory=dict)  # more files: plan.json, curve.csv, profiles.yaml


def _short(v: str) -> str:
    """A value as a label shows it: long ones by their length."""
    return repr(v) if len(v) <= 24 else f"{v[:4]!r}... ({len(v)} chars)"


def _set(text: str, key: str, value: str, nth: int = 0) -> str:
    """Replace the value of the `nth` `key:` line of a YAML text."""
    matches = list(re.finditer(rf"^(\s*-?\s*{re.escape(key)}:) .*$", text, flags=re.M))
    m = matches[nth]
    return text[:m.start()] + f"{m.group(1)} {value}" + text[m.end():]


def _nested(depth: int, kind: str = "[") -> str:
    return "[" * depth + "]" * depth if kind == "[" else "{a: " * depth + "1" + "}" * depth


def _app_numbers() -> list[Case]:
    out = []
    for key in ("rate", "slo_ms", "hop_ms", "rate_factor"):
        for v in BAD_YAML + [ABOVE[key]] + ([] if key == "hop_ms" else ["0", "-0.0"]):
            tag = "issue: " if v in (DIGITS_401, DIGITS_5001, "1.0e+308", "1e30") else ""
            out.append(Case(f"{tag}app {key}: {_short(v)}", True, app=_set(APP, key, v)))
        for v in {"rate": ["50", "1.5e2", "1e2", "100.0"], "slo_ms": ["300.0", "1e3"], "hop_ms": ["0", "0.0"],
                  "rate_factor": ["1.5", "1e0"]}[key]:
            out.append(Case(f"app {key}: {v} (valid)", False, app=_set(APP, key, v)))
    for v in BAD_YAML + [ABOVE["price_per_hour"], "0"]:
        tag = "issue: " if v == DIGITS_401 else ""
        out.append(Case(f"{tag}hardware price: {_short(v)}", True, hardware=_set(HARDWARE, "price_per_hour", v)))
    out.append(Case("hardware price: 0.75 (valid)", False, hardware=_set(HARDWARE, "price_per_hour", "0.75")))
    return out


def _profile_yaml(latency: str = "20", batch: str = "1", extra_row: str = "") -> str:
    rows = [("det", "T4", "1", "20"), ("det", "T4", "4", "50"), ("cls", "T4", "1", "5")]
    text = "profiles:\n" + "".join(f"  - {{model: {m}, hardware: {h}, batch_size: {b}, latency_ms: {d}}}\n"
                                   for m, h, b, d in rows)
    return text.replace("batch_size: 1, latency_ms: 20", f"batch_size: {batch}, latency_ms: {latency}") + extra_row


def _profiles() -> list[Case]:
    out = []
    for v in BAD_CSV_NUMBER + [ABOVE["latency_ms"]]:
        tag = "issue: " if v in ("٤", "1_0") else ""
        out.append(Case(f"{tag}csv latency_ms: {_short(v)}", True, profiles=PROFILES + f"det,T4,2,{v}\n"))
    for v in BAD_CSV_WHOLE:
        tag = "issue: " if v in ("１", "1_0", "٤") else ""
        out.append(Case(f"{tag}csv batch_size: {_short(v)}", True, profiles=PROFILES + f"det,T4,{v},30\n"))
    for v in ("1e1", "25.", ".5", "30"):
        out.append(Case(f"csv latency_ms: {v} (valid)", False, profiles=PROFILES + f"det,T4,2,{v}\n"))
    out.append(Case("csv batch_size: 16 (valid)", False, profiles=PROFILES + "det,T4,16,90\n"))
    many = lambda n: PROFILES + "".join(f"det,A10G,{b},{10 + b * 0.5:.2f}\n" for b in range(2, n + 1))  # noqa: E731
    out += [Case("issue: a curve of 5000 batch sizes", True, profiles=many(5000)),
            Case("a curve of 257 batch sizes", True, profiles=many(257)),
            Case("a curve of 256 batch sizes (valid)", False, profiles=many(256)),
            Case("csv header column twice", True, profiles=PROFILES.replace("latency_ms", "latency_ms,latency_ms", 1)),
            Case("csv row twice", True, profiles=PROFILES + "det,T4,1,21\n")]
    yaml_app = _set(APP, "profiles", "profiles.yaml")
    for v in BAD_YAML + [ABOVE["latency_ms"]]:
        out.append(Case(f"profiles.yaml latency_ms: {_short(v)}", True, app=yaml_app,
                        files={"profiles.yaml": _profile_yaml(latency=v)}))
    for v in ["0", "2.5", "65537", "1_0", "１", DIGITS_401]:
        out.append(Case(f"profiles.yaml batch_size: {_short(v)}", True, app=yaml_app,
                        files={"profiles.yaml": _profile_yaml(batch=v)}))
    out.append(Case("profiles.yaml key twice in a row", True, app=yaml_app,
                    files={"profiles.yaml": _profile_yaml().replace("latency_ms: 20}", "latency_ms: 20, latency_ms: 9}")}))
    out.append(Case("profiles.yaml (valid)", False, app=yaml_app, files={"profiles.yaml": _profile_yaml()}))
    return out


def _duplicates_and_nesting() -> list[Case]:
    laughs = "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9))
    return [
        Case("issue: app key twice (echo 'rate: 3000' >> app.yaml)", True, app=APP + "rate: 3000\n"),
        Case("app name twice", True, app="name: other\n" + APP),
        Case("issue: module key twice", True, app=APP.replace("    model: cls\n", "    model: cls\n    model: det\n")),
        Case("issue: module repeated", True, app=APP + "  - name: b\n    model: det\n"),
        Case("issue: hardware name twice", True, hardware=HARDWARE + "  T4:\n    price_per_hour: 0.1\n"),
        Case("issue: price key twice", True,
             hardware=HARDWARE.replace("    price_per_hour: 0.5\n", "    price_per_hour: 0.5\n    price_per_hour: 0.1\n")),
        Case("issue: app extra nested 10,000 [ deep", True, app=APP + "extra: " + _nested(10000) + "\n"),
        Case("issue: hardware extra nested 10,000 [ deep", True,
             hardware=HARDWARE + "    notes: " + _nested(10000) + "\n"),
        Case("hardware extra nested 10,000 { deep", True, hardware=HARDWARE + "    notes: " + _nested(10000, "{") + "\n"),
        Case("hardware extra nested 40 deep", True, hardware=HARDWARE + "    notes: " + _nested(40) + "\n"),
        Case("hardware extra nested 10 deep (valid)", False, hardware=HARDWARE + "    notes: " + _nested(10) + "\n"),
        Case("hardware extra: a billion laughs", True,
             hardware=HARDWARE + "    notes:\n      l0: &l0 [x]\n" + laughs.replace("  l", "      l")),
        Case("hardware with an alias (valid)", False,
             hardware="hardware:\n  T4: &t4\n    price_per_hour: 0.5\n  A10G:\n    <<: *t4\n    price_per_hour: 1.0\n"),
        Case("app of 51 modules", True, app=APP + "".join(f"  - name: m{i}\n    model: cls\n    after: [b]\n"
                                                           for i in range(49))),
        Case("issue: rate_factor 1e30 (3e29 workers)", True, app=_set(APP, "rate_factor", "1.0e+30")),
        Case("workers beyond the bound (rate 1e6, rate_factor 1000)", True,
             app=_set(_set(APP, "rate", "1000000"), "rate_factor", "1000")),
        Case("rate 1e6 on the tiny app (valid, 12,500 workers)", False, app=_set(APP, "rate", "1000000")),
    ]


def _options() -> list[Case]:
    out = []
    for opt in ("--rate", "--slo-ms", "--headroom", "--utilization"):
        for v in BAD_OPTION + ["0"] * (opt != "--headroom"):
            tag = "issue: " if v == "1e300" and opt == "--headroom" else ""
            out.append(Case(f"{tag}plan {opt} {_short(v)}", True, args=[opt, v]))
    out += [Case("issue: plan --headroom 15", True, args=["--headroom", "15"]),
            Case("plan --headroom 0.15 (valid)", False, args=["--headroom", "0.15"]),
            Case("plan --rate 1e3 (valid)", False, args=["--rate", "1e3"]),
            Case("plan --utilization 0.9 (valid)", False, args=["--utilization", "0.9"]),
            Case("issue: plan --no-sharing true", True, args=["--no-sharing", "true"]),
            Case("plan --sharing (valid)", False, args=["--sharing"]),
            Case("plan --hardware TPU", True, args=["--hardware", "TPU"]),
            Case("plan --hardware ','", True, args=["--hardware", ","]),
            Case("plan --planner nope", True, args=["--planner", "nope"]),
            Case("plan --format xml", True, args=["--format", "xml"]),
            Case("plan --bogus", True, args=["--bogus"])]
    sim = [("--duration", v) for v in BAD_OPTION + ["0", "1e7", "100000"]]
    sim += [("--seed", v) for v in ("-1", "1e3", "1_0", str(2 ** 64), "x")]
    sim += [("--max-requests", v) for v in ("0", "-5", "1e9", "x")]
    sim += [("--arrivals", v) for v in ("poisson:rate=1e300", "poisson:rate=nan", "poisson:rate=1_0", "replay",
                                       "replay:file=nope.txt", "bogus", "poisson:rate", "bursty:ratio=abc",
                                       "poisson:bogus=1")]
    sim += [("--jitter", v) for v in ("bogus", "lognormal:nan", "lognormal:-1", "uniform:2,1", "uniform:0,1e999")]
    sim += [("--dispatch", "bogus"), ("--rate", "1e300"), ("--rate", "1e6")]
    for opt, v in sim:
        tag = "issue: " if (opt, v) in (("--duration", "1e7"), ("--rate", "1e300")) else ""
        args = [opt, v] if opt in ("--duration", "--rate") else [opt, v, "--duration", "1"]
        out.append(Case(f"{tag}simulate {opt} {_short(v)}", True, "simulate", args + (["--duration", "10"] if opt ==
                                                                                        "--rate" else [])))
    for args in (["--duration", "1"], ["--rate", "50", "--duration", "1"], ["--arrivals", "uniform", "--duration", "1"],
                 ["--headroom", "0.15", "--duration", "1"], ["--max-requests", "1000", "--duration", "1"],
                 ["--early-close", "--duration", "1"], ["--jitter", "lognormal:0.1", "--duration", "1"],
                 ["--arrivals", "poisson:rate=1e6", "--duration", "1"]):
        out.append(Case(f"simulate {' '.join(args)} (valid)", False, "simulate", args))
    out.append(Case("simulate --max-requests 10 --duration 1", True, "simulate", ["--max-requests", "10",
                                                                                  "--duration", "1"]))
    out.append(Case("simulate --arrivals poisson:rate=1e6 --duration 10 (over the cap)", True, "simulate",
                    ["--arrivals", "poisson:rate=1e6", "--duration", "10"]))
    return out


def _day() -> list[Case]:
    curve = "time_s,rate\n0,5\n60,10\n120,5\n"
    out = []
    for opt, v in (("--peak", "1e300"), ("--peak", "0"), ("--headroom", "15"), ("--grid-step", "0"),
                   ("--epoch-s", "-1"), ("--startup-s", "1e9"), ("--bursts", "count=1e9"), ("--bursts", "factor=1e300"),
                   ("--bursts", "count=1_0"), ("--bursts", "count=2.5"), ("--max-requests", "0"), ("--seed", "-1")):
        out.append(Case(f"day {opt} {v}", True, "day", ["--curve", "curve.csv", opt, v], files={"curve.csv": curve}))
    for label, text in (("rate ٤", curve.replace("60,10", "60,٤")), ("time 1_0", curve.replace("60,10", "6_0,10")),
                        ("rate 1e7", curve.replace("60,10", "60,10000000")), ("rate nan", curve.replace("60,10", "60,nan")),
                        ("1e6 req/s all day", "time_s,rate\n0,1000000\n86400,1000000\n"),
                        ("time beyond a week", curve.replace("120,5", "1000000,5")),
                        ("time twice", curve.replace("120,5", "60,5"))):
        out.append(Case(f"day curve {label}", True, "day", ["--curve", "curve.csv"], files={"curve.csv": text}))
    out.append(Case("day on a two-minute curve (valid)", False, "day", ["--curve", "curve.csv", "--startup-s", "5"],
                    files={"curve.csv": curve}))
    return out


RAW = "__raw__"


def _plan_cases(plan: dict[str, Any]) -> list[Case]:
    """Mutations of a valid plan JSON (of APP), each simulated with `simulate --plan`."""
    def case(label: str, refuse: bool, data: Any, raw: str = "") -> Case:
        text = json.dumps(data).replace(f'"{RAW}"', raw) if not isinstance(data, str) else data
        return Case(label, refuse, "simulate", ["--plan", "plan.json", "--duration", "1"], files={"plan.json": text})

    def at(path: tuple, value: Any) -> dict[str, Any]:
        data = copy.deepcopy(plan)
        node = data
        for p in path[:-1]:
            node = node[p]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        return data

    numbers = [("rate",), ("slo_ms",), ("hop_ms",), ("utilization",), ("headroom",), ("modules", 0, "rate"),
               ("modules", 0, "budget_ms"), ("modules", 0, "worst_latency_ms")]
    if plan["modules"][0]["groups"]:
        numbers += [("modules", 0, "groups", 0, k) for k in ("batch_size", "workers", "latency_ms",
                                                              "worst_latency_ms", "price_per_hour")]
    if plan.get("shared_workers"):
        numbers += [("shared_workers", 0, "cycle_ms"), ("shared_workers", 0, "price_per_hour"),
                    ("shared_workers", 0, "slots", 0, "batch_size")]
    out = []
    for path in numbers:
        name = ".".join(map(str, path))
        for label, value, raw in (("-1", -1, ""), ("1e308", 1e308, ""), ("text", "abc", ""), ("null", None, ""),
                                  ("true", True, ""), ("list", [], ""), ("401 digits", RAW, DIGITS_401),
                                  ("5001 digits", RAW, DIGITS_5001), ("NaN", RAW, "NaN"), ("Infinity", RAW, "Infinity"),
                                  ("1e999", RAW, "1e999")):
            out.append(case(f"plan.json {name}: {label}", True, at(path, value), raw))
    required = [("app",), ("planner",), ("rate",), ("slo_ms",), ("modules",), ("modules", 0, "name"),
                ("modules", 0, "groups"), ("modules", 0, "budget_ms")]
    out += [case(f"plan.json without {'.'.join(map(str, p))}", True, at(p, _DELETE)) for p in required]
    g = ("modules", 0, "groups", 0)
    wrong = [("module name zzz", ("modules", 0, "name"), "zzz"), ("module model zzz", ("modules", 0, "model"), "zzz"),
             ("app name zzz", ("app",), "zzz"), ("dispatch bogus", ("modules", 0, "dispatch"), "bogus"),
             ("groups a string", ("modules", 0, "groups"), "x"), ("modules empty", ("modules",), []),
             ("module twice", ("modules",), plan["modules"] + plan["modules"][:1]),
             ("fanout_lag a string", ("fanout_lag",), "yes")]
    if plan["modules"][0]["groups"]:
        wrong += [("hardware TPU", g + ("hardware",), "TPU"), ("batch size not profiled", g + ("batch_size",), 3),
                  ("workers 1e9", g + ("workers",), 10 ** 9), ("workers 0", g + ("workers",), 0),
                  ("batch size 2.5", g + ("batch_size",), 2.5)]
    out += [case(f"plan.json {label}", True, at(path, v)) for label, path, v in wrong]
    text = json.dumps(plan)
    out += [case("plan.json key twice", True, text.replace('"app":', '"app": "x", "app":', 1)),
            case("plan.json nested 10,000 deep", True, "[" * 10000 + "]" * 10000),
            case("plan.json extra nested 40 deep", True, at(("extra",), RAW), _nested(40)),
            case("plan.json a list", True, [plan]), case("plan.json not JSON", True, text[:-5]),
            case("plan.json empty", True, ""), case("plan.json a fleet plan", True, {"fleet": [plan], "pools": []}),
            case("plan.json (valid)", False, plan), case("plan.json with a key of a later version (valid)", False,
                                                          at(("traffic",), "poisson")),
            case("plan.json with notes (valid)", False, at(("notes",), ["made by hand"]))]
    return out


_DELETE = object()


def cases(plan: dict[str, Any], seed: int = 15) -> list[Case]:
    """Every case: the families above, then `seed`-drawn pairs of refused file mutations (still
    refused together), each file case run by `plan` or `simulate` as the seed draws."""
    rng = random.Random(seed)
    files = _app_numbers() + _profiles() + _duplicates_and_nesting()
    for c in files:
        if c.command == "plan" and rng.random() < 0.35:
            c.command, c.args = "simulate", ["--duration", "1"]
    in_app = [c for c in files if c.refuse and not c.files and c.app != APP]
    elsewhere = [c for c in files if c.refuse and not c.files and c.app == APP]
    pairs = []
    while len(pairs) < 80:
        a, b = rng.choice(in_app), rng.choice(elsewhere)
        if any(p.label == f"pair: {a.label} + {b.label}" for p in pairs):
            continue
        command = rng.choice(["plan", "simulate"])
        pairs.append(Case(f"pair: {a.label} + {b.label}", True, command, ["--duration", "1"] * (command == "simulate"),
                          app=a.app, hardware=b.hardware, profiles=b.profiles))
    return files + pairs + _options() + _day() + _plan_cases(plan)
