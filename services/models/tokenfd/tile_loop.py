"""Wrap an exported encoder graph in an ONNX Loop over its tile axis (onnx; export only).

On a CPU, ONNX Runtime runs this encoder faster one tile at a time than on a batch: a
batch of N tiles makes every activation N times taller, they leave the caches, and the
GEMMs and the attention slow down per tile (measured in docs/benchmarks.md). The Loop
keeps the graph's signature, so a batch still travels in one call (and Triton's dynamic
batcher still groups requests); only the inside runs tile by tile. The body is the graph
itself, reading the weights from the outer scope, so nothing is copied.
"""
from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

BODY_NAME = "one_tile"
_PREFIX = "tile_loop_"   # names this wrapper adds, kept apart from the exporter's


def loop_over_tiles(model: onnx.ModelProto) -> onnx.ModelProto:
    """`model` (inputs and outputs with the tile axis first) -> the same function as a Loop
    whose body runs the original graph on tile i. Changes `model` in place and returns it."""
    graph = model.graph
    inputs = [value.name for value in graph.input]
    outputs = [value.name for value in graph.output]
    index, keep_going, one, axis = (_PREFIX + name for name in ("index", "cond", "one", "axis"))
    start, stop = _PREFIX + "start", _PREFIX + "stop"
    per_tile = {name: f"{_PREFIX}{name}_tile" for name in inputs + outputs}

    # Every node this wrapper adds is named with _PREFIX, so unwrap() can take them out again.
    body_nodes = [helper.make_node("Unsqueeze", [index, axis], [start], name=start),
                  helper.make_node("Add", [start, one], [stop], name=stop)]
    body_nodes += [helper.make_node("Slice", [name, start, stop, axis], [per_tile[name]], name=per_tile[name])
                   for name in inputs]
    for node in graph.node:
        renamed = onnx.NodeProto()
        renamed.CopyFrom(node)
        renamed.input[:] = [per_tile.get(name, name) for name in node.input]
        renamed.output[:] = [per_tile.get(name, name) for name in node.output]
        body_nodes.append(renamed)
    body_outputs = [f"{_PREFIX}{name}_out" for name in outputs]
    body_nodes += [helper.make_node("Squeeze", [per_tile[name], axis], [out], name=out)
                   for name, out in zip(outputs, body_outputs, strict=True)]
    body_nodes.append(helper.make_node("Identity", [keep_going], [keep_going + "_out"], name=keep_going))
    body = helper.make_graph(
        body_nodes, BODY_NAME,
        [helper.make_tensor_value_info(index, TensorProto.INT64, []),
         helper.make_tensor_value_info(keep_going, TensorProto.BOOL, [])],
        [helper.make_tensor_value_info(keep_going + "_out", TensorProto.BOOL, [])]
        + [helper.make_tensor_value_info(out, value.type.tensor_type.elem_type, None)
           for out, value in zip(body_outputs, graph.output, strict=True)],
        initializer=[helper.make_tensor(axis, TensorProto.INT64, [1], [0]),
                     helper.make_tensor(one, TensorProto.INT64, [1], [1])])

    tiles, tile_count, always = _PREFIX + "tiles", _PREFIX + "tile_count", _PREFIX + "always"
    del graph.node[:]
    del graph.value_info[:]   # the exporter's shapes belong to the body's names now
    graph.node.extend([
        helper.make_node("Shape", [inputs[0]], [tiles], start=0, end=1, name=tiles),
        helper.make_node("Squeeze", [tiles], [tile_count], name=tile_count),
        # scan outputs stack along a new first axis: the tile axis again
        helper.make_node("Loop", [tile_count, always], outputs, body=body, name=_PREFIX + "loop"),
    ])
    graph.initializer.append(helper.make_tensor(always, TensorProto.BOOL, [], [True]))
    return model


def is_wrapped(model: onnx.ModelProto) -> bool:
    return any(node.op_type == "Loop" and node.name == _PREFIX + "loop" for node in model.graph.node)


def unwrap(model: onnx.ModelProto) -> onnx.ModelProto:
    """The inverse of loop_over_tiles, for tools that do not look into a Loop's body (ONNX
    Runtime's quantiser). Changes `model` in place and returns it."""
    graph = model.graph
    (loop,) = [node for node in graph.node if node.op_type == "Loop" and node.name == _PREFIX + "loop"]
    body = helper.get_attribute_value(loop.attribute[0])
    original = {f"{_PREFIX}{value.name}_tile": value.name for value in list(graph.input) + list(graph.output)}
    nodes = []
    for node in body.node:
        if node.name.startswith(_PREFIX):
            continue
        node.input[:] = [original.get(name, name) for name in node.input]
        node.output[:] = [original.get(name, name) for name in node.output]
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    kept = [t for t in graph.initializer if not t.name.startswith(_PREFIX)]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return model


def rewrite_file(path: str | Path) -> Path:
    """Wrap the graph at `path` in place, keeping its weights where they were (inline, or
    in an external data file beside it for a graph over 2 GB)."""
    path = Path(path)
    locations = {entry.value for tensor in onnx.load(str(path), load_external_data=False).graph.initializer
                 if tensor.data_location == TensorProto.EXTERNAL
                 for entry in tensor.external_data if entry.key == "location"}
    model = loop_over_tiles(onnx.load(str(path)))   # weights now in memory
    if not locations:
        onnx.save_model(model, str(path))
        return path
    for location in locations:   # onnx appends to an existing data file: start from none
        (path.parent / location).unlink()
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=path.name + ".data")
    return path
