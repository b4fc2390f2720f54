"""uname predicates become uid predicates when the policy is checked."""

import pwd

from bpfsystrace import abi
from bpfsystrace import policy as policy_mod
from bpfsystrace.model import check as check_mod
from bpfsystrace.model import reference

TEXT = """Policy: /usr/sbin/named, Emulation: native
\tnative-setuid: uid eq "{uid}" and uname eq "{name}" then permit
\tnative-setuid: uname eq "no-such-user-here" then permit
\tnative-setuid: uname match "x*" then permit
"""


def test_uname_is_resolved_to_a_uid():
    user = pwd.getpwuid(0).pw_name
    pf = policy_mod.parse(TEXT.format(uid=0, name=user), "u.policy")
    (pol,), _ = check_mod.check([pf], env={})
    assert reference.decide(pol, abi.BST_OP_SETUID, "0").permitted
    assert not reference.decide(pol, abi.BST_OP_SETUID, "1").permitted
    assert f'uname "{user}" is uid 0 on this host' in pol.rules[0].approx
    assert "no user on this host" in pol.rules[1].approx
    assert "the kernel does not see uname" in pol.rules[2].approx
