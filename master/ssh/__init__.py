"""`master ssh`: run saline functions on hosts that have no minion, over SSH.

roster: the hosts (Salt's roster file); zipapp: the minion side packed for
the host; hostmain: what runs there; session: one host over asyncssh;
fanout: many hosts at once; cmd: the command line.
"""
