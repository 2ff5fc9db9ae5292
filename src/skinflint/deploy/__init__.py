"""Plans out to the stacks users run: KubeRay manifests (kuberay.py), Triton config.pbtxt
fragments (triton.py) and a Grafana dashboard for the server's metrics (grafana.py). The
hardware map (hardware_map.py) says how a hardware type of the catalog becomes a pod."""
