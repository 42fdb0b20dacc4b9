"""Unit tests of the XNNPACK partition analysis on hand-made node lists."""

from tfdistill.export.delegation import Delegation, delegation_of


def _op(index, name, inputs, outputs):
    return {"index": index, "op_name": name, "inputs": inputs, "outputs": outputs}


def test_nodes_behind_a_delegate_are_inside_and_the_rest_outside():
    # ids(0) -CAST-> 1 -ADD-> 2 -MUL-> 3 -GATHER-> 4 ; one partition covers ADD and MUL.
    ops = [_op(0, "CAST", [0], [1]), _op(1, "ADD", [1, 9], [2]), _op(2, "MUL", [2, 2], [3]),
           _op(3, "GATHER", [8, 3], [4]), _op(4, "DELEGATE", [1, 9], [3])]
    delegation = delegation_of(ops)
    assert delegation == Delegation(partitions=1, nodes=4, outside=("CAST", "GATHER"))
    assert delegation.to_dict()["ops_outside_xnnpack"] == 2
    assert "1 XNNPACK partition(s), 2/4 ops outside (CAST x1, GATHER x1)" == str(delegation)


def test_two_partitions_split_by_an_undelegated_node():
    ops = [_op(0, "ADD", [0, 0], [1]), _op(1, "STRIDED_SLICE", [1], [2]), _op(2, "TANH", [2], [3]),
           _op(3, "DELEGATE", [0], [1]), _op(4, "DELEGATE", [2], [3])]
    delegation = delegation_of(ops)
    assert delegation.partitions == 2 and delegation.outside == ("STRIDED_SLICE",)


def test_no_delegate_leaves_every_node_outside():
    assert delegation_of([_op(0, "ADD", [0, 0], [1])]).outside == ("ADD",)
