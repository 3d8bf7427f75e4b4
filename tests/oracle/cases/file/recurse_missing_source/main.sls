r:
  file.recurse:
    - name: @ROOT@/work/tree
    - source: salt://nope
