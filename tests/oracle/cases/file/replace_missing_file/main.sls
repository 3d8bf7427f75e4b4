r:
  file.replace:
    - name: @ROOT@/work/nope.conf
    - pattern: a
    - repl: b
ignored:
  file.replace:
    - name: @ROOT@/work/nope2.conf
    - pattern: a
    - repl: b
    - ignore_if_missing: True
