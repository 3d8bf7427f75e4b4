r:
  file.replace:
    - name: @ROOT@/work/f.conf
    - pattern: '^port=\d+'
    - repl: port=8080
