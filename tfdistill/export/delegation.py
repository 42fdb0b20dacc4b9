"""How much of a `.tflite` graph XNNPACK runs: partitions and the ops left outside.

After `allocate_tensors`, the interpreter's node list holds every original node plus one `DELEGATE`
node per XNNPACK partition, whose inputs and outputs are the partition's boundary tensors. Walking
producers back from a partition's outputs, stopping at its inputs, recovers the nodes it replaced;
every other original node runs on the builtin kernels. This reads the same numbers as the log line
`Replacing N out of M node(s) with delegate ...`, which the Python wheel does not print.
"""

import collections
import dataclasses

DELEGATE = "DELEGATE"


@dataclasses.dataclass(frozen=True)
class Delegation:
    """XNNPACK coverage of a graph.

    Args:
        partitions: int, the number of XNNPACK partitions (1 is ideal; 0 means none delegated).
        nodes: int, the graph's original node count.
        outside: tuple of str, the op names of the nodes XNNPACK does not run, in graph order.

    Example:
    >>> Delegation(1, 100, ("CAST", "GATHER", "GATHER")).outside_counts
    {'CAST': 1, 'GATHER': 2}
    """

    partitions: int
    nodes: int
    outside: tuple

    @property
    def outside_counts(self):
        """dict of op name -> count of nodes outside XNNPACK."""
        return dict(sorted(collections.Counter(self.outside).items()))

    def to_dict(self):
        """Returns a JSON-serialisable summary."""
        return {"xnnpack_partitions": self.partitions, "nodes": self.nodes,
                "ops_outside_xnnpack": len(self.outside), "outside_ops": self.outside_counts}

    def __str__(self):
        outside = ", ".join(f"{name} x{count}" for name, count in self.outside_counts.items())
        return (f"{self.partitions} XNNPACK partition(s), {len(self.outside)}/{self.nodes} ops "
                f"outside ({outside or 'none'})")


def xnnpack_delegation(model, num_threads=1):
    """Counts the XNNPACK partitions of a `.tflite` and the ops left on builtin kernels.

    Args:
        model: bytes or str, a flatbuffer or `.tflite` path.
        num_threads: int.

    Returns:
        `Delegation`.

    Example:
    >>> print(xnnpack_delegation(package_dir + "/model.tflite"))  # a float32 package
    1 XNNPACK partition(s), 3/108 ops outside (CAST x1, GATHER x2)
    """
    from tfdistill.export.runtime import load_interpreter

    ops = load_interpreter(model, num_threads=num_threads, xnnpack=True)._get_ops_details()
    return delegation_of(ops)


def delegation_of(ops):
    """Computes the `Delegation` of an interpreter's `_get_ops_details()` list.

    Args:
        ops: list of dicts with `index`, `op_name`, `inputs`, `outputs`.

    Returns:
        `Delegation`.

    Example:
    >>> ops = [{"index": 0, "op_name": "CAST", "inputs": [0], "outputs": [1]},
    ...        {"index": 1, "op_name": "ADD", "inputs": [1, 1], "outputs": [2]},
    ...        {"index": 2, "op_name": "DELEGATE", "inputs": [1], "outputs": [2]}]
    >>> delegation_of(ops).outside
    ('CAST',)
    """
    original = [op for op in ops if op["op_name"] != DELEGATE]
    partitions = [op for op in ops if op["op_name"] == DELEGATE]
    producer = {tensor: op["index"] for op in original for tensor in op["outputs"]}
    by_index = {op["index"]: op for op in original}
    delegated = set()
    for partition in partitions:
        delegated |= _nodes_between(partition["inputs"], partition["outputs"], producer, by_index)
    outside = tuple(op["op_name"] for op in original if op["index"] not in delegated)
    return Delegation(partitions=len(partitions), nodes=len(original), outside=outside)


def _nodes_between(inputs, outputs, producer, by_index):
    boundary, found, stack = set(inputs), set(), list(outputs)
    while stack:
        tensor = stack.pop()
        node = producer.get(tensor)
        if tensor in boundary or node is None or node in found:
            continue
        found.add(node)
        stack.extend(by_index[node]["inputs"])
    return found
