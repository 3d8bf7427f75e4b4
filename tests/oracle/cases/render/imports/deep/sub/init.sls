{% from "./map.jinja" import m with context %}
{% from "../top.jinja" import t %}
{% import_yaml "./d.yaml" as d with context %}
{% import_json "../j.json" as j %}
{% import_text "./t.txt" as tx %}
{% load_json as lj %}{"a": [1, {{ 2 + 1 }}]}{% endload %}
{% load_text as lt %}line1
line2{% endload %}
a:
  test.nop:
    - m: {{ m | json }}
    - t: {{ t | json }}
    - d: {{ d | json }}
    - j: {{ j | json }}
    - tx: {{ tx | json }}
    - lj: {{ lj | json }}
    - lt: {{ lt | json }}
    - names: {{ [tpldir, tplfile, tpldot, slspath, slsdotpath, slscolonpath, sls_path, sls] | json }}
    - printed: {{ {"a": "x\ny", "b": [1, {"c": None}], "o": odict([("z", 1), ("a", 2)])} | string | json }}
