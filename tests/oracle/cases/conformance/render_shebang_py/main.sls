#!py

def run():
    states = {}
    for name in ("py_b", "py_a"):
        states[name] = {"test.succeed_without_changes": [
            {"comment": "%s %s" % (sls, __salt__["test.echo"]("ok"))}]}
    states["py_grain"] = {"test.succeed_without_changes": [
        {"comment": __grains__["id"]}]}
    states["py_pillar"] = {"test.succeed_without_changes": [
        {"comment": str(__pillar__.get("flag"))}]}
    return states
