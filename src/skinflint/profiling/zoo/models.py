"""Vision architectures of the zoo, written layer by layer as their papers give them.

- ResNet-18 (He et al., CVPR 2016): 7x7 stem, four stages of two basic blocks (64-512 channels).
- MobileNetV2 (Sandler et al., CVPR 2018): inverted residual blocks with depthwise 3x3 convolutions.
- SSDLite on MobileNetV2 (same paper, Sec. 6.3): the MobileNetV2 backbone, four extra feature
  layers, and depthwise-separable box/class heads on six feature maps (6 anchors per cell, 91
  COCO classes). Anchor decoding and non-maximum suppression are data-dependent post-processing
  and are not in the graph.
- A tiny CNN for tests (one convolution, pooling, a linear layer).
"""

from __future__ import annotations

from skinflint.profiling.zoo.graph import BATCH, GraphBuilder

# MobileNetV2 stages: expansion t, output channels c, repeats n, first stride s (Table 2 of the paper).
MOBILENET_V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
RESNET18_STAGES = ((64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2))  # channels, blocks, first stride


def resnet18(g: GraphBuilder, x: str, classes: int = 1000) -> str:
    """ResNet-18 logits [batch, classes]."""
    x = g.max_pool(g.relu(g.conv(x, 3, 64, 7, stride=2)), 3, 2)
    c_in = 64
    for c, blocks, first_stride in RESNET18_STAGES:
        for i in range(blocks):
            stride = first_stride if i == 0 else 1
            y = g.conv(g.relu(g.conv(x, c_in, c, 3, stride)), c, c, 3)
            shortcut = x if stride == 1 and c_in == c else g.conv(x, c_in, c, 1, stride)
            x, c_in = g.relu(g.add(y, shortcut)), c
    return g.dense(g.flatten(g.global_avg_pool(x)), c_in, classes)


def _inverted_residual(g: GraphBuilder, x: str, c_in: int, c_out: int, expand: int, stride: int) -> str:
    hidden = c_in * expand
    y = g.relu6(g.conv(x, c_in, hidden, 1)) if expand != 1 else x
    y = g.relu6(g.conv(y, hidden, hidden, 3, stride, groups=hidden))
    y = g.conv(y, hidden, c_out, 1)  # linear bottleneck: no activation
    return g.add(x, y) if stride == 1 and c_in == c_out else y


def mobilenet_v2_features(g: GraphBuilder, x: str) -> tuple[list[tuple[str, int]], str, int]:
    """MobileNetV2 backbone: ([(stride-16 map, channels)], final 1280-channel stride-32 map, 1280)."""
    x = g.relu6(g.conv(x, 3, 32, 3, stride=2))
    c_in, taps = 32, []
    for expand, c, n, s in MOBILENET_V2_STAGES:
        for i in range(n):
            x = _inverted_residual(g, x, c_in, c, expand, s if i == 0 else 1)
            c_in = c
        if c == 96:  # last stride-16 stage: SSDLite's first feature map
            taps.append((x, c))
    return taps, g.relu6(g.conv(x, c_in, 1280, 1)), 1280


def mobilenet_v2(g: GraphBuilder, x: str, classes: int = 1000) -> str:
    """MobileNetV2 (width 1.0) logits [batch, classes]."""
    _, x, c = mobilenet_v2_features(g, x)
    return g.dense(g.flatten(g.global_avg_pool(x)), c, classes)


def _separable(g: GraphBuilder, x: str, c_in: int, c_out: int, stride: int = 1) -> str:
    """Depthwise 3x3 (ReLU6) then pointwise 1x1: SSDLite's replacement for a regular 3x3 conv."""
    return g.conv(g.relu6(g.conv(x, c_in, c_in, 3, stride, groups=c_in)), c_in, c_out, 1)


def ssdlite_mobilenet_v2(g: GraphBuilder, x: str, classes: int = 91, anchors: int = 6) -> tuple[str, str]:
    """SSDLite: (boxes [batch, A, 4], class scores [batch, A, classes]) over all anchors A."""
    taps, top, c_top = mobilenet_v2_features(g, x)
    maps = taps + [(top, c_top)]
    x, c_in = top, c_top
    for c in (512, 256, 256, 128):  # extra layers: 1x1 to c/2, separable 3x3 stride 2 to c
        x = g.relu6(_separable(g, g.relu6(g.conv(x, c_in, c // 2, 1)), c // 2, c, stride=2))
        maps.append((x, c))
        c_in = c
    boxes, scores = [], []
    for fmap, c in maps:
        for out, per_anchor in ((boxes, 4), (scores, classes)):
            head = _separable(g, fmap, c, anchors * per_anchor)
            out.append(g.reshape(g.transpose(head, (0, 2, 3, 1)), (0, -1, per_anchor)))
    return g.concat(boxes, axis=1), g.softmax(g.concat(scores, axis=1), axis=2)


def tiny_cnn(g: GraphBuilder, x: str, classes: int = 10) -> str:
    """A tiny classifier for fast tests: conv 3x3 (8 channels, stride 2), ReLU, pooling, linear."""
    return g.dense(g.flatten(g.global_avg_pool(g.relu(g.conv(x, 3, 8, 3, stride=2)))), 8, classes)


def image_input(size: int) -> dict[str, list[int | str]]:
    """The input of every zoo model: float32 images [batch, 3, size, size]."""
    return {"images": [BATCH, 3, size, size]}
