first:
  file.symlink:
    - name: @ROOT@/work/link
    - target: @ROOT@/work/t1
second:
  file.symlink:
    - name: @ROOT@/work/link
    - target: @ROOT@/work/t2
    - require:
      - file: first
