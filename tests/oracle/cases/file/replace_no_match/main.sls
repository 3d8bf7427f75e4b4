r:
  file.replace:
    - name: @ROOT@/work/f.conf
    - pattern: nothere
    - repl: x
