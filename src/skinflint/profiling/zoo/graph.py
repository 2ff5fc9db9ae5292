"""A small builder of ONNX graphs over `onnx.helper`: convolutions, activations, pooling and heads.

Weights are random (He-normal, from an injected numpy Generator): latency does not depend on
weight values, and He scaling keeps activations finite and away from denormals, which would
slow a CPU down. Batch normalisation is left out because inference engines fold it into the
preceding convolution; a convolution with a bias is what runs. Every tensor keeps the symbolic
batch axis ``batch``, so one file serves every batch size.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BATCH = "batch"
OPSET = 17
IR_VERSION = 8  # readable by every onnxruntime since 1.10


class GraphBuilder:
    """Accumulates nodes and initializers; each method returns the name of its output tensor."""

    def __init__(self, rng: np.random.Generator, name: str) -> None:
        self.rng, self.name = rng, name
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def _node(self, op: str, inputs: Sequence[str], **attrs: object) -> str:
        out = self._fresh(op.lower())
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=out, **attrs))
        return out

    def constant(self, value: np.ndarray, prefix: str = "const") -> str:
        """An initializer holding `value`."""
        name = self._fresh(prefix)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, shape: Sequence[int], fan_in: int) -> str:
        """A float32 He-normal weight tensor: std = sqrt(2 / fan_in)."""
        w = self.rng.standard_normal(tuple(shape), dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        return self.constant(w, "w")

    def conv(self, x: str, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> str:
        """A k x k convolution with bias and 'same' padding (k // 2 on each side)."""
        w = self.weight((c_out, c_in // groups, kernel, kernel), fan_in=(c_in // groups) * kernel * kernel)
        b = self.constant(np.zeros(c_out, dtype=np.float32), "b")
        pad = kernel // 2
        return self._node("Conv", [x, w, b], kernel_shape=[kernel, kernel], strides=[stride, stride],
                          pads=[pad, pad, pad, pad], group=groups)

    def relu(self, x: str) -> str:
        """max(x, 0)."""
        return self._node("Relu", [x])

    def relu6(self, x: str) -> str:
        """min(max(x, 0), 6), as MobileNets use it."""
        lo = self.constant(np.array(0.0, dtype=np.float32), "lo")
        hi = self.constant(np.array(6.0, dtype=np.float32), "hi")
        return self._node("Clip", [x, lo, hi])

    def add(self, a: str, b: str) -> str:
        """Elementwise a + b (residual connections)."""
        return self._node("Add", [a, b])

    def max_pool(self, x: str, kernel: int, stride: int) -> str:
        """k x k max pooling with stride s and 'same' padding."""
        pad = kernel // 2
        return self._node("MaxPool", [x], kernel_shape=[kernel, kernel], strides=[stride, stride],
                          pads=[pad, pad, pad, pad])

    def global_avg_pool(self, x: str) -> str:
        """Mean over the spatial axes: [batch, C, H, W] -> [batch, C, 1, 1]."""
        return self._node("GlobalAveragePool", [x])

    def flatten(self, x: str) -> str:
        """[batch, ...] -> [batch, rest]."""
        return self._node("Flatten", [x], axis=1)

    def dense(self, x: str, n_in: int, n_out: int) -> str:
        """A fully connected layer y = x W^T + b."""
        w = self.weight((n_out, n_in), fan_in=n_in)
        b = self.constant(np.zeros(n_out, dtype=np.float32), "b")
        return self._node("Gemm", [x, w, b], transB=1)

    def reshape(self, x: str, shape: Sequence[int]) -> str:
        """Reshape; 0 copies the input's dimension (keeps the batch axis dynamic)."""
        return self._node("Reshape", [x, self.constant(np.array(shape, dtype=np.int64), "shape")])

    def transpose(self, x: str, perm: Sequence[int]) -> str:
        """Permute the axes."""
        return self._node("Transpose", [x], perm=list(perm))

    def concat(self, xs: Sequence[str], axis: int) -> str:
        """Concatenate along `axis`."""
        return self._node("Concat", list(xs), axis=axis)

    def softmax(self, x: str, axis: int) -> str:
        """Softmax along `axis`."""
        return self._node("Softmax", [x], axis=axis)

    def identity(self, x: str, name: str) -> str:
        """Give a tensor its public output name."""
        self.nodes.append(helper.make_node("Identity", [x], [name], name=f"output_{name}"))
        return name

    def model(self, inputs: dict[str, Sequence[int | str]], outputs: dict[str, Sequence[int | str]],
              doc: str, metadata: dict[str, str]) -> onnx.ModelProto:
        """The finished, checked model: float32 inputs and outputs with the given (symbolic) shapes."""
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in inputs.items()],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in outputs.items()],
            initializer=self.initializers)
        model = helper.make_model(graph, producer_name="skinflint.zoo", doc_string=doc,
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        helper.set_model_props(model, metadata)
        onnx.checker.check_model(model)
        return model
