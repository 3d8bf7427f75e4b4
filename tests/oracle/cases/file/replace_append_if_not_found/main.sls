r:
  file.replace:
    - name: @ROOT@/work/f.conf
    - pattern: '^timeout=.*'
    - repl: timeout=5
    - append_if_not_found: True
