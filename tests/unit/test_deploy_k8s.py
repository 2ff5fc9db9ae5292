"""`skinflint deploy k8s`: KubeRay manifests whose worker groups are the plan's workers.

The RayCluster is checked against a schema written from the KubeRay API reference
(tests/unit/kuberay_schema.py); its pod templates, the Service, the ConfigMap and the claim against
the published Kubernetes schemas (kubernetes-validate, strict: unknown fields are errors).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from skinflint.cli import main
from skinflint.deploy.hardware_map import load_hardware_map
from skinflint.deploy.kuberay import K8sOptions, manifests
from skinflint.plan import Group, ModulePlan, Plan, Pool, SharedSlot, SharedWorker
from skinflint.runtime.backends.ray_backend import actor_options
from tests.unit.kuberay_schema import RAY_CLUSTER, replica_problems

jsonschema = pytest.importorskip("jsonschema")
kubernetes_validate = pytest.importorskip("kubernetes_validate")
K8S_VERSION = "1.30.0"


def _group(hw: str, b: int, n: int) -> Group:
    return Group(hw, b, n, 10.0, 1.0, 20.0)


def mixed_plan(rate: float = 100.0) -> Plan:
    """T4: 3 + 2 dedicated and 1 shared; A10G: 1 dedicated and 2 in a pool -> {A10G: 3, T4: 6}."""
    modules = (ModulePlan("detect", "det", rate, 50.0, 20.0, (_group("T4", 4, 3), _group("A10G", 8, 1))),
               ModulePlan("classify", "cls", rate, 50.0, 20.0, (_group("T4", 2, 2),)),
               ModulePlan("colour", "cls", rate, 50.0, 20.0, (), pool="cls-pool"))
    shared = (SharedWorker("T4", 40.0, 1.0, (SharedSlot("detect", 1, 5.0), SharedSlot("classify", 1, 5.0))),)
    pools = (Pool("cls-pool", "cls", ("app/colour",), rate, 20.0, (_group("A10G", 4, 2),)),)
    return Plan("traffic", "optimal", rate, 100.0, modules, shared_workers=shared, pools=pools)


def core_objects(objs: dict[str, dict]) -> list[dict]:
    """Every core-API object: the Service, ConfigMap, claim, and each pod template as a PodTemplate."""
    rc = objs["raycluster.yaml"]
    groups = [rc["spec"]["headGroupSpec"]] + rc["spec"]["workerGroupSpecs"]
    templates = [{"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": f"t{i}"}, "template": g["template"]}
                 for i, g in enumerate(groups)]
    return [o for name, o in objs.items() if name != "raycluster.yaml"] + templates


def test_workers_by_hardware_counts_groups_shared_and_pools() -> None:
    # T4: 3 + 2 group workers + 1 shared worker = 6; A10G: 1 group worker + 2 pool workers = 3
    assert mixed_plan().workers_by_hardware() == {"A10G": 3, "T4": 6}


def test_manifests_validate_and_match_the_plan(tmp_path: Path) -> None:
    source, hmap = load_hardware_map()
    objs = manifests(mixed_plan(), hmap, source, K8sOptions(namespace="video"))
    rc = objs["raycluster.yaml"]
    jsonschema.validate(rc, RAY_CLUSTER)
    assert replica_problems(rc) == []
    for obj in core_objects(objs):
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    groups = {g["groupName"]: g for g in rc["spec"]["workerGroupSpecs"]}
    assert sorted(groups) == ["a10g", "t4"]
    for hw, n in mixed_plan().workers_by_hardware().items():
        g = groups[hw.lower()]
        assert g["replicas"] == g["minReplicas"] == g["maxReplicas"] == n
        # the pod advertises what the Ray backend's actor asks for: 1 CPU and {hw: 1}
        ask = actor_options(hw)
        assert g["rayStartParams"]["num-cpus"] == str(ask["num_cpus"])
        assert json.loads(json.loads(g["rayStartParams"]["resources"])) == ask["resources"]
        container = g["template"]["spec"]["containers"][0]
        assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert g["template"]["spec"]["nodeSelector"] == dict(hmap.hardware[hw].node_selector)
        assert g["template"]["metadata"]["annotations"]["skinflint.io/hardware"] == hw
    assert groups["t4"]["template"]["spec"]["nodeSelector"] == {"node.kubernetes.io/instance-type": "g4dn.xlarge"}
    head = rc["spec"]["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0"        # no actor lands on the head
    assert head["template"]["spec"]["containers"][0]["command"] == ["(sh /etc/skinflint/start-serve.sh &)"]
    script = objs["plan-configmap.yaml"]["data"]["start-serve.sh"]
    assert "skinflint serve /srv/skinflint/app.yaml --plan /etc/skinflint/plan.json" in script
    assert "--backend ray --address auto" in script
    assert json.loads(objs["plan-configmap.yaml"]["data"]["plan.json"])["cost_per_hour"] == mixed_plan().cost_per_hour
    svc = objs["service.yaml"]
    assert svc["spec"]["selector"] == {"ray.io/cluster": "skinflint-traffic", "ray.io/node-type": "head"}
    assert all(o["metadata"]["namespace"] == "video" for o in objs.values())


def test_peak_plan_gives_autoscaler_bounds() -> None:
    source, hmap = load_hardware_map()
    now = Plan("traffic", "optimal", 100.0, 100.0, (ModulePlan("detect", "det", 100.0, 50, 20, (_group("T4", 4, 2),)),))
    peak = mixed_plan(300.0)
    rc = manifests(now, hmap, source, K8sOptions(), peak)["raycluster.yaml"]
    jsonschema.validate(rc, RAY_CLUSTER)
    assert rc["spec"]["enableInTreeAutoscaling"] is True
    bounds = {g["groupName"]: (g["minReplicas"], g["replicas"], g["maxReplicas"])
              for g in rc["spec"]["workerGroupSpecs"]}
    assert bounds == {"t4": (2, 2, 6), "a10g": (0, 0, 3)}   # now {T4: 2}; peak {T4: 6, A10G: 3}


def test_hostpath_volume_and_schema_catches_a_bad_field() -> None:
    source, hmap = load_hardware_map()
    objs = manifests(mixed_plan(), hmap, source, K8sOptions(models_volume="hostpath:/data/skinflint"))
    assert "models-pvc.yaml" not in objs
    for obj in core_objects(objs):
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    rc = objs["raycluster.yaml"]
    rc["spec"]["workerGroupSpecs"][0]["replica"] = 3      # a typo the operator would silently ignore
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(rc, RAY_CLUSTER)


def test_cli_writes_yaml_and_rejects_unmapped_hardware(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(mixed_plan().to_json())
    assert main(["deploy", "k8s", str(plan_file), "-o", str(tmp_path / "k8s")]) == 0
    written = {p.name: yaml.safe_load(p.read_text()) for p in (tmp_path / "k8s").glob("*.yaml")}
    source, default_map = load_hardware_map()
    assert written == manifests(mixed_plan(), default_map, source, K8sOptions())
    hmap = tmp_path / "map.yaml"
    hmap.write_text("head: {cpu: '2', memory: 4Gi}\nhardware:\n  T4: {gpus: 1, cpu: '3', memory: 12Gi}\n")
    assert main(["deploy", "k8s", str(plan_file), "-o", str(tmp_path / "k"), "--hardware-map", str(hmap)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "hardware.A10G" in err and "--hardware-map" in err
    hmap.write_text("head: {cpu: '2', memory: 4Gi}\nhardware:\n  T4: {gpus: 1, cpu: 3 cores, memory: 12Gi}\n")
    assert main(["deploy", "k8s", str(plan_file), "-o", str(tmp_path / "k"), "--hardware-map", str(hmap)]) == 2
    assert "hardware.T4.cpu" in capsys.readouterr().err
