r:
  file.replace:
    - name: @ROOT@/work/link.conf
    - pattern: old
    - repl: new
    - require:
      - file: link
link:
  file.symlink:
    - name: @ROOT@/work/link.conf
    - target: @ROOT@/work/real.conf
