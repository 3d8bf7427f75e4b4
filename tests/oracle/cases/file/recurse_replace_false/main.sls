r:
  file.recurse:
    - name: @ROOT@/work/tree
    - source: salt://tree
    - replace: False
