r:
  file.recurse:
    - name: @ROOT@/work/tree
    - source: salt://tree
    - include_empty: True
