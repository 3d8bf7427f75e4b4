{% set d = "a: 1\nb: 2001-12-14\n" | load_yaml %}
{% import_yaml "q.yaml" as q %}
a:
  test.nop:
    - ts: 2001-12-14
    - ts2: 2001-12-14 21:59:43.10 -5
    - oct: 0644
    - negoct: -0644
    - zeros: 000
    - hex: 0x1F
    - on: on
    - off: off
    - yes: yes
    - y: y
    - n: n
    - f: 1_000
    - flt: 1e3
    - sexa: 1:20
    - d: {{ d | json }}
    - q: {{ q | json }}
    - bin: 0b101
