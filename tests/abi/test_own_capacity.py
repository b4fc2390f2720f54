"""The `own` map holds every object and pin of a load (controller/kernel/own.py)."""

from bpfsystrace import abi
from bpfsystrace.kernel import loader


def test_the_own_map_holds_every_object_of_a_load_twice_over():
    """A load records each map and program, each link, and the pin of each map and
    link plus their directories. The own map overflowing fails the load (ENOSPC):
    73 programs did once, at 256 entries. Room for twice as many is asked."""
    contents = loader.object_contents()
    programs, maps = len(contents.programs), len(contents.maps)
    entries = maps + programs + programs + (maps + programs) + 4  # + root, maps/, links/, the sb
    assert 2 * entries <= abi.BST_MAX_OWN, (programs, maps, entries)
