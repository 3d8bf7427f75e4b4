{% import_yaml "bad.yaml" as b %}
a:
  test.nop:
    - x: {{ b }}
