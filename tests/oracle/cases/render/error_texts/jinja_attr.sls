{% set d = {} %}
a:
  test.nop:
    - x: {{ d.y.z }}
